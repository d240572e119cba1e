//! The search half of `GET .../messages` (with `query`): the page of hits as a `MessageList`,
//! each hit with its snippet, `next_before` set for newest-first order.

use uuid::Uuid;

use super::{
    message::Message,
    schema::messages::{MessageList, SearchOrder},
    State,
};
use crate::{model::Cursor, ops::SearchFailure};

/// The page of hits for `query` in the chat (among `sender`'s messages, if given).
pub async fn search(
    state: &State,
    (token, chat): (Uuid, i64),
    query: (&str, Option<&str>),
    order: SearchOrder,
    (cursor, limit): (Cursor, i64),
) -> Result<MessageList, SearchFailure> {
    let found = state
        .ops
        .search(token, chat, query, order.into(), cursor, limit)
        .await?;
    let newest = order == SearchOrder::Newest;
    Ok(MessageList {
        next_after: None,
        next_before: found.hits.last().filter(|_| newest).map(|hit| hit.message.number),
        data: found.hits.into_iter().map(Message::from).collect(),
        limit,
        has_more: found.has_more,
    })
}
