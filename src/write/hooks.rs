//! The webhook outbox of a worker batch: one statement in the batch's transaction, pipelined
//! after the statements that write the batch, so the deliveries of `chat.created` and
//! `message.created` exist exactly when the chats and messages do (a batch rolled back or lost in
//! a crash takes them with it, and its jobs run again). The delivery workers of `hooks` send
//! them.

use chrono::{DateTime, Utc};
use deadpool_postgres::Transaction;
use tokio_postgres::Statement;

use crate::store::webhook_outbox::{self, Event};

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

impl Created<'_> {
    /// `enqueue` for a batch of one application (`app`), on Citus (`store::webhook_outbox`).
    pub(super) async fn enqueue_one_app(&self, tx: &Transaction<'_>, app: i64) -> Result<u64, tokio_postgres::Error> {
        let events: Vec<Event> = (0..self.apps.len())
            .map(|i| Event {
                kind: match self.numbers[i] {
                    None => "chat.created",
                    Some(_) => "message.created",
                },
                chat: self.chats[i],
                number: self.numbers[i],
                body: self.bodies[i],
                sender: self.senders[i],
                created_at: Some(self.created_at[i]),
                updated_at: Some(self.updated_at[i]),
            })
            .collect();
        webhook_outbox::enqueue_for_app(tx, app, &events).await
    }
}
