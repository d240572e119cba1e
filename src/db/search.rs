//! Message search, routed by shape. The planner's choice between "walk the chat newest-first and
//! filter" and "use the text indexes, then sort" goes badly wrong for rare terms in big chats, so
//! the route is fixed here instead:
//!
//! 1. Walk the `window` message numbers just below the cursor and filter (stops early once enough
//!    hits are found: common terms cost a few rows).
//! 2. If that window did not yield enough, the term is rare there: collect all older hits through
//!    the GIN indexes (trigram for substrings and phrases, full text for word prefixes, both
//!    keyed by chat) and take the newest. Few hits by construction, so the sort is cheap.
//!
//! Queued messages are searched too, so a message is found from its 201 on. Everything runs in
//! one repeatable-read snapshot, so a message moving from the queue to the table meanwhile is
//! seen exactly once. Search statements are sent unnamed (`query_typed`), so each is planned
//! for its actual terms.

use std::fmt::Write;

use tokio_postgres::{
    types::{ToSql, Type},
    IsolationLevel,
};
use uuid::Uuid;

use super::{messages::returned, Db, DbError, DbResult, Missing};
use crate::{model::Message, search::Term};

/// Rows the walk may read per wanted hit, and its bounds.
const WINDOW_PER_HIT: i64 = 200;
const MIN_WINDOW: i64 = 4_000;
const MAX_WINDOW: i64 = 20_000;
/// The most rows a second walk may read when the first found some hits but too few.
const MAX_SECOND_WINDOW: i64 = 40_000;

/// The texts the conditions' parameters carry, in order: each term's text, and for a phrase, its
/// words of 3 or more characters and then its last word if it is a plain one (see `conditions`).
fn term_texts(terms: &[Term]) -> Vec<&str> {
    let mut texts = Vec::new();
    for term in terms {
        texts.push(term.text());
        texts.extend(phrase_words(term));
        texts.extend(phrase_last_word(term));
    }
    texts
}

/// A phrase's words of 3 or more characters: each is a substring of any match, and a `LIKE` on
/// it is cheap to test and precise for the trigram index, so it runs before the phrase's regular
/// expression (which the trigram index narrows down poorly).
fn phrase_words(term: &Term) -> Vec<&str> {
    match term {
        Term::Phrase(p) => p.split_whitespace().filter(|w| w.chars().count() >= 3).collect(),
        _ => Vec::new(),
    }
}

/// The last word of a phrase, when it is a plain word: in any match it starts a word, so the
/// full-text index can narrow a phrase search down to the messages with a word starting so.
fn phrase_last_word(term: &Term) -> Option<&str> {
    match term {
        Term::Phrase(p) => p
            .split_whitespace()
            .last()
            .filter(|w| w.chars().all(char::is_alphanumeric)),
        _ => None,
    }
}

/// SQL conditions that hold when a row matches every term. Parameters `$first` onwards carry
/// `term_texts(terms)`, in order.
fn conditions(terms: &[Term], text: &str, vector: &str, first: usize) -> String {
    let mut sql = String::new();
    let mut p = first;
    let mut next = || {
        p += 1;
        p - 1
    };
    for (i, term) in terms.iter().enumerate() {
        if i > 0 {
            sql.push_str(" AND ");
        }
        let _ = match term {
            Term::Infix(_) => write!(sql, "{text} LIKE chat_infix_pattern(${})", next()),
            Term::Prefix(_) => write!(sql, "{vector} @@ chat_prefix_query(${})", next()),
            Term::Phrase(_) => {
                let regex = format!("{text} ~ chat_phrase_regex(${})", next());
                let mut parts: Vec<String> = phrase_words(term)
                    .iter()
                    .map(|_| format!("{text} LIKE chat_infix_pattern(${})", next()))
                    .collect();
                parts.push(regex);
                if phrase_last_word(term).is_some() {
                    parts.push(format!("{vector} @@ chat_prefix_query(${})", next()));
                }
                write!(sql, "({})", parts.join(" AND "))
            }
        };
    }
    sql
}

/// `params` followed by the terms' texts.
fn with_terms<'p>(texts: &[Param<'p>], params: &[Param<'p>]) -> Vec<Param<'p>> {
    params.iter().chain(texts).cloned().collect()
}

/// A statement parameter with its type (search statements are sent unnamed, typed up front).
type Param<'p> = (&'p (dyn ToSql + Sync), Type);

impl Db {
    /// Up to `need` messages of the chat numbered below `before` that match every term, newest
    /// first, queued ones included.
    pub async fn search(
        &self,
        token: Uuid,
        chat: i64,
        terms: &[Term],
        (after, before): (i64, i64),
        need: i64,
    ) -> DbResult<Vec<Message>> {
        let mut client = self.client().await?;
        let tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let scope = tx
            .prepare_cached(include_str!("../../sql/queries/search_scope.sql"))
            .await?;
        // The service's connections plan prepared statements generically (see `Db::connect`);
        // a search is planned for its actual terms and bounds. Pipelined with the scope
        // statement: no round trip of its own.
        let scope_params: [&(dyn ToSql + Sync); 2] = [&token, &chat];
        let (_, scope_row) = tokio::try_join!(
            tx.batch_execute("SET LOCAL plan_cache_mode = force_custom_plan"),
            tx.query_opt(&scope, &scope_params)
        )?;
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
        let texts: Vec<Param<'_>> = term_texts
            .iter()
            .map(|t| (t as &(dyn ToSql + Sync), Type::TEXT))
            .collect();

        let queued_sql = format!(
            "SELECT message_number, body, created_at, updated_at FROM jobs \
             WHERE application_id = $1 AND chat_number = $2 AND message_number < $3 AND message_number > $4 \
             AND {} ORDER BY message_number DESC LIMIT $5",
            conditions(
                terms,
                "chat_fold(body)",
                "to_tsvector('public.chat_simple'::regconfig, body)",
                6
            )
        );
        let walk_sql = format!(
            "SELECT number, body, created_at, updated_at FROM messages \
             WHERE application_id = $1 AND chat_number = $2 AND number >= $3 AND number < $4 AND {} \
             ORDER BY number DESC LIMIT $5",
            // The `||` keeps the planner off the search indexes here: the walk must be a walk.
            conditions(terms, "(search_text || '')", "(search_vector || ''::tsvector)", 6)
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
        let mut hits: Vec<Message> = queued.iter().chain(walked.iter()).map(returned).collect();
        let mut found = walked.len() as i64;
        let mut lower = lower;

        // Some hits but too few: if their density says the rest lies within a second window of
        // bounded size, walk on (a phrase of two common words: ~30 ms) rather than collect every
        // hit of the chat through the index and sort (~190 ms on a 1M-message chat).
        // Fewer than 3 hits say too little about the density to bet a second walk on.
        if found >= 3 && found < need && lower > after.saturating_add(1) {
            let per_hit = (upper - lower) / found;
            let extra = ((need - found) * per_hit * 3 / 2).max(MIN_WINDOW);
            if extra <= MAX_SECOND_WINDOW {
                let upper2 = lower;
                lower = upper2.saturating_sub(extra).max(after.saturating_add(1)).max(1);
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
                let more = tx.query_typed(&walk_sql, &params).await?;
                found += more.len() as i64;
                hits.extend(more.iter().map(returned));
            }
        }

        if found < need && lower > after.saturating_add(1) {
            let rest = need - found;
            let indexed_sql = format!(
                "WITH hits AS MATERIALIZED ( \
                   SELECT number FROM messages WHERE application_id = $1 AND chat_number = $2 AND {}) \
                 SELECT m.number, m.body, m.created_at, m.updated_at FROM messages m \
                 WHERE m.application_id = $1 AND m.chat_number = $2 \
                   AND m.number IN (SELECT number FROM hits WHERE number < $3 AND number > $4 \
                                  ORDER BY number DESC LIMIT $5) \
                 ORDER BY m.number DESC",
                conditions(terms, "search_text", "search_vector", 6)
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
            hits.extend(tx.query_typed(&indexed_sql, &params).await?.iter().map(returned));
        }
        tx.commit().await?;

        hits.sort_unstable_by_key(|m| std::cmp::Reverse(m.number));
        hits.dedup_by_key(|m| m.number);
        hits.truncate(need as usize);
        Ok(hits)
    }
}
