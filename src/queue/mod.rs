//! The write queue's consumers: worker tasks that drain the job table, woken by the LISTEN
//! connection (or by this process directly) and polling as a fallback.

mod listener;
mod worker;

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::{sync::Notify, task::JoinHandle};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub use listener::listen;
pub use worker::{BatchOutcome, Worker};

use crate::{db::Db, live::ChatEvent};

/// Wakes idle workers: the listener rings it on every NOTIFY, and new jobs announce themselves
/// through it. It also carries the live events (`crate::live`) this process publishes.
#[derive(Clone)]
pub struct Bell {
    workers: Arc<Notify>,
    announcer: Arc<Notify>,
    outbox: Arc<Mutex<Outbox>>,
    /// Most lines the outbox holds (`LIVE_OUTBOX_LINES`).
    outbox_lines: usize,
}

/// Most NOTIFYs (of up to 7,900 bytes each) per announcement.
const MAX_PAYLOADS: usize = 64;

impl Bell {
    /// A bell whose outbox holds at most `outbox_lines` distinct event lines; past that, they
    /// give way to one "look again" (see [`Outbox`]).
    pub fn new(outbox_lines: usize) -> Self {
        Bell {
            workers: Arc::default(),
            announcer: Arc::default(),
            outbox: Arc::default(),
            outbox_lines: outbox_lines.max(1),
        }
    }

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
        self.outbox.lock().unwrap().push(event.encode(), self.outbox_lines);
        self.announcer.notify_one();
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

/// Live event lines waiting for the announcer, each kept once (a busy chat's `a` line is one
/// line however many messages it gets) and in the order first published. Past the cap, while
/// the announcer cannot send (the database is unreachable), the lines a re-read of every watched
/// chat recovers (new messages, a chat or application deleted) give way to one "look again"
/// (`*`), sent first: every listener of every instance then re-reads every watched chat. Edits
/// and deletes, which a re-read cannot recover, are kept; only when they alone pass the cap are
/// the oldest dropped, with a warning.
#[derive(Default)]
struct Outbox {
    lines: Vec<String>,
    seen: HashSet<String>,
    /// Lines were given up: the next announcement starts with `*`.
    look_again: bool,
}

impl Outbox {
    fn push(&mut self, line: String, cap: usize) {
        if line == ChatEvent::Everything.encode() {
            return self.give_up_rereadable();
        }
        if self.look_again && rereadable(&line) {
            return;
        }
        if self.seen.insert(line.clone()) {
            self.lines.push(line);
        }
        if self.lines.len() > cap {
            self.give_up_rereadable();
            if self.lines.len() > cap {
                let dropped = self.lines.len() - cap;
                tracing::warn!(dropped, "live outbox full of edits and deletes; the oldest are dropped");
                for line in self.lines.drain(..dropped) {
                    self.seen.remove(&line);
                }
            }
        }
    }

    /// Replaces every line a re-read recovers by the "look again" marker.
    fn give_up_rereadable(&mut self) {
        self.look_again = true;
        self.lines.retain(|line| !rereadable(line));
        self.seen.retain(|line| !rereadable(line));
    }

    /// Everything for one announcement, the marker first.
    fn take(&mut self) -> Vec<String> {
        self.seen.clear();
        let mut lines = std::mem::take(&mut self.lines);
        if std::mem::take(&mut self.look_again) {
            lines.insert(0, ChatEvent::Everything.encode());
        }
        lines
    }

    /// Puts back an announcement that was not sent, ahead of what was published since.
    fn put_back(&mut self, unsent: Vec<String>, cap: usize) {
        let newer = self.take();
        for line in unsent.into_iter().chain(newer) {
            self.push(line, cap);
        }
    }
}

/// True for a line whose news a re-read of the watched chats finds again: new messages (`a`), a
/// chat (`x`) or an application (`X`) deleted. Not edits (`u`) and deletes (`d`).
fn rereadable(line: &str) -> bool {
    !(line.starts_with("u ") || line.starts_with("d "))
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
        let lines = bell.outbox.lock().unwrap().take();
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
            // Keep the events for the next try (workers poll anyway); past the outbox's cap,
            // streams are told to look again rather than left missing what was dropped.
            tracing::debug!(error = %e, "announcement not sent; will retry");
            bell.outbox.lock().unwrap().put_back(lines, bell.outbox_lines);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn appended(chat: i64) -> String {
        ChatEvent::Appended { app: 1, chat }.encode()
    }

    fn edited(number: i64) -> String {
        ChatEvent::Edited {
            app: 1,
            chat: 1,
            number,
        }
        .encode()
    }

    #[test]
    fn the_outbox_keeps_each_line_once_in_order() {
        let mut outbox = Outbox::default();
        for line in [appended(1), edited(4), appended(1), appended(2)] {
            outbox.push(line, 10);
        }
        assert_eq!(outbox.take(), [appended(1), edited(4), appended(2)]);
        assert!(outbox.take().is_empty());
    }

    #[test]
    fn past_its_cap_the_outbox_says_look_again_and_keeps_edits() {
        let mut outbox = Outbox::default();
        outbox.push(edited(1), 3);
        for chat in 1..=5 {
            outbox.push(appended(chat), 3);
        }
        outbox.push(edited(2), 3);
        // New-message lines after the marker add nothing: the re-read finds them.
        outbox.push(appended(9), 3);
        assert_eq!(outbox.take(), ["*".to_owned(), edited(1), edited(2)]);
        // Edits alone past the cap: the oldest go.
        for number in 1..=5 {
            outbox.push(edited(number), 3);
        }
        assert_eq!(outbox.take(), ["*".to_owned(), edited(3), edited(4), edited(5)]);
    }

    #[test]
    fn an_unsent_announcement_goes_back_ahead_of_newer_lines_and_never_past_the_cap_silently() {
        let mut outbox = Outbox::default();
        outbox.push(appended(1), 3);
        outbox.push(edited(1), 3);
        let unsent = outbox.take();
        outbox.push(appended(2), 3);
        outbox.put_back(unsent, 3);
        assert_eq!(outbox.take(), [appended(1), edited(1), appended(2)]);

        // Taken while the outbox filled up again: together they pass the cap.
        outbox.push(appended(1), 3);
        outbox.push(appended(2), 3);
        let unsent = outbox.take();
        outbox.push(appended(3), 3);
        outbox.push(appended(4), 3);
        outbox.put_back(unsent, 3);
        assert_eq!(outbox.take(), ["*".to_owned()]);

        // A marker taken and not sent is kept.
        outbox.push("*".to_owned(), 3);
        let unsent = outbox.take();
        outbox.put_back(unsent, 3);
        assert_eq!(outbox.take(), ["*".to_owned()]);
    }
}
