//! The tuning of the coalescers.

use std::time::Duration;

/// Tuning of the coalescers.
#[derive(Debug, Clone, Copy)]
pub struct IntakeConfig {
    /// Most requests in one batch.
    pub max_batch: usize,
    /// Batches committing at once (each holds a pooled connection while it runs).
    pub in_flight: usize,
    /// Most requests waiting for a batch, per kind; more are refused at once (`DbError::Busy`).
    pub max_queued: usize,
    /// How long after its arrival a request may still be sent (the request deadline): later it
    /// is answered `DbError::Expired` without being sent.
    pub deadline: Duration,
}
