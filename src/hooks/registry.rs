//! An application's endpoints: register, list, read, change, rotate the secret, delete; and
//! their deliveries: list, send again. Each call resolves the token to the application's id
//! first (`Db::app_id`, cached) and every statement takes the id: on Citus only a statement that
//! names the application by id (its distribution column) goes to one shard. A cached id outlives
//! its application's delete until this process hears of it, so the statements check that the
//! application still exists, and one found gone is forgotten.

use uuid::Uuid;

use super::{
    model::{Delivery, EventType, Webhook},
    secret,
};
use crate::store::{Db, DbError, DbResult, Missing};

/// Most endpoints one application may register.
pub const MAX_WEBHOOKS: i64 = 20;

/// What an update changes (`None`: unchanged).
#[derive(Debug, Default, Clone)]
pub struct Changes {
    /// A new URL.
    pub url: Option<String>,
    /// New event types.
    pub events: Option<Vec<EventType>>,
    /// Pause (true) or resume (false).
    pub paused: Option<bool>,
}

fn names(events: &[EventType]) -> Vec<&'static str> {
    events.iter().map(|e| e.as_str()).collect()
}

/// The NotFound error naming what is missing: the application, or else `missing`.
async fn not_found(db: &Db, token: Uuid, app: i64, missing: Missing) -> DbResult<DbError> {
    let rows = db.query(include_str!("sql/application_exists.sql"), &[&app]).await?;
    Ok(match rows.first().is_some_and(|r| r.get::<_, bool>(0)) {
        true => DbError::NotFound(missing),
        false => db.app_gone(token),
    })
}

/// Registers an endpoint with a new secret (shown in the answer only). `None` when the
/// application has `MAX_WEBHOOKS` already.
pub async fn create(db: &Db, token: Uuid, url: &str, events: &[EventType]) -> DbResult<Option<Webhook>> {
    let app = db.app(token).await?;
    let counted = db.query(include_str!("sql/webhook_count.sql"), &[&app]).await?;
    let endpoints: i64 = counted.first().ok_or_else(|| db.app_gone(token))?.get(0);
    if endpoints >= MAX_WEBHOOKS {
        return Ok(None);
    }
    let secret = secret::generate();
    let sql = include_str!("sql/webhook_create.sql");
    let rows = db.query(sql, &[&app, &url, &names(events), &secret]).await?;
    Ok(rows.first().and_then(|row| Webhook::from_row(row, true)))
}

/// The application's endpoints, oldest first.
pub async fn list(db: &Db, token: Uuid) -> DbResult<Vec<Webhook>> {
    let app = db.app(token).await?;
    let rows = db.query(include_str!("sql/webhook_list.sql"), &[&app]).await?;
    if rows.is_empty() {
        return Err(db.app_gone(token));
    }
    Ok(rows.iter().filter_map(|r| Webhook::from_row(r, false)).collect())
}

/// One endpoint.
pub async fn get(db: &Db, token: Uuid, id: i64) -> DbResult<Webhook> {
    let app = db.app(token).await?;
    let rows = db.query(include_str!("sql/webhook_get.sql"), &[&app, &id]).await?;
    let row = rows.first().ok_or_else(|| db.app_gone(token))?;
    Webhook::from_row(row, false).ok_or(DbError::NotFound(Missing::Webhook))
}

/// Applies `changes` to an endpoint.
pub async fn update(db: &Db, token: Uuid, id: i64, changes: &Changes) -> DbResult<Webhook> {
    let app = db.app(token).await?;
    let events = changes.events.as_deref().map(names);
    let sql = include_str!("sql/webhook_update.sql");
    let rows = db
        .query(sql, &[&app, &id, &changes.url, &events, &changes.paused])
        .await?;
    match rows.first().and_then(|r| Webhook::from_row(r, false)) {
        Some(webhook) => Ok(webhook),
        None => Err(not_found(db, token, app, Missing::Webhook).await?),
    }
}

/// Gives an endpoint a new secret (shown in the answer only); the previous one also signs for
/// 24 hours.
pub async fn rotate(db: &Db, token: Uuid, id: i64) -> DbResult<Webhook> {
    let app = db.app(token).await?;
    let secret = secret::generate();
    let rows = db
        .query(include_str!("sql/webhook_rotate.sql"), &[&app, &id, &secret])
        .await?;
    match rows.first().and_then(|r| Webhook::from_row(r, true)) {
        Some(webhook) => Ok(webhook),
        None => Err(not_found(db, token, app, Missing::Webhook).await?),
    }
}

/// Deletes an endpoint and its deliveries.
pub async fn delete(db: &Db, token: Uuid, id: i64) -> DbResult<()> {
    let app = db.app(token).await?;
    let rows = db.query(include_str!("sql/webhook_delete.sql"), &[&app, &id]).await?;
    if rows.first().is_some_and(|r| r.get::<_, i64>(0) > 0) {
        return Ok(());
    }
    Err(not_found(db, token, app, Missing::Webhook).await?)
}

/// The endpoint's latest `limit` deliveries below id `before`, newest first.
pub async fn deliveries(db: &Db, token: Uuid, id: i64, limit: i64, before: i64) -> DbResult<Vec<Delivery>> {
    get(db, token, id).await?;
    let app = db.app(token).await?;
    let sql = include_str!("sql/deliveries_list.sql");
    let rows = db.query(sql, &[&app, &id, &limit, &before]).await?;
    Ok(rows.iter().map(Delivery::from_row).collect())
}

/// Makes a delivery due now, once more.
pub async fn retry(db: &Db, token: Uuid, id: i64, delivery: i64) -> DbResult<Delivery> {
    let app = db.app(token).await?;
    let sql = include_str!("sql/delivery_retry.sql");
    let rows = db.query(sql, &[&app, &id, &delivery]).await?;
    if let Some(row) = rows.first() {
        return Ok(Delivery::from_row(row));
    }
    get(db, token, id).await?;
    Err(DbError::NotFound(Missing::Delivery))
}
