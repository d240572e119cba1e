//! `/api/applications/{token}/chats/{number}/messages`: create, list or search, read, edit,
//! delete.

use poem_openapi::{
    param::{Header, Path, Query},
    payload::Json,
    Object, OpenApi,
};
use uuid::Uuid;

use super::{
    idempotency,
    message::Message,
    params::{self, MAX_BODY_CHARS},
    problem::ApiError,
    text::Text,
    ApiTags, State,
};
use crate::{
    live::ChatEvent,
    model::{self, Page},
    op_response,
    search::{self, SearchOrder, SearchRequest},
};

/// Body of creating or editing a message.
#[derive(Debug, Object)]
#[oai(example)]
pub struct MessageBody {
    /// The text (1–10,000 characters; any Unicode except NUL).
    #[oai(validator(min_length = 1, max_length = 10000, custom = "super::text::Visible"))]
    pub body: Text,
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
        400 => BadRequest: "`bad_request`: the token or chat number is malformed, the body is not JSON of the documented shape (`body` missing, not a string, blank, over 10,000 characters or containing NUL), or the `Idempotency-Key` header is malformed; `invalid_parameter`: the `Idempotency-Key` header is blank.",
        404 => NotFound: "`application_not_found`: no application has this token; `chat_not_found`: it has no chat with this number.",
        408 slow_body,
        409 => Conflict: "`idempotency_key_in_use`: a request with this `Idempotency-Key` is still in progress; retry shortly.",
        413 too_large,
        415 not_json,
        422 => Invalid: "`idempotency_key_reused`: the `Idempotency-Key` was used for a different request; `invalid_field`: the body is not acceptable.",
        429 rate_limited,
    }
}

op_response! {
    /// Result of listing or searching messages.
    pub enum ListMessagesResponse {
        /// A page of messages, or of search results.
        #[oai(status = 200)]
        Ok(Json<MessageList>),
    }
    errors {
        400 => BadRequest: "`bad_request`: the token or chat number is malformed, `order` is unknown, `query` is over 500 characters, or `page`, `limit`, `after` or `before` is not an integer or out of range; `invalid_parameter`: the query cannot be searched, or, with `query`, `page` starts past the first 1,000 hits (use `before` for deeper pages).",
        404 => NotFound: "`application_not_found`: no application has this token; `chat_not_found`: it has no chat with this number.",
        429 rate_limited,
        503 => "Searches only: `search_busy`: the server, or this application, is running as many searches at once as allowed; retry after `Retry-After` seconds. `search_timeout`: the search took longer than the server allows (`SEARCH_STATEMENT_TIMEOUT_MS`) and was stopped; narrow it or retry later.",
    }
}

op_response! {
    /// Result of reading a message.
    pub enum GetMessageResponse {
        /// The message.
        #[oai(status = 200)]
        Ok(Json<Message>),
    }
    errors {
        400 => BadRequest: "`bad_request`: the token, chat number or message number is malformed.",
        404 => NotFound: "`application_not_found`, `chat_not_found` or `message_not_found`: no such application, chat or message.",
        429 rate_limited,
    }
}

op_response! {
    /// Result of editing a message.
    pub enum UpdateMessageResponse {
        /// The edited message.
        #[oai(status = 200)]
        Ok(Json<Message>),
    }
    errors {
        400 => BadRequest: "`bad_request`: the token, chat number or message number is malformed, or the body is not JSON of the documented shape (`body` missing, not a string, blank, over 10,000 characters or containing NUL).",
        404 => NotFound: "`application_not_found`, `chat_not_found` or `message_not_found`: no such application, chat or message.",
        408 slow_body,
        413 too_large,
        415 not_json,
        422 => Invalid: "`invalid_field`: the body is not acceptable.",
        429 rate_limited,
    }
}

op_response! {
    /// Result of deleting a message.
    pub enum DeleteMessageResponse {
        /// Deleted. Its number is not reused.
        #[oai(status = 204)]
        Deleted,
    }
    errors {
        400 => BadRequest: "`bad_request`: the token, chat number or message number is malformed.",
        404 => NotFound: "`application_not_found`, `chat_not_found` or `message_not_found`: no such application, chat or message (or it is already deleted).",
        429 rate_limited,
    }
}

fn bad(field: &'static str, detail: &str) -> ApiError {
    ApiError::BadRequest {
        field,
        detail: detail.to_owned(),
    }
}

/// Operations on messages.
pub struct MessagesApi(pub State);

#[OpenApi(prefix_path = "/api", tag = "ApiTags::Messages")]
impl MessagesApi {
    /// Create a message
    ///
    /// Posts a message with the chat's next number (1, 2, 3…). Works right after the chat's
    /// own creation.
    #[oai(
        path = "/applications/:token/chats/:chat/messages",
        method = "post",
        operation_id = "create_message"
    )]
    async fn create(
        &self,
        /// The application's token.
        #[oai(example = "super::examples::token")]
        token: Path<Uuid>,
        /// The chat's number.
        #[oai(validator(minimum(value = "1")), example = "super::examples::number")]
        chat: Path<i64>,
        body: Json<MessageBody>,
        /// Makes retries safe: a retry with the same key returns the original message and
        /// creates nothing.
        #[oai(
            name = "Idempotency-Key",
            validator(min_length = 1, max_length = 255, pattern = r"^[\x21-\x7E]+[ \t]*$")
        )]
        idempotency_key: Header<Option<String>>,
    ) -> CreateMessageResponse {
        let result = async {
            params::text("body", &body.body, MAX_BODY_CHARS)?;
            let scope = format!("POST /api/applications/{}/chats/{}/messages", token.0, chat.0);
            let key = idempotency::key(idempotency_key.0.clone(), scope, Some(token.0), &[&body.body])?;
            if let Some(earlier) = idempotency::begin(&self.0.db, key.as_ref()).await? {
                let (number, at) = (earlier.number.unwrap_or_default(), earlier.at);
                let body = body.body.0.clone();
                return Ok((
                    model::Message {
                        number,
                        body,
                        created_at: at,
                        updated_at: at,
                    },
                    true,
                ));
            }
            let created = self
                .0
                .intake
                .create_message(token.0, chat.0, body.body.0.clone(), key.clone())
                .await
                .map_err(ApiError::from);
            // A failed creation has freed its key already (see `intake`).
            let created = created?;
            // Accepted: streams of every instance read it (before the 201 is given).
            self.0
                .announcer
                .publish_for(&self.0.db, token.0, |app| ChatEvent::Appended { app, chat: chat.0 })
                .await;
            Ok::<_, ApiError>((created, false))
        };
        match result.await {
            Ok((message, replayed)) => {
                let location = format!(
                    "/api/applications/{}/chats/{}/messages/{}",
                    token.0, chat.0, message.number
                );
                CreateMessageResponse::Created(Json(message.into()), location, replayed.then_some(true))
            }
            Err(e) => e.into(),
        }
    }

    /// List or search messages
    ///
    /// Without `query`: messages by ascending number, paged with `page` and the keyset cursors
    /// `after` / `before` (fast on deep pages): the numbers between them, or, with `before`
    /// alone, the ones just below it.
    ///
    /// With `query`: the messages matching every whitespace-separated term, in any order, case-
    /// and accent-insensitively ("cafe" finds "Café"). A term of 3 or more characters matches
    /// anywhere in the body ("ello" finds "Hello"); a shorter one matches the start of a word;
    /// `"double quoted words"` match as a phrase. Nothing else in the query is syntax. Newest
    /// first, paged with `page` or `before` (`next_before` of the previous page); or
    /// `order=relevance`: whole-word matches before word starts before matches inside words,
    /// ranked among the 1,000 most recent matches, paged with `page`. `after` and `before` bound
    /// the numbers searched. `page` reaches the first 1,000 hits; use `before` beyond. Each hit
    /// carries a `snippet` with the matches marked. Queued messages are found too. Searches
    /// running at once are capped per server and per application, and each has a time limit:
    /// 503 `search_busy` or `search_timeout` when exceeded.
    #[oai(
        path = "/applications/:token/chats/:chat/messages",
        method = "get",
        operation_id = "list_messages"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        /// The application's token.
        #[oai(example = "super::examples::token")]
        token: Path<Uuid>,
        /// The chat's number.
        #[oai(validator(minimum(value = "1")), example = "super::examples::number")]
        chat: Path<i64>,
        /// Search text: words (all must match) and `"quoted phrases"`. Blank: no search.
        #[oai(validator(max_length = 500))]
        query: Query<Option<String>>,
        /// Order of search results (only with `query`; ignored otherwise).
        order: Query<Option<SearchOrder>>,
        /// Page number, from 1. With `query`, a page must start within the first 1,000 hits
        /// (`(page - 1) × limit` below 1,000; else 400 `invalid_parameter`): deeper pages of a
        /// newest-first search are reached with `before`.
        #[oai(validator(minimum(value = "1"), maximum(value = "1000000")))]
        page: Query<Option<i64>>,
        /// Page size, 1–100 (default 10).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<i64>>,
        /// Only messages numbered above this.
        #[oai(validator(minimum(value = "0")))]
        after: Query<Option<i64>>,
        /// Only messages numbered below this (the page just before it).
        #[oai(validator(minimum(value = "1")))]
        before: Query<Option<i64>>,
    ) -> ListMessagesResponse {
        let result = async {
            let (cursor, limit) = params::cursor(page.0, after.0, before.0, limit.0)?;
            let Some(query) = query.0.as_ref().filter(|q| !q.trim().is_empty()) else {
                let page = self.0.db.messages(token.0, chat.0, cursor, limit).await?;
                return Ok::<_, ApiError>(MessageList::from((page, limit)));
            };
            let terms = search::parse(query).map_err(|e| bad("query", &e.to_string()))?;
            if cursor.offset >= search::MAX_OFFSET {
                return Err(bad(
                    "page",
                    &format!(
                        "search pages by `page` reach the first {} hits only ((page - 1) × limit must be below {}); \
                         for older hits pass the last page's `next_before` as `before` (newest-first order), or \
                         narrow the search with `before`",
                        search::MAX_OFFSET,
                        search::MAX_OFFSET
                    ),
                ));
            }
            let order = order.0.unwrap_or(SearchOrder::Newest);
            let request = SearchRequest {
                terms: &terms,
                order,
                after: cursor.after,
                before: cursor.before,
                offset: cursor.offset,
                limit,
            };
            let found = search::search(&self.0.db, &self.0.searches, token.0, chat.0, request).await?;
            let newest = order == SearchOrder::Newest;
            Ok(MessageList {
                next_after: None,
                next_before: found.hits.last().filter(|_| newest).map(|hit| hit.message.number),
                data: found.hits.into_iter().map(Message::from).collect(),
                limit,
                has_more: found.has_more,
            })
        };
        match result.await {
            Ok(list) => ListMessagesResponse::Ok(Json(list)),
            Err(e) => e.into(),
        }
    }

    /// Get a message
    ///
    /// The message's body and timestamps, also while it is still queued.
    #[oai(
        path = "/applications/:token/chats/:chat/messages/:number",
        method = "get",
        operation_id = "get_message"
    )]
    async fn get(
        &self,
        /// The application's token.
        #[oai(example = "super::examples::token")]
        token: Path<Uuid>,
        /// The chat's number.
        #[oai(validator(minimum(value = "1")), example = "super::examples::number")]
        chat: Path<i64>,
        /// The message's number.
        #[oai(validator(minimum(value = "1")), example = "super::examples::number")]
        number: Path<i64>,
    ) -> GetMessageResponse {
        match self.0.db.message(token.0, chat.0, number.0).await {
            Ok(message) => GetMessageResponse::Ok(Json(message.into())),
            Err(e) => ApiError::from(e).into(),
        }
    }

    /// Edit a message
    ///
    /// Replaces the message's body; searches see the new body at once.
    #[oai(
        path = "/applications/:token/chats/:chat/messages/:number",
        method = "put",
        operation_id = "update_message"
    )]
    async fn update(
        &self,
        /// The application's token.
        #[oai(example = "super::examples::token")]
        token: Path<Uuid>,
        /// The chat's number.
        #[oai(validator(minimum(value = "1")), example = "super::examples::number")]
        chat: Path<i64>,
        /// The message's number.
        #[oai(validator(minimum(value = "1")), example = "super::examples::number")]
        number: Path<i64>,
        body: Json<MessageBody>,
    ) -> UpdateMessageResponse {
        let result = async {
            params::text("body", &body.body, MAX_BODY_CHARS)?;
            Ok::<_, ApiError>(self.0.db.edit_message(token.0, chat.0, number.0, &body.body).await?)
        };
        match result.await {
            Ok(message) => {
                let number = message.number;
                self.0
                    .announcer
                    .publish_for(&self.0.db, token.0, |app| ChatEvent::Edited {
                        app,
                        chat: chat.0,
                        number,
                    })
                    .await;
                UpdateMessageResponse::Ok(Json(message.into()))
            }
            Err(e) => e.into(),
        }
    }

    /// Delete a message
    ///
    /// Deletes the message; it leaves search results at once. The number is never given to
    /// another message.
    #[oai(
        path = "/applications/:token/chats/:chat/messages/:number",
        method = "delete",
        operation_id = "delete_message"
    )]
    async fn delete(
        &self,
        /// The application's token.
        #[oai(example = "super::examples::token")]
        token: Path<Uuid>,
        /// The chat's number.
        #[oai(validator(minimum(value = "1")), example = "super::examples::number")]
        chat: Path<i64>,
        /// The message's number.
        #[oai(validator(minimum(value = "1")), example = "super::examples::number")]
        number: Path<i64>,
    ) -> DeleteMessageResponse {
        match self.0.db.delete_message(token.0, chat.0, number.0).await {
            Ok(()) => {
                self.0
                    .announcer
                    .publish_for(&self.0.db, token.0, |app| ChatEvent::Deleted {
                        app,
                        chat: chat.0,
                        number: number.0,
                    })
                    .await;
                DeleteMessageResponse::Deleted
            }
            Err(e) => ApiError::from(e).into(),
        }
    }
}
