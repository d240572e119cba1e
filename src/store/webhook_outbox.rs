//! The webhook outbox for chat deletes: one statement in the change's own transaction, so a
//! committed change always has its deliveries and a rolled-back one never has (the delivery
//! workers of `hooks` send them). Message edits and deletes queue theirs inside their own
//! statements (`message_update_row.sql`, `message_delete_*.sql`), the worker batches theirs in
//! their pipeline (`write::hooks`).

use deadpool_postgres::Transaction;
use uuid::Uuid;

use super::DbResult;

/// Queues `chat.deleted` for chat `chat` of the application `token`, for its endpoints, in `tx`.
pub async fn chat_deleted(tx: &Transaction<'_>, token: Uuid, chat: i64) -> DbResult<()> {
    let stmt = tx.prepare_cached(include_str!("sql/webhook_enqueue.sql")).await?;
    tx.execute(&stmt, &[&token, &chat, &"chat.deleted"]).await?;
    Ok(())
}
