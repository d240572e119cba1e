//! `/api/applications/{token}/chats/{number}/members/{reader}` (join, leave) and
//! `.../readers/{reader}` (record a read position). A reader is the application's own id for a
//! user, as a message's `sender`; sending a message also joins its sender (`write::intake`).
//! The inbox itself is the chat list's `order=activity` (`chats`).

use poem_openapi::{param::Path, payload::Json, OpenApi};

use super::{
    inbox_params::Reader,
    input::Invalid,
    params::{Number, Token},
    respond::settle,
    schema::readers::*,
    ApiTags, State,
};
use crate::store::readers::Marked;

/// Operations on chat members and read positions.
pub struct ReadersApi(pub State);

#[OpenApi(prefix_path = "/api", tag = "ApiTags::Chats")]
impl ReadersApi {
    /// Join a chat
    ///
    /// Makes the reader a member of the chat: the chat is in its inbox (`GET .../chats?reader=…
    /// &order=activity`) from now on, with its unread count. Idempotent: 201 when it joins, 200
    /// when it was a member already (nothing changes). Sending a message with a `sender`, or
    /// recording a read position, joins too.
    #[oai(
        path = "/applications/:token/chats/:number/members/:reader",
        method = "put",
        operation_id = "join_chat"
    )]
    async fn join(
        &self,
        /// The application's token.
        token: Path<Token>,
        /// The chat's number.
        number: Path<Number>,
        /// The reader: the application's id for the user (1–200 characters).
        reader: Path<Reader>,
    ) -> JoinChatResponse {
        let joined = self.0.ops.join_chat(token.get(), number.get(), reader.get()).await;
        joined.map_or_else(Into::into, |m| {
            let member = Json(Member {
                reader: reader.0 .0.clone(),
                last_read: m.last_read,
                joined_at: m.joined_at,
            });
            if m.joined_now {
                JoinChatResponse::Joined(member)
            } else {
                JoinChatResponse::Already(member)
            }
        })
    }

    /// Leave a chat
    ///
    /// The reader stops being a member: the chat leaves its inbox and its read position is
    /// forgotten (joining again starts from 0). 204 also when it was not a member. A later
    /// message it sends makes it a member again.
    #[oai(
        path = "/applications/:token/chats/:number/members/:reader",
        method = "delete",
        operation_id = "leave_chat"
    )]
    async fn leave(
        &self,
        /// The application's token.
        token: Path<Token>,
        /// The chat's number.
        number: Path<Number>,
        /// The reader.
        reader: Path<Reader>,
    ) -> LeaveChatResponse {
        let left = self.0.ops.leave_chat(token.get(), number.get(), reader.get()).await;
        left.map_or_else(Into::into, |()| LeaveChatResponse::Left)
    }

    /// Record a read position
    ///
    /// The reader has read the chat up to message `last_read` (joining the chat if it was not a
    /// member). Positions only move forward: a lower number than the one recorded is ignored
    /// (the answer shows the recorded one). A number above the chat's last message number is
    /// refused (422); 0 means nothing read.
    #[oai(
        path = "/applications/:token/chats/:number/readers/:reader",
        method = "put",
        operation_id = "mark_read"
    )]
    async fn mark(
        &self,
        /// The application's token.
        token: Path<Token>,
        /// The chat's number.
        number: Path<Number>,
        /// The reader.
        reader: Path<Reader>,
        body: Json<ReadBody>,
    ) -> MarkReadResponse {
        let result = async {
            let last_read = body.last_read.get()?;
            let ops = &self.0.ops;
            match ops
                .mark_read(token.get(), number.get(), reader.get(), last_read)
                .await?
            {
                Marked::Stored(last_read) => Ok(MarkReadResponse::Ok(Json(ReadPosition {
                    reader: reader.0 .0.clone(),
                    last_read,
                }))),
                Marked::BeyondLast(last) => Err(Invalid {
                    field: "last_read",
                    detail: format!(
                        "`last_read` is {last_read}: it must not be above the chat's last message number, {last}"
                    ),
                }
                .into()),
            }
        };
        settle(result.await)
    }
}
