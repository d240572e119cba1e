//! A watched chat (a topic): what its task must do next, the broadcast its subscribers read, and
//! the registry of this process's topics.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex, MutexGuard},
};

use tokio::sync::{broadcast, Notify};
use tokio_util::sync::CancellationToken;

use crate::model::Message;

/// What a subscriber is told.
#[derive(Debug, Clone)]
pub enum LiveEvent {
    /// A new message.
    Created(Arc<Message>),
    /// A message's new body.
    Updated(Arc<Message>),
    /// A message was deleted (its number).
    Deleted(i64),
    /// The chat (or its application) was deleted; the stream ends.
    Gone,
}

/// Events a slow subscriber may fall behind by before it re-reads what it missed.
pub(super) const TOPIC_CAPACITY: usize = 1024;
/// Messages read per query while catching up.
pub(super) const PAGE: i64 = 100;

/// A watched chat: (application id, chat number).
pub(super) type Key = (i64, i64);

/// Work queued for a topic's task, in the order it was published.
#[derive(Debug, Clone, Copy)]
pub(super) enum Op {
    Appended,
    Edited(i64),
    Deleted(i64),
    Gone,
}

/// One watched chat.
pub(super) struct Topic {
    pub(super) events: broadcast::Sender<LiveEvent>,
    pub(super) ops: Mutex<VecDeque<Op>>,
    pub(super) wake: Notify,
    pub(super) stop: CancellationToken,
}

impl Topic {
    pub(super) fn push(&self, op: Op) {
        let mut ops = self.ops.lock().unwrap();
        // A run of `Appended` is one read: keep the queue short while reads are failing.
        if !(matches!(op, Op::Appended) && matches!(ops.back(), Some(Op::Appended))) {
            ops.push_back(op);
        }
        drop(ops);
        self.wake.notify_one();
    }
}

/// This process's topics by chat; the last subscriber out of a topic removes it.
#[derive(Default)]
pub(super) struct Topics(Mutex<HashMap<Key, Arc<Topic>>>);

impl Topics {
    /// The registry, locked.
    pub(super) fn lock(&self) -> MutexGuard<'_, HashMap<Key, Arc<Topic>>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Called when a subscription ends: the last one out stops the chat's task.
    pub(super) fn release(&self, key: Key, topic: &Arc<Topic>) {
        let mut topics = self.lock();
        if topic.events.receiver_count() == 0 {
            if topics.get(&key).is_some_and(|t| Arc::ptr_eq(t, topic)) {
                topics.remove(&key);
            }
            topic.stop.cancel();
        }
    }
}
