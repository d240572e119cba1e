//! The webhook outbox for edits and chat deletes: one statement in the change's own transaction, so
//! a committed change always has its deliveries and a rolled-back one never has (the delivery
//! workers of `hooks` send them). The worker batches enqueue creations the same way
//! (`write::hooks`), and a message delete in its own statements (`message_delete_*.sql`).

use deadpool_postgres::Transaction;
use uuid::Uuid;

use super::DbResult;
use crate::model::Message;

/// A change that webhooks announce, as its transaction knows it.
#[derive(Debug, Clone, Copy)]
pub enum Change<'a> {
    /// `message.updated`: the message as it is now.
    Updated(&'a Message),
    /// `chat.deleted`.
    ChatDeleted,
}

/// Queues `change` of chat `chat` of the application `token` for its endpoints, in `tx`.
pub async fn enqueue(tx: &Transaction<'_>, token: Uuid, chat: i64, change: Change<'_>) -> DbResult<()> {
    let (kind, number, message) = match change {
        Change::Updated(m) => ("message.updated", Some(m.number), Some(m)),
        Change::ChatDeleted => ("chat.deleted", None, None),
    };
    let body = message.map(|m| m.body.as_str());
    let created = message.map(|m| m.created_at);
    let updated = message.map(|m| m.updated_at);
    let sender = message.and_then(|m| m.sender.as_deref());
    let stmt = tx.prepare_cached(include_str!("sql/webhook_enqueue.sql")).await?;
    tx.execute(
        &stmt,
        &[&token, &chat, &number, &kind, &body, &created, &updated, &sender],
    )
    .await?;
    Ok(())
}
