//! Message search, routed by shape. The planner's choice between "walk the chat newest-first and
//! filter" and "use the text indexes, then sort" goes badly wrong for rare terms in big chats, so
//! the route is fixed here instead:
//!
//! 1. Walk the `window` message numbers just below the cursor and filter (stops early once enough
//!    hits are found: common terms cost a few rows).
//! 2. If that window did not yield enough, walk on when the hits' density (and, for a query of
//!    several words, how common its rarest word is) says a walk will be cheaper than the index.
//! 3. Otherwise the query is rare there: collect all older hits through the GIN indexes (trigram
//!    for substrings and phrases, full text for word prefixes, both keyed by chat) and take the
//!    newest. Few hits by construction, so the sort is cheap.
//!
//! Queued messages are searched too, so a message is found from its 201 on. Everything runs in
//! one repeatable-read snapshot, so a message moving from the queue to the table meanwhile is
//! seen exactly once. Search statements are sent unnamed (`query_typed`), so each is planned
//! for its actual terms.
//!
//! The routes find message numbers only; the bodies of the page's hits are read last. A search
//! has a time budget in the database for all its statements together (`SEARCH_STATEMENT_TIMEOUT_MS`).

use std::time::{Duration, Instant};

use futures::TryStreamExt;
use tokio_postgres::{
    types::{ToSql, Type},
    IsolationLevel,
};
use uuid::Uuid;

use super::Term;
use crate::{
    model::Message,
    store::{messages::returned, Db, DbError, DbResult, Missing},
};

/// Rows the first walk may read per wanted hit, and its bounds.
const WINDOW_PER_HIT: i64 = 200;
const MIN_WINDOW: i64 = 4_000;
const MAX_WINDOW: i64 = 20_000;
/// The most rows a second walk may read; and the most it may be expected to need when the first
/// walk's hits are all it goes by (it may read up to a third more, stopping at its last hit).
const MAX_SECOND_WINDOW: i64 = 120_000;
const MAX_DENSITY_WINDOW: i64 = 40_000;
/// Rows a walk reads in the time the index path spends on one candidate row (measured on a
/// 1M-message chat with phrases of two common words: ~0.75 µs per walked row, 6–7 µs per
/// candidate on the index path, bitmap included).
const INDEX_COST_IN_ROWS: i64 = 8;

/// The texts the conditions' parameters carry, in order: each term's text.
fn term_texts(terms: &[Term]) -> Vec<&str> {
    terms.iter().map(Term::text).collect()
}

/// SQL conditions that hold when a row matches every term. Parameters `$first` onwards carry
/// `term_texts(terms)`, in order. A phrase is a substring like any 3+ character term: the
/// searchable text has every run of whitespace folded to one space, and so has the pattern.
fn conditions(terms: &[Term], text: &str, vector: &str, first: usize) -> String {
    terms
        .iter()
        .zip(first..)
        .map(|(term, p)| match term {
            Term::Infix(_) | Term::Phrase(_) => format!("{text} LIKE chat_infix_pattern(${p})"),
            Term::Prefix(_) => format!("{vector} @@ chat_prefix_query(${p})"),
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// True when the phrase has two adjacent words of 3+ characters (folded): the pairs index
/// (`chat_pairs`, migration V6) can then narrow the phrase down to messages with those pairs.
fn paired(phrase: &str) -> bool {
    let folded = super::fold_str(phrase);
    let long: Vec<bool> = folded.split(' ').map(|w| w.chars().count() >= 3).collect();
    long.windows(2).any(|w| w[0] && w[1])
}

/// The conditions of the index path: as `conditions`, except that a paired phrase is found
/// through the pairs index (its `LIKE` kept off the trigram index, which would only add a slow
/// bitmap of the phrase's common words to intersect with).
fn index_conditions(terms: &[Term], first: usize) -> String {
    terms
        .iter()
        .zip(first..)
        .map(|(term, p)| match term {
            Term::Phrase(phrase) if paired(phrase) => format!(
                "chat_pairs(search_text) @> chat_pairs(chat_search_text(${p})) \
                 AND (search_text || '') LIKE chat_infix_pattern(${p})"
            ),
            other => conditions(std::slice::from_ref(other), "search_text", "search_vector", p),
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// For a query with a phrase the pairs index cannot serve (its adjacent words are short), its
/// terms with every phrase split into its words; `None` otherwise. The rows holding all those
/// words are what the trigram index yields as the phrase's candidates, so their count predicts
/// the index path's cost.
fn phrase_words(terms: &[Term]) -> Option<Vec<Term>> {
    terms
        .iter()
        .any(|t| matches!(t, Term::Phrase(p) if !paired(p)))
        .then(|| {
            terms
                .iter()
                .flat_map(|term| match term {
                    Term::Phrase(p) => p.split_whitespace().map(|w| Term::Infix(w.to_owned())).collect(),
                    other => vec![other.clone()],
                })
                .collect()
        })
}

/// In the chat's messages numbered `lower..upper`, how many match every one of `terms`.
async fn count_matching(
    tx: &tokio_postgres::Transaction<'_>,
    (app, chat): (i64, i64),
    (lower, upper): (i64, i64),
    terms: &[Term],
) -> DbResult<i64> {
    let sql = format!(
        "SELECT count(*) FROM ( \
           SELECT search_text, search_vector FROM messages \
           WHERE application_id = $1 AND chat_number = $2 AND number >= $3 AND number < $4 OFFSET 0) m \
         WHERE {}",
        conditions(terms, "search_text", "search_vector", 5)
    );
    let texts = term_texts(terms);
    let params = with_terms(
        &text_params(&texts),
        &[
            (&app, Type::INT8),
            (&chat, Type::INT8),
            (&lower, Type::INT8),
            (&upper, Type::INT8),
        ],
    );
    Ok(tx.query_typed(&sql, &params).await?[0].get(0))
}

/// The terms' texts as statement parameters.
fn text_params<'p>(texts: &'p [&'p str]) -> Vec<Param<'p>> {
    texts.iter().map(|t| (t as &(dyn ToSql + Sync), Type::TEXT)).collect()
}

/// `params` followed by the terms' texts.
fn with_terms<'p>(texts: &[Param<'p>], params: &[Param<'p>]) -> Vec<Param<'p>> {
    params.iter().chain(texts).cloned().collect()
}

/// A statement parameter with its type (search statements are sent unnamed, typed up front).
type Param<'p> = (&'p (dyn ToSql + Sync), Type);

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

/// `SET LOCAL statement_timeout` to what is left of a search's time budget. Sent before each of
/// its statements (pipelined with it: no round trip of its own), so that a search's statements
/// together take at most the budget, however many it runs; PostgreSQL cancels the one that
/// runs over (`QUERY_CANCELED`).
fn budget(deadline: Instant) -> String {
    let left = deadline.saturating_duration_since(Instant::now()).as_millis().max(1);
    format!("SET LOCAL statement_timeout = {left}")
}

/// Runs `settings` (`SET LOCAL`s, each ending in `;`) and the budget's timeout, then
/// `statement`, pipelined: the settings hold for the statement, at no round trip of their own.
async fn budgeted<T, E: From<tokio_postgres::Error>>(
    tx: &tokio_postgres::Transaction<'_>,
    deadline: Instant,
    settings: &str,
    statement: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let set = format!("{settings} {}", budget(deadline));
    let (_, out) = tokio::try_join!(async { tx.batch_execute(&set).await.map_err(E::from) }, statement)?;
    Ok(out)
}

impl Db {
    /// The `wanted` hits among the messages of the chat numbered between `after` and `before`
    /// that match every term, queued ones included; and whether more hits follow them.
    ///
    /// Memory is bounded by `wanted`, not by the chat: the search statements return message
    /// numbers only, bodies are read for the returned page alone, and ranking reads the
    /// candidates' bodies as a stream, one row at a time, keeping only their scores.
    pub async fn search(
        &self,
        token: Uuid,
        chat: i64,
        terms: &[Term],
        (after, before): (i64, i64),
        wanted: Wanted<'_>,
    ) -> DbResult<(Vec<Message>, bool)> {
        let deadline = Instant::now() + Duration::from_millis(self.search_timeout_ms());
        let need = wanted.need;
        let mut client = self.client().await?;
        let tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let scope = tx.prepare_cached(include_str!("sql/search_scope.sql")).await?;
        // The service's connections plan prepared statements generically (see `Db::connect`);
        // a search is planned for its actual terms and bounds. A walk must read newest-first
        // and stop at its last hit, but the planner, not knowing it stops early, would rather
        // sort the whole window (in parallel, spilling to disk: 120 ms for an 80,000-row
        // window against 30 ms); sorting is off until the index path. Pipelined with the scope
        // statement: no round trip of its own.
        let scope_params: [&(dyn ToSql + Sync); 2] = [&token, &chat];
        let scope_row = budgeted(
            &tx,
            deadline,
            "SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL enable_sort = off; \
             SET LOCAL max_parallel_workers_per_gather = 0;",
            tx.query_opt(&scope, &scope_params),
        )
        .await?;
        let Some(row) = scope_row else {
            return Err(DbError::NotFound(Missing::Application));
        };
        let app: i64 = row.get(0);
        let Some(last) = row.get::<_, Option<i64>>(1) else {
            return Err(DbError::NotFound(Missing::Chat));
        };
        // The walk covers the `window` numbers just below the cursor.
        let upper = before.min(last.saturating_add(1));
        let window = (need * WINDOW_PER_HIT).clamp(MIN_WINDOW, MAX_WINDOW);
        let lower = upper.saturating_sub(window).max(after.saturating_add(1)).max(1);
        let term_texts = term_texts(terms);
        let texts = text_params(&term_texts);

        let queued_sql = format!(
            "SELECT message_number FROM jobs \
             WHERE application_id = $1 AND chat_number = $2 AND message_number < $3 AND message_number > $4 \
             AND {} ORDER BY message_number DESC LIMIT $5",
            conditions(
                terms,
                "chat_search_text(body)",
                "to_tsvector('public.chat_simple'::regconfig, body)",
                6
            )
        );
        // A walk reads the chat newest-first from the top of its range and stops at the `$5`th
        // hit. `OFFSET 0` keeps the conditions out of the scan, so the planner cannot turn the
        // walk into an index search.
        let walk_sql = format!(
            "SELECT number FROM ( \
               SELECT number, search_text, search_vector FROM messages \
               WHERE application_id = $1 AND chat_number = $2 AND number >= $3 AND number < $4 \
               ORDER BY number DESC OFFSET 0) m \
             WHERE {} LIMIT $5",
            conditions(terms, "search_text", "search_vector", 6)
        );
        let queued_params = with_terms(
            &texts,
            &[
                (&app, Type::INT8),
                (&chat, Type::INT8),
                (&before, Type::INT8),
                (&after, Type::INT8),
                (&need, Type::INT8),
            ],
        );
        let walk_params = with_terms(
            &texts,
            &[
                (&app, Type::INT8),
                (&chat, Type::INT8),
                (&lower, Type::INT8),
                (&upper, Type::INT8),
                (&need, Type::INT8),
            ],
        );
        // Pipelined: one round trip for both.
        let (queued, walked) = tokio::try_join!(
            tx.query_typed(&queued_sql, &queued_params),
            tx.query_typed(&walk_sql, &walk_params)
        )?;
        let mut hits: Vec<i64> = queued.iter().chain(walked.iter()).map(|r| r.get(0)).collect();
        let mut found = walked.len() as i64;
        let mut lower = lower;
        let mut route = "walk";

        // Too few hits in the first window. Walk on when that is likely cheaper than the index
        // path, which reads every candidate row of the chat below the window and sorts them.
        let floor = after.saturating_add(1).max(1);
        if found < need && lower > floor {
            let walked = upper - lower;
            let per_hit = walked / found.max(1);
            let expected = (need - found).saturating_mul(per_hit);
            let below = lower - floor;
            let rows_below_per_walked = below as f64 / walked.max(1) as f64;
            let extra = if terms.iter().any(|t| matches!(t, Term::Phrase(p) if paired(p))) {
                // A paired phrase: the pairs index yields about as many candidates as there are
                // hits, a few microseconds each; walk on only while that is dearer.
                let index_cost =
                    ((found + 1) as f64 * rows_below_per_walked * (INDEX_COST_IN_ROWS * 3 / 2) as f64) as i64;
                (expected < index_cost).then_some((expected * 2).min(index_cost))
            } else if found >= 3 && expected * 3 / 2 <= MAX_DENSITY_WINDOW {
                // Enough hits to go by, and the rest likely within reach: walk on (infix
                // fragment on a 1M-message chat: p95 60 -> 15 ms). Fewer than 3 hits say too
                // little about the density to bet on.
                Some(expected * 2)
            } else if let (true, Some(words)) = (found > 0, phrase_words(terms)) {
                // A phrase of short words (no pairs to index) can be rare while its words are
                // not: the index path then reads every row holding all of them. Count those rows
                // in the first window and walk on while a walk is likely cheaper. Without a
                // single hit, the walk would be a guess: take the index.
                let candidates = budgeted(
                    &tx,
                    deadline,
                    "",
                    count_matching(&tx, (app, chat), (lower, upper), &words),
                )
                .await?;
                let index_cost = ((candidates + 1) as f64 * rows_below_per_walked * INDEX_COST_IN_ROWS as f64) as i64;
                tracing::debug!(
                    found,
                    walked,
                    candidates,
                    expected,
                    index_cost,
                    "phrase: walk on or index"
                );
                (expected < index_cost).then_some((expected * 2).min(index_cost))
            } else {
                None
            };
            if let Some(extra) = extra {
                let upper2 = lower;
                let extra = extra.clamp(MIN_WINDOW, MAX_SECOND_WINDOW);
                lower = upper2.saturating_sub(extra).max(floor);
                let rest = need - found;
                let params = with_terms(
                    &texts,
                    &[
                        (&app, Type::INT8),
                        (&chat, Type::INT8),
                        (&lower, Type::INT8),
                        (&upper2, Type::INT8),
                        (&rest, Type::INT8),
                    ],
                );
                let more = budgeted(&tx, deadline, "", tx.query_typed(&walk_sql, &params)).await?;
                route = "second_walk";
                found += more.len() as i64;
                hits.extend(more.iter().map(|r| r.get::<_, i64>(0)));
            }
        }

        if found < need && lower > after.saturating_add(1) {
            let rest = need - found;
            let indexed_sql = format!(
                "WITH hits AS MATERIALIZED ( \
                   SELECT number FROM messages WHERE application_id = $1 AND chat_number = $2 AND {}) \
                 SELECT number FROM hits WHERE number < $3 AND number > $4 ORDER BY number DESC LIMIT $5",
                index_conditions(terms, 6)
            );
            let params = with_terms(
                &texts,
                &[
                    (&app, Type::INT8),
                    (&chat, Type::INT8),
                    (&lower, Type::INT8),
                    (&after, Type::INT8),
                    (&rest, Type::INT8),
                ],
            );
            let indexed = budgeted(
                &tx,
                deadline,
                "SET LOCAL enable_sort = on;",
                tx.query_typed(&indexed_sql, &params),
            )
            .await?;
            hits.extend(indexed.iter().map(|r| r.get::<_, i64>(0)));
            route = "index";
        }
        hits.sort_unstable_by(|a, b| b.cmp(a));
        hits.dedup();
        hits.truncate(need as usize);

        let bodies = tx.prepare_cached(include_str!("sql/search_bodies.sql")).await?;
        if let Some(rank) = wanted.rank {
            hits = ranked(&tx, &bodies, (app, chat), hits, rank, deadline).await?;
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
            let rows = budgeted(&tx, deadline, "", tx.query(&bodies, &params)).await?;
            rows.iter().map(returned).collect()
        };
        tx.commit().await?;
        crate::metrics::metrics().search_route(route);
        // In the page's order (the statement returns them in no particular order).
        messages.sort_by_key(|m: &Message| page.iter().position(|n| *n == m.number));
        Ok((messages, has_more))
    }
}

/// `hits` ordered by `rank` of their bodies, best first (ties newest first). The bodies are read
/// as a stream and dropped once scored: the memory this takes does not grow with the bodies.
async fn ranked(
    tx: &tokio_postgres::Transaction<'_>,
    bodies: &tokio_postgres::Statement,
    (app, chat): (i64, i64),
    hits: Vec<i64>,
    rank: &(dyn Fn(&str) -> u32 + Sync),
    deadline: Instant,
) -> DbResult<Vec<i64>> {
    let params: [&(dyn ToSql + Sync); 3] = [&app, &chat, &hits];
    let rows = budgeted(tx, deadline, "", tx.query_raw(bodies, params)).await?;
    futures::pin_mut!(rows);
    let mut scored: Vec<(u32, i64)> = Vec::with_capacity(hits.len());
    while let Some(row) = rows.try_next().await? {
        scored.push((rank(row.get::<_, &str>(1)), row.get(0)));
    }
    scored.sort_unstable_by(|a, b| b.cmp(a));
    Ok(scored.into_iter().map(|(_, number)| number).collect())
}
