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
            #[oai(header = "Location")] String,
            #[oai(header = "Idempotent-Replayed")] Option<bool>,
        ),
    }
    errors {
        400 => BadRequest: "The token is not a UUID, or the Idempotency-Key is malformed.",
        404 => NotFound: "No application has this token.",
        409 => Conflict: "A request with this Idempotency-Key is still in progress.",
        422 => Invalid: "The Idempotency-Key was used for another request.",
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
        400 => BadRequest: "The token is not a UUID, or a pagination parameter is out of range.",
        404 => NotFound: "No application has this token.",
    }
}

op_response! {
    /// Result of reading or deleting a chat.
    pub enum ChatResponse {
        /// The chat.
        #[oai(status = 200)]
        Ok(Json<Chat>),
        /// Deleted, with all its messages. Its number is not reused.
        #[oai(status = 204)]
        Deleted,
    }
    errors {
        400 => BadRequest: "The token is not a UUID, or the number is not a positive integer.",
        404 => NotFound: "No application has this token, or it has no chat with this number.",
    }
}

/// Operations on chats.
pub struct ChatsApi(pub State);

#[OpenApi(prefix_path = "/api", tag = "ApiTags::Chats")]
impl ChatsApi {
    /// Create a chat
    ///
    /// Creates a chat with the application's next number (1, 2, 3…). No body is needed.
    #[oai(path = "/applications/:token/chats", method = "post", operation_id = "create_chat")]
    async fn create(
        &self,
        /// The application's token.
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
            let key = idempotency::key(idempotency_key.0.clone(), scope, &[])?;
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
            idempotency::finish(&self.0.db, key.as_ref(), &created).await;
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
    #[oai(
        path = "/applications/:token/chats/:number",
        method = "get",
        operation_id = "get_chat"
    )]
    async fn get(
        &self,
        /// The application's token.
        token: Path<Uuid>,
        /// The chat's number.
        #[oai(validator(minimum(value = "1")))]
        number: Path<i64>,
    ) -> ChatResponse {
        match self.0.db.chat(token.0, number.0).await {
            Ok(chat) => ChatResponse::Ok(Json(chat)),
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
        token: Path<Uuid>,
        /// The chat's number.
        #[oai(validator(minimum(value = "1")))]
        number: Path<i64>,
    ) -> ChatResponse {
        match self.0.db.delete_chat(token.0, number.0).await {
            Ok(()) => {
                self.0.purge_wake.notify_one();
                self.0.bell.publish(ChatEvent::ChatGone {
                    token: token.0,
                    chat: number.0,
                });
                ChatResponse::Deleted
            }
            Err(e) => ApiError::from(e).into(),
        }
    }
}
