//! The write queue's consumers: worker tasks that drain the job table, woken by the LISTEN
//! connection (or by this process directly) and polling as a fallback.

mod listener;
mod worker;

use std::{sync::Arc, time::Duration};

use tokio::{sync::Notify, task::JoinHandle};
use tokio_util::sync::CancellationToken;

pub use listener::listen;
pub use worker::{BatchOutcome, Worker};

/// Wakes idle workers: the listener rings it on every NOTIFY, and new jobs announce themselves
/// through it.
#[derive(Clone, Default)]
pub struct Bell(Arc<Notify>, Arc<Notify>);

impl Bell {
    /// Wakes every worker of this process waiting now.
    pub fn ring(&self) {
        self.0.notify_waiters();
    }

    /// New jobs were committed: wakes this process's workers now, and (through the announcer)
    /// the other instances' workers with a NOTIFY. The NOTIFY is sent outside the creating
    /// transactions: a transaction that NOTIFYs holds a database-wide lock through its commit,
    /// which would serialize every creation.
    pub fn announce(&self) {
        self.ring();
        self.1.notify_one();
    }
}

/// Sends one NOTIFY on the jobs channel per burst of announcements, at most every 20 ms.
pub async fn announcer(db: crate::db::Db, bell: Bell, cancel: CancellationToken) {
    loop {
        tokio::select! {
            _ = bell.1.notified() => {}
            _ = cancel.cancelled() => return,
        }
        if let Ok(client) = db.client().await {
            let _ = client
                .batch_execute(&format!("NOTIFY {}", crate::db::JOBS_CHANNEL))
                .await;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
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
