//! The worker tasks that drain the job table: woken by the bell (this process's creations, or
//! the LISTEN connection's NOTIFYs), polling as a fallback, lingering to let small lots grow.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{bell::Bell, worker::Worker};

/// Starts `count` worker tasks. Each finishes its current batch when `cancel` fires.
pub fn spawn_workers(
    worker: Worker,
    count: usize,
    bell: Bell,
    poll: Duration,
    linger: Duration,
    cancel: CancellationToken,
) -> Vec<JoinHandle<()>> {
    let pace = Pace { poll, linger };
    (0..count)
        .map(|i| tokio::spawn(work(worker.clone(), i, bell.clone(), pace, cancel.clone())))
        .collect()
}

/// A worker's timing: how often it looks without being rung, and how long it lets a small lot
/// grow before taking it.
#[derive(Clone, Copy)]
struct Pace {
    poll: Duration,
    linger: Duration,
}

/// Fewer jobs than this in a worker's last batch and it lingers before its next. Small enough
/// that a worker keeping up with a saturating load (lots of 30–70) never waits: there, waiting
/// only added to the queue lag.
const SMALL_LOT: usize = 16;

async fn work(worker: Worker, index: usize, bell: Bell, pace: Pace, cancel: CancellationToken) {
    let mut backoff = Duration::from_millis(100);
    // Jobs the last batch claimed (0 after an empty look: the next one was rung or polled).
    let mut last_lot = 0;
    while !cancel.is_cancelled() {
        // Register interest before looking at the queue, so a NOTIFY cannot slip in between.
        let rung = bell.rung();
        tokio::pin!(rung);
        rung.as_mut().enable();
        // A shallow queue: let the lot grow a little, so it is written in fewer statements.
        if last_lot < SMALL_LOT && !pace.linger.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(pace.linger) => {}
                _ = cancel.cancelled() => {}
            }
        }
        let started = std::time::Instant::now();
        match worker.run_batch().await {
            Ok(outcome) if outcome.claimed > 0 => {
                crate::metrics::metrics().worker_batch(outcome.claimed, started.elapsed());
                backoff = Duration::from_millis(100);
                last_lot = outcome.claimed;
                continue;
            }
            Ok(_) => {
                last_lot = 0;
                tokio::select! {
                    _ = rung => {}
                    _ = tokio::time::sleep(pace.poll) => {}
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
