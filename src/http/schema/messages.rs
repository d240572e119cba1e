//! The schema of `/api/applications/{token}/chats/{number}/messages`: a message's body, a page
//! of messages or of search hits, the order of search results, and each operation's response.

use std::borrow::Cow;

use poem_openapi::{
    payload::Json,
    registry::{MetaSchemaRef, Registry},
    types::{Example, ParseError, ParseFromParameter, ParseResult, ToJSON, Type},
    Enum, Object,
};

use crate::{
    http::{
        examples,
        input::{BadRequest, Invalid},
        message::Message,
        params::{MAX_BODY_CHARS, MAX_SENDER_CHARS},
        text::{OptionalText, Text},
    },
    model::{self, Page},
    op_response,
    ops::{CreateError, ReadError, SearchFailure},
    search,
};

/// Order of search results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum SearchOrder {
    /// Newest first (the default).
    Newest,
    /// Best matches first, among the most recent matches; ties newest first.
    Relevance,
}

impl SearchOrder {
    /// Every order, as `order` names them.
    const ALL: [SearchOrder; 2] = [SearchOrder::Newest, SearchOrder::Relevance];
}

/// The `order` parameter: a [`SearchOrder`] (its schema), refused by listing the orders there
/// are (poem-openapi's own refusal names its type instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Order(pub SearchOrder);

impl Type for Order {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        SearchOrder::name()
    }

    fn schema_ref() -> MetaSchemaRef {
        SearchOrder::schema_ref()
    }

    fn register(registry: &mut Registry) {
        SearchOrder::register(registry);
    }

    fn as_raw_value(&self) -> Option<&Self> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
        Box::new(std::iter::once(self))
    }
}

impl ParseFromParameter for Order {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        SearchOrder::parse_from_parameter(value).map(Order).map_err(|_| {
            let names: Vec<String> = SearchOrder::ALL
                .iter()
                .filter_map(|o| o.to_json())
                .map(|name| format!("`{}`", name.as_str().unwrap_or_default()))
                .collect();
            ParseError::custom(format!("must be one of {}", names.join(", ")))
        })
    }
}

impl From<SearchOrder> for search::SearchOrder {
    fn from(order: SearchOrder) -> Self {
        match order {
            SearchOrder::Newest => search::SearchOrder::Newest,
            SearchOrder::Relevance => search::SearchOrder::Relevance,
        }
    }
}

/// Body of creating or editing a message.
#[derive(Debug, Object)]
#[oai(example)]
pub struct MessageBody {
    /// The text: 1–10,000 characters of any Unicode except NUL, not only white space.
    pub body: Text<MAX_BODY_CHARS>,
    /// Who wrote it, the application's own id for its author (1–200 characters, not only white
    /// space, no NUL; absent or null: none, or on an edit, unchanged). Returned with the message,
    /// in live events and in search hits; `sender=` filters lists and searches.
    pub sender: OptionalText<MAX_SENDER_CHARS>,
}

/// A page of messages.
#[derive(Debug, Object)]
#[oai(example)]
pub struct MessageList {
    /// The messages: by ascending number for a list; for a search, newest first or by relevance.
    pub data: Vec<Message>,
    /// The page size.
    pub limit: i64,
    /// True when more messages follow in the direction of travel (after the last one; before
    /// the first one when paging with `before`).
    pub has_more: bool,
    /// Highest number on this page (lists only): pass it as `after` for the next page.
    #[oai(skip_serializing_if_is_none)]
    pub next_after: Option<i64>,
    /// Lowest number on this page: pass it as `before` for the previous page of a list, or for
    /// the next page of a newest-first search.
    #[oai(skip_serializing_if_is_none)]
    pub next_before: Option<i64>,
}

impl From<(Page<model::Message>, i64)> for MessageList {
    fn from((page, limit): (Page<model::Message>, i64)) -> Self {
        MessageList {
            next_after: page.items.last().map(|m| m.number),
            next_before: page.items.first().map(|m| m.number),
            data: page.items.into_iter().map(Message::from).collect(),
            limit,
            has_more: page.has_more,
        }
    }
}

op_response! {
    /// Result of creating a message.
    pub enum CreateMessageResponse {
        /// The message, with its number; `Location` is its URL. It is readable and searchable
        /// at once. `Idempotent-Replayed: true` marks the answer to a retry.
        #[oai(status = 201)]
        Created(
            Json<Message>,
            /// The new message's URL.
            #[oai(header = "Location")]
            String,
            /// `true` when this answers a retry with a used `Idempotency-Key`.
            #[oai(header = "Idempotent-Replayed")]
            Option<bool>,
        ),
    }
    errors {
        400 => BadRequest: "`invalid_parameter` (`field` names it): the token is not a UUID, the chat number is not a whole number from 1 to 9223372036854775807, or the `Idempotency-Key` header is not 1–255 visible ASCII characters; `bad_request`: the body is not valid JSON, or not a JSON object.",
        404 => NotFound: "`application_not_found`: no application has this token; `chat_not_found`: it has no chat with this number.",
        408 slow_body,
        409 => Conflict: "`idempotency_key_in_use`: a request with this `Idempotency-Key` is still in progress; retry shortly.",
        413 too_large,
        415 not_json,
        422 => Invalid: "`invalid_field` (`field`: `body`): `body` is missing, null, not a string, blank, over 10,000 characters or contains NUL; `idempotency_key_reused`: the `Idempotency-Key` was used for a different request.",
        429 rate_limited,
    }
    answers { BadRequest, Invalid, CreateError }
}

op_response! {
    /// Result of listing or searching messages.
    pub enum ListMessagesResponse {
        /// A page of messages, or of search results.
        #[oai(status = 200)]
        Ok(Json<MessageList>),
    }
    errors {
        400 => BadRequest: "`invalid_parameter` (`field` names it): the token is not a UUID, the chat number is not a whole number from 1 to 9223372036854775807, `order` is not `newest` or `relevance`, `query` is over 500 characters or not UTF-8, `page` (1 to 1000000), `limit` (1 to 100), `after` (0 or more) or `before` (1 or more) is not a whole number in its range, the query cannot be searched, or, with `query`, `page` starts past the first 1,000 hits (use `before` for deeper pages).",
        404 => NotFound: "`application_not_found`: no application has this token; `chat_not_found`: it has no chat with this number.",
        429 rate_limited,
        503 => "Searches only: `search_busy`: the server, or this application, is running as many searches at once as allowed; retry after `Retry-After` seconds. `search_timeout`: the search took longer than the server allows (`SEARCH_STATEMENT_TIMEOUT_MS`) and was stopped; narrow it or retry later.",
    }
    answers { ReadError, SearchFailure }
}

op_response! {
    /// Result of reading a message.
    pub enum GetMessageResponse {
        /// The message.
        #[oai(status = 200)]
        Ok(Json<Message>),
    }
    errors {
        400 => BadRequest: "`invalid_parameter` (`field` names it): the token is not a UUID, or the chat or message number is not a whole number from 1 to 9223372036854775807.",
        404 => NotFound: "`application_not_found`, `chat_not_found` or `message_not_found`: no such application, chat or message.",
        429 rate_limited,
    }
    answers { ReadError }
}

op_response! {
    /// Result of editing a message.
    pub enum UpdateMessageResponse {
        /// The edited message.
        #[oai(status = 200)]
        Ok(Json<Message>),
    }
    errors {
        400 => BadRequest: "`invalid_parameter` (`field` names it): the token is not a UUID, or the chat or message number is not a whole number from 1 to 9223372036854775807; `bad_request`: the body is not valid JSON, or not a JSON object.",
        404 => NotFound: "`application_not_found`, `chat_not_found` or `message_not_found`: no such application, chat or message.",
        408 slow_body,
        413 too_large,
        415 not_json,
        422 => Invalid: "`invalid_field` (`field`: `body`): `body` is missing, null, not a string, blank, over 10,000 characters or contains NUL.",
        429 rate_limited,
    }
    answers { Invalid, ReadError }
}

op_response! {
    /// Result of deleting a message.
    pub enum DeleteMessageResponse {
        /// Deleted. Its number is not reused.
        #[oai(status = 204)]
        Deleted,
    }
    errors {
        400 => BadRequest: "`invalid_parameter` (`field` names it): the token is not a UUID, or the chat or message number is not a whole number from 1 to 9223372036854775807.",
        404 => NotFound: "`application_not_found`, `chat_not_found` or `message_not_found`: no such application, chat or message (or it is already deleted).",
        429 rate_limited,
    }
    answers { ReadError }
}

impl Example for MessageBody {
    fn example() -> Self {
        let example = Message::example();
        MessageBody {
            body: Text::new(example.body),
            sender: example.sender.map(OptionalText::new).unwrap_or_default(),
        }
    }
}

impl Example for MessageList {
    fn example() -> Self {
        let page = Page {
            items: examples::messages().into(),
            has_more: false,
        };
        (page, 10).into()
    }
}
