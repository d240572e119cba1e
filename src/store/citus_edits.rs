//! Edits and deletes of messages on Citus. Elsewhere each step is one statement that also
//! queues its webhook deliveries (`message_update_row.sql`, `message_delete_*.sql`); Citus runs
//! no statement with modifying CTEs on one shard, so here each step is a transaction of
//! single-shard statements, the outbox (`webhook_outbox::enqueue_for_app`) included. The steps'
//! order (table, queue, table) is `messages`' own, for the same reason.

use tokio_postgres::types::ToSql;
use uuid::Uuid;

use super::{
    messages::returned,
    webhook_outbox::{enqueue_for_app, Event},
    Db, DbResult,
};
use crate::model::Message;

impl Db {
    /// `edit_message` on Citus.
    pub(super) async fn edit_message_citus(
        &self,
        token: Uuid,
        (chat, number): (i64, i64),
        (body, folded, sender): (&str, Option<&str>, Option<&str>),
    ) -> DbResult<Message> {
        let app = self.app(token).await?;
        let params: [&(dyn ToSql + Sync); 6] = [&app, &chat, &number, &body, &sender, &folded];
        let mut client = self.client().await?;
        for written in [true, false, true] {
            let tx = client.transaction().await?;
            let sql = match written {
                true => include_str!("sql/message_update_row_citus.sql"),
                false => include_str!("sql/message_update_job_citus.sql"),
            };
            let stmt = tx.prepare_cached(sql).await?;
            let params = if written { &params[..] } else { &params[..5] };
            let Some(row) = tx.query_opt(&stmt, params).await? else {
                continue;
            };
            let message = returned(&row);
            if written {
                let event = Event {
                    number: Some(message.number),
                    body: Some(&message.body),
                    sender: message.sender.as_deref(),
                    created_at: Some(message.created_at),
                    updated_at: Some(message.updated_at),
                    ..Event::of_chat("message.updated", chat)
                };
                enqueue_for_app(&tx, app, &[event]).await?;
            }
            tx.commit().await?;
            return Ok(message);
        }
        drop(client);
        Err(self.chat_missing(token, chat).await?)
    }

    /// `delete_message` on Citus.
    pub(super) async fn delete_message_citus(&self, token: Uuid, chat: i64, number: i64) -> DbResult<()> {
        let app = self.app(token).await?;
        let params: [&(dyn ToSql + Sync); 3] = [&app, &chat, &number];
        let mut client = self.client().await?;
        for written in [true, false, true] {
            let tx = client.transaction().await?;
            let sql = match written {
                true => include_str!("sql/message_delete_row_citus.sql"),
                false => include_str!("sql/message_delete_job_citus.sql"),
            };
            let stmt = tx.prepare_cached(sql).await?;
            if tx.execute(&stmt, &params).await? == 0 {
                continue;
            }
            if written {
                let count = tx.prepare_cached(include_str!("sql/message_delete_count.sql")).await?;
                tx.execute(&count, &params[..2]).await?;
            }
            let event = Event {
                number: Some(number),
                ..Event::of_chat("message.deleted", chat)
            };
            enqueue_for_app(&tx, app, &[event]).await?;
            tx.commit().await?;
            return Ok(());
        }
        drop(client);
        Err(self.chat_missing(token, chat).await?)
    }
}
