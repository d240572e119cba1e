//! Searching a chat's messages: the query parsed, the page's depth bounded, the search run
//! under the caps on searches running at once.

use uuid::Uuid;

use super::{error::SearchFailure, Ops};
use crate::{
    model::Cursor,
    search::{self, SearchOrder, SearchPage, SearchRequest},
};

impl Ops {
    /// The page of `limit` hits for `query` in the chat (among `sender`'s messages, if given),
    /// between the cursor's numbers, in `order`.
    pub async fn search(
        &self,
        token: Uuid,
        chat: i64,
        (query, sender): (&str, Option<&str>),
        order: SearchOrder,
        cursor: Cursor,
        limit: i64,
    ) -> Result<SearchPage, SearchFailure> {
        let terms = search::parse(query).map_err(|e| SearchFailure::BadQuery(e.into()))?;
        if cursor.offset >= search::MAX_OFFSET {
            return Err(SearchFailure::TooDeep);
        }
        let request = SearchRequest {
            terms: &terms,
            sender,
            order,
            after: cursor.after,
            before: cursor.before,
            offset: cursor.offset,
            limit,
        };
        Ok(search::search(&self.db, &self.searches, token, chat, request).await?)
    }
}
