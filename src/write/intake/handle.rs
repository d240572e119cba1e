//! [`Intake`], the entry point for creations.

use std::time::Duration;

use tokio::{sync::mpsc, time::Instant};
use uuid::Uuid;

use super::{
    coalesce::{coalesce, run, submit, Creation, Request},
    config::IntakeConfig,
    creations::{NewApplication, NewChat, NewMessage},
    pending::Pending,
};
use crate::{
    model::{Application, Chat, Message},
    store::{idempotency::IdemKey, Db, DbResult},
    write::bell::Bell,
};

/// The entry point for creations; cheap to clone.
#[derive(Clone)]
pub struct Intake {
    db: Db,
    messages: mpsc::Sender<Request<NewMessage>>,
    chats: mpsc::Sender<Request<NewChat>>,
    deadline: Duration,
}

impl Intake {
    /// Starts the two coalescers (they stop when every `Intake` clone is dropped).
    pub fn start(db: Db, bell: Bell, config: IntakeConfig) -> Self {
        let (messages, message_rx) = mpsc::channel(config.max_queued.max(1));
        let (chats, chat_rx) = mpsc::channel(config.max_queued.max(1));
        tokio::spawn(coalesce("message", message_rx, db.clone(), bell.clone(), config));
        tokio::spawn(coalesce("chat", chat_rx, db.clone(), bell, config));
        Intake {
            db,
            messages,
            chats,
            deadline: config.deadline,
        }
    }

    /// Accepts a message: its number and job (and its idempotency key's result) are committed
    /// when this returns `Ok`; on `Err`, nothing was created.
    pub async fn create_message(
        &self,
        token: Uuid,
        chat: i64,
        body: String,
        sender: Option<String>,
        key: Option<IdemKey>,
    ) -> DbResult<Message> {
        let what = NewMessage {
            token,
            chat,
            body,
            sender,
        };
        self.queued(&self.messages, what, key).await
    }

    /// Accepts a chat: its number, counter and job (and its idempotency key's result) are
    /// committed when this returns `Ok`; on `Err`, nothing was created.
    pub async fn create_chat(&self, token: Uuid, key: Option<IdemKey>) -> DbResult<Chat> {
        self.queued(&self.chats, NewChat { token }, key).await
    }

    /// Creates an application with a fresh random token (recording it under `key`, if any): not
    /// coalesced (applications are created rarely), but resolved like every creation when its
    /// answer is lost. On `Err`, nothing was created.
    pub async fn create_application(&self, name: String, key: Option<IdemKey>) -> DbResult<Application> {
        let what = NewApplication {
            token: Uuid::new_v4(),
            name,
        };
        let (pending, answer) = Pending::new(key, Instant::now() + self.deadline);
        run(&self.db, vec![Request { what, pending }]).await;
        Pending::wait(answer).await
    }

    /// Queues a creation for its coalescer and waits for its answer.
    async fn queued<C: Creation>(
        &self,
        queue: &mpsc::Sender<Request<C>>,
        what: C,
        key: Option<IdemKey>,
    ) -> DbResult<C::Created> {
        let (pending, answer) = Pending::new(key, Instant::now() + self.deadline);
        submit(&self.db, queue, Request { what, pending }).await;
        Pending::wait(answer).await
    }
}
