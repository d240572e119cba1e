//! The schema of `/api/applications/{token}/chats`: a page of chats and each operation's
//! response.

use poem_openapi::{payload::Json, types::Example, Object};

use crate::{
    http::{inbox_params::Resume, input::BadRequest},
    model::{Chat, Inbox, Page},
    op_response,
    ops::{CreateError, ReadError},
};

/// A page of chats.
#[derive(Debug, Object)]
#[oai(example)]
pub struct ChatList {
    /// The chats, by ascending number (an inbox: by latest activity).
    pub data: Vec<Chat>,
    /// The page size.
    pub limit: i64,
    /// True when more chats follow in the direction of travel (after the last one; before the
    /// first one when paging with `before`).
    pub has_more: bool,
    /// Number of the last chat on this page: pass it as `after` for the next page.
    #[oai(skip_serializing_if_is_none)]
    pub next_after: Option<i64>,
    /// Number of the first chat on this page: pass it as `before` for the previous page.
    #[oai(skip_serializing_if_is_none)]
    pub next_before: Option<i64>,
    /// An inbox (`order=activity`) with more chats: pass it as `cursor` for the next page.
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

impl From<(Page<Chat>, i64)> for ChatList {
    fn from((page, limit): (Page<Chat>, i64)) -> Self {
        ChatList {
            next_after: page.items.last().map(|c| c.number),
            next_before: page.items.first().map(|c| c.number),
            data: page.items,
            limit,
            has_more: page.has_more,
            next_cursor: None,
        }
    }
}

impl ChatList {
    /// A page of an inbox, and where the next one starts.
    pub fn inbox(inbox: Inbox, limit: i64) -> Self {
        ChatList {
            data: inbox.chats,
            limit,
            has_more: inbox.next.is_some(),
            next_after: None,
            next_before: None,
            next_cursor: inbox.next.map(Resume::encode),
        }
    }
}

op_response! {
    /// Result of creating a chat.
    pub enum CreateChatResponse {
        /// The chat, with its number; `Location` is its URL. It is readable at once.
        /// `Idempotent-Replayed: true` marks the answer to a retry.
        #[oai(status = 201)]
        Created(
            Json<Chat>,
            /// The new chat's URL.
            #[oai(header = "Location")]
            String,
            /// `true` when this answers a retry with a used `Idempotency-Key`.
            #[oai(header = "Idempotent-Replayed")]
            Option<bool>,
        ),
    }
    errors {
        400 => BadRequest: "`invalid_parameter` (`field` names it): the token is not a UUID, or the `Idempotency-Key` header is not 1–255 visible ASCII characters.",
        404 => NotFound: "`application_not_found`: no application has this token.",
        408 slow_body,
        409 => Conflict: "`idempotency_key_in_use`: a request with this `Idempotency-Key` is still in progress; retry shortly.",
        413 too_large,
        422 => Invalid: "`idempotency_key_reused`: the `Idempotency-Key` was used for a different request.",
        429 rate_limited,
    }
    answers { BadRequest, CreateError }
}

op_response! {
    /// Result of listing chats.
    pub enum ListChatsResponse {
        /// A page of chats.
        #[oai(status = 200)]
        Ok(Json<ChatList>),
    }
    errors {
        400 => BadRequest: "`invalid_parameter` (`field` names it): the token is not a UUID, or `page` (1 to 1000000), `limit` (1 to 100), `after` (0 or more) or `before` (1 or more) is not a whole number in its range; `reader` is not 1–200 characters with a visible one and no NUL, `order` is not `number` or `activity`, `cursor` is not a `next_cursor`; or they are mixed: `order=activity` without `reader`, `reader` without it, `cursor` without it, `page`, `after` or `before` with it.",
        404 => NotFound: "`application_not_found`: no application has this token.",
        429 rate_limited,
    }
    answers { BadRequest, ReadError }
}

op_response! {
    /// Result of reading a chat.
    pub enum GetChatResponse {
        /// The chat.
        #[oai(status = 200)]
        Ok(Json<Chat>),
    }
    errors {
        400 => BadRequest: "`invalid_parameter` (`field` names it): the token is not a UUID, the number is not a whole number from 1 to 9223372036854775807, or `reader` is not 1–200 characters with a visible one and no NUL.",
        404 => NotFound: "`application_not_found`: no application has this token; `chat_not_found`: it has no chat with this number.",
        429 rate_limited,
    }
    answers { ReadError }
}

op_response! {
    /// Result of deleting a chat.
    pub enum DeleteChatResponse {
        /// Deleted, with all its messages. Its number is not reused.
        #[oai(status = 204)]
        Deleted,
    }
    errors {
        400 => BadRequest: "`invalid_parameter` (`field` names it): the token is not a UUID, or the number is not a whole number from 1 to 9223372036854775807.",
        404 => NotFound: "`application_not_found`: no application has this token; `chat_not_found`: it has no chat with this number (or it is already deleted).",
        429 rate_limited,
    }
    answers { ReadError }
}

impl Example for ChatList {
    fn example() -> Self {
        let page = Page {
            items: vec![Chat::example()],
            has_more: false,
        };
        (page, 10).into()
    }
}
