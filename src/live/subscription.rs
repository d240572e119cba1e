//! One client's stream of a chat: first the messages it missed (numbered above its cursor, read
//! in pages), then what its topic broadcasts, without gaps or repeats. The cursor is the highest
//! message number delivered; it is what a client resumes from.

use std::{collections::VecDeque, sync::Arc};

use futures::Stream;
use tokio::sync::{broadcast, OwnedSemaphorePermit};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::topic::{Key, LiveEvent, Topic, Topics, PAGE};
use crate::{
    model::{Cursor, Message},
    store::{Db, DbError},
};

/// A live subscription to one chat; ends the chat's task when the last one is dropped.
pub struct Subscription {
    db: Db,
    topics: Arc<Topics>,
    /// The application's token, for reading its chat.
    token: Uuid,
    key: Key,
    topic: Arc<Topic>,
    events: Option<broadcast::Receiver<LiveEvent>>,
    cursor: i64,
    backlog: VecDeque<Message>,
    catching_up: bool,
    done: bool,
    closing: CancellationToken,
    _permit: OwnedSemaphorePermit,
}

impl Subscription {
    pub(super) fn new(
        (db, topics, closing): (Db, Arc<Topics>, CancellationToken),
        token: Uuid,
        key: Key,
        topic: Arc<Topic>,
        events: broadcast::Receiver<LiveEvent>,
        cursor: i64,
        permit: OwnedSemaphorePermit,
    ) -> Self {
        Subscription {
            db,
            topics,
            token,
            key,
            topic,
            events: Some(events),
            cursor,
            backlog: VecDeque::new(),
            // Always look once: whatever was committed between the topic's start and now.
            catching_up: true,
            done: false,
            closing,
            _permit: permit,
        }
    }

    /// The next event and the cursor after it; `None` when the stream ends (chat deleted,
    /// server shutting down, or the database failing while catching up: the client resumes).
    pub async fn next(&mut self) -> Option<(LiveEvent, i64)> {
        loop {
            if self.done || self.closing.is_cancelled() {
                return None;
            }
            if let Some(message) = self.backlog.pop_front() {
                self.cursor = message.number;
                return Some((LiveEvent::Created(Arc::new(message)), self.cursor));
            }
            if self.catching_up {
                let cursor = Cursor {
                    after: self.cursor,
                    before: i64::MAX,
                    offset: 0,
                    backwards: false,
                };
                match self.db.messages(self.token, self.key.1, cursor, PAGE, None).await {
                    Ok(page) => {
                        self.backlog.extend(page.items);
                        self.catching_up = page.has_more;
                    }
                    Err(DbError::NotFound(_)) => {
                        self.done = true;
                        return Some((LiveEvent::Gone, self.cursor));
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "live stream could not catch up; ending it");
                        return None;
                    }
                }
                continue;
            }
            let events = self.events.as_mut()?;
            let event = tokio::select! {
                event = events.recv() => event,
                _ = self.closing.cancelled() => return None,
            };
            match event {
                Ok(LiveEvent::Created(message)) if message.number > self.cursor => {
                    self.cursor = message.number;
                    return Some((LiveEvent::Created(message), self.cursor));
                }
                // Changes to messages this subscriber has not been sent yet: it gets them as
                // they are now when it reaches them.
                Ok(LiveEvent::Created(_)) => {}
                Ok(LiveEvent::Updated(message)) if message.number <= self.cursor => {
                    return Some((LiveEvent::Updated(message), self.cursor));
                }
                Ok(LiveEvent::Deleted(number)) if number <= self.cursor => {
                    return Some((LiveEvent::Deleted(number), self.cursor));
                }
                Ok(LiveEvent::Updated(_) | LiveEvent::Deleted(_)) => {}
                Ok(LiveEvent::Gone) => {
                    self.done = true;
                    return Some((LiveEvent::Gone, self.cursor));
                }
                // Fell behind the topic: read what was missed from the database.
                Err(broadcast::error::RecvError::Lagged(_)) => self.catching_up = true,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// The subscription as a stream of events with their cursors.
    pub fn into_stream(self) -> impl Stream<Item = (LiveEvent, i64)> + Send + 'static {
        futures::stream::unfold(self, |mut subscription| async move {
            let event = subscription.next().await?;
            Some((event, subscription))
        })
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        drop(self.events.take());
        self.topics.release(self.key, &self.topic);
    }
}
