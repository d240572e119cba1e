//! The announcer: the handle through which this process publishes live events and asks for a
//! NOTIFY, and the task that sends them. The NOTIFY is sent outside the transactions that made
//! the change: a transaction that NOTIFYs holds a database-wide lock through its commit, which
//! would serialize every creation.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{event::ChatEvent, outbox::Outbox, pack, CHANNEL};
use crate::store::{Db, DbError};

/// Most NOTIFYs (of up to 7,900 bytes each) per announcement.
const MAX_PAYLOADS: usize = 64;

/// Publishes live events and wakes the other instances' workers, through the announcer task;
/// cheap to clone.
#[derive(Clone)]
pub struct Announcer {
    wake: Arc<Notify>,
    outbox: Arc<Mutex<Outbox>>,
    /// Most lines the outbox holds (`LIVE_OUTBOX_LINES`).
    outbox_lines: usize,
}

impl Announcer {
    /// An announcer whose outbox holds at most `outbox_lines` distinct event lines; past that,
    /// they give way to one "look again" (see [`Outbox`]).
    pub fn new(outbox_lines: usize) -> Self {
        Announcer {
            wake: Arc::default(),
            outbox: Arc::default(),
            outbox_lines: outbox_lines.max(1),
        }
    }

    /// Asks for a NOTIFY on the channel soon (an empty one wakes every instance's workers).
    pub fn nudge(&self) {
        self.wake.notify_one();
    }

    /// Publishes a committed change to the live streams of every instance (with the next
    /// announcement).
    pub fn publish(&self, event: ChatEvent) {
        self.outbox.lock().unwrap().push(event.encode(), self.outbox_lines);
        self.wake.notify_one();
    }

    /// Publishes the change `event` makes of the id of the application with `token`: events
    /// name applications by id, since every role allowed to LISTEN reads them (the id is
    /// cached, so this costs a lookup only the first time a process sees a token).
    pub async fn publish_for(&self, db: &Db, token: Uuid, event: impl FnOnce(i64) -> ChatEvent) {
        match db.app_id(token).await {
            Ok(Some(app)) => self.publish(event(app)),
            // Deleted since: its streams end with its own event.
            Ok(None) => {}
            Err(e) => {
                // Which chat changed cannot be said: every stream looks again.
                tracing::warn!(error = %e, "live event published as \"look again\"");
                self.publish(ChatEvent::Everything);
            }
        }
    }
}

/// Sends the NOTIFYs on the jobs channel for each burst of announcements, at most every 5 ms:
/// one with the burst's live events as payload (several if they do not fit in one), or an empty
/// one that only wakes workers.
pub async fn run(db: Db, announcer: Announcer, cancel: CancellationToken) {
    loop {
        let stopping = tokio::select! {
            _ = announcer.wake.notified() => false,
            _ = cancel.cancelled() => true,
        };
        let lines = announcer.outbox.lock().unwrap().take();
        if stopping && lines.is_empty() {
            return;
        }
        let mut payloads = pack(lines.clone(), MAX_PAYLOADS);
        if payloads.is_empty() {
            payloads.push(String::new());
        }
        let sent = match db.client().await {
            Ok(client) => client
                .execute(include_str!("sql/notify.sql"), &[&CHANNEL, &payloads])
                .await
                .map_err(DbError::from),
            Err(e) => Err(e),
        };
        if let Err(e) = sent {
            // Keep the events for the next try (workers poll anyway); past the outbox's cap,
            // streams are told to look again rather than left missing what was dropped.
            tracing::debug!(error = %e, "announcement not sent; will retry");
            announcer.outbox.lock().unwrap().put_back(lines, announcer.outbox_lines);
            if stopping {
                return;
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                _ = cancel.cancelled() => {}
            }
            announcer.wake.notify_one();
            continue;
        }
        if stopping {
            // What was published before the shutdown has been sent.
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
