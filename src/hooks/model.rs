//! What the API shows of webhooks: endpoints, event types and deliveries.

use chrono::{DateTime, Utc};
use poem_openapi::{types::Example, Enum, Object};
use tokio_postgres::Row;

/// A change webhooks announce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum EventType {
    /// A message was created (written by the queue workers, after its 201).
    #[oai(rename = "message.created")]
    MessageCreated,
    /// A message's body was edited.
    #[oai(rename = "message.updated")]
    MessageUpdated,
    /// A message was deleted.
    #[oai(rename = "message.deleted")]
    MessageDeleted,
    /// A chat was created.
    #[oai(rename = "chat.created")]
    ChatCreated,
    /// A chat was deleted.
    #[oai(rename = "chat.deleted")]
    ChatDeleted,
}

impl EventType {
    /// Every event type.
    pub const ALL: [EventType; 5] = [
        EventType::MessageCreated,
        EventType::MessageUpdated,
        EventType::MessageDeleted,
        EventType::ChatCreated,
        EventType::ChatDeleted,
    ];

    /// Its name, as in payloads.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::MessageCreated => "message.created",
            EventType::MessageUpdated => "message.updated",
            EventType::MessageDeleted => "message.deleted",
            EventType::ChatCreated => "chat.created",
            EventType::ChatDeleted => "chat.deleted",
        }
    }

    /// The event type named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == name)
    }
}

/// A webhook endpoint.
#[derive(Debug, Clone, Object)]
#[oai(example)]
pub struct Webhook {
    /// The endpoint's id within its application.
    pub id: i64,
    /// Where deliveries are POSTed.
    pub url: String,
    /// The events it receives.
    pub events: Vec<EventType>,
    /// The signing secret (`whsec_…`): shown only when created and when rotated. Keep it.
    #[oai(skip_serializing_if_is_none)]
    pub secret: Option<String>,
    /// Until when the previous secret also signs deliveries, after a rotation.
    #[oai(skip_serializing_if_is_none)]
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    /// True while paused (through the API, or by failing for the whole retry window): no new
    /// events are queued for it, and queued ones wait until it is resumed.
    pub paused: bool,
    /// Why it is paused.
    #[oai(skip_serializing_if_is_none)]
    pub paused_reason: Option<String>,
    /// Since when every delivery has failed (absent after a success).
    #[oai(skip_serializing_if_is_none)]
    pub failing_since: Option<DateTime<Utc>>,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

impl Webhook {
    /// From columns 0..=8 (and the secret in column 9, when `with_secret`); `None` for a row of
    /// NULLs. The previous secret's end is shown only while it is ahead (`webhook_update.sql`
    /// returns it as stored).
    pub fn from_row(row: &Row, with_secret: bool) -> Option<Self> {
        let id = row.get::<_, Option<i64>>(0)?;
        let events: Vec<String> = row.get(2);
        Some(Webhook {
            id,
            url: row.get(1),
            events: events.iter().filter_map(|e| EventType::parse(e)).collect(),
            secret: with_secret.then(|| row.get(9)),
            previous_secret_expires_at: row
                .get::<_, Option<DateTime<Utc>>>(8)
                .filter(|until| *until > Utc::now()),
            paused: row.get(3),
            paused_reason: row.get(4),
            failing_since: row.get(5),
            created_at: row.get(6),
            updated_at: row.get(7),
        })
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum DeliveryState {
    /// Not delivered yet: being sent, or waiting for its next attempt.
    Pending,
    /// The endpoint answered 2xx.
    Delivered,
    /// Given up: an answer not worth retrying (a 4xx other than 429, a redirect), or failing
    /// for the whole retry window (24 hours). `POST …/retry` sends it again.
    Failed,
}

/// One event's delivery to one endpoint, with its latest attempt.
#[derive(Debug, Clone, Object)]
#[oai(example)]
pub struct Delivery {
    /// The delivery's id.
    pub id: i64,
    /// The event's `sequence` (in its payload; `webhook-id` is `msg_` and this number).
    pub sequence: i64,
    // The event's type. (No doc comment: a described `$ref` is written as an `allOf`, which the
    // spec's lint reads as an object schema without an example; `EventType` describes itself.)
    #[oai(rename = "type")]
    pub kind: EventType,
    /// The chat's number.
    pub chat: i64,
    /// The message's number (message events).
    #[oai(skip_serializing_if_is_none)]
    pub number: Option<i64>,
    // Where it stands (no doc comment: see `kind`).
    pub state: DeliveryState,
    /// Attempts made.
    pub attempts: i32,
    /// When the change was made.
    pub occurred_at: DateTime<Utc>,
    /// When the latest attempt started.
    #[oai(skip_serializing_if_is_none)]
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The HTTP status the latest attempt got (absent: no answer).
    #[oai(skip_serializing_if_is_none)]
    pub last_status: Option<i32>,
    /// How long the latest attempt took, in milliseconds.
    #[oai(skip_serializing_if_is_none)]
    pub last_latency_ms: Option<i32>,
    /// Why the latest attempt failed.
    #[oai(skip_serializing_if_is_none)]
    pub last_error: Option<String>,
    /// When it is sent next (pending deliveries).
    #[oai(skip_serializing_if_is_none)]
    pub next_attempt_at: Option<DateTime<Utc>>,
}

impl Delivery {
    /// From a row of `deliveries_list.sql` or `delivery_retry.sql`.
    pub fn from_row(row: &Row) -> Self {
        let state = match row.get::<_, &str>(5) {
            "delivered" => DeliveryState::Delivered,
            "failed" => DeliveryState::Failed,
            _ => DeliveryState::Pending,
        };
        Delivery {
            id: row.get(0),
            sequence: row.get(1),
            kind: EventType::parse(row.get(2)).unwrap_or(EventType::MessageCreated),
            chat: row.get(3),
            number: row.get(4),
            state,
            attempts: row.get(6),
            occurred_at: row.get(7),
            last_attempt_at: row.get(8),
            last_status: row.get(9),
            last_latency_ms: row.get(10),
            last_error: row.get(11),
            next_attempt_at: row.get(12),
        }
    }
}

/// The examples' time: 2026-01-01 12:00 UTC, plus `seconds`.
fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_268_800 + seconds, 0).expect("a valid timestamp")
}

impl Example for Webhook {
    fn example() -> Self {
        Webhook {
            id: 1,
            url: "https://example.com/hooks/chat".into(),
            events: vec![EventType::MessageCreated, EventType::ChatDeleted],
            secret: Some("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYo=".into()),
            previous_secret_expires_at: None,
            paused: false,
            paused_reason: None,
            failing_since: None,
            created_at: at(0),
            updated_at: at(0),
        }
    }
}

impl Example for Delivery {
    fn example() -> Self {
        Delivery {
            id: 7,
            sequence: 42,
            kind: EventType::MessageCreated,
            chat: 1,
            number: Some(2),
            state: DeliveryState::Delivered,
            attempts: 1,
            occurred_at: at(60),
            last_attempt_at: Some(at(60)),
            last_status: Some(200),
            last_latency_ms: Some(35),
            last_error: None,
            next_attempt_at: None,
        }
    }
}
