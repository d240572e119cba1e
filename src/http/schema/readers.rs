//! The schema of chat members and read positions (`.../chats/{number}/members/{reader}`,
//! `.../chats/{number}/readers/{reader}`): the read position's body and field, a membership,
//! and each operation's response.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use poem_openapi::{
    payload::Json,
    registry::{MetaSchema, MetaSchemaRef},
    types::{Example, ParseFromJSON, ParseResult, ToJSON, Type},
    Object,
};
use serde_json::Value;

use crate::{
    http::{
        input::Invalid,
        text::{field_type, kind},
    },
    op_response,
    ops::ReadError,
};

/// A read position in a body: a whole number from 0, as sent (checked by [`Position::get`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position(Option<Value>);

impl Position {
    /// The position, or 422 `invalid_field` naming `last_read` and saying what it accepts.
    pub fn get(&self) -> Result<i64, Invalid> {
        let invalid = |fault: String| {
            let detail = format!("`last_read` {fault}: it must be a whole number from 0 to {}", i64::MAX);
            Err(Invalid {
                field: "last_read",
                detail,
            })
        };
        match &self.0 {
            None | Some(Value::Null) => invalid("is missing".into()),
            Some(Value::Number(n)) => match n.as_i64() {
                Some(n) if n >= 0 => Ok(n),
                _ => invalid(format!("is {n}")),
            },
            Some(other) => invalid(format!("is {}", kind(other))),
        }
    }
}

field_type!(
    [] Position,
    true,
    MetaSchema {
        format: Some("int64"),
        minimum: Some(0.0),
        ..MetaSchema::new("integer")
    }
);

/// Body of recording a read position.
#[derive(Debug, Object)]
#[oai(example)]
pub struct ReadBody {
    /// The number of the last message the reader has read (0: none). Never above the chat's
    /// last message number (422); a number below the one recorded is ignored.
    pub last_read: Position,
}

/// A reader's membership of a chat.
#[derive(Debug, Clone, Object)]
#[oai(example)]
pub struct Member {
    /// The reader, as the path named it.
    pub reader: String,
    /// The number of the last message it has read (0: none).
    pub last_read: i64,
    /// When it joined the chat (explicitly, by sending to it, or by recording a read position).
    pub joined_at: DateTime<Utc>,
}

/// A reader's read position in a chat, as recorded.
#[derive(Debug, Clone, Object)]
#[oai(example)]
pub struct ReadPosition {
    /// The reader, as the path named it.
    pub reader: String,
    /// The position recorded: the greater of the one sent and the one recorded before.
    pub last_read: i64,
}

op_response! {
    /// Result of joining a chat.
    pub enum JoinChatResponse {
        /// The reader is now a member (it was not before).
        #[oai(status = 201)]
        Joined(Json<Member>),
        /// The reader was already a member: nothing changed.
        #[oai(status = 200)]
        Already(Json<Member>),
    }
    errors {
        400 => BadRequest: "`invalid_parameter` (`field` names it): the token is not a UUID, the number is not a whole number from 1 to 9223372036854775807, or the reader is not 1–200 characters with a visible one and no NUL.",
        404 => NotFound: "`application_not_found`: no application has this token; `chat_not_found`: it has no chat with this number.",
        429 rate_limited,
    }
    answers { ReadError }
}

op_response! {
    /// Result of leaving a chat.
    pub enum LeaveChatResponse {
        /// The reader is not a member (any more): the chat left its inbox, with its read
        /// position. Also when it was not a member.
        #[oai(status = 204)]
        Left,
    }
    errors {
        400 => BadRequest: "`invalid_parameter` (`field` names it): the token is not a UUID, the number is not a whole number from 1 to 9223372036854775807, or the reader is not 1–200 characters with a visible one and no NUL.",
        404 => NotFound: "`application_not_found`: no application has this token; `chat_not_found`: it has no chat with this number.",
        429 rate_limited,
    }
    answers { ReadError }
}

op_response! {
    /// Result of recording a read position.
    pub enum MarkReadResponse {
        /// The position recorded (the reader is a member of the chat from now on).
        #[oai(status = 200)]
        Ok(Json<ReadPosition>),
    }
    errors {
        400 => BadRequest: "`invalid_parameter` (`field` names it): the token is not a UUID, the number is not a whole number from 1 to 9223372036854775807, or the reader is not 1–200 characters with a visible one and no NUL; `bad_request`: the body is not valid JSON, or not a JSON object.",
        404 => NotFound: "`application_not_found`: no application has this token; `chat_not_found`: it has no chat with this number.",
        408 slow_body,
        413 too_large,
        415 not_json,
        422 => Invalid: "`invalid_field` (`field`: `last_read`): `last_read` is missing, not a whole number from 0, or above the chat's last message number (the detail says which).",
        429 rate_limited,
    }
    answers { Invalid, ReadError }
}

impl Example for ReadBody {
    fn example() -> Self {
        ReadBody {
            last_read: Position(Some(2.into())),
        }
    }
}

impl Example for Member {
    fn example() -> Self {
        let reader = ReadPosition::example();
        Member {
            reader: reader.reader,
            last_read: reader.last_read,
            joined_at: DateTime::from_timestamp(1_767_268_800, 0).unwrap_or_default(),
        }
    }
}

impl Example for ReadPosition {
    fn example() -> Self {
        ReadPosition {
            reader: "alice".into(),
            last_read: 2,
        }
    }
}
