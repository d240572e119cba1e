//! The webhook outbox of a worker batch: one statement in the batch's transaction, so the
//! deliveries of `chat.created` and `message.created` exist exactly when the chats and messages
//! do (a batch rolled back or lost in a crash takes them with it, and its jobs run again).
//! The delivery workers of `hooks` send them.

use chrono::{DateTime, Utc};
use deadpool_postgres::Transaction;

use crate::store::DbError;

/// A created chat (`number` is `None`) or message, as its job held it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Created<'a> {
    pub(super) application_id: i64,
    pub(super) chat_number: i64,
    pub(super) number: Option<i64>,
    pub(super) body: Option<&'a str>,
    pub(super) sender: Option<&'a str>,
    pub(super) created_at: DateTime<Utc>,
    pub(super) updated_at: DateTime<Utc>,
}

/// Queues the webhook deliveries of `created` (in job order) in `tx`.
pub(super) async fn enqueue(tx: &Transaction<'_>, created: &[Created<'_>]) -> Result<(), DbError> {
    if created.is_empty() {
        return Ok(());
    }
    let apps: Vec<i64> = created.iter().map(|c| c.application_id).collect();
    let chats: Vec<i64> = created.iter().map(|c| c.chat_number).collect();
    let numbers: Vec<Option<i64>> = created.iter().map(|c| c.number).collect();
    let bodies: Vec<Option<&str>> = created.iter().map(|c| c.body).collect();
    let senders: Vec<Option<&str>> = created.iter().map(|c| c.sender).collect();
    let created_at: Vec<DateTime<Utc>> = created.iter().map(|c| c.created_at).collect();
    let updated_at: Vec<DateTime<Utc>> = created.iter().map(|c| c.updated_at).collect();
    let stmt = tx
        .prepare_cached(include_str!("sql/webhooks_enqueue_created.sql"))
        .await?;
    tx.execute(
        &stmt,
        &[&apps, &chats, &numbers, &bodies, &created_at, &updated_at, &senders],
    )
    .await?;
    Ok(())
}
