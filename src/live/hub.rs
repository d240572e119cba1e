//! The process's subscribers, grouped by chat into topics. One task per watched chat reads what
//! changed once and broadcasts it to all of that chat's subscribers, so a busy chat with many
//! watchers costs one query per change, not one per watcher. Topics are keyed by application id,
//! as the published events are; a topic reads with its application's token, which stays in the
//! process.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::sync::{broadcast, Notify, Semaphore};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{
    event::ChatEvent,
    subscription::Subscription,
    topic::{Key, LiveEvent, Op, Topic, Topics, PAGE, TOPIC_CAPACITY},
};
use crate::{
    model::Cursor,
    store::{Db, DbError, DbResult},
};

/// Every live subscription of this process; cheap to clone.
#[derive(Clone)]
pub struct Hub(Arc<Inner>);

struct Inner {
    db: Db,
    topics: Arc<Topics>,
    streams: Arc<Semaphore>,
    max_streams: usize,
    keep_alive: Duration,
    /// How often a watched chat is read even without a notification (a NOTIFY lost in an
    /// outage, or an announcement given up on without its "look again").
    refresh: Duration,
    closing: CancellationToken,
}

impl Hub {
    /// A hub allowing `max_streams` subscriptions at once, whose streams send a keep-alive
    /// comment every `keep_alive`, and whose topics read their chat every `refresh` even when
    /// told nothing.
    pub fn new(db: Db, max_streams: usize, keep_alive: Duration, refresh: Duration) -> Self {
        Hub(Arc::new(Inner {
            db,
            topics: Arc::default(),
            streams: Arc::new(Semaphore::new(max_streams)),
            max_streams,
            keep_alive: keep_alive.max(Duration::from_millis(100)),
            refresh: refresh.max(Duration::from_secs(1)),
            closing: CancellationToken::new(),
        }))
    }

    /// Ends every stream (the server is shutting down).
    pub fn close(&self) {
        self.0.closing.cancel();
    }

    /// How often an idle stream gets a keep-alive comment.
    pub fn keep_alive(&self) -> Duration {
        self.0.keep_alive
    }

    /// Subscriptions open now.
    pub fn open_streams(&self) -> usize {
        self.0.max_streams - self.0.streams.available_permits()
    }

    /// Subscribes to the chat's messages numbered above `after`, or, without it, to the ones
    /// created from now on. Fails (before anything is streamed) if the chat does not exist;
    /// `Ok(None)` when the process is at its limit of streams.
    pub async fn subscribe(&self, token: Uuid, chat: i64, after: Option<i64>) -> DbResult<Option<Subscription>> {
        let Ok(permit) = self.0.streams.clone().try_acquire_owned() else {
            return Ok(None);
        };
        let app = self
            .0
            .db
            .app_id(token)
            .await?
            .ok_or(DbError::NotFound(crate::store::Missing::Application))?;
        // The newest number now: the default starting point, and the topic's if it is new.
        // Taken before the topic exists, it can only be too low, which costs a repeat that
        // subscribers skip, never a gap.
        let newest = self.newest(token, chat).await?;
        let (topic, events) = {
            let mut topics = self.0.topics.lock();
            let topic = topics
                .entry((app, chat))
                .or_insert_with(|| self.start_topic(token, (app, chat), newest))
                .clone();
            let events = topic.events.subscribe();
            (topic, events)
        };
        // A cursor beyond the newest message (another chat's, or a restored database's) would
        // hold back every new message up to it: start from the newest instead.
        let cursor = after.map_or(newest, |after| after.min(newest));
        Ok(Some(Subscription::new(
            (self.0.db.clone(), self.0.topics.clone(), self.0.closing.clone()),
            token,
            (app, chat),
            topic,
            events,
            cursor,
            permit,
        )))
    }

    /// Hands a NOTIFY payload's events to the topics they concern.
    pub fn dispatch(&self, payload: &str) {
        for event in payload.lines().filter_map(ChatEvent::decode) {
            let (app, chat, op) = match event {
                ChatEvent::Appended { app, chat } => (app, Some(chat), Op::Appended),
                ChatEvent::Edited { app, chat, number } => (app, Some(chat), Op::Edited(number)),
                ChatEvent::Deleted { app, chat, number } => (app, Some(chat), Op::Deleted(number)),
                ChatEvent::ChatGone { app, chat } => (app, Some(chat), Op::Gone),
                ChatEvent::ApplicationGone { app } => (app, None, Op::Gone),
                ChatEvent::Everything => {
                    self.refresh_all();
                    continue;
                }
            };
            let topics = self.0.topics.lock();
            match chat {
                Some(chat) => topics.get(&(app, chat)).into_iter().for_each(|t| t.push(op)),
                None => topics
                    .iter()
                    .filter(|((a, _), _)| *a == app)
                    .for_each(|(_, topic)| topic.push(op)),
            }
        }
    }

    /// Every topic reads what it may have missed (after the listener reconnects, or when an
    /// announcement says events were dropped).
    pub fn refresh_all(&self) {
        for topic in self.0.topics.lock().values() {
            topic.push(Op::Appended);
        }
    }

    /// The chat's highest message number (0 for none); `NotFound` if it does not exist.
    async fn newest(&self, token: Uuid, chat: i64) -> DbResult<i64> {
        let cursor = Cursor {
            after: 0,
            before: i64::MAX,
            offset: 0,
            backwards: true,
        };
        let page = self.0.db.messages(token, chat, cursor, 1, None).await?;
        Ok(page.items.last().map_or(0, |m| m.number))
    }

    fn start_topic(&self, token: Uuid, key: Key, newest: i64) -> Arc<Topic> {
        let topic = Arc::new(Topic {
            events: broadcast::channel(TOPIC_CAPACITY).0,
            ops: Mutex::default(),
            wake: Notify::new(),
            stop: self.0.closing.child_token(),
        });
        tokio::spawn(run_topic(self.clone(), token, key, topic.clone(), newest));
        topic
    }
}

/// A watched chat's task: applies its queued operations in order, reading each change once.
async fn run_topic(hub: Hub, token: Uuid, key: Key, topic: Arc<Topic>, mut last: i64) {
    let chat = key.1;
    loop {
        tokio::select! {
            _ = topic.wake.notified() => {}
            _ = tokio::time::sleep(hub.0.refresh) => topic.push(Op::Appended),
            _ = topic.stop.cancelled() => return,
        }
        loop {
            let op = {
                let mut ops = topic.ops.lock().unwrap();
                let op = ops.pop_front();
                // A run of `Appended` is one read.
                while matches!(op, Some(Op::Appended)) && matches!(ops.front(), Some(Op::Appended)) {
                    ops.pop_front();
                }
                op
            };
            let Some(op) = op else { break };
            let outcome = match op {
                Op::Appended => read_new(&hub, token, chat, &topic, &mut last).await,
                Op::Edited(number) => match hub.0.db.message(token, chat, number).await {
                    Ok(message) => {
                        send(&topic, LiveEvent::Updated(Arc::new(message)));
                        Ok(())
                    }
                    // Deleted since: its own event follows.
                    Err(DbError::NotFound(crate::store::Missing::Message)) => Ok(()),
                    Err(e) => Err(e),
                },
                Op::Deleted(number) => {
                    send(&topic, LiveEvent::Deleted(number));
                    Ok(())
                }
                Op::Gone => Err(DbError::NotFound(crate::store::Missing::Chat)),
            };
            match outcome {
                Ok(()) => {}
                Err(DbError::NotFound(_)) => {
                    send(&topic, LiveEvent::Gone);
                    let mut topics = hub.0.topics.lock();
                    if topics.get(&key).is_some_and(|t| Arc::ptr_eq(t, &topic)) {
                        topics.remove(&key);
                    }
                    return;
                }
                Err(e) => {
                    // The database is struggling: try again shortly, in order.
                    tracing::warn!(error = %e, chat, "live topic read failed; retrying");
                    topic.ops.lock().unwrap().push_front(op);
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        _ = topic.stop.cancelled() => return,
                    }
                }
            }
        }
    }
}

/// Reads and broadcasts the messages numbered above `last`.
async fn read_new(hub: &Hub, token: Uuid, chat: i64, topic: &Topic, last: &mut i64) -> DbResult<()> {
    loop {
        let cursor = Cursor {
            after: *last,
            before: i64::MAX,
            offset: 0,
            backwards: false,
        };
        let page = hub.0.db.messages(token, chat, cursor, PAGE, None).await?;
        for message in page.items {
            *last = message.number;
            send(topic, LiveEvent::Created(Arc::new(message)));
        }
        if !page.has_more {
            return Ok(());
        }
    }
}

fn send(topic: &Topic, event: LiveEvent) {
    // No receivers: nobody is watching any more; the task stops on its own.
    let _ = topic.events.send(event);
}
