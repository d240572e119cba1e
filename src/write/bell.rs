//! The bell that wakes idle workers: rung by this process's creations, and, through the LISTEN
//! connection, by every instance's.

use std::sync::Arc;

use tokio::sync::{futures::Notified, Notify};

use crate::live::Announcer;

/// Wakes idle workers of this process and, through the announcer's NOTIFY, of every instance;
/// cheap to clone.
#[derive(Clone)]
pub struct Bell {
    workers: Arc<Notify>,
    announcer: Announcer,
}

impl Bell {
    /// A bell that reaches other instances through `announcer`.
    pub fn new(announcer: Announcer) -> Self {
        Bell {
            workers: Arc::default(),
            announcer,
        }
    }

    /// Wakes every worker of this process waiting now.
    pub fn ring(&self) {
        self.workers.notify_waiters();
    }

    /// What the LISTEN connection rings on every NOTIFY.
    pub fn workers(&self) -> Arc<Notify> {
        self.workers.clone()
    }

    /// Resolves at the next ring (register it before looking at the queue).
    pub(super) fn rung(&self) -> Notified<'_> {
        self.workers.notified()
    }

    /// New jobs were committed: wakes this process's workers now, and (through the announcer)
    /// the other instances' workers with a NOTIFY.
    pub fn announce(&self) {
        self.ring();
        self.announcer.nudge();
    }
}
