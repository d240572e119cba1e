//! Read coalescing for single-message reads, the most frequent request: reads that arrive while
//! others are in the database go out together as one statement (`message_get_many.sql`), the way
//! the intake coalesces creations. At most `IN_FLIGHT` statements run at once; a read that finds
//! them all busy queues, and whoever gets a slot next takes every queued read with it. An idle
//! server sends each read alone, with the one-read statement, as before. Under load this cuts
//! the round trips, the database's per-statement work and the wake-ups per read.
//!
//! No task of its own: a waiting read either finds its answer or gets a slot and becomes the one
//! that sends (combining), so nothing is left behind when the last request is answered.

use std::sync::{Arc, Mutex};

use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;

use super::{error::missing, messages::read as read_message, Db, DbError, DbResult, Missing};
use crate::model::Message;

/// Statements of this kind in flight at once, per process.
const IN_FLIGHT: usize = 4;
/// Reads per statement at most.
const MAX_BATCH: usize = 64;

/// A single-message read: application (id and token), chat, message number.
#[derive(Debug, Clone, Copy)]
struct Key {
    app: i64,
    token: Uuid,
    chat: i64,
    number: i64,
}

/// What the database said about one read: `None` when the application is gone, else whether
/// the chat exists and the message, if there is one.
type Found = Option<(bool, Option<Message>)>;

/// A read waiting for a slot, and whom to answer.
struct Waiting {
    /// Tells this read from the others in the queue.
    id: u64,
    key: Key,
    answer: oneshot::Sender<DbResult<Found>>,
}

/// The reads waiting, and the slots.
pub(super) struct Reads {
    queue: Mutex<Vec<Waiting>>,
    next_id: std::sync::atomic::AtomicU64,
    slots: Arc<Semaphore>,
}

impl Default for Reads {
    fn default() -> Self {
        Reads {
            queue: Mutex::new(Vec::new()),
            next_id: Default::default(),
            slots: Arc::new(Semaphore::new(IN_FLIGHT)),
        }
    }
}

impl Reads {
    /// Reads `key` through `db`, alone or with the reads waiting beside it.
    async fn read(self: &Arc<Self>, db: &Db, key: Key) -> DbResult<Found> {
        let (tx, rx) = oneshot::channel();
        let id = self.next_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Waiting { id, key, answer: tx });
        let mut rx = std::pin::pin!(rx);
        loop {
            let permit = tokio::select! {
                biased;
                answer = &mut rx => return answer.unwrap_or(Err(DbError::ShuttingDown)),
                permit = self.slots.clone().acquire_owned() => permit.expect("never closed"),
            };
            let batch: Vec<Waiting> = {
                let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
                let n = queue.len().min(MAX_BATCH);
                queue.drain(..n).collect()
            };
            // Still queued (behind a full batch): wait for a slot again. Otherwise this read is
            // in this batch or in another one already sent: its answer comes.
            let mine = batch.iter().any(|w| w.id == id);
            let queued = !mine && {
                let queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
                queue.iter().any(|w| w.id == id)
            };
            if !batch.is_empty() {
                self.send(db, batch, permit);
            }
            if !queued {
                return rx.await.unwrap_or(Err(DbError::ShuttingDown));
            }
        }
    }

    /// Sends `batch` in a task of its own, so that the request that sends it going away (its
    /// client hung up) cannot take the other reads with it; `permit` is its slot.
    fn send(&self, db: &Db, batch: Vec<Waiting>, permit: OwnedSemaphorePermit) {
        let db = db.clone();
        tokio::spawn(async move {
            let keys: Vec<Key> = batch.iter().map(|w| w.key).collect();
            match db.send_reads(&keys).await {
                Ok(found) => {
                    for (waiting, found) in batch.into_iter().zip(found) {
                        let _ = waiting.answer.send(Ok(found));
                    }
                }
                Err(e) => {
                    let e = Arc::new(e);
                    for waiting in batch {
                        let _ = waiting.answer.send(Err(DbError::Shared(e.clone())));
                    }
                }
            }
            drop(permit);
        });
    }
}

impl Db {
    /// The message, written or still queued.
    pub async fn message(&self, token: Uuid, chat: i64, number: i64) -> DbResult<Message> {
        let Some(app) = self.app_id(token).await? else {
            return Err(DbError::NotFound(Missing::Application));
        };
        let key = Key {
            app,
            token,
            chat,
            number,
        };
        match self.reads.read(self, key).await? {
            None => {
                self.forget_app_id(token);
                Err(DbError::NotFound(Missing::Application))
            }
            Some((true, Some(m))) => Ok(m),
            Some((chat_exists, _)) => Err(missing(true, chat_exists, Missing::Message)),
        }
    }

    /// Sends a batch of reads: one key with the one-read statement, more with the batch one.
    /// Answers in the keys' order.
    /// On Citus each read goes alone (pipelined on one connection): the batch statement names
    /// many applications, which no single shard holds.
    async fn send_reads(&self, keys: &[Key]) -> DbResult<Vec<Found>> {
        if keys.len() == 1 || self.on_citus() {
            let client = self.client().await?;
            let stmt = client.prepare_cached(include_str!("sql/message_get.sql")).await?;
            let reads = keys.iter().map(|key| {
                let (client, stmt) = (&client, &stmt);
                async move {
                    let row = client
                        .query_opt(stmt, &[&key.app, &key.token, &key.chat, &key.number])
                        .await?;
                    Ok::<Found, DbError>(row.map(|row| {
                        let message = row.get::<_, Option<i64>>(1).map(|_| read_message(&row, 1));
                        (row.get(0), message)
                    }))
                }
            });
            return futures::future::try_join_all(reads).await;
        }
        let apps: Vec<i64> = keys.iter().map(|k| k.app).collect();
        let tokens: Vec<Uuid> = keys.iter().map(|k| k.token).collect();
        let chats: Vec<i64> = keys.iter().map(|k| k.chat).collect();
        let numbers: Vec<i64> = keys.iter().map(|k| k.number).collect();
        let ords: Vec<i32> = (0..keys.len() as i32).collect();
        let sql = include_str!("sql/message_get_many.sql");
        let rows = self.query(sql, &[&apps, &tokens, &chats, &numbers, &ords]).await?;
        let mut found: Vec<Found> = (0..keys.len()).map(|_| None).collect();
        for row in rows {
            let ord = row.get::<_, i32>(0) as usize;
            if row.get::<_, bool>(1) {
                let message = row.get::<_, Option<i64>>(3).map(|_| read_message(&row, 3));
                found[ord] = Some((row.get(2), message));
            }
        }
        Ok(found)
    }
}
