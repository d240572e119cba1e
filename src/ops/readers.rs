//! Chat members and read positions, and a reader's inbox: thin over the store (joins, leaves and
//! read positions publish no event and need no idempotency key: each is idempotent itself).

use uuid::Uuid;

use super::{error::ReadError, Ops};
use crate::{
    model::{Chat, Inbox, InboxCursor},
    store::readers::{Marked, Membership},
};

impl Ops {
    /// Makes `reader` a member of chat `number` (no change when it already is).
    pub async fn join_chat(&self, token: Uuid, number: i64, reader: &str) -> Result<Membership, ReadError> {
        Ok(self.db.join_chat(token, number, reader).await?)
    }

    /// `reader` leaves chat `number`, forgetting its read position.
    pub async fn leave_chat(&self, token: Uuid, number: i64, reader: &str) -> Result<(), ReadError> {
        Ok(self.db.leave_chat(token, number, reader).await?)
    }

    /// Records how far `reader` has read chat `number` (only ever forward).
    pub async fn mark_read(&self, token: Uuid, number: i64, reader: &str, last_read: i64) -> Result<Marked, ReadError> {
        Ok(self.db.mark_read(token, number, reader, last_read).await?)
    }

    /// Chat `number` with `reader`'s position, unread count and last message.
    pub async fn chat_for(&self, token: Uuid, number: i64, reader: &str) -> Result<Chat, ReadError> {
        Ok(self.db.chat_for(token, number, reader).await?)
    }

    /// A page of `reader`'s inbox.
    pub async fn inbox(&self, token: Uuid, reader: &str, cursor: InboxCursor, limit: i64) -> Result<Inbox, ReadError> {
        Ok(self.db.inbox(token, reader, cursor, limit).await?)
    }
}
