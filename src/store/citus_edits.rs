//! Writes whose one-statement form Citus cannot run on one shard, as Citus runs them: edits and
//! deletes of messages, joins and read positions of members, application deletes. Elsewhere each
//! is one statement with modifying CTEs (a message edit or delete also queues its webhook
//! deliveries); Citus runs no statement with modifying CTEs on one shard, so here each is a
//! transaction of single-shard statements, the outbox (`webhook_outbox::enqueue_for_app`)
//! included. A message's steps keep `messages`' order (table, queue, table), for its reason.

use tokio_postgres::types::ToSql;
use uuid::Uuid;

use super::{
    error::missing,
    messages::returned,
    readers::{Marked, Membership},
    webhook_outbox::{enqueue_for_app, Event},
    Db, DbError, DbResult, Missing,
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
            let event = Event {
                number: Some(number),
                ..Event::of_chat("message.deleted", chat)
            };
            enqueue_for_app(&tx, app, &[event]).await?;
            if written {
                // Last before the commit: the chat's row is the one the workers' writes to this
                // chat update, so it is held for one round trip, not the outbox's.
                let count = tx.prepare_cached(include_str!("sql/message_delete_count.sql")).await?;
                tx.execute(&count, &params[..2]).await?;
            }
            tx.commit().await?;
            return Ok(());
        }
        drop(client);
        Err(self.chat_missing(token, chat).await?)
    }

    /// The chat's last message number, its counter held FOR KEY SHARE until `tx` ends, or which
    /// of the application and the chat is missing.
    async fn member_counter(tx: &deadpool_postgres::Transaction<'_>, app: i64, chat: i64) -> DbResult<i64> {
        let stmt = tx.prepare_cached(include_str!("sql/member_counter_citus.sql")).await?;
        match tx.query_opt(&stmt, &[&app, &chat]).await? {
            None => Err(DbError::NotFound(Missing::Application)),
            Some(row) => row
                .get::<_, Option<i64>>(0)
                .ok_or_else(|| missing(true, false, Missing::Chat)),
        }
    }

    /// `join_chat` on Citus.
    pub(super) async fn join_chat_citus(&self, app: i64, chat: i64, reader: &str) -> DbResult<Membership> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        Self::member_counter(&tx, app, chat).await?;
        let stmt = tx.prepare_cached(include_str!("sql/member_join_citus.sql")).await?;
        let row = tx.query_one(&stmt, &[&app, &chat, &reader]).await?;
        tx.commit().await?;
        Ok(Membership {
            last_read: row.get(0),
            joined_at: row.get(1),
            joined_now: row.get(2),
        })
    }

    /// `mark_read` on Citus.
    pub(super) async fn mark_read_citus(&self, app: i64, chat: i64, reader: &str, last_read: i64) -> DbResult<Marked> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let last = Self::member_counter(&tx, app, chat).await?;
        if last_read > last {
            return Ok(Marked::BeyondLast(last));
        }
        let stmt = tx.prepare_cached(include_str!("sql/reader_mark_citus.sql")).await?;
        let row = tx.query_one(&stmt, &[&app, &chat, &reader, &last_read]).await?;
        tx.commit().await?;
        Ok(Marked::Stored(row.get(0)))
    }

    /// `delete_application` on Citus: the application's id, `None` when there is none.
    pub(super) async fn delete_application_citus(&self, token: Uuid) -> DbResult<Option<i64>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let stmt = tx
            .prepare_cached(include_str!("sql/application_delete_citus.sql"))
            .await?;
        let Some(row) = tx.query_opt(&stmt, &[&token]).await? else {
            return Ok(None);
        };
        let app: i64 = row.get(0);
        let purge = tx
            .prepare_cached(include_str!("sql/application_delete_purge.sql"))
            .await?;
        tx.execute(&purge, &[&app]).await?;
        let counter = tx
            .prepare_cached(include_str!("sql/application_delete_counter.sql"))
            .await?;
        tx.execute(&counter, &[&app]).await?;
        tx.commit().await?;
        Ok(Some(app))
    }
}
