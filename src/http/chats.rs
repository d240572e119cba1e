//! `/api/applications/{token}/chats`: create, list (by number, or a reader's inbox), read (also
//! as a reader sees it), delete.

use poem_openapi::{
    param::{Header, Path, Query},
    payload::Json,
    OpenApi,
};

use super::{
    idempotency::{self, KeyHeader},
    inbox_params::{ChatOrder, Reader, Resume},
    input::BadRequest,
    params::{self, After, Before, Limit, Number, Page, Token},
    respond::settle,
    schema::chats::*,
    ApiTags, State,
};
use crate::model::InboxCursor;

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
    ///
    /// With `reader` and `order=activity`: that reader's inbox, the chats it is a member of by
    /// latest activity first (the last message's creation, or the chat's for a chat without
    /// any), each with `last_message`, `last_read` and `unread_count`, paged with `cursor` (pass
    /// `next_cursor`). Paging is stable while chats are created and messages sent: a chat whose
    /// activity does not change meanwhile is listed exactly once; one that gets a new message
    /// moves to the top (the first page shows it) and is not listed again on later pages.
    #[oai(path = "/applications/:token/chats", method = "get", operation_id = "list_chats")]
    #[allow(clippy::too_many_arguments)]
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
        /// With `order=activity`: list this reader's inbox (1–200 characters).
        reader: Query<Option<Reader>>,
        /// `number` (the default) or `activity` (a reader's inbox: needs `reader`).
        order: Query<Option<ChatOrder>>,
        /// Where an inbox page starts: the previous page's `next_cursor`.
        cursor: Query<Option<Resume>>,
    ) -> ListChatsResponse {
        let numbered = [
            ("page", page.0.is_some()),
            ("after", after.0.is_some()),
            ("before", before.0.is_some()),
        ];
        let result = async {
            let inbox = inbox_request(order.0, reader.0, cursor.0, &numbered)?;
            let Some((reader, from)) = inbox else {
                let (cursor, limit) = params::cursor(page.0, after.0, before.0, limit.0);
                let page = self.0.ops.chats(token.get(), cursor, limit).await?;
                return Ok(ListChatsResponse::Ok(Json(ChatList::from((page, limit)))));
            };
            let limit = limit.0.map_or(params::DEFAULT_LIMIT, |n| n.0);
            let inbox = self.0.ops.inbox(token.get(), reader.get(), from, limit).await?;
            Ok(ListChatsResponse::Ok(Json(ChatList::inbox(inbox, limit))))
        };
        settle(result.await)
    }

    /// Get a chat
    ///
    /// The chat's number, its number of messages (which follows creations and deletes within
    /// about a second) and its timestamps. With `reader`: also that reader's `last_read`,
    /// `unread_count` and the chat's `last_message` (a reader that is not a member has read
    /// nothing: every message of others is unread).
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
        /// Show the chat as this reader sees it (1–200 characters).
        reader: Query<Option<Reader>>,
    ) -> GetChatResponse {
        let chat = match &reader.0 {
            Some(reader) => self.0.ops.chat_for(token.get(), number.get(), reader.get()).await,
            None => self.0.ops.chat(token.get(), number.get()).await,
        };
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

/// The inbox a list request asks for (its reader and where the page starts), None for the list
/// by number, or 400 `invalid_parameter` when the parameters mix the two; `numbered` are the
/// number-paging parameters and whether each was sent.
fn inbox_request(
    order: Option<ChatOrder>,
    reader: Option<Reader>,
    cursor: Option<Resume>,
    numbered: &[(&'static str, bool)],
) -> Result<Option<(Reader, InboxCursor)>, BadRequest> {
    let refuse = |field, detail: &str| {
        Err(BadRequest {
            field,
            detail: detail.to_owned(),
        })
    };
    match (order.unwrap_or(ChatOrder::Number), reader) {
        (ChatOrder::Activity, Some(reader)) => match numbered.iter().find(|(_, sent)| *sent) {
            Some(&(field, _)) => refuse(
                field,
                &format!("`{field}` pages chats by number; an inbox (`order=activity`) is paged with `cursor`"),
            ),
            None => Ok(Some((reader, cursor.map_or_else(InboxCursor::first, |c| c.0)))),
        },
        (ChatOrder::Activity, None) => refuse(
            "order",
            "`order=activity` lists a reader's inbox: it needs `reader`",
        ),
        (ChatOrder::Number, Some(_)) => refuse(
            "reader",
            "`reader` lists that reader's inbox: it needs `order=activity`",
        ),
        (ChatOrder::Number, None) if cursor.is_some() => refuse(
            "cursor",
            "`cursor` pages an inbox (`reader` with `order=activity`); chats by number are paged with `page`, `after` and `before`",
        ),
        (ChatOrder::Number, None) => Ok(None),
    }
}
