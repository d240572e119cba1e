//! The webhook outbox for chat deletes: one statement in the change's own transaction, so a
//! committed change always has its deliveries and a rolled-back one never has (the delivery
//! workers of `hooks` send them). Message edits and deletes queue theirs inside their own
//! statements (`message_update_row.sql`, `message_delete_*.sql`), the worker batches theirs in
//! their pipeline (`write::hooks`).
//!
//! On Citus those statements cannot run (they join many rows with the endpoints and take event
//! ids from the coordinator's sequence inside a statement that runs on a worker): there
//! [`enqueue_for_app`] does the same for one application's events, in the same transaction.

use chrono::{DateTime, Utc};
use deadpool_postgres::Transaction;
use tokio_postgres::types::ToSql;

use super::DbResult;

/// Queues `chat.deleted` for chat `chat` of application `app` (its id), for its endpoints, in
/// `tx`. `citus`: the database is a Citus coordinator.
pub async fn chat_deleted(tx: &Transaction<'_>, app: i64, chat: i64, citus: bool) -> DbResult<()> {
    if citus {
        enqueue_for_app(tx, app, &[Event::of_chat("chat.deleted", chat)]).await?;
        return Ok(());
    }
    let stmt = tx.prepare_cached(include_str!("sql/webhook_enqueue.sql")).await?;
    tx.execute(&stmt, &[&app, &chat, &"chat.deleted"]).await?;
    Ok(())
}

/// One event of an application, as its deliveries carry it.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    /// `chat.created`, `message.deleted`, ...
    pub kind: &'static str,
    pub chat: i64,
    pub number: Option<i64>,
    pub body: Option<&'a str>,
    pub sender: Option<&'a str>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl Event<'_> {
    /// An event of a chat, or of a message by number, without the item's contents.
    pub fn of_chat(kind: &'static str, chat: i64) -> Self {
        Event {
            kind,
            chat,
            number: None,
            body: None,
            sender: None,
            created_at: None,
            updated_at: None,
        }
    }
}

/// The outbox rows of `enqueue_for_app`, by column.
#[derive(Default)]
struct Rows<'a> {
    apps: Vec<i64>,
    hooks: Vec<i64>,
    events: Vec<i64>,
    kinds: Vec<&'static str>,
    chats: Vec<i64>,
    numbers: Vec<Option<i64>>,
    bodies: Vec<Option<&'a str>>,
    senders: Vec<Option<&'a str>>,
    created_at: Vec<Option<DateTime<Utc>>>,
    updated_at: Vec<Option<DateTime<Utc>>>,
}

/// Queues the deliveries of `events` (all of application `app`) in `tx`, as the outbox
/// statements do: one per event and endpoint that takes its kind and is not paused, event ids
/// in the events' order, then by endpoint; nothing, and no event id taken, for an event no
/// endpoint takes. For Citus: the endpoints are read on the application's shard, the ids taken
/// from the coordinator's sequence, and the rows built here. Returns the deliveries queued.
pub async fn enqueue_for_app(
    tx: &Transaction<'_>,
    app: i64,
    events: &[Event<'_>],
) -> Result<u64, tokio_postgres::Error> {
    if events.is_empty() {
        return Ok(0);
    }
    let endpoints = tx.query(include_str!("sql/webhooks_of_app.sql"), &[&app]).await?;
    let endpoints: Vec<(i64, Vec<String>)> = endpoints.iter().map(|r| (r.get(0), r.get(1))).collect();
    let takers = |e: &Event| -> Vec<i64> {
        endpoints
            .iter()
            .filter(|(_, kinds)| kinds.iter().any(|k| k == e.kind))
            .map(|(id, _)| *id)
            .collect()
    };
    let taken: Vec<(&Event, Vec<i64>)> = events
        .iter()
        .map(|e| (e, takers(e)))
        .filter(|(_, hooks)| !hooks.is_empty())
        .collect();
    if taken.is_empty() {
        return Ok(0);
    }
    let count = taken.len() as i32;
    let ids = tx.query(include_str!("sql/webhook_event_ids.sql"), &[&count]).await?;
    let mut rows = Rows::default();
    for ((event, hooks), id) in taken.iter().zip(&ids) {
        for hook in hooks {
            rows.apps.push(app);
            rows.hooks.push(*hook);
            rows.events.push(id.get(0));
            rows.kinds.push(event.kind);
            rows.chats.push(event.chat);
            rows.numbers.push(event.number);
            rows.bodies.push(event.body);
            rows.senders.push(event.sender);
            rows.created_at.push(event.created_at);
            rows.updated_at.push(event.updated_at);
        }
    }
    let params: [&(dyn ToSql + Sync); 10] = [
        &rows.apps,
        &rows.hooks,
        &rows.events,
        &rows.kinds,
        &rows.chats,
        &rows.numbers,
        &rows.bodies,
        &rows.senders,
        &rows.created_at,
        &rows.updated_at,
    ];
    tx.execute(include_str!("sql/webhooks_insert_deliveries.sql"), &params)
        .await
}
