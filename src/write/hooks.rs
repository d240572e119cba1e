//! The webhook outbox of a worker batch: one statement in the batch's transaction, pipelined
//! after the statements that write the batch, so the deliveries of `chat.created` and
//! `message.created` exist exactly when the chats and messages do (a batch rolled back or lost in
//! a crash takes them with it, and its jobs run again). The delivery workers of `hooks` send
//! them.

use chrono::{DateTime, Utc};
use deadpool_postgres::Transaction;
use tokio_postgres::{types::ToSql, Statement};

/// The outbox statement (`sql/webhooks_enqueue_created.sql`).
pub(super) const ENQUEUE_CREATED: &str = include_str!("sql/webhooks_enqueue_created.sql");

/// One created chat (`number` is `None`) or message, as its job held it.
pub(super) struct Creation<'a> {
    pub(super) application_id: i64,
    pub(super) chat_number: i64,
    pub(super) number: Option<i64>,
    pub(super) body: Option<&'a str>,
    pub(super) sender: Option<&'a str>,
    pub(super) created_at: DateTime<Utc>,
    pub(super) updated_at: DateTime<Utc>,
}

/// A batch's creations in job order, as the statement's arrays.
#[derive(Debug, Default)]
pub(super) struct Created<'a> {
    apps: Vec<i64>,
    chats: Vec<i64>,
    numbers: Vec<Option<i64>>,
    bodies: Vec<Option<&'a str>>,
    senders: Vec<Option<&'a str>>,
    created_at: Vec<DateTime<Utc>>,
    updated_at: Vec<DateTime<Utc>>,
}

impl<'a> FromIterator<Creation<'a>> for Created<'a> {
    fn from_iter<I: IntoIterator<Item = Creation<'a>>>(creations: I) -> Self {
        let mut created = Created::default();
        for c in creations {
            created.apps.push(c.application_id);
            created.chats.push(c.chat_number);
            created.numbers.push(c.number);
            created.bodies.push(c.body);
            created.senders.push(c.sender);
            created.created_at.push(c.created_at);
            created.updated_at.push(c.updated_at);
        }
        created
    }
}

impl Created<'_> {
    /// Queues the webhook deliveries of these creations in `tx` with `enqueue` (the prepared
    /// `ENQUEUE_CREATED`).
    pub(super) async fn enqueue(
        &self,
        tx: &Transaction<'_>,
        enqueue: &Statement,
    ) -> Result<u64, tokio_postgres::Error> {
        if self.apps.is_empty() {
            return Ok(0);
        }
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 7] = [
            &self.apps,
            &self.chats,
            &self.numbers,
            &self.bodies,
            &self.created_at,
            &self.updated_at,
            &self.senders,
        ];
        tx.execute(enqueue, &params).await
    }
}

/// One outbox row of `enqueue_one_app`, by column.
#[derive(Default)]
struct Deliveries<'a> {
    apps: Vec<i64>,
    hooks: Vec<i64>,
    events: Vec<i64>,
    kinds: Vec<&'static str>,
    chats: Vec<i64>,
    numbers: Vec<Option<i64>>,
    bodies: Vec<Option<&'a str>>,
    senders: Vec<Option<&'a str>>,
    created_at: Vec<DateTime<Utc>>,
    updated_at: Vec<DateTime<Utc>>,
}

impl Created<'_> {
    /// `enqueue` for a batch of one application (`app`), on Citus: the outbox statement's join
    /// of many applications' creations with their endpoints is no single-shard statement, and the
    /// event ids' sequence is the coordinator's. So the endpoints are read on the application's
    /// shard, the ids taken on the coordinator, and the rows built here, in the same order as
    /// `ENQUEUE_CREATED` gives them (event ids in job order, then by endpoint).
    pub(super) async fn enqueue_one_app(&self, tx: &Transaction<'_>, app: i64) -> Result<u64, tokio_postgres::Error> {
        if self.apps.is_empty() {
            return Ok(0);
        }
        let endpoints = tx.query(include_str!("sql/webhooks_of_app.sql"), &[&app]).await?;
        if endpoints.is_empty() {
            return Ok(0);
        }
        let endpoints: Vec<(i64, Vec<String>)> = endpoints.iter().map(|r| (r.get(0), r.get(1))).collect();
        let kind = |i: usize| match self.numbers[i] {
            None => "chat.created",
            Some(_) => "message.created",
        };
        let takers = |i: usize| {
            endpoints
                .iter()
                .filter(move |(_, events)| events.iter().any(|e| e == kind(i)))
                .map(|(id, _)| *id)
        };
        let taken: Vec<usize> = (0..self.apps.len()).filter(|&i| takers(i).next().is_some()).collect();
        if taken.is_empty() {
            return Ok(0);
        }
        let count = taken.len() as i32;
        let ids = tx.query(include_str!("sql/webhook_event_ids.sql"), &[&count]).await?;
        let mut rows = Deliveries::default();
        for (&i, id) in taken.iter().zip(&ids) {
            for hook in takers(i) {
                rows.apps.push(app);
                rows.hooks.push(hook);
                rows.events.push(id.get(0));
                rows.kinds.push(kind(i));
                rows.chats.push(self.chats[i]);
                rows.numbers.push(self.numbers[i]);
                rows.bodies.push(self.bodies[i]);
                rows.senders.push(self.senders[i]);
                rows.created_at.push(self.created_at[i]);
                rows.updated_at.push(self.updated_at[i]);
            }
        }
        let params: [&(dyn ToSql + Sync); 10] = [
            &rows.apps,
            &rows.hooks,
            &rows.events,
            &rows.kinds,
            &rows.chats,
            &rows.numbers,
            &rows.bodies,
            &rows.senders,
            &rows.created_at,
            &rows.updated_at,
        ];
        tx.execute(include_str!("sql/webhooks_insert_deliveries.sql"), &params)
            .await
    }
}
