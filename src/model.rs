//! The resources as the service keeps them. Applications and chats are rendered by the API as
//! they are read (they derive the OpenAPI schema, so a field cannot drift between the two); a
//! message is rendered through the API's own type, which adds what only HTTP answers carry (a
//! search hit's snippet).

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef, Registry},
    types::{Example, ParseError, ParseFromJSON, ParseResult, ToJSON, Type},
    Object,
};
use serde_json::Value;
use uuid::Uuid;

/// A tenant of the chat system.
#[derive(Debug, Clone, Object)]
#[oai(example)]
pub struct Application {
    /// The application's token: the only way to address it. Keep it secret.
    pub token: Uuid,
    /// Display name.
    pub name: String,
    /// Number of chats the application has (may lag creations and deletes by about a second).
    pub chats_count: i64,
    /// When the application was created.
    pub created_at: DateTime<Utc>,
    /// When the application was last changed.
    pub updated_at: DateTime<Utc>,
}

/// A chat inside an application.
#[derive(Debug, Clone, Object)]
#[oai(example)]
pub struct Chat {
    /// The chat's number inside its application: 1, 2, 3… never reused.
    pub number: i64,
    /// Number of messages in the chat (may lag creations and deletes by about a second).
    pub messages_count: i64,
    /// When the chat was created.
    pub created_at: DateTime<Utc>,
    /// When the chat was last changed.
    pub updated_at: DateTime<Utc>,
    /// With `reader`: the number of the last message that reader has read (0: none; a reader
    /// that is not a member has read none).
    #[oai(skip_serializing_if_is_none)]
    pub last_read: Option<i64>,
    /// With `reader`: the chat's messages numbered above `last_read` that the reader did not
    /// send, not deleted, queued ones included (a message counts from its 201). Counted up to
    /// 100: 100 means "100 or more" (a "99+" badge).
    #[oai(skip_serializing_if_is_none)]
    pub unread_count: Option<i64>,
    /// With `reader`: the chat's latest message that is not deleted (absent when it has none).
    #[oai(skip_serializing_if_is_none)]
    pub last_message: Option<Latest>,
}

impl Chat {
    /// A chat as every read shows it, without a reader's fields.
    pub fn new(number: i64, messages_count: i64, created_at: DateTime<Utc>, updated_at: DateTime<Utc>) -> Self {
        Chat {
            number,
            messages_count,
            created_at,
            updated_at,
            last_read: None,
            unread_count: None,
            last_message: None,
        }
    }
}

/// Where `unread_count` stops counting: a chat with more unread messages shows this many, so
/// that a page of chats with huge backlogs costs no more than this per chat to count (20 chats
/// of 1,500 unread took 3 ms to count at 100, 12 ms at 1,000: BENCHMARKS.md, "Inbox").
pub const UNREAD_COUNT_CAP: i64 = 100;

/// A chat's latest message, as an inbox shows it.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
#[oai(example)]
pub struct LastMessage {
    /// The message's number.
    pub number: i64,
    /// Who wrote it, if the message said.
    #[oai(skip_serializing_if_is_none)]
    pub sender: Option<String>,
    /// The start of its body: the first 100 characters.
    pub preview: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// A chat's [`LastMessage`] as a field of [`Chat`]: the same JSON, but its schema in the spec is
/// the reference with an example beside it. A field described by its doc comment whose type is a
/// bare reference becomes an `allOf` of the reference and the description, an object schema
/// without an example, which the spec lint (Redocly, `object-schema-example`) refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Latest(pub LastMessage);

impl Type for Latest {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        LastMessage::name()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            all_of: vec![LastMessage::schema_ref()],
            example: LastMessage::example().to_json(),
            ..MetaSchema::ANY
        }))
    }

    fn register(registry: &mut Registry) {
        LastMessage::register(registry);
    }

    fn as_raw_value(&self) -> Option<&Self> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
        Box::new(std::iter::once(self))
    }
}

impl ToJSON for Latest {
    fn to_json(&self) -> Option<Value> {
        self.0.to_json()
    }
}

impl ParseFromJSON for Latest {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        LastMessage::parse_from_json(value)
            .map(Latest)
            .map_err(ParseError::propagate)
    }
}

/// Where a page of a reader's inbox starts: below this chat in the order of activity (latest
/// first, then higher numbers first). `activity` None: the chats without a recorded activity
/// (made before activity was recorded), which come last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InboxCursor {
    /// The activity of the last chat of the previous page.
    pub activity: Option<DateTime<Utc>>,
    /// That chat's number.
    pub chat: i64,
}

impl InboxCursor {
    /// The first page: above every chat.
    pub fn first() -> Self {
        let end = DateTime::from_timestamp(253_402_300_799, 0).expect("9999-12-31 is a time");
        InboxCursor {
            activity: Some(end),
            chat: i64::MAX,
        }
    }
}

/// One page of a reader's inbox: its chats, latest activity first.
#[derive(Debug, Clone)]
pub struct Inbox {
    /// The chats, each with the reader's fields.
    pub chats: Vec<Chat>,
    /// Where the next page starts, when more chats follow.
    pub next: Option<InboxCursor>,
}

/// A message inside a chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The message's number inside its chat: 1, 2, 3… never reused.
    pub number: i64,
    /// The text of the message.
    pub body: String,
    /// When the message was created.
    pub created_at: DateTime<Utc>,
    /// When the message was last edited.
    pub updated_at: DateTime<Utc>,
    /// Who wrote it, in the application's own words (its id for the author), if it said.
    pub sender: Option<String>,
}

/// Which page of a list: the items numbered strictly between `after` and `before`, skipping
/// `offset` of them. Paged backwards (the nearest items below `before` first) when only `before`
/// bounds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// Only items numbered above this.
    pub after: i64,
    /// Only items numbered below this.
    pub before: i64,
    /// Items skipped from the start of the page's direction.
    pub offset: i64,
    /// True: counting from `before` downwards.
    pub backwards: bool,
}

/// One page of a list, read with one extra row to know whether more follow.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items, in ascending number order.
    pub items: Vec<T>,
    /// True when there are more items in the direction of travel.
    pub has_more: bool,
}

impl<T> Page<T> {
    /// Cuts `rows` (read with `limit + 1`) to `limit`, keeping the rows nearest the cursor.
    pub fn from_rows(mut items: Vec<T>, limit: i64, cursor: Cursor) -> Self {
        let has_more = items.len() as i64 > limit;
        items.truncate(limit as usize);
        if cursor.backwards {
            items.reverse();
        }
        Page { items, has_more }
    }
}
