//! One search as the service answers it: under the caps, within its time budget, with the
//! page's snippets and the metrics.

use std::time::Instant;

use tokio_postgres::error::SqlState;
use uuid::Uuid;

use super::caps::Searches;
use super::error::SearchError;
use super::fetch::{fetch, Wanted};
use super::parse::Term;
use super::rank::{relevance, snippet};
use crate::store::{Db, DbError};

/// Order of search results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchOrder {
    /// Newest first (the default).
    Newest,
    /// Best matches first, among the most recent matches; ties newest first.
    Relevance,
}

/// How many of the most recent matches `SearchOrder::Relevance` ranks.
pub const RELEVANCE_CANDIDATES: i64 = 1000;
/// How deep `page` may reach: a page must start within the first this many hits (deeper pages
/// of a newest-first search are reached with the `before` cursor). A request's memory and
/// database work grow with the hits it skips; this bounds them.
pub const MAX_OFFSET: i64 = 1000;
/// Characters of body around the first match in a snippet.
pub const SNIPPET_CHARS: usize = 160;

/// A message that matched, with its snippet.
#[derive(Debug, Clone)]
pub struct Hit {
    /// The message.
    pub message: crate::model::Message,
    /// The part of the body around the first match, HTML-escaped, with every match wrapped in
    /// `<mark>…</mark>`.
    pub snippet: String,
}

/// One page of search results, with snippets.
pub struct SearchPage {
    /// The hits in result order.
    pub hits: Vec<Hit>,
    /// True when more hits follow.
    pub has_more: bool,
}

/// What to search for and which page of results to return.
pub struct SearchRequest<'a> {
    /// The parsed query.
    pub terms: &'a [Term],
    /// Only the messages of this sender (`None`: everyone's).
    pub sender: Option<&'a str>,
    /// Result order.
    pub order: SearchOrder,
    /// Only hits numbered above this.
    pub after: i64,
    /// Only hits numbered below this.
    pub before: i64,
    /// Hits to skip (below `MAX_OFFSET`).
    pub offset: i64,
    /// Most hits to return.
    pub limit: i64,
}

/// Runs a search in the chat and prepares the page, under the caps of `searches`.
pub async fn search(
    db: &Db,
    searches: &Searches,
    token: Uuid,
    chat: i64,
    request: SearchRequest<'_>,
) -> Result<SearchPage, SearchError> {
    let SearchRequest {
        terms,
        sender,
        order,
        after,
        before,
        offset,
        limit,
    } = request;
    let _permit = searches.enter(token)?;
    let started = Instant::now();
    let score = |body: &str| relevance(body, terms);
    let wanted = match order {
        SearchOrder::Newest => Wanted {
            need: offset + limit + 1,
            offset,
            limit,
            rank: None,
        },
        SearchOrder::Relevance => Wanted {
            need: RELEVANCE_CANDIDATES,
            offset,
            limit,
            rank: Some(&score),
        },
    };
    let (messages, has_more) = fetch(db, token, chat, terms, sender, (after, before), wanted)
        .await
        .map_err(|e| match e {
            DbError::Postgres(pg) if pg.code() == Some(&SqlState::QUERY_CANCELED) => SearchError::TimedOut,
            e => SearchError::Db(e),
        })?;
    let hits = messages
        .into_iter()
        .map(|message| Hit {
            snippet: snippet(&message.body, terms, SNIPPET_CHARS),
            message,
        })
        .collect();
    let label = match order {
        SearchOrder::Newest => "newest",
        SearchOrder::Relevance => "relevance",
    };
    crate::metrics::metrics().search(label, started.elapsed());
    Ok(SearchPage { hits, has_more })
}
