//! The parameters of read positions and the inbox: [`Reader`] (in paths and query strings: a
//! reader, the same kind of id as a message's `sender`), [`ChatOrder`] (`order` of the chat
//! list) and [`Resume`] (`cursor`, where an inbox page starts). Their parse errors say what they
//! accept (400 `invalid_parameter`, naming the parameter).

use std::borrow::Cow;

use chrono::DateTime;
use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef},
    types::{ParseError, ParseFromParameter, ParseResult, Type},
};

use super::{
    params::{parameter_type, MAX_SENDER_CHARS},
    text::{self, Text},
};
use crate::model::InboxCursor;

/// A reader: the application's own id for a user, as a message's `sender` names it (1–200
/// characters, at least one visible, no NUL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader(pub String);

impl Reader {
    /// The reader's id.
    pub fn get(&self) -> &str {
        &self.0
    }
}

parameter_type!(
    []
    Reader,
    "string",
    MetaSchema {
        min_length: Some(1),
        max_length: Some(MAX_SENDER_CHARS),
        pattern: Some(text::VISIBLE.to_owned()),
        example: Some("alice".into()),
        ..MetaSchema::new("string")
    }
);

impl ParseFromParameter for Reader {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        match text::fault::<MAX_SENDER_CHARS>(value) {
            Some(fault) => Err(ParseError::custom(format!(
                "{fault}: it must be {}",
                Text::<MAX_SENDER_CHARS>::accepts()
            ))),
            None => Ok(Reader(value.to_owned())),
        }
    }
}

/// The order of the chat list: by `number` (the default), or by `activity`, a reader's inbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatOrder {
    /// Ascending chat number.
    Number,
    /// Latest activity first (a reader's inbox).
    Activity,
}

parameter_type!(
    []
    ChatOrder,
    "string",
    MetaSchema {
        enum_items: vec!["number".into(), "activity".into()],
        ..MetaSchema::new("string")
    }
);

impl ParseFromParameter for ChatOrder {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        match value {
            "number" => Ok(ChatOrder::Number),
            "activity" => Ok(ChatOrder::Activity),
            _ => Err(ParseError::custom("must be one of `number`, `activity`")),
        }
    }
}

/// Where an inbox page starts: an earlier page's `next_cursor`, as given (its form is not part
/// of the API: the chat's activity in microseconds since 1970, or `n` for none, a dot, and the
/// chat's number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resume(pub InboxCursor);

parameter_type!(
    []
    Resume,
    "string",
    MetaSchema {
        max_length: Some(41),
        example: Some("1767268920000000.1".into()),
        ..MetaSchema::new("string")
    }
);

impl Resume {
    /// The cursor of the page after the one that ended at `cursor`, as clients pass it back.
    pub fn encode(cursor: InboxCursor) -> String {
        match cursor.activity {
            Some(at) => format!("{}.{}", at.timestamp_micros(), cursor.chat),
            None => format!("n.{}", cursor.chat),
        }
    }
}

impl ParseFromParameter for Resume {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        let parsed = value.split_once('.').and_then(|(at, chat)| {
            let chat: i64 = chat.parse().ok().filter(|&n| n >= 1)?;
            let activity = match at {
                "n" => None,
                micros => Some(DateTime::from_timestamp_micros(micros.parse().ok()?)?),
            };
            Some(Resume(InboxCursor { activity, chat }))
        });
        parsed.ok_or_else(|| ParseError::custom("must be the `next_cursor` of an earlier page of this inbox"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_comes_back_as_it_went() {
        let at = DateTime::from_timestamp_micros(1_767_268_920_123_456).unwrap();
        for cursor in [
            InboxCursor {
                activity: Some(at),
                chat: 7,
            },
            InboxCursor {
                activity: None,
                chat: 1,
            },
        ] {
            let back = Resume::parse_from_parameter(&Resume::encode(cursor)).unwrap();
            assert_eq!(back.0, cursor);
        }
        for bad in ["", "x", "1.0", "1.-3", "n.", ".5", "a.b", "99999999999999999999.1"] {
            let message = Resume::parse_from_parameter(bad).unwrap_err().into_message();
            assert!(
                message.ends_with("must be the `next_cursor` of an earlier page of this inbox"),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_reader_is_checked_like_a_sender() {
        assert_eq!(Reader::parse_from_parameter("alice").unwrap().get(), "alice");
        for (bad, fault) in [("", "is empty"), (" ", "is blank"), ("a\0", "contains a NUL character")] {
            let message = Reader::parse_from_parameter(bad).unwrap_err().into_message();
            assert!(message.contains(&format!(": {fault}: it must be")), "{message}");
        }
        let long = "é".repeat(201);
        assert!(Reader::parse_from_parameter(&long).is_err());
        assert_eq!(
            ChatOrder::parse_from_parameter("activity").unwrap(),
            ChatOrder::Activity
        );
        assert!(ChatOrder::parse_from_parameter("newest").is_err());
    }
}
