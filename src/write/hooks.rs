//! The webhook outbox of a worker batch: one statement in the batch's transaction, so the
//! deliveries of `chat.created` and `message.created` exist exactly when the chats and messages
//! do (a batch rolled back or lost in a crash takes them with it, and its jobs run again).
//! The delivery workers of `hooks` send them.

use chrono::{DateTime, Utc};
use deadpool_postgres::Transaction;

use super::worker::Job;
use crate::store::DbError;

/// Queues the webhook deliveries of `jobs` (sorted by job id) in `tx`.
pub(super) async fn enqueue(tx: &Transaction<'_>, jobs: &[Job]) -> Result<(), DbError> {
    if jobs.is_empty() {
        return Ok(());
    }
    let apps: Vec<i64> = jobs.iter().map(|j| j.application_id).collect();
    let chats: Vec<i64> = jobs.iter().map(|j| j.chat_number).collect();
    let numbers: Vec<Option<i64>> = jobs.iter().map(|j| j.message_number).collect();
    let bodies: Vec<Option<&str>> = jobs.iter().map(|j| j.body.as_deref()).collect();
    let created: Vec<DateTime<Utc>> = jobs.iter().map(|j| j.created_at).collect();
    let updated: Vec<DateTime<Utc>> = jobs.iter().map(|j| j.updated_at).collect();
    let stmt = tx
        .prepare_cached(include_str!("sql/webhooks_enqueue_created.sql"))
        .await?;
    tx.execute(&stmt, &[&apps, &chats, &numbers, &bodies, &created, &updated])
        .await?;
    Ok(())
}
