//! Queries on chats: create through the queue, read from the table or the queue, delete.

use tokio_postgres::Row;
use uuid::Uuid;

use super::{error::missing, webhook_outbox, Db, DbError, DbResult, Missing};
use crate::model::{Chat, Cursor, Page};

/// A chat from a row whose first column may be NULL (the "no such chat" row of a LEFT JOIN).
fn chat(row: &Row) -> Option<Chat> {
    let number = row.get::<_, Option<i64>>(0)?;
    Some(Chat::new(number, row.get(1), row.get(2), row.get(3)))
}

impl Db {
    /// The chat, written or still queued.
    pub async fn chat(&self, token: Uuid, number: i64) -> DbResult<Chat> {
        let sql = include_str!("sql/chat_get.sql");
        let app = self.app(token).await?;
        let row = self
            .query_opt(sql, &[&app, &number])
            .await?
            .ok_or_else(|| self.app_gone(token))?;
        chat(&row).ok_or(DbError::NotFound(Missing::Chat))
    }

    /// A page of the application's chats by number, queued ones included.
    pub async fn chats(&self, token: Uuid, cursor: Cursor, limit: i64) -> DbResult<Page<Chat>> {
        let app = self.app(token).await?;
        let rows = if cursor.backwards {
            let sql = include_str!("sql/chat_list_desc.sql");
            self.query(sql, &[&app, &cursor.before, &cursor.offset, &(limit + 1)])
                .await?
        } else {
            let sql = include_str!("sql/chat_list_asc.sql");
            self.query(
                sql,
                &[&app, &cursor.after, &cursor.before, &cursor.offset, &(limit + 1)],
            )
            .await?
        };
        if rows.is_empty() {
            return Err(self.app_gone(token));
        }
        Ok(Page::from_rows(rows.iter().filter_map(chat).collect(), limit, cursor))
    }

    /// Deletes the chat: it is gone for readers and writers when this returns; its messages are
    /// removed by the purger. The number is never given out again.
    pub async fn delete_chat(&self, token: Uuid, number: i64) -> DbResult<()> {
        let app = self.app(token).await?;
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let counter = tx.prepare_cached(include_str!("sql/chat_delete_counter.sql")).await?;
        if tx.query_opt(&counter, &[&app, &number]).await?.is_none() {
            drop(tx);
            return Err(self.chat_missing(token, number).await?);
        }
        let jobs = tx.prepare_cached(include_str!("sql/chat_delete_jobs.sql")).await?;
        tx.execute(&jobs, &[&app, &number]).await?;
        let removed = if self.on_citus() {
            let row = tx.prepare_cached(include_str!("sql/chat_delete_row_citus.sql")).await?;
            let removed = tx.execute(&row, &[&app, &number]).await? > 0;
            let purge = tx.prepare_cached(include_str!("sql/chat_delete_purge.sql")).await?;
            tx.execute(&purge, &[&app, &number]).await?;
            removed
        } else {
            let chat_row = tx.prepare_cached(include_str!("sql/chat_delete_row.sql")).await?;
            tx.execute(&chat_row, &[&app, &number]).await?;
            false
        };
        webhook_outbox::chat_deleted(&tx, app, number, self.on_citus()).await?;
        if removed {
            // On Citus, last before the commit: the application's count row is the one its chat
            // creations lock, so it is held for one round trip, not the outbox's.
            let count = tx.prepare_cached(include_str!("sql/chat_delete_count.sql")).await?;
            tx.execute(&count, &[&app]).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The NotFound error naming what is missing: the application or the chat (or, when both
    /// exist, the message).
    pub async fn chat_missing(&self, token: Uuid, number: i64) -> DbResult<DbError> {
        self.what_is_missing(token, number, Missing::Message).await
    }

    /// The NotFound error naming what is missing: the application, chat `number`, or else
    /// `innermost`. An application found gone is forgotten.
    pub(super) async fn what_is_missing(&self, token: Uuid, number: i64, innermost: Missing) -> DbResult<DbError> {
        let sql = include_str!("sql/chat_lookup.sql");
        let Some(app) = self.app_id(token).await? else {
            return Ok(DbError::NotFound(Missing::Application));
        };
        let row = self.query_opt(sql, &[&app, &number]).await?;
        if row.is_none() {
            self.forget_app_id(token);
        }
        let chat_exists = row.as_ref().is_some_and(|r| r.get::<_, bool>(0));
        Ok(missing(row.is_some(), chat_exists, innermost))
    }
}
