//! Chat members and their read positions (`chat_members`, V17), and a reader's inbox: its chats
//! by latest activity with what it has not read. Senders join in the creation's own statement
//! (`write::intake`); here are the explicit joins, leaves and read positions, and the reads.

use chrono::{DateTime, Utc};
use tokio_postgres::Row;
use uuid::Uuid;

use super::{error::missing, Db, DbError, DbResult, Missing};
use crate::model::{Chat, Inbox, InboxCursor, LastMessage, Latest, UNREAD_COUNT_CAP};

/// A membership as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// How far the member has read (0: nothing).
    pub last_read: i64,
    /// When it joined.
    pub joined_at: DateTime<Utc>,
    /// True when this request made it a member.
    pub joined_now: bool,
}

/// What became of a read position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marked {
    /// The position stored (the greater of the one sent and the earlier one).
    Stored(i64),
    /// Refused: the position is above the chat's last message number, this one.
    BeyondLast(i64),
}

impl Db {
    /// Makes `reader` a member of chat `number` (no change when it already is).
    pub async fn join_chat(&self, token: Uuid, number: i64, reader: &str) -> DbResult<Membership> {
        let sql = include_str!("sql/member_join.sql");
        let app = self.app(token).await?;
        if self.on_citus() {
            return self.join_chat_citus(app, number, reader).await;
        }
        let row = self.query_opt(sql, &[&app, &number, &reader]).await?;
        let row = found(row, |row| row.get(0))?;
        Ok(Membership {
            last_read: row.get(1),
            joined_at: row.get(2),
            joined_now: row.get(3),
        })
    }

    /// `reader` leaves chat `number` with its read position (nothing to do when it was not a
    /// member); the chat must exist.
    pub async fn leave_chat(&self, token: Uuid, number: i64, reader: &str) -> DbResult<()> {
        let sql = include_str!("sql/member_leave.sql");
        let app = self.app(token).await?;
        let row = self.query_opt(sql, &[&app, &number, &reader]).await?;
        found(row, |row| row.get(0)).map(drop)
    }

    /// Records that `reader` has read chat `number` up to message `last_read` (joining it): the
    /// position only moves forward.
    pub async fn mark_read(&self, token: Uuid, number: i64, reader: &str, last_read: i64) -> DbResult<Marked> {
        let sql = include_str!("sql/reader_mark.sql");
        let app = self.app(token).await?;
        if self.on_citus() {
            return self.mark_read_citus(app, number, reader, last_read).await;
        }
        let row = self.query_opt(sql, &[&app, &number, &reader, &last_read]).await?;
        let row = found(row, |row| row.get::<_, Option<i64>>(0).is_some())?;
        Ok(match row.get::<_, Option<i64>>(1) {
            Some(stored) => Marked::Stored(stored),
            None => Marked::BeyondLast(row.get(0)),
        })
    }

    /// Chat `number` as `reader` sees it: with its read position, unread count and last message.
    /// One statement (the application's id comes from the token cache); only a missing chat
    /// takes a second, to say whether its application is there.
    pub async fn chat_for(&self, token: Uuid, number: i64, reader: &str) -> DbResult<Chat> {
        let app = self.app(token).await?;
        let chats = self.reading(app, &[number], &[None], reader).await?;
        if let Some(chat) = chats.into_iter().next() {
            return Ok(chat);
        }
        Err(self.what_is_missing(token, number, Missing::Chat).await?)
    }

    /// A page of `reader`'s inbox: its chats below `cursor` by latest activity, at most `limit`.
    pub async fn inbox(&self, token: Uuid, reader: &str, cursor: InboxCursor, limit: i64) -> DbResult<Inbox> {
        let plan = match self.on_citus() {
            false => include_str!("sql/inbox_plan.sql"),
            true => include_str!("sql/inbox_plan_citus.sql"),
        };
        let app = self.app(token).await?;
        let row = self
            .query_opt(plan, &[&app, &reader, &(limit + 1)])
            .await?
            .ok_or(DbError::NotFound(Missing::Application))?;
        let (app, walk): (i64, bool) = (row.get(0), row.get(1));
        let sql = if walk {
            include_str!("sql/inbox_walk.sql")
        } else {
            include_str!("sql/inbox_members.sql")
        };
        let page = [
            &app as _,
            &reader as _,
            &cursor.activity as _,
            &cursor.chat as _,
            &(limit + 1) as _,
        ];
        let mut rows = self.query(sql, &page).await?;
        let has_more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let next = rows.last().filter(|_| has_more).map(|row| InboxCursor {
            activity: row.get(1),
            chat: row.get(0),
        });
        let numbers: Vec<i64> = rows.iter().map(|row| row.get(0)).collect();
        let positions: Vec<Option<i64>> = rows.iter().map(|row| Some(row.get(2))).collect();
        let chats = self.reading(app, &numbers, &positions, reader).await?;
        Ok(Inbox { chats, next })
    }

    /// Chats `numbers` of application `app` as `reader`, who has read them up to `positions`
    /// (`None`: as stored), sees them, in that order (a chat deleted meanwhile is left out).
    async fn reading(&self, app: i64, numbers: &[i64], positions: &[Option<i64>], reader: &str) -> DbResult<Vec<Chat>> {
        if numbers.is_empty() {
            return Ok(Vec::new());
        }
        let sql = include_str!("sql/inbox_details.sql");
        let rows = self
            .query(sql, &[&app, &numbers, &positions, &reader, &UNREAD_COUNT_CAP])
            .await?;
        Ok(rows.iter().map(read_chat).collect())
    }
}

/// The row of a statement whose "no row" means an unknown application and whose `chat_exists`
/// says whether the chat exists.
fn found(row: Option<Row>, chat_exists: impl Fn(&Row) -> bool) -> DbResult<Row> {
    match row {
        Some(row) if chat_exists(&row) => Ok(row),
        row => Err(missing(row.is_some(), false, Missing::Chat)),
    }
}

/// A chat of `inbox_details.sql` as its reader sees it.
fn read_chat(row: &Row) -> Chat {
    let last_message = row.get::<_, Option<i64>>(4).map(|number| {
        Latest(LastMessage {
            number,
            sender: row.get(5),
            preview: row.get(6),
            created_at: row.get(7),
        })
    });
    Chat {
        last_read: Some(row.get(9)),
        unread_count: Some(row.get(8)),
        last_message,
        ..Chat::new(row.get(0), row.get(1), row.get(2), row.get(3))
    }
}
