//! The three kinds of creation: what each sends (its one-request statement, and for messages and
//! chats the group-commit statement) and what each answers from what its statement recorded.

use chrono::{DateTime, Utc};
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use super::{
    coalesce::{Creation, Request},
    fence::Recorded,
};
use crate::{
    model::{Application, Chat, Message},
    store::{
        idempotency::{self, IdemKey},
        Db, DbError, DbResult, Missing,
    },
};

/// A message to create in chat `chat` of the application `token`.
pub(super) struct NewMessage {
    pub(super) token: Uuid,
    pub(super) chat: i64,
    pub(super) body: String,
    /// Who wrote it, if the request said.
    pub(super) sender: Option<String>,
}

impl Creation for NewMessage {
    type Created = Message;

    fn application(&self) -> Option<Uuid> {
        Some(self.token)
    }

    async fn one(db: &Db, request: &Request<Self>, id: Uuid, app: Option<i64>) -> DbResult<Recorded> {
        if let Some(app) = app {
            return Self::many(db, std::slice::from_ref(request), id, Some(app)).await;
        }
        let NewMessage {
            token,
            chat,
            body,
            sender,
        } = &request.what;
        let sql = include_str!("../sql/message_create.sql");
        alone(db, sql, &[token, chat, body, sender], request, id).await
    }

    async fn many(db: &Db, batch: &[Request<Self>], id: Uuid, app: Option<i64>) -> DbResult<Recorded> {
        let tokens: Vec<Uuid> = batch.iter().map(|r| r.what.token).collect();
        let chats: Vec<i64> = batch.iter().map(|r| r.what.chat).collect();
        let bodies: Vec<&str> = batch.iter().map(|r| r.what.body.as_str()).collect();
        let senders: Vec<Option<&str>> = batch.iter().map(|r| r.what.sender.as_deref()).collect();
        if let Some(app) = app {
            let sql = include_str!("../sql/intake_messages_app.sql");
            return together(db, sql, &[&app, &chats, &bodies, &senders], batch, id, Some(app)).await;
        }
        let sql = include_str!("../sql/intake_messages.sql");
        together(db, sql, &[&tokens, &chats, &bodies, &senders], batch, id, None).await
    }

    async fn created(self, db: &Db, number: Option<i64>, at: DateTime<Utc>) -> DbResult<Message> {
        match number {
            Some(0) => Err(DbError::ClaimLost),
            Some(number) => Ok(Message {
                number,
                body: self.body,
                created_at: at,
                updated_at: at,
                sender: self.sender,
            }),
            None => db.chat_missing(self.token, self.chat).await.and_then(Err),
        }
    }
}

/// A chat to create in the application `token`.
pub(super) struct NewChat {
    pub(super) token: Uuid,
}

impl Creation for NewChat {
    type Created = Chat;

    fn application(&self) -> Option<Uuid> {
        Some(self.token)
    }

    async fn one(db: &Db, request: &Request<Self>, id: Uuid, app: Option<i64>) -> DbResult<Recorded> {
        if let Some(app) = app {
            return Self::many(db, std::slice::from_ref(request), id, Some(app)).await;
        }
        let sql = include_str!("../sql/chat_create.sql");
        alone(db, sql, &[&request.what.token], request, id).await
    }

    async fn many(db: &Db, batch: &[Request<Self>], id: Uuid, app: Option<i64>) -> DbResult<Recorded> {
        if let Some(app) = app {
            return together(
                db,
                include_str!("../sql/intake_chats_app.sql"),
                &[&app],
                batch,
                id,
                Some(app),
            )
            .await;
        }
        let tokens: Vec<Uuid> = batch.iter().map(|r| r.what.token).collect();
        together(db, include_str!("../sql/intake_chats.sql"), &[&tokens], batch, id, None).await
    }

    async fn created(self, _db: &Db, number: Option<i64>, at: DateTime<Utc>) -> DbResult<Chat> {
        match number {
            Some(0) => Err(DbError::ClaimLost),
            Some(number) => Ok(Chat::new(number, 0, at, at)),
            None => Err(DbError::NotFound(Missing::Application)),
        }
    }
}

/// An application to create with a fresh token (run at once, in a batch of its own).
pub(super) struct NewApplication {
    pub(super) token: Uuid,
    pub(super) name: String,
}

impl Creation for NewApplication {
    type Created = Application;

    fn application(&self) -> Option<Uuid> {
        None
    }

    async fn one(db: &Db, request: &Request<Self>, id: Uuid, app: Option<i64>) -> DbResult<Recorded> {
        let NewApplication { token, name } = &request.what;
        if app.is_some() {
            let (scope, key, claim) = idempotency::params(request.pending.key());
            let sql = include_str!("../sql/application_create_citus.sql");
            return Recorded::from_function(db, sql, &[token, name, &scope, &key, &claim, &id]).await;
        }
        alone(
            db,
            include_str!("../sql/application_create.sql"),
            &[token, name],
            request,
            id,
        )
        .await
    }

    async fn created(self, _db: &Db, number: Option<i64>, at: DateTime<Utc>) -> DbResult<Application> {
        match number {
            Some(1) => Ok(Application {
                token: self.token,
                name: self.name,
                chats_count: 0,
                created_at: at,
                updated_at: at,
            }),
            _ => Err(DbError::ClaimLost),
        }
    }
}

/// Sends a one-request statement: its parameters are the request's own (`own`), then its
/// idempotency scope, key and claim (NULL without a key), then the batch id.
async fn alone<C: Creation>(
    db: &Db,
    sql: &str,
    own: &[&(dyn ToSql + Sync)],
    request: &Request<C>,
    id: Uuid,
) -> DbResult<Recorded> {
    let (scope, key, claim) = idempotency::params(request.pending.key());
    let keyed: [&(dyn ToSql + Sync); 4] = [&scope, &key, &claim, &id];
    let params: Vec<_> = own.iter().copied().chain(keyed).collect();
    Recorded::from_statement(db, sql, &params).await
}

/// Sends a group-commit statement: its parameters are the batch's own columns (`own`), then the
/// idempotency scope, key and claim columns (NULL where a request has no key), then the batch id.
/// With `app`, the statement calls a creation function of V21/V22 on Citus for that
/// application's batch (`own` then starts with its id), whose record is JSON.
async fn together<C: Creation>(
    db: &Db,
    sql: &str,
    own: &[&(dyn ToSql + Sync)],
    batch: &[Request<C>],
    id: Uuid,
    app: Option<i64>,
) -> DbResult<Recorded> {
    let (scopes, keys, claims) = key_columns(batch.iter().map(|r| r.pending.key()));
    let keyed: [&(dyn ToSql + Sync); 4] = [&scopes, &keys, &claims, &id];
    let params: Vec<_> = own.iter().copied().chain(keyed).collect();
    match app {
        Some(_) => Recorded::from_function(db, sql, &params).await,
        None => Recorded::from_statement(db, sql, &params).await,
    }
}

/// The idempotency scope, key and claim columns of a batch (NULL where a request has no key).
type KeyColumns<'a> = (Vec<Option<&'a str>>, Vec<Option<&'a str>>, Vec<Option<Uuid>>);

fn key_columns<'a>(keys: impl Iterator<Item = Option<&'a IdemKey>>) -> KeyColumns<'a> {
    let (mut scopes, mut names, mut claims) = (Vec::new(), Vec::new(), Vec::new());
    for (scope, key, claim) in keys.map(idempotency::params) {
        scopes.push(scope);
        names.push(key);
        claims.push(claim);
    }
    (scopes, names, claims)
}
