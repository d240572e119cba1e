//! Chats: create (idempotent), read, list, delete (which wakes the purger and ends the chat's
//! live streams).

use uuid::Uuid;

use super::{
    error::{CreateError, ReadError},
    idempotency::{self, Created},
    Ops,
};
use crate::{
    live::ChatEvent,
    model::{Chat, Cursor, Page},
    store::idempotency::{IdemKey, Remembered},
};

impl Ops {
    /// Creates a chat with the application's next number (or replays the one created earlier
    /// under `key`).
    pub async fn create_chat(&self, token: Uuid, key: Option<IdemKey>) -> Result<Created<Chat>, CreateError> {
        let replay = |earlier: Remembered| Chat::new(earlier.number.unwrap_or_default(), 0, earlier.at, earlier.at);
        let create = |key| self.intake.create_chat(token, key);
        idempotency::create(&self.db, key, replay, create).await
    }

    /// Chat `number` of the application with `token`.
    pub async fn chat(&self, token: Uuid, number: i64) -> Result<Chat, ReadError> {
        Ok(self.db.chat(token, number).await?)
    }

    /// A page of the application's chats.
    pub async fn chats(&self, token: Uuid, cursor: Cursor, limit: i64) -> Result<Page<Chat>, ReadError> {
        Ok(self.db.chats(token, cursor, limit).await?)
    }

    /// Deletes chat `number` with its messages; its live streams end.
    pub async fn delete_chat(&self, token: Uuid, number: i64) -> Result<(), ReadError> {
        self.db.delete_chat(token, number).await?;
        self.purge_wake.notify_one();
        let event = |app| ChatEvent::ChatGone { app, chat: number };
        self.announcer.publish_for(&self.db, token, event).await;
        Ok(())
    }
}
