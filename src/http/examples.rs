//! Example values for the OpenAPI document: the path parameters, and the story every request and
//! response example tells (through each type's `Example`, beside the type, shown by Swagger UI
//! and checked against its schema by the spec linter): the application "Support desk" whose
//! chat 1 holds messages 1 and 2.

use chrono::{DateTime, Utc};
use poem_openapi::types::Example;
use uuid::Uuid;

use crate::model::{self, Application, Chat, LastMessage};

/// The example application's token.
pub fn token() -> Uuid {
    Uuid::from_u128(0x3f1c2a9e_5b7d_4e8a_9c0f_1a2b3c4d5e6f)
}

/// The example chat's or message's number.
pub fn number() -> i64 {
    1
}

/// The example chat's messages, as stored: 1 and 2.
pub fn messages() -> [model::Message; 2] {
    [
        message(1, "Hello! Is the café open today?", "alice"),
        message(2, "Yes, until 6 pm.", "bob"),
    ]
}

fn at(minute: u32) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("2026-01-01T12:{minute:02}:00Z"))
        .expect("a valid timestamp")
        .with_timezone(&Utc)
}

fn message(number: i64, body: &str, sender: &str) -> model::Message {
    let created = at(number as u32);
    model::Message {
        number,
        body: body.into(),
        created_at: created,
        updated_at: created,
        sender: Some(sender.into()),
    }
}

impl Example for Application {
    fn example() -> Self {
        Application {
            token: token(),
            name: "Support desk".into(),
            chats_count: 1,
            created_at: at(0),
            updated_at: at(0),
        }
    }
}

impl Example for Chat {
    fn example() -> Self {
        Chat::new(number(), 2, at(0), at(0))
    }
}

impl Example for LastMessage {
    fn example() -> Self {
        let [_, last] = messages();
        LastMessage {
            number: last.number,
            sender: last.sender,
            preview: last.body,
            created_at: last.created_at,
        }
    }
}
