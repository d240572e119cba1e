//! Messages: create (idempotent; announced to live streams), read, list, edit and delete (both
//! announced).

use uuid::Uuid;

use super::{
    error::{CreateError, ReadError},
    idempotency::{self, Created},
    Ops,
};
use crate::{
    live::ChatEvent,
    model::{Cursor, Message, Page},
    store::idempotency::{IdemKey, Remembered},
};

impl Ops {
    /// Posts a message with the chat's next number (or replays the one created earlier under
    /// `key`). A new message is announced to the chat's live streams before this returns.
    pub async fn create_message(
        &self,
        token: Uuid,
        chat: i64,
        body: String,
        sender: Option<String>,
        key: Option<IdemKey>,
    ) -> Result<Created<Message>, CreateError> {
        let replay = |earlier: Remembered| Message {
            number: earlier.number.unwrap_or_default(),
            body: body.clone(),
            created_at: earlier.at,
            updated_at: earlier.at,
            sender: sender.clone(),
        };
        let create = |key| {
            self.intake
                .create_message(token, chat, body.clone(), sender.clone(), key)
        };
        let created = idempotency::create::<_, CreateError, _>(&self.db, key, replay, create).await?;
        if !created.replayed {
            // Accepted: streams of every instance read it (before the creation is answered).
            let event = |app| ChatEvent::Appended { app, chat };
            self.announcer.publish_for(&self.db, token, event).await;
        }
        Ok(created)
    }

    /// Message `number` of the chat.
    pub async fn message(&self, token: Uuid, chat: i64, number: i64) -> Result<Message, ReadError> {
        Ok(self.db.message(token, chat, number).await?)
    }

    /// A page of the chat's messages by number (only `sender`'s, if given).
    pub async fn messages(
        &self,
        token: Uuid,
        chat: i64,
        cursor: Cursor,
        limit: i64,
        sender: Option<&str>,
    ) -> Result<Page<Message>, ReadError> {
        Ok(self.db.messages(token, chat, cursor, limit, sender).await?)
    }

    /// Replaces message `number`'s body (`edit.0`), and its sender when `edit.1` names one; its
    /// live streams hear of it.
    pub async fn edit_message(
        &self,
        token: Uuid,
        chat: i64,
        number: i64,
        (body, sender): (&str, Option<&str>),
    ) -> Result<Message, ReadError> {
        let folded = crate::search::fold_str(body);
        let stored = crate::search::stored_folded(body, &folded, self.db.leaves_plain_folded_unstored());
        let message = self
            .db
            .edit_message(token, chat, number, (body, stored, sender))
            .await?;
        let event = |app| ChatEvent::Edited { app, chat, number };
        self.announcer.publish_for(&self.db, token, event).await;
        Ok(message)
    }

    /// Deletes message `number`; its live streams hear of it.
    pub async fn delete_message(&self, token: Uuid, chat: i64, number: i64) -> Result<(), ReadError> {
        self.db.delete_message(token, chat, number).await?;
        let event = |app| ChatEvent::Deleted { app, chat, number };
        self.announcer.publish_for(&self.db, token, event).await;
        Ok(())
    }
}
