//! The database side of one search: its snapshot, the chat it runs in, the route (`routes`),
//! ranking, and the page's bodies.
//!
//! Queued messages are searched too, so a message is found from its 201 on. Everything runs in
//! one repeatable-read snapshot, so a message moving from the queue to the table meanwhile is
//! seen exactly once. Search statements are sent unnamed (`query_typed`), so each is planned
//! for its actual terms. The routes find message numbers only; the bodies of the page's hits are
//! read last. A search has a time budget in the database for all its statements together
//! (`SEARCH_STATEMENT_TIMEOUT_MS`).

use futures::TryStreamExt;
use tokio_postgres::{types::ToSql, IsolationLevel, Statement, Transaction};
use uuid::Uuid;

use super::budget::Budget;
use super::parse::Term;
use super::routes::{self, Found, Search};
use crate::{
    model::Message,
    store::{messages::returned, Db, DbError, DbResult, Missing},
};

/// Which hits a search returns.
pub struct Wanted<'a> {
    /// How many of the newest hits below the cursor to find: the page's last hit and one more
    /// (to tell whether more follow), or the candidates to rank.
    pub need: i64,
    /// Hits to skip (in result order).
    pub offset: i64,
    /// Most hits to return.
    pub limit: i64,
    /// Scores a hit's body; hits are then returned best first (ties newest first). `None`:
    /// newest first.
    pub rank: Option<&'a (dyn Fn(&str) -> u32 + Sync)>,
}

/// The `wanted` hits among the messages of the chat numbered between `after` and `before` that
/// match every term, queued ones included; and whether more hits follow them.
///
/// Memory is bounded by `wanted`, not by the chat: the search statements return message numbers
/// only, bodies are read for the returned page alone, and ranking reads the candidates' bodies
/// as a stream, one row at a time, keeping only their scores.
pub async fn fetch(
    db: &Db,
    token: Uuid,
    chat: i64,
    terms: &[Term],
    sender: Option<&str>,
    (after, before): (i64, i64),
    wanted: Wanted<'_>,
) -> DbResult<(Vec<Message>, bool)> {
    let budget = Budget::new(db.search_timeout_ms());
    let app = db.app(token).await?;
    let mut client = db.client().await?;
    let tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    let last = match scope(&tx, &budget, app, chat).await {
        Err(DbError::NotFound(Missing::Application)) => return Err(db.app_gone(token)),
        scoped => scoped?,
    };
    let search = Search {
        tx: &tx,
        budget: &budget,
        chat: (app, chat),
        terms,
        sender,
        after,
        before,
    };
    let Found { mut hits, route } = routes::find(&search, last, wanted.need).await?;
    let bodies = tx.prepare_cached(include_str!("sql/search_bodies.sql")).await?;
    if let Some(rank) = wanted.rank {
        hits = ranked(&tx, &bodies, (app, chat), hits, rank, &budget).await?;
    }
    let end = wanted.offset.saturating_add(wanted.limit).max(0) as usize;
    let has_more = hits.len() > end;
    let page: Vec<i64> = hits
        .get(wanted.offset.max(0) as usize..end.min(hits.len()))
        .unwrap_or_default()
        .to_vec();
    let mut messages = if page.is_empty() {
        Vec::new()
    } else {
        let params: [&(dyn ToSql + Sync); 3] = [&app, &chat, &page];
        let rows = budget.run(&tx, "", tx.query(&bodies, &params)).await?;
        rows.iter().map(returned).collect()
    };
    tx.commit().await?;
    crate::metrics::metrics().search_route(route);
    // In the page's order (the statement returns them in no particular order); by a map of
    // positions, not a search of the page per message: a library caller may ask for large pages.
    let at: std::collections::HashMap<i64, usize> = page.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    messages.sort_by_key(|m: &Message| at.get(&m.number).copied());
    Ok((messages, has_more))
}

/// The chat's last message number, or which of the application (`app`, its id) and the chat
/// does not exist; and the settings every statement of the search runs with.
async fn scope(tx: &deadpool_postgres::Transaction<'_>, budget: &Budget, app: i64, chat: i64) -> DbResult<i64> {
    let scope = tx.prepare_cached(include_str!("sql/search_scope.sql")).await?;
    // The service's connections plan prepared statements generically (see `Db::connect`); a
    // search is planned for its actual terms and bounds. A walk must read newest-first and stop
    // at its last hit, but the planner, not knowing it stops early, would rather sort the whole
    // window (in parallel, spilling to disk: 120 ms for an 80,000-row window against 30 ms);
    // sorting is off until the index path. Pipelined with the scope statement: no round trip of
    // its own.
    let params: [&(dyn ToSql + Sync); 2] = [&app, &chat];
    let row = budget
        .run(
            tx,
            "SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL enable_sort = off; \
             SET LOCAL max_parallel_workers_per_gather = 0;",
            tx.query_opt(&scope, &params),
        )
        .await?;
    let Some(row) = row else {
        return Err(DbError::NotFound(Missing::Application));
    };
    let Some(last) = row.get::<_, Option<i64>>(1) else {
        return Err(DbError::NotFound(Missing::Chat));
    };
    Ok(last)
}

/// `hits` ordered by `rank` of their bodies, best first (ties newest first). The bodies are read
/// as a stream and dropped once scored: the memory this takes does not grow with the bodies.
async fn ranked(
    tx: &Transaction<'_>,
    bodies: &Statement,
    (app, chat): (i64, i64),
    hits: Vec<i64>,
    rank: &(dyn Fn(&str) -> u32 + Sync),
    budget: &Budget,
) -> DbResult<Vec<i64>> {
    let params: [&(dyn ToSql + Sync); 3] = [&app, &chat, &hits];
    let rows = budget.run(tx, "", tx.query_raw(bodies, params)).await?;
    futures::pin_mut!(rows);
    let mut scored: Vec<(u32, i64)> = Vec::with_capacity(hits.len());
    while let Some(row) = rows.try_next().await? {
        scored.push((rank(row.get::<_, &str>(1)), row.get(0)));
    }
    scored.sort_unstable_by(|a, b| b.cmp(a));
    Ok(scored.into_iter().map(|(_, number)| number).collect())
}
