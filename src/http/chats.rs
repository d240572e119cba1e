//! `/api/applications/{token}/chats`: create, list, read, delete.

use poem_openapi::{
    param::{Header, Path, Query},
    payload::Json,
    OpenApi,
};

use super::{
    idempotency::{self, KeyHeader},
    params::{self, After, Before, Limit, Number, Page, Token},
    respond::settle,
    schema::chats::*,
    ApiTags, State,
};

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
        token: Path<Token>,
        /// Makes retries safe: a retry with the same key returns the original chat and creates
        /// nothing.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<KeyHeader<false>>>,
    ) -> CreateChatResponse {
        let result = async {
            let scope = format!("POST /api/applications/{}/chats", token.get());
            let key = idempotency::key(idempotency_key.0.as_ref(), scope, Some(token.get()), &[]);
            let created = self.0.ops.create_chat(token.get(), key).await?;
            let location = format!("/api/applications/{}/chats/{}", token.get(), created.value.number);
            let replayed = created.replayed.then_some(true);
            Ok(CreateChatResponse::Created(Json(created.value), location, replayed))
        };
        settle(result.await)
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
        token: Path<Token>,
        /// Page number, from 1.
        page: Query<Option<Page>>,
        /// Page size, 1–100 (default 10).
        limit: Query<Option<Limit>>,
        /// Only chats numbered above this.
        after: Query<Option<After>>,
        /// Only chats numbered below this (the page just before it).
        before: Query<Option<Before>>,
    ) -> ListChatsResponse {
        let (cursor, limit) = params::cursor(page.0, after.0, before.0, limit.0);
        let page = self.0.ops.chats(token.get(), cursor, limit).await;
        page.map_or_else(Into::into, |page| {
            ListChatsResponse::Ok(Json(ChatList::from((page, limit))))
        })
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
        token: Path<Token>,
        /// The chat's number.
        number: Path<Number>,
    ) -> GetChatResponse {
        let chat = self.0.ops.chat(token.get(), number.get()).await;
        chat.map_or_else(Into::into, |chat| GetChatResponse::Ok(Json(chat)))
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
        token: Path<Token>,
        /// The chat's number.
        number: Path<Number>,
    ) -> DeleteChatResponse {
        let deleted = self.0.ops.delete_chat(token.get(), number.get()).await;
        deleted.map_or_else(Into::into, |()| DeleteChatResponse::Deleted)
    }
}
