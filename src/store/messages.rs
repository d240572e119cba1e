//! Queries on messages: create through the queue; read, edit and delete whether the message is
//! written or still queued.

use tokio_postgres::{types::ToSql, Row};
use uuid::Uuid;

use super::{Db, DbError, DbResult, Missing};
use crate::model::{Cursor, Message, Page};

/// A message from columns `first..first + 5` of a row (number, body, created, updated, sender).
pub(super) fn read(row: &Row, first: usize) -> Message {
    Message {
        number: row.get(first),
        body: row.get(first + 1),
        created_at: row.get(first + 2),
        updated_at: row.get(first + 3),
        sender: row.get(first + 4),
    }
}

/// A message from columns 1..=5 of a row whose column 1 may be NULL (no such message).
fn message(row: &Row) -> Option<Message> {
    row.get::<_, Option<i64>>(1).map(|_| read(row, 1))
}

/// A message from columns 0..=4 of a row (RETURNING rows, search rows).
pub fn returned(row: &Row) -> Message {
    read(row, 0)
}

impl Db {
    /// A page of the chat's messages by number, queued ones included; only `sender`'s, if given.
    pub async fn messages(
        &self,
        token: Uuid,
        chat: i64,
        cursor: Cursor,
        limit: i64,
        sender: Option<&str>,
    ) -> DbResult<Page<Message>> {
        let more = limit + 1;
        let app = self.app(token).await?;
        let rows = match (cursor.backwards, sender) {
            (true, None) => {
                let sql = include_str!("sql/message_list_desc.sql");
                let params: [&(dyn ToSql + Sync); 5] = [&app, &chat, &cursor.before, &cursor.offset, &more];
                self.query(sql, &params).await?
            }
            (true, Some(sender)) => {
                let sql = include_str!("sql/message_list_desc_sender.sql");
                let params: [&(dyn ToSql + Sync); 6] = [&app, &chat, &cursor.before, &cursor.offset, &more, &sender];
                self.query(sql, &params).await?
            }
            (false, None) => {
                let sql = include_str!("sql/message_list_asc.sql");
                let params: [&(dyn ToSql + Sync); 6] =
                    [&app, &chat, &cursor.after, &cursor.before, &cursor.offset, &more];
                self.query(sql, &params).await?
            }
            (false, Some(sender)) => {
                let sql = include_str!("sql/message_list_asc_sender.sql");
                let params: [&(dyn ToSql + Sync); 7] = [
                    &app,
                    &chat,
                    &cursor.after,
                    &cursor.before,
                    &cursor.offset,
                    &more,
                    &sender,
                ];
                self.query(sql, &params).await?
            }
        };
        match rows.first() {
            None => Err(self.app_gone(token)),
            Some(first) if !first.get::<_, bool>(0) => Err(DbError::NotFound(Missing::Chat)),
            Some(_) => Ok(Page::from_rows(
                rows.iter().filter_map(message).collect(),
                limit,
                cursor,
            )),
        }
    }

    /// Edits the message's body (and its sender, when one is given), written or queued. An edit of a queued message changes its job,
    /// so the worker writes the edited body; it is never undone. `folded` is the new body folded
    /// for search (`search::fold_str`), stored with a written message (`None`: a plain body's,
    /// left NULL, `releases`).
    pub async fn edit_message(
        &self,
        token: Uuid,
        chat: i64,
        number: i64,
        (body, folded, sender): (&str, Option<&str>, Option<&str>),
    ) -> DbResult<Message> {
        if self.on_citus() {
            return self
                .edit_message_citus(token, (chat, number), (body, folded, sender))
                .await;
        }
        let row_sql = include_str!("sql/message_update_row.sql");
        let job_sql = include_str!("sql/message_update_job.sql");
        let row_params: [&(dyn ToSql + Sync); 6] = [&token, &chat, &number, &body, &sender, &folded];
        let job_params = &row_params[..5];
        let client = self.client().await?;
        // Table, then queue, then table again: a worker may move the message from the queue to
        // the table between the first two statements; the third sees its commit. An edit of a
        // written row queues its `message.updated` deliveries in its own statement; an edit of a
        // queued message is in its `message.created`, sent when it is written (a
        // `message.updated` now would come before it).
        for (sql, params) in [
            (row_sql, &row_params[..]),
            (job_sql, job_params),
            (row_sql, &row_params[..]),
        ] {
            let stmt = client.prepare_cached(sql).await?;
            if let Some(row) = client.query_opt(&stmt, params).await? {
                return Ok(returned(&row));
            }
        }
        drop(client);
        Err(self.chat_missing(token, chat).await?)
    }

    /// Deletes the message, written or queued. Its number is never given out again.
    pub async fn delete_message(&self, token: Uuid, chat: i64, number: i64) -> DbResult<()> {
        if self.on_citus() {
            return self.delete_message_citus(token, chat, number).await;
        }
        let row_sql = include_str!("sql/message_delete_row.sql");
        let job_sql = include_str!("sql/message_delete_job.sql");
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 3] = [&token, &chat, &number];
        let client = self.client().await?;
        let by_row = client.prepare_cached(row_sql).await?;
        let by_job = client.prepare_cached(job_sql).await?;
        // Same order as `edit_message`, for the same reason. Each statement queues its webhook
        // deliveries itself: no transaction holds the chat's row (its count) any longer.
        if client.query_one(&by_row, &params).await?.get::<_, i64>(0) > 0
            || client.query_one(&by_job, &params).await?.get::<_, i64>(0) > 0
            || client.query_one(&by_row, &params).await?.get::<_, i64>(0) > 0
        {
            return Ok(());
        }
        drop(client);
        Err(self.chat_missing(token, chat).await?)
    }
}
