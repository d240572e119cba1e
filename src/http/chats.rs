//! `/api/applications/{token}/chats`: create, list, read, delete.

use poem_openapi::{
    param::{Header, Path, Query},
    payload::Json,
    Object, OpenApi,
};
use uuid::Uuid;

use super::{idempotency, params, problem::ApiError, ApiTags, State};
use crate::{
    live::ChatEvent,
    model::{Chat, Page},
    op_response,
};

/// A page of chats.
#[derive(Debug, Object)]
#[oai(example)]
pub struct ChatList {
    /// The chats, by ascending number.
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
}

impl From<(Page<Chat>, i64)> for ChatList {
    fn from((page, limit): (Page<Chat>, i64)) -> Self {
        ChatList {
            next_after: page.items.last().map(|c| c.number),
            next_before: page.items.first().map(|c| c.number),
            data: page.items,
            limit,
            has_more: page.has_more,
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
        400 => BadRequest: "`bad_request`: the token is not a UUID, or the `Idempotency-Key` header is malformed; `invalid_parameter`: the `Idempotency-Key` header is blank.",
        404 => NotFound: "`application_not_found`: no application has this token.",
        408 slow_body,
        409 => Conflict: "`idempotency_key_in_use`: a request with this `Idempotency-Key` is still in progress; retry shortly.",
        413 too_large,
        422 => Invalid: "`idempotency_key_reused`: the `Idempotency-Key` was used for a different request.",
        429 rate_limited,
    }
}

op_response! {
    /// Result of listing chats.
    pub enum ListChatsResponse {
        /// A page of chats.
        #[oai(status = 200)]
        Ok(Json<ChatList>),
    }
    errors {
        400 => BadRequest: "`bad_request`: the token is not a UUID, or `page`, `limit`, `after` or `before` is not an integer or out of range.",
        404 => NotFound: "`application_not_found`: no application has this token.",
        429 rate_limited,
    }
}

op_response! {
    /// Result of reading a chat.
    pub enum GetChatResponse {
        /// The chat.
        #[oai(status = 200)]
        Ok(Json<Chat>),
    }
    errors {
        400 => BadRequest: "`bad_request`: the token is not a UUID, or the number is not a positive integer.",
        404 => NotFound: "`application_not_found`: no application has this token; `chat_not_found`: it has no chat with this number.",
        429 rate_limited,
    }
}

op_response! {
    /// Result of deleting a chat.
    pub enum DeleteChatResponse {
        /// Deleted, with all its messages. Its number is not reused.
        #[oai(status = 204)]
        Deleted,
    }
    errors {
        400 => BadRequest: "`bad_request`: the token is not a UUID, or the number is not a positive integer.",
        404 => NotFound: "`application_not_found`: no application has this token; `chat_not_found`: it has no chat with this number (or it is already deleted).",
        429 rate_limited,
    }
}

/// Operations on chats.
pub struct ChatsApi(pub State);

#[OpenApi(prefix_path = "/api", tag = "ApiTags::Chats")]
impl ChatsApi {
    /// Create a chat
    ///
    /// Creates a chat with the application's next number (1, 2, 3…); the number is in the
    /// answer and in `Location`. No body is needed. The chat can be read, deleted and given
    /// messages at once.
    #[oai(path = "/applications/:token/chats", method = "post", operation_id = "create_chat")]
    async fn create(
        &self,
        /// The application's token.
        #[oai(example = "super::examples::token")]
        token: Path<Uuid>,
        /// Makes retries safe: a retry with the same key returns the original chat and creates
        /// nothing.
        #[oai(
            name = "Idempotency-Key",
            validator(min_length = 1, max_length = 255, pattern = r"^[\x21-\x7E]+[ \t]*$")
        )]
        idempotency_key: Header<Option<String>>,
    ) -> CreateChatResponse {
        let result = async {
            let scope = format!("POST /api/applications/{}/chats", token.0);
            let key = idempotency::key(idempotency_key.0.clone(), scope, Some(token.0), &[])?;
            if let Some(earlier) = idempotency::begin(&self.0.db, key.as_ref()).await? {
                let (number, at) = (earlier.number.unwrap_or_default(), earlier.at);
                return Ok::<_, ApiError>((
                    Chat {
                        number,
                        messages_count: 0,
                        created_at: at,
                        updated_at: at,
                    },
                    true,
                ));
            }
            let created = self
                .0
                .intake
                .create_chat(token.0, key.clone())
                .await
                .map_err(ApiError::from);
            // A failed creation has freed its key already (see `intake`).
            Ok((created?, false))
        };
        match result.await {
            Ok((chat, replayed)) => {
                let location = format!("/api/applications/{}/chats/{}", token.0, chat.number);
                CreateChatResponse::Created(Json(chat), location, replayed.then_some(true))
            }
            Err(e) => e.into(),
        }
    }

    /// List chats
    ///
    /// Chats by ascending number, paged with `page` and the keyset cursors `after` / `before`
    /// (fast on deep pages): the numbers between them, or, with `before` alone, the ones just
    /// below it.
    #[oai(path = "/applications/:token/chats", method = "get", operation_id = "list_chats")]
    async fn list(
        &self,
        /// The application's token.
        #[oai(example = "super::examples::token")]
        token: Path<Uuid>,
        /// Page number, from 1.
        #[oai(validator(minimum(value = "1"), maximum(value = "1000000")))]
        page: Query<Option<i64>>,
        /// Page size, 1–100 (default 10).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<i64>>,
        /// Only chats numbered above this.
        #[oai(validator(minimum(value = "0")))]
        after: Query<Option<i64>>,
        /// Only chats numbered below this (the page just before it).
        #[oai(validator(minimum(value = "1")))]
        before: Query<Option<i64>>,
    ) -> ListChatsResponse {
        let result = async {
            let (cursor, limit) = params::cursor(page.0, after.0, before.0, limit.0)?;
            let page = self.0.db.chats(token.0, cursor, limit).await?;
            Ok::<_, ApiError>(ChatList::from((page, limit)))
        };
        match result.await {
            Ok(list) => ListChatsResponse::Ok(Json(list)),
            Err(e) => e.into(),
        }
    }

    /// Get a chat
    ///
    /// The chat's number, its number of messages (which follows creations and deletes within
    /// about a second) and its timestamps.
    #[oai(
        path = "/applications/:token/chats/:number",
        method = "get",
        operation_id = "get_chat"
    )]
    async fn get(
        &self,
        /// The application's token.
        #[oai(example = "super::examples::token")]
        token: Path<Uuid>,
        /// The chat's number.
        #[oai(validator(minimum(value = "1")), example = "super::examples::number")]
        number: Path<i64>,
    ) -> GetChatResponse {
        match self.0.db.chat(token.0, number.0).await {
            Ok(chat) => GetChatResponse::Ok(Json(chat)),
            Err(e) => ApiError::from(e).into(),
        }
    }

    /// Delete a chat
    ///
    /// Deletes the chat and all its messages. The number is never given to another chat.
    #[oai(
        path = "/applications/:token/chats/:number",
        method = "delete",
        operation_id = "delete_chat"
    )]
    async fn delete(
        &self,
        /// The application's token.
        #[oai(example = "super::examples::token")]
        token: Path<Uuid>,
        /// The chat's number.
        #[oai(validator(minimum(value = "1")), example = "super::examples::number")]
        number: Path<i64>,
    ) -> DeleteChatResponse {
        match self.0.db.delete_chat(token.0, number.0).await {
            Ok(()) => {
                self.0.purge_wake.notify_one();
                self.0
                    .announcer
                    .publish_for(&self.0.db, token.0, |app| ChatEvent::ChatGone { app, chat: number.0 })
                    .await;
                DeleteChatResponse::Deleted
            }
            Err(e) => ApiError::from(e).into(),
        }
    }
}
