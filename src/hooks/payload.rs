//! A delivery as sent: its JSON body (the live stream's event shapes, with `type`, `timestamp`,
//! the chat and the event's `sequence`) and its Standard Webhooks headers.

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use serde_json::{json, Value};
use tokio_postgres::Row;

use super::secret;

/// A claimed delivery, with what signs it.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// The delivery's id.
    pub id: i64,
    /// The event's id: the same for every endpoint, and the payload's `sequence`.
    pub event_id: i64,
    /// `message.created`, `chat.deleted`…
    pub kind: String,
    /// The chat's number.
    pub chat: i64,
    /// The message's number (message events).
    pub number: Option<i64>,
    /// The message's body (`message.created`, `message.updated`).
    pub body: Option<String>,
    /// Who wrote the message, if it says.
    pub sender: Option<String>,
    /// The message's (or, for `chat.created`, the chat's) creation time.
    pub created_at: Option<DateTime<Utc>>,
    /// The message's last edit time.
    pub updated_at: Option<DateTime<Utc>>,
    /// When the change was made.
    pub occurred_at: DateTime<Utc>,
    /// The endpoint's URL.
    pub url: String,
    /// Attempts so far, this one included.
    pub attempts: i32,
    /// The endpoint's secret, and the previous one within 24 hours of a rotation.
    pub secrets: Vec<String>,
}

impl Claimed {
    /// From a row of `claim.sql`.
    pub fn from_row(row: &Row) -> Self {
        let mut secrets = vec![row.get::<_, String>(10)];
        secrets.extend(row.get::<_, Option<String>>(11));
        Claimed {
            id: row.get(0),
            event_id: row.get(1),
            kind: row.get(2),
            chat: row.get(3),
            number: row.get(4),
            body: row.get(5),
            sender: row.get(13),
            created_at: row.get(6),
            updated_at: row.get(7),
            occurred_at: row.get(8),
            url: row.get(9),
            attempts: row.get(12),
            secrets,
        }
    }

    /// The `webhook-id`: the same on every attempt, so receivers can drop repeats.
    pub fn webhook_id(&self) -> String {
        format!("msg_{}", self.event_id)
    }

    /// The JSON body. Times are written as the API writes them (RFC 3339).
    pub fn body(&self) -> Vec<u8> {
        let mut event = json!({
            "type": self.kind,
            "timestamp": self.occurred_at.to_rfc3339(),
            "chat": self.chat,
            "sequence": self.event_id,
        });
        if let Some(number) = self.number {
            event["number"] = Value::from(number);
        }
        if let (Some(number), Some(body), Some(created), Some(updated)) =
            (self.number, &self.body, self.created_at, self.updated_at)
        {
            event["message"] = json!({
                "number": number,
                "body": body,
                "created_at": created.to_rfc3339(),
                "updated_at": updated.to_rfc3339(),
            });
            if let Some(sender) = &self.sender {
                event["message"]["sender"] = Value::from(sender.as_str());
            }
        }
        serde_json::to_vec(&event).expect("a JSON value serializes")
    }

    /// The headers of an attempt sent at `now` with `body`.
    pub fn headers(&self, now: DateTime<Utc>, body: &[u8]) -> HeaderMap {
        let id = self.webhook_id();
        let timestamp = now.timestamp();
        let secrets: Vec<&str> = self.secrets.iter().map(String::as_str).collect();
        let signature = secret::header(&secrets, &id, timestamp, body);
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        for (name, value) in [
            ("webhook-id", id),
            ("webhook-timestamp", timestamp.to_string()),
            ("webhook-signature", signature),
        ] {
            let value = HeaderValue::from_str(&value).expect("ids, numbers and base64 are valid header values");
            headers.insert(name, value);
        }
        headers
    }
}
