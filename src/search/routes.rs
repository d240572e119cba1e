//! The search's route, fixed by the query's shape. The planner's choice between "walk the chat
//! newest-first and filter" and "use the text indexes, then sort" goes badly wrong for rare
//! terms in big chats, so the route is chosen here instead:
//!
//! 1. Walk the `window` message numbers just below the cursor and filter (stops early once enough
//!    hits are found: common terms cost a few rows).
//! 2. If that window did not yield enough, walk on when the hits' density (and, for a phrase of
//!    short words, how common its words are together) says a walk will be cheaper than the index.
//! 3. Otherwise the query is rare there: collect all older hits through the search keys (the
//!    terms' words and a phrase's pairs, found in the dictionary: `expand`) and take the newest.
//!    Few hits by construction, so the sort is cheap. When the keys cannot narrow anything (every
//!    term matches too many words of the dictionary, or has nothing to look up), the rest of the
//!    chat is walked instead, stopping at the last hit wanted (`long_walk`), within the budget.
//!
//! The routes find message numbers only. The figures they go by are in `tuning`; the statements
//! they send are built by `plan`.

use tokio_postgres::Transaction;

use super::budget::Budget;
use super::expand::key_conditions;
use super::parse::Term;
use super::plan::{self, paired, Params};
use super::tuning::{
    INDEX_COST_IN_ROWS, MAX_DENSITY_WINDOW, MAX_SECOND_WINDOW, MAX_WINDOW, MIN_WINDOW, WINDOW_PER_HIT,
};
use crate::store::DbResult;

/// One search in its snapshot: what every step of its route reads.
pub(super) struct Search<'a, 't> {
    /// The search's repeatable-read transaction.
    pub tx: &'a Transaction<'t>,
    /// Its time budget.
    pub budget: &'a Budget,
    /// The application's internal id and the chat's number.
    pub chat: (i64, i64),
    /// The parsed query.
    pub terms: &'a [Term],
    /// Only the messages of this sender.
    pub sender: Option<&'a str>,
    /// Only hits numbered above `after` and below `before`.
    pub after: i64,
    /// See `after`.
    pub before: i64,
}

/// The hits a route found: the newest `need` message numbers, newest first.
pub(super) struct Found {
    /// The message numbers.
    pub hits: Vec<i64>,
    /// The route that answered, for `chat_search_route_total`.
    pub route: &'static str,
}

/// The `need` newest hits of the search, in a chat whose last message number is `last`: queued
/// messages and the first walk, then a second walk or the index path if those found too few.
pub(super) async fn find(s: &Search<'_, '_>, last: i64, need: i64) -> DbResult<Found> {
    let (app, chat) = s.chat;
    let params = Params::new(s.terms, s.sender);
    let walk_sql = plan::walk(s.terms, s.sender.is_some());
    // The walk covers the `window` numbers just below the cursor.
    let upper = s.before.min(last.saturating_add(1));
    let window = (need * WINDOW_PER_HIT).clamp(MIN_WINDOW, MAX_WINDOW);
    let mut lower = upper.saturating_sub(window).max(s.after.saturating_add(1)).max(1);
    let queued_sql = plan::queued(s.terms, s.sender.is_some());
    let queued_params = params.with(&[&app, &chat, &s.before, &s.after, &need]);
    let walk_params = params.with(&[&app, &chat, &lower, &upper, &need]);
    // Pipelined: one round trip for both.
    // `biased`: polled in order, so the first failure is the error returned (after a failed
    // statement, the later ones of the transaction fail with 25P02, which names no cause).
    let (queued, walked) = tokio::try_join!(
        biased;
        s.tx.query_typed(&queued_sql, &queued_params),
        s.tx.query_typed(&walk_sql, &walk_params)
    )?;
    let mut hits: Vec<i64> = queued.iter().chain(walked.iter()).map(|r| r.get(0)).collect();
    let mut found = walked.len() as i64;
    let mut route = "walk";

    let floor = s.after.saturating_add(1).max(1);
    if found < need && lower > floor {
        if let Some(extra) = walk_on(s, (lower, upper), found, need, floor).await? {
            let upper2 = lower;
            let extra = extra.clamp(MIN_WINDOW, MAX_SECOND_WINDOW);
            lower = upper2.saturating_sub(extra).max(floor);
            let rest = need - found;
            let params = params.with(&[&app, &chat, &lower, &upper2, &rest]);
            let more = s.budget.run(s.tx, "", s.tx.query_typed(&walk_sql, &params)).await?;
            route = "second_walk";
            found += more.len() as i64;
            hits.extend(more.iter().map(|r| r.get::<_, i64>(0)));
        }
    }
    if found < need && lower > s.after.saturating_add(1) {
        let rest = need - found;
        let keys = key_conditions(s.tx, s.budget, app, s.terms).await?;
        let more = if keys.is_empty() {
            // Nothing the keys can narrow (every term common in the dictionary, or without a
            // run to look up): the rest of the chat is walked, newest first, stopping at the
            // last hit wanted, within the budget (the index path would read all of it).
            let params = params.with(&[&app, &chat, &floor, &lower, &rest]);
            route = "long_walk";
            s.budget.run(s.tx, "", s.tx.query_typed(&walk_sql, &params)).await?
        } else {
            let indexed_sql = plan::indexed(s.terms, s.sender.is_some(), &keys);
            let params = params.with_keys(&[&app, &chat, &lower, &s.after, &rest], &keys);
            route = "index";
            s.budget
                .run(
                    s.tx,
                    "SET LOCAL enable_sort = on;",
                    s.tx.query_typed(&indexed_sql, &params),
                )
                .await?
        };
        hits.extend(more.iter().map(|r| r.get::<_, i64>(0)));
    }
    hits.sort_unstable_by(|a, b| b.cmp(a));
    hits.dedup();
    hits.truncate(need as usize);
    Ok(Found { hits, route })
}

/// After a first walk of `lower..upper` found `found` of the `need` hits: how many rows a second
/// walk should read (before its bounds), or `None` to take the index path, which reads every
/// candidate row of the chat below the window (down to `floor`) and sorts them.
async fn walk_on(
    s: &Search<'_, '_>,
    (lower, upper): (i64, i64),
    found: i64,
    need: i64,
    floor: i64,
) -> DbResult<Option<i64>> {
    let walked = upper - lower;
    let per_hit = walked / found.max(1);
    let expected = (need - found).saturating_mul(per_hit);
    let rows_below_per_walked = (lower - floor) as f64 / walked.max(1) as f64;
    if s.terms.iter().any(|t| matches!(t, Term::Phrase(p) if paired(p))) {
        // A paired phrase: its pair keys yield about as many candidates as there are hits, a
        // few microseconds each; walk on only while that is dearer.
        let index_cost = ((found + 1) as f64 * rows_below_per_walked * (INDEX_COST_IN_ROWS * 3 / 2) as f64) as i64;
        return Ok((expected < index_cost).then_some((expected * 2).min(index_cost)));
    }
    if found >= 3 && expected * 3 / 2 <= MAX_DENSITY_WINDOW {
        // Enough hits to go by, and the rest likely within reach: walk on (infix fragment on a
        // 1M-message chat: p95 60 -> 15 ms). Fewer than 3 hits say too little about the density
        // to bet on.
        return Ok(Some(expected * 2));
    }
    let (true, Some(words)) = (found > 0, phrase_words(s.terms)) else {
        return Ok(None);
    };
    // A phrase of short words (no pairs to index) can be rare while its words are not: the index
    // path then reads every row holding all of them. Count those rows in the first window and
    // walk on while a walk is likely cheaper. Without a single hit, the walk would be a guess:
    // take the index.
    let candidates = s
        .budget
        .run(s.tx, "", count_matching(s, (lower, upper), &words))
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
    Ok((expected < index_cost).then_some((expected * 2).min(index_cost)))
}

/// For a query with a phrase its pair keys cannot serve (its adjacent words are short), its
/// terms with every phrase split into its words; `None` otherwise. The rows holding all those
/// words are what the word keys yield as the phrase's candidates, so their count predicts
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
async fn count_matching(s: &Search<'_, '_>, (lower, upper): (i64, i64), terms: &[Term]) -> DbResult<i64> {
    let (app, chat) = s.chat;
    let sql = plan::count(terms, s.sender.is_some());
    let params = Params::new(terms, s.sender);
    let params = params.with(&[&app, &chat, &lower, &upper]);
    Ok(s.tx.query_typed(&sql, &params).await?[0].get(0))
}
