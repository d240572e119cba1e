//! Group commit for creations. Concurrent `POST`s of chats and of messages are coalesced into
//! shared transactions: while up to `in_flight` batches commit, the next one fills; a batch
//! allocates numbers for many chats at once (a hot chat takes a block of numbers in one counter
//! update) and enqueues all its jobs in one statement. Every caller still gets its answer only
//! after its own number and job are committed. On an idle server a request goes out at once, in a
//! batch of one (through the one-request statement, which costs less): there is no waiting time.
//!
//! Exactly once, whatever the connection does: every creation statement records its batch under
//! an id chosen here, in its own transaction (`intake_batches`, V10). When a statement's answer
//! is lost (the connection broke, the server went away), its outcome is resolved, never guessed:
//! the same id is inserted again, which waits for the original transaction if it still runs and
//! then either finds it committed (its record answers the requests) or fences it out for good, so
//! that the requests can be sent again without being created twice (`intake_resolve.sql`).
//!
//! A request that fails on its own (unknown application or chat, a lost idempotency claim) fails
//! alone. A batch that fails for a transient reason is sent again a few times; one that fails
//! otherwise is run request by request, so one request can never fail the others. The queue is
//! bounded (a full one answers at once, nothing done), and a request whose deadline passed before
//! its batch went out is answered without being sent.

use std::{future::Future, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use tokio::{
    sync::{mpsc, oneshot, Semaphore},
    time::Instant,
};
use tokio_postgres::Row;
use uuid::Uuid;

use super::bell::Bell;
use crate::{
    model::{Application, Chat, Message},
    store::{
        idempotency::{self, IdemKey},
        Db, DbError, DbResult, Missing,
    },
};

/// Tuning of the coalescers.
#[derive(Debug, Clone, Copy)]
pub struct IntakeConfig {
    /// Most requests in one batch.
    pub max_batch: usize,
    /// Batches committing at once (each holds a pooled connection while it runs).
    pub in_flight: usize,
    /// Most requests waiting for a batch, per kind; more are refused at once (`DbError::Busy`).
    pub max_queued: usize,
    /// How long after its arrival a request may still be sent (the request deadline): later it
    /// is answered `DbError::Expired` without being sent.
    pub deadline: Duration,
}

/// The entry point for creations; cheap to clone.
#[derive(Clone)]
pub struct Intake {
    db: Db,
    bell: Bell,
    messages: mpsc::Sender<NewMessage>,
    chats: mpsc::Sender<NewChat>,
    deadline: Duration,
}

impl Intake {
    /// Starts the two coalescers (they stop when every `Intake` clone is dropped).
    pub fn start(db: Db, bell: Bell, config: IntakeConfig) -> Self {
        let (messages, message_rx) = mpsc::channel(config.max_queued.max(1));
        let (chats, chat_rx) = mpsc::channel(config.max_queued.max(1));
        tokio::spawn(coalesce("message", message_rx, db.clone(), bell.clone(), config));
        tokio::spawn(coalesce("chat", chat_rx, db.clone(), bell.clone(), config));
        Intake {
            db,
            bell,
            messages,
            chats,
            deadline: config.deadline,
        }
    }

    /// Accepts a message: its number and job (and its idempotency key's result) are committed
    /// when this returns `Ok`; on `Err`, nothing was created.
    pub async fn create_message(
        &self,
        token: Uuid,
        chat: i64,
        body: String,
        key: Option<IdemKey>,
    ) -> DbResult<Message> {
        let (reply, answer) = oneshot::channel();
        let request = NewMessage {
            token,
            chat,
            body,
            key,
            deadline: Instant::now() + self.deadline,
            reply,
        };
        submit(&self.db, &self.messages, request).await;
        answer.await.map_err(|_| DbError::ShuttingDown)?
    }

    /// Accepts a chat: its number, counter and job (and its idempotency key's result) are
    /// committed when this returns `Ok`; on `Err`, nothing was created.
    pub async fn create_chat(&self, token: Uuid, key: Option<IdemKey>) -> DbResult<Chat> {
        let (reply, answer) = oneshot::channel();
        let request = NewChat {
            token,
            key,
            deadline: Instant::now() + self.deadline,
            reply,
        };
        submit(&self.db, &self.chats, request).await;
        answer.await.map_err(|_| DbError::ShuttingDown)?
    }
}

impl Intake {
    /// Creates an application with a fresh random token (recording it under `key`, if any): not
    /// coalesced (applications are created rarely), but resolved like every creation when its
    /// answer is lost. On `Err`, nothing was created.
    pub async fn create_application(&self, name: String, key: Option<IdemKey>) -> DbResult<Application> {
        let (reply, answer) = oneshot::channel();
        let request = NewApplication {
            token: Uuid::new_v4(),
            name,
            key,
            deadline: Instant::now() + self.deadline,
            reply,
        };
        let (batch, result) = send(&self.db, vec![request]).await;
        finish(&self.db, &self.bell, batch, result).await;
        answer.await.map_err(|_| DbError::ShuttingDown)?
    }
}

/// Deletes creation batch records older than 15 minutes (a resolution needs them for seconds,
/// and gives up after 10 minutes).
pub async fn expire_batches(db: &Db) -> DbResult<()> {
    let sql = include_str!("sql/intake_batches_expire.sql");
    db.query_all(sql, &[]).await.map(drop)
}

/// Queues a request, refusing it at once when the queue is full.
async fn submit<R: Creation>(db: &Db, queue: &mpsc::Sender<R>, request: R) {
    let (request, error) = match queue.try_send(request) {
        Ok(()) => return,
        Err(mpsc::error::TrySendError::Full(request)) => (request, DbError::Busy),
        Err(mpsc::error::TrySendError::Closed(request)) => (request, DbError::ShuttingDown),
    };
    request.fail(db, error).await;
}

/// What a creation statement recorded (its `intake_batches` row): per request, in order, the
/// number it created (`None`: nothing, the application or chat does not exist; `Some(0)`:
/// nothing, the request's idempotency claim was no longer its own), and when.
struct Recorded {
    numbers: Vec<Option<i64>>,
    at: DateTime<Utc>,
}

impl Recorded {
    fn from_row(row: &Row) -> Self {
        Recorded {
            numbers: row.get(0),
            at: row.get(1),
        }
    }
}

/// One kind of creation request, as the batch runner needs it.
trait Creation: Sized + Send + Sync + 'static {
    /// When the request stops being worth sending.
    fn deadline(&self) -> Instant;
    /// Sends `batch` as one statement recorded under `id`.
    fn statement<'a>(db: &'a Db, batch: &'a [Self], id: Uuid) -> impl Future<Output = DbResult<Recorded>> + Send + 'a;
    /// Answers the request from what its statement created.
    fn answer(self, db: &Db, bell: &Bell, number: Option<i64>, at: DateTime<Utc>) -> impl Future<Output = ()> + Send;
    /// Answers the request with an error: nothing was created for it (its key is freed first).
    fn fail(self, db: &Db, error: DbError) -> impl Future<Output = ()> + Send;
}

/// Collects requests into batches and runs up to `in_flight` batches at once. A permit is taken
/// before waiting for the first request, so on an idle server that request runs immediately;
/// under load, requests pile up while the batches in flight commit and go out together next.
async fn coalesce<R: Creation>(
    kind: &'static str,
    mut rx: mpsc::Receiver<R>,
    db: Db,
    bell: Bell,
    config: IntakeConfig,
) {
    let slots = Arc::new(Semaphore::new(config.in_flight.max(1)));
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let Some(first) = rx.recv().await else { return };
        let mut batch = vec![first];
        while batch.len() < config.max_batch {
            match rx.try_recv() {
                Ok(request) => batch.push(request),
                Err(_) => break,
            }
        }
        crate::metrics::metrics().intake_batch(kind, batch.len());
        let (db, bell) = (db.clone(), bell.clone());
        tokio::spawn(async move {
            run(&db, &bell, batch).await;
            bell.announce();
            drop(permit);
        });
    }
}

/// Attempts at a batch that fails for a transient reason (each one resolved, so none can have
/// committed when the next goes out) before its requests are answered with the error.
const TRANSIENT_ATTEMPTS: u32 = 4;

/// Runs a batch to its answers; if it fails as a whole for a reason that is not transient, runs
/// its requests one by one, so that one request cannot fail the others.
async fn run<R: Creation>(db: &Db, bell: &Bell, batch: Vec<R>) {
    match send(db, batch).await {
        // (Not when the outcome is unknown: the batch may have committed.)
        (batch, Err(e)) if batch.len() > 1 && !e.is_unavailable() && !matches!(e, DbError::OutcomeUnknown) => {
            tracing::warn!(error = %e, requests = batch.len(), "creation batch failed; running its requests one by one");
            for request in batch {
                let (alone, result) = send(db, vec![request]).await;
                finish(db, bell, alone, result).await;
            }
        }
        (batch, result) => finish(db, bell, batch, result).await,
    }
}

/// Sends a batch until it commits or fails for good: again after a transient failure (a few
/// times), each time without the requests whose deadline passed (they are answered
/// `Expired`). Returns the requests still to answer and the outcome.
async fn send<R: Creation>(db: &Db, mut batch: Vec<R>) -> (Vec<R>, DbResult<Recorded>) {
    let mut attempt = 1;
    loop {
        let now = Instant::now();
        let (live, expired): (Vec<R>, Vec<R>) = batch.into_iter().partition(|r| r.deadline() > now);
        for request in expired {
            request.fail(db, DbError::Expired).await;
        }
        batch = live;
        if batch.is_empty() {
            return (batch, Err(DbError::Expired));
        }
        match run_fenced(db, |id| R::statement(db, &batch, id)).await {
            Err(e) if e.is_unavailable() && attempt < TRANSIENT_ATTEMPTS => {
                tracing::warn!(error = %e, requests = batch.len(), attempt, "creation batch not committed; sending it again");
                tokio::time::sleep(Duration::from_millis(25 << attempt)).await;
                attempt += 1;
            }
            result => return (batch, result),
        }
    }
}

/// Answers every request of a batch from its outcome.
async fn finish<R: Creation>(db: &Db, bell: &Bell, batch: Vec<R>, result: DbResult<Recorded>) {
    match result {
        Ok(recorded) => {
            for (request, number) in batch.into_iter().zip(recorded.numbers) {
                request.answer(db, bell, number, recorded.at).await;
            }
        }
        Err(e) => {
            let shared = Arc::new(e);
            for request in batch {
                request.fail(db, DbError::Shared(shared.clone())).await;
            }
        }
    }
}

/// Runs a creation statement under a fresh batch id. `Ok`: what it created (committed). `Err`:
/// nothing of it committed, even when its answer was lost on the way (then the outcome is
/// resolved first: see the module's documentation).
async fn run_fenced<F, Fut>(db: &Db, statement: F) -> DbResult<Recorded>
where
    F: FnOnce(Uuid) -> Fut,
    Fut: Future<Output = DbResult<Recorded>>,
{
    let id = Uuid::new_v4();
    match statement(id).await {
        Err(e) if e.outcome_unknown() => {
            tracing::warn!(batch = %id, error = %e, "a creation statement's answer was lost; resolving its outcome");
            crate::metrics::metrics().intake_resolution();
            match resolve(db, id).await? {
                Some(recorded) => Ok(recorded),
                None => Err(e),
            }
        }
        result => result,
    }
}

/// How long a resolution keeps trying while the database is away; then the outcome is reported
/// unknown (the batch record outlives this, so a resolution never mistakes an expired record for
/// a statement that did not commit).
const RESOLVE_FOR: Duration = Duration::from_secs(600);

/// The outcome of the creation statement recorded under `id`, whose answer was lost: `Ok(Some)`
/// if it committed, `Ok(None)` if it did not (and now never will). Tries until it knows, or for
/// `RESOLVE_FOR` while the database stays away (`Err(OutcomeUnknown)`): it never guesses.
async fn resolve(db: &Db, id: Uuid) -> DbResult<Option<Recorded>> {
    let give_up = Instant::now() + RESOLVE_FOR;
    let mut attempt = 0u32;
    loop {
        match try_resolve(db, id).await {
            Ok(Some(outcome)) => return Ok(outcome),
            Ok(None) => {} // the record expired between the two statements: fence again
            Err(e) => {
                tracing::warn!(batch = %id, error = %e, attempt, "resolving a creation's outcome failed; trying again")
            }
        }
        if Instant::now() > give_up {
            tracing::error!(batch = %id, "the outcome of a creation statement could not be learned; its requests are answered as unknown");
            return Err(DbError::OutcomeUnknown);
        }
        attempt += 1;
        tokio::time::sleep(Duration::from_millis(10 << attempt.min(7))).await;
    }
}

async fn try_resolve(db: &Db, id: Uuid) -> DbResult<Option<Option<Recorded>>> {
    let fence = include_str!("sql/intake_resolve.sql");
    if !db.query_all(fence, &[&id]).await?.is_empty() {
        return Ok(Some(None)); // fenced: the original never committed
    }
    // The insert conflicted with a committed row: read it (a new statement sees it).
    let get = include_str!("sql/intake_batch_get.sql");
    let rows = db.query_all(get, &[&id]).await?;
    // A NULL `numbers` is a fence of ours, from an earlier attempt whose answer was lost.
    Ok(rows.first().map(|row| {
        row.get::<_, Option<Vec<Option<i64>>>>(0).map(|numbers| Recorded {
            numbers,
            at: row.get(1),
        })
    }))
}

/// Answers a request. A failed one first frees its idempotency key (nothing was created under
/// it), so that a retry can run at once, even when the request's own handler is gone (its
/// deadline passed while it waited here).
async fn respond<T>(db: &Db, key: Option<&IdemKey>, reply: oneshot::Sender<DbResult<T>>, result: DbResult<T>) {
    if let (Err(e), Some(key)) = (&result, key) {
        // A lost claim is another request's now: not ours to free.
        if !matches!(e, DbError::ClaimLost) {
            if let Err(e) = db.release_idempotency(key).await {
                tracing::warn!(error = %e, "could not free an idempotency key; it frees itself in a minute");
            }
        }
    }
    let _ = reply.send(result);
}

/// The idempotency scope, key and claim columns of a batch (NULL where a request has no key).
type KeyColumns<'a> = (Vec<Option<&'a str>>, Vec<Option<&'a str>>, Vec<Option<Uuid>>);

fn key_columns<'a>(keys: impl Iterator<Item = Option<&'a IdemKey>>) -> KeyColumns<'a> {
    let (mut scopes, mut names, mut claims) = (Vec::new(), Vec::new(), Vec::new());
    for (scope, key, claim) in keys.map(idempotency::params) {
        scopes.push(scope);
        names.push(key);
        claims.push(claim);
    }
    (scopes, names, claims)
}

/// One statement's single row, as `Recorded`.
async fn recorded(db: &Db, sql: &str, params: &[&(dyn tokio_postgres::types::ToSql + Sync)]) -> DbResult<Recorded> {
    let rows = db.query_all(sql, params).await?;
    Ok(Recorded::from_row(&rows[0]))
}

/// A message creation waiting for its batch.
struct NewMessage {
    token: Uuid,
    chat: i64,
    body: String,
    key: Option<IdemKey>,
    deadline: Instant,
    reply: oneshot::Sender<DbResult<Message>>,
}

impl Creation for NewMessage {
    fn deadline(&self) -> Instant {
        self.deadline
    }

    async fn statement(db: &Db, batch: &[Self], id: Uuid) -> DbResult<Recorded> {
        if let [one] = batch {
            // A batch of one (an idle or lightly loaded server) takes the one-request
            // statement: the same effect in a third less database time.
            let (scope, key, claim) = idempotency::params(one.key.as_ref());
            let sql = include_str!("sql/message_create.sql");
            return recorded(db, sql, &[&one.token, &one.chat, &one.body, &scope, &key, &claim, &id]).await;
        }
        let tokens: Vec<Uuid> = batch.iter().map(|r| r.token).collect();
        let chats: Vec<i64> = batch.iter().map(|r| r.chat).collect();
        let bodies: Vec<&str> = batch.iter().map(|r| r.body.as_str()).collect();
        let (scopes, keys, claims) = key_columns(batch.iter().map(|r| r.key.as_ref()));
        let sql = include_str!("sql/intake_messages.sql");
        recorded(db, sql, &[&tokens, &chats, &bodies, &scopes, &keys, &claims, &id]).await
    }

    async fn answer(self, db: &Db, _bell: &Bell, number: Option<i64>, at: DateTime<Utc>) {
        let result = match number {
            Some(0) => Err(DbError::ClaimLost),
            Some(number) => Ok(Message {
                number,
                body: self.body,
                created_at: at,
                updated_at: at,
            }),
            None => db.chat_missing(self.token, self.chat).await.and_then(Err),
        };
        respond(db, self.key.as_ref(), self.reply, result).await;
    }

    async fn fail(self, db: &Db, error: DbError) {
        respond(db, self.key.as_ref(), self.reply, Err(error)).await;
    }
}

/// A chat creation waiting for its batch.
struct NewChat {
    token: Uuid,
    key: Option<IdemKey>,
    deadline: Instant,
    reply: oneshot::Sender<DbResult<Chat>>,
}

impl Creation for NewChat {
    fn deadline(&self) -> Instant {
        self.deadline
    }

    async fn statement(db: &Db, batch: &[Self], id: Uuid) -> DbResult<Recorded> {
        if let [one] = batch {
            let (scope, key, claim) = idempotency::params(one.key.as_ref());
            let sql = include_str!("sql/chat_create.sql");
            return recorded(db, sql, &[&one.token, &scope, &key, &claim, &id]).await;
        }
        let tokens: Vec<Uuid> = batch.iter().map(|r| r.token).collect();
        let (scopes, keys, claims) = key_columns(batch.iter().map(|r| r.key.as_ref()));
        let sql = include_str!("sql/intake_chats.sql");
        recorded(db, sql, &[&tokens, &scopes, &keys, &claims, &id]).await
    }

    async fn answer(self, db: &Db, _bell: &Bell, number: Option<i64>, at: DateTime<Utc>) {
        let result = match number {
            Some(0) => Err(DbError::ClaimLost),
            Some(number) => Ok(Chat {
                number,
                messages_count: 0,
                created_at: at,
                updated_at: at,
            }),
            None => Err(DbError::NotFound(Missing::Application)),
        };
        respond(db, self.key.as_ref(), self.reply, result).await;
    }

    async fn fail(self, db: &Db, error: DbError) {
        respond(db, self.key.as_ref(), self.reply, Err(error)).await;
    }
}

/// An application creation (run at once, in a batch of its own).
struct NewApplication {
    token: Uuid,
    name: String,
    key: Option<IdemKey>,
    deadline: Instant,
    reply: oneshot::Sender<DbResult<Application>>,
}

impl Creation for NewApplication {
    fn deadline(&self) -> Instant {
        self.deadline
    }

    async fn statement(db: &Db, batch: &[Self], id: Uuid) -> DbResult<Recorded> {
        let one = &batch[0];
        let (scope, key, claim) = idempotency::params(one.key.as_ref());
        let sql = include_str!("sql/application_create.sql");
        recorded(db, sql, &[&one.token, &one.name, &scope, &key, &claim, &id]).await
    }

    async fn answer(self, db: &Db, _bell: &Bell, number: Option<i64>, at: DateTime<Utc>) {
        let result = match number {
            Some(1) => Ok(Application {
                token: self.token,
                name: self.name,
                chats_count: 0,
                created_at: at,
                updated_at: at,
            }),
            _ => Err(DbError::ClaimLost),
        };
        respond(db, self.key.as_ref(), self.reply, result).await;
    }

    async fn fail(self, db: &Db, error: DbError) {
        respond(db, self.key.as_ref(), self.reply, Err(error)).await;
    }
}
