//! Example values for the OpenAPI document: every request and response body (through each
//! type's `Example`, shown by Swagger UI and checked against its schema by the spec linter) and
//! the path parameters. One consistent story: the application "Support desk" whose chat 1 holds
//! messages 1 and 2.

use chrono::{DateTime, Utc};
use poem::http::StatusCode;
use poem_openapi::types::{Example, MaybeUndefined};
use uuid::Uuid;

use super::message::Message;
use super::{
    applications::{ApplicationList, CreateApplication, UpdateApplication},
    chats::ChatList,
    messages::{MessageBody, MessageList},
    problem::Problem,
    stream::{MessageEvent, MessageEventType},
    text::Text,
};
use crate::model::{self, Application, Chat};

/// The example application's token.
pub fn token() -> Uuid {
    Uuid::from_u128(0x3f1c2a9e_5b7d_4e8a_9c0f_1a2b3c4d5e6f)
}

/// The example chat's or message's number.
pub fn number() -> i64 {
    1
}

fn at(minute: u32) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("2026-01-01T12:{minute:02}:00Z"))
        .expect("a valid timestamp")
        .with_timezone(&Utc)
}

fn message(number: i64, body: &str) -> model::Message {
    let created = at(number as u32);
    model::Message {
        number,
        body: body.into(),
        created_at: created,
        updated_at: created,
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

impl Example for CreateApplication {
    fn example() -> Self {
        CreateApplication {
            name: Text("Support desk".into()),
        }
    }
}

impl Example for UpdateApplication {
    fn example() -> Self {
        UpdateApplication {
            name: Text("Help desk".into()),
            token: MaybeUndefined::Undefined,
        }
    }
}

impl Example for ApplicationList {
    fn example() -> Self {
        ApplicationList {
            data: vec![Application::example()],
            page: 1,
            limit: 10,
            has_more: false,
        }
    }
}

impl Example for Chat {
    fn example() -> Self {
        Chat {
            number: number(),
            messages_count: 2,
            created_at: at(0),
            updated_at: at(0),
        }
    }
}

impl Example for ChatList {
    fn example() -> Self {
        (
            crate::model::Page {
                items: vec![Chat::example()],
                has_more: false,
            },
            10,
        )
            .into()
    }
}

impl Example for Message {
    fn example() -> Self {
        message(1, "Hello! Is the café open today?").into()
    }
}

impl Example for MessageBody {
    fn example() -> Self {
        MessageBody {
            body: Text(Message::example().body),
        }
    }
}

impl Example for MessageList {
    fn example() -> Self {
        (
            crate::model::Page {
                items: vec![
                    message(1, "Hello! Is the café open today?"),
                    message(2, "Yes, until 6 pm."),
                ],
                has_more: false,
            },
            10,
        )
            .into()
    }
}

impl Example for MessageEvent {
    fn example() -> Self {
        MessageEvent {
            kind: MessageEventType::Created,
            number: Some(2),
            message: Some(message(2, "Yes, until 6 pm.").into()),
            cursor: 2,
        }
    }
}

impl Example for Problem {
    fn example() -> Self {
        Problem::new(
            StatusCode::NOT_FOUND,
            "chat_not_found",
            "the application has no chat with this number",
        )
    }
}
