//! The write queue's consumers: worker tasks that drain the job table, woken by the LISTEN
//! connection (or by this process directly) and polling as a fallback.

mod listener;
mod worker;

use std::{sync::Arc, time::Duration};

use tokio::{sync::Notify, task::JoinHandle};
use tokio_util::sync::CancellationToken;

pub use listener::listen;
pub use worker::{BatchOutcome, Worker};

/// Wakes idle workers: the listener rings it on every NOTIFY.
#[derive(Clone, Default)]
pub struct Bell(Arc<Notify>);

impl Bell {
    /// Wakes every worker waiting now.
    pub fn ring(&self) {
        self.0.notify_waiters();
    }
}

/// Starts `count` worker tasks. Each finishes its current batch when `cancel` fires.
pub fn spawn_workers(
    worker: Worker,
    count: usize,
    bell: Bell,
    poll: Duration,
    cancel: CancellationToken,
) -> Vec<JoinHandle<()>> {
    (0..count)
        .map(|i| tokio::spawn(work(worker.clone(), i, bell.clone(), poll, cancel.clone())))
        .collect()
}

async fn work(worker: Worker, index: usize, bell: Bell, poll: Duration, cancel: CancellationToken) {
    let mut backoff = Duration::from_millis(100);
    while !cancel.is_cancelled() {
        // Register interest before looking at the queue, so a NOTIFY cannot slip in between.
        let rung = bell.0.notified();
        tokio::pin!(rung);
        rung.as_mut().enable();
        match worker.run_batch().await {
            Ok(outcome) if outcome.claimed > 0 => {
                backoff = Duration::from_millis(100);
                continue;
            }
            Ok(_) => {
                tokio::select! {
                    _ = rung => {}
                    _ = tokio::time::sleep(poll) => {}
                    _ = cancel.cancelled() => {}
                }
            }
            Err(e) => {
                tracing::warn!(worker = index, error = %e, "worker batch failed; backing off");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = cancel.cancelled() => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
}
