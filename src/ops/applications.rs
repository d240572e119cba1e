//! Applications: create (idempotent), read, list, rename, delete (which wakes the purger and
//! ends the application's live streams).

use uuid::Uuid;

use super::{
    error::{CreateAppError, ReadError, Trouble},
    idempotency::{self, Created},
    Ops,
};
use crate::{
    live::ChatEvent,
    model::Application,
    store::{idempotency::IdemKey, ApplicationPage},
};

impl Ops {
    /// Creates an application named `name` (or replays the one created earlier under `key`).
    pub async fn create_application(
        &self,
        name: String,
        key: Option<IdemKey>,
    ) -> Result<Created<Application>, CreateAppError> {
        let replay = |earlier: crate::store::idempotency::Remembered| Application {
            token: earlier.token.unwrap_or_default(),
            name: name.clone(),
            chats_count: 0,
            created_at: earlier.at,
            updated_at: earlier.at,
        };
        // A creation: the write pool (inside the intake), out of the reads' reach.
        let create = |key| self.intake.create_application(name.clone(), key);
        idempotency::create(&self.db, key, replay, create).await
    }

    /// The application with `token`.
    pub async fn application(&self, token: Uuid) -> Result<Application, ReadError> {
        Ok(self.db.application(token).await?)
    }

    /// A page of every application, oldest first.
    pub async fn applications(&self, offset: i64, limit: i64) -> Result<ApplicationPage, Trouble> {
        Ok(self.db.applications(offset, limit).await?)
    }

    /// Renames the application with `token`.
    pub async fn rename_application(&self, token: Uuid, name: &str) -> Result<Application, ReadError> {
        Ok(self.db.rename_application(token, name).await?)
    }

    /// Deletes the application with `token`: its token stops working at once, the purger
    /// removes its rows, and its live streams end.
    pub async fn delete_application(&self, token: Uuid) -> Result<(), ReadError> {
        let app = self.db.delete_application(token).await?;
        self.purge_wake.notify_one();
        self.announcer.publish(ChatEvent::ApplicationGone { app });
        Ok(())
    }
}
