//! The write queue's consumers: worker tasks that drain the job table, woken by the LISTEN
//! connection (or by this process directly) and polling as a fallback.

mod listener;
mod worker;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::{sync::Notify, task::JoinHandle};
use tokio_util::sync::CancellationToken;

pub use listener::listen;
pub use worker::{BatchOutcome, Worker};

use crate::live::ChatEvent;

/// Wakes idle workers: the listener rings it on every NOTIFY, and new jobs announce themselves
/// through it. It also carries the live events (`crate::live`) this process publishes.
#[derive(Clone, Default)]
pub struct Bell {
    workers: Arc<Notify>,
    announcer: Arc<Notify>,
    outbox: Arc<Mutex<Vec<String>>>,
}

/// Lines waiting in the outbox beyond which they are replaced by one "look again" (`*`).
const OUTBOX_MAX: usize = 10_000;
/// Most NOTIFYs (of up to 7,900 bytes each) per announcement.
const MAX_PAYLOADS: usize = 64;

impl Bell {
    /// Wakes every worker of this process waiting now.
    pub fn ring(&self) {
        self.workers.notify_waiters();
    }

    /// New jobs were committed: wakes this process's workers now, and (through the announcer)
    /// the other instances' workers with a NOTIFY. The NOTIFY is sent outside the creating
    /// transactions: a transaction that NOTIFYs holds a database-wide lock through its commit,
    /// which would serialize every creation.
    pub fn announce(&self) {
        self.ring();
        self.announcer.notify_one();
    }

    /// Publishes a committed change to the live streams of every instance (with the next
    /// announcement).
    pub fn publish(&self, event: ChatEvent) {
        {
            let mut outbox = self.outbox.lock().unwrap();
            if outbox.len() >= OUTBOX_MAX {
                outbox.clear();
                outbox.push(ChatEvent::Everything.encode());
            } else {
                outbox.push(event.encode());
            }
        }
        self.announcer.notify_one();
    }
}

/// Sends the NOTIFYs on the jobs channel for each burst of announcements, at most every 5 ms:
/// one with the burst's live events as payload (several if they do not fit in one), or an empty
/// one that only wakes workers.
pub async fn announcer(db: crate::db::Db, bell: Bell, cancel: CancellationToken) {
    loop {
        let stopping = tokio::select! {
            _ = bell.announcer.notified() => false,
            _ = cancel.cancelled() => true,
        };
        let lines = std::mem::take(&mut *bell.outbox.lock().unwrap());
        if stopping && lines.is_empty() {
            return;
        }
        let mut payloads = crate::live::pack(lines.clone(), MAX_PAYLOADS);
        if payloads.is_empty() {
            payloads.push(String::new());
        }
        let sent = match db.client().await {
            Ok(client) => client
                .execute(
                    "SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p",
                    &[&crate::db::JOBS_CHANNEL, &payloads],
                )
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = sent {
            // Keep the events for the next try (workers poll anyway; live streams also re-read
            // their chats on their own, but edits and deletes would be lost).
            tracing::debug!(error = %e, "announcement not sent; will retry");
            {
                let mut outbox = bell.outbox.lock().unwrap();
                let newer = std::mem::replace(&mut *outbox, lines);
                outbox.extend(newer);
                outbox.truncate(OUTBOX_MAX);
            }
            if stopping {
                return;
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                _ = cancel.cancelled() => {}
            }
            bell.announcer.notify_one();
            continue;
        }
        if stopping {
            // What was published before the shutdown has been sent.
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

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
        let rung = bell.workers.notified();
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
