//! A query's terms to conditions on the messages' search keys (V19), through the application's
//! dictionary: each anchor of each term (`keys::anchors`) is looked up as a pattern over the
//! dictionary's words, and the words it matches, hashed, are keys one of which every hit holds; a phrase also needs every one of its pairs' keys. An anchor matching more
//! than `EXPANSION_CAP` words narrows little and costs a key lookup per word: it is left out
//! (the check on the text that every candidate gets keeps the answer exact), as are anchors that
//! cannot be looked up. Without any condition the index path reads the whole chat, within the
//! budget; such terms are common enough that the walks before it usually find the page.

use tokio_postgres::types::{ToSql, Type};

use super::{
    budget::Budget,
    fold::fold_str,
    keys::{anchors, pair_keys, word_key},
    parse::Term,
    tuning::EXPANSION_CAP,
};
use crate::store::DbResult;

/// A condition on a message's keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum KeyCondition {
    /// It holds at least one of these keys (`&&`).
    Any(Vec<i32>),
    /// It holds all of them (`@>`).
    All(Vec<i32>),
}

/// The key conditions of `terms` in application `app`.
pub(super) async fn key_conditions(
    tx: &tokio_postgres::Transaction<'_>,
    budget: &Budget,
    app: i64,
    terms: &[Term],
) -> DbResult<Vec<KeyCondition>> {
    let mut conditions = Vec::new();
    let mut patterns: Vec<String> = Vec::new();
    for term in terms {
        let folded = fold_str(term.text());
        if let Term::Phrase(_) = term {
            let pairs = pair_keys(&folded);
            if !pairs.is_empty() {
                conditions.push(KeyCondition::All(pairs));
            }
        }
        patterns.extend(anchors(&folded, matches!(term, Term::Prefix(_))));
    }
    patterns.sort();
    patterns.dedup();
    let limit = EXPANSION_CAP + 1;
    let lookups = patterns.iter().map(|pattern| {
        let params: [(&(dyn ToSql + Sync), Type); 3] =
            [(&app, Type::INT8), (pattern, Type::TEXT), (&limit, Type::INT8)];
        async move { tx.query_typed(include_str!("sql/lexicon_expand.sql"), &params).await }
    });
    let found = budget.run(tx, "", futures::future::try_join_all(lookups)).await?;
    for words in found {
        if words.len() as i64 > EXPANSION_CAP {
            continue;
        }
        let keys = words.iter().map(|w| word_key(w.get(0))).collect();
        conditions.push(KeyCondition::Any(keys));
    }
    Ok(conditions)
}
