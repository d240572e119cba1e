//! `/api/applications/{token}/chats/{number}/messages`: create, list or search, read, edit,
//! delete.

use poem_openapi::{
    param::{Header, Path, Query},
    payload::Json,
    OpenApi,
};

use super::{
    idempotency::{self, KeyHeader},
    params::{self, After, Before, Limit, Number, Page, ShortText, Token, MAX_QUERY_CHARS, MAX_SENDER_CHARS},
    respond::settle,
    schema::messages::*,
    search::search,
    ApiTags, State,
};

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
        token: Path<Token>,
        /// The chat's number.
        chat: Path<Number>,
        body: Json<MessageBody>,
        /// Makes retries safe: a retry with the same key returns the original message and
        /// creates nothing.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<KeyHeader<false>>>,
    ) -> CreateMessageResponse {
        let result = async {
            let text = body.body.get("body")?;
            let sender = body.sender.get("sender")?;
            let scope = format!("POST /api/applications/{}/chats/{}/messages", token.get(), chat.get());
            // The sender is part of what a key's request was only when there is one: a key used
            // before senders existed still replays.
            let request: Vec<&str> = std::iter::once(text).chain(sender).collect();
            let key = idempotency::key(idempotency_key.0.as_ref(), scope, Some(token.get()), &request);
            let sender = sender.map(str::to_owned);
            let created = self
                .0
                .ops
                .create_message(token.get(), chat.get(), text.to_owned(), sender, key)
                .await?;
            let (number, replayed) = (created.value.number, created.replayed.then_some(true));
            let location = format!(
                "/api/applications/{}/chats/{}/messages/{number}",
                token.get(),
                chat.get()
            );
            Ok(CreateMessageResponse::Created(
                Json(created.value.into()),
                location,
                replayed,
            ))
        };
        settle(result.await)
    }

    /// List or search messages
    ///
    /// Without `query`: messages by ascending number, paged with `page` and the keyset cursors
    /// `after` / `before` (fast on deep pages): the numbers between them, or, with `before`
    /// alone, the ones just below it.
    ///
    /// With `query`: the messages matching every whitespace-separated term, in any order, case-
    /// and accent-insensitively ("cafe" finds "Café"). A term of 3 or more characters matches
    /// anywhere in the body ("ello" finds "Hello"); a shorter one matches where a word starts, at
    /// the start of the body or after any character that is not a letter or digit (inside URLs
    /// and addresses too: "ex" finds "www.example.org"), as typed; `"double quoted words"` match as a phrase. Nothing else in the query is syntax. Newest
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
        token: Path<Token>,
        /// The chat's number.
        chat: Path<Number>,
        /// Search text: words (all must match) and `"quoted phrases"`. Blank: no search, the
        /// messages are listed. Must be UTF-8 once percent-decoded (else 400 `invalid_parameter`).
        query: Query<Option<ShortText<MAX_QUERY_CHARS>>>,
        /// Order of search results (only with `query`; ignored otherwise).
        order: Query<Option<Order>>,
        /// Page number, from 1. With `query`, a page must start within the first 1,000 hits
        /// (`(page - 1) × limit` below 1,000; else 400 `invalid_parameter`): deeper pages of a
        /// newest-first search are reached with `before`.
        page: Query<Option<Page>>,
        /// Page size, 1–100 (default 10).
        limit: Query<Option<Limit>>,
        /// Only messages numbered above this.
        after: Query<Option<After>>,
        /// Only messages numbered below this (the page just before it).
        before: Query<Option<Before>>,
        /// Only the messages of this sender (lists and searches), as given when they were
        /// created: 1–200 characters.
        sender: Query<Option<ShortText<MAX_SENDER_CHARS>>>,
    ) -> ListMessagesResponse {
        let (cursor, limit) = params::cursor(page.0, after.0, before.0, limit.0);
        let query = query.0.as_ref().map(|q| q.0.as_str());
        let sender = sender.0.as_ref().map(|s| s.0.as_str());
        let Some(query) = query.filter(|q| !q.trim().is_empty()) else {
            let page = self
                .0
                .ops
                .messages(token.get(), chat.get(), cursor, limit, sender)
                .await;
            return page.map_or_else(Into::into, |page| {
                ListMessagesResponse::Ok(Json(MessageList::from((page, limit))))
            });
        };
        let order = order.0.map_or(SearchOrder::Newest, |o| o.0);
        let found = search(
            &self.0,
            (token.get(), chat.get()),
            (query, sender),
            order,
            (cursor, limit),
        )
        .await;
        found.map_or_else(Into::into, |list| ListMessagesResponse::Ok(Json(list)))
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
        token: Path<Token>,
        /// The chat's number.
        chat: Path<Number>,
        /// The message's number.
        number: Path<Number>,
    ) -> GetMessageResponse {
        let message = self.0.ops.message(token.get(), chat.get(), number.get()).await;
        message.map_or_else(Into::into, |message| GetMessageResponse::Ok(Json(message.into())))
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
        token: Path<Token>,
        /// The chat's number.
        chat: Path<Number>,
        /// The message's number.
        number: Path<Number>,
        body: Json<MessageBody>,
    ) -> UpdateMessageResponse {
        let result = async {
            let text = body.body.get("body")?;
            let sender = body.sender.get("sender")?;
            let message = self
                .0
                .ops
                .edit_message(token.get(), chat.get(), number.get(), (text, sender))
                .await?;
            Ok(UpdateMessageResponse::Ok(Json(message.into())))
        };
        settle(result.await)
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
        token: Path<Token>,
        /// The chat's number.
        chat: Path<Number>,
        /// The message's number.
        number: Path<Number>,
    ) -> DeleteMessageResponse {
        let deleted = self.0.ops.delete_message(token.get(), chat.get(), number.get()).await;
        deleted.map_or_else(Into::into, |()| DeleteMessageResponse::Deleted)
    }
}
