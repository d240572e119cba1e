//! The search's dynamic statements: the one place that builds them.
//!
//! Why they are not static `.sql` files: a query has 1 to `MAX_TERMS` terms and each adds a
//! condition on the text (a `LIKE`, and for a short term a word start), and the index path one
//! condition on the search keys per anchor and phrase (`expand`), so the statements' shapes are
//! not finite. The statements are sent unnamed, planned for their parameters. Only the conditions vary, and every value is a
//! parameter: nothing the user types is formatted into SQL. The fixed statements are in `sql/`.
//!
//! Every statement here takes bigint parameters first and then each term's text, in the terms'
//! order (`Params`).

use tokio_postgres::types::{ToSql, Type};

use super::expand::KeyCondition;
use super::fold::fold_str;
use super::parse::Term;

/// A statement parameter with its type (search statements are sent unnamed, typed up front).
pub(super) type Param<'p> = (&'p (dyn ToSql + Sync), Type);

/// The terms' texts, the parameters that follow a statement's bigints, and after them the
/// sender the hits must have, if any.
pub(super) struct Params<'t> {
    texts: Vec<&'t str>,
}

impl<'t> Params<'t> {
    /// The texts of `terms`, in order, then `sender`.
    pub(super) fn new(terms: &'t [Term], sender: Option<&'t str>) -> Self {
        Params {
            texts: terms.iter().map(Term::text).chain(sender).collect(),
        }
    }

    /// A statement's parameters: `bigints` (as `INT8`), then the terms' texts (as `TEXT`).
    pub(super) fn with<'p>(&'p self, bigints: &[&'p i64]) -> Vec<Param<'p>> {
        let bigints = bigints.iter().map(|v| (*v as &(dyn ToSql + Sync), Type::INT8));
        let texts = self.texts.iter().map(|t| (t as &(dyn ToSql + Sync), Type::TEXT));
        bigints.chain(texts).collect()
    }

    /// As `with`, then each key condition's keys (as `INT4[]`), for `indexed`.
    pub(super) fn with_keys<'p>(&'p self, bigints: &[&'p i64], keys: &'p [KeyCondition]) -> Vec<Param<'p>> {
        let mut params = self.with(bigints);
        params.extend(keys.iter().map(|k| match k {
            KeyCondition::Any(keys) | KeyCondition::All(keys) => (keys as &(dyn ToSql + Sync), Type::INT4_ARRAY),
        }));
        params
    }
}

/// A written message's folded text: stored, or for a plain body (NULL since V20,
/// `fold::stored_folded`) the body lower-cased in ASCII (the `"C"` collation's `lower()`, the
/// same whatever the database's locale), matched in the database's collation as the stored text
/// is (its word starts are the same letters).
const FOLDED: &str = r#"coalesce(search_text, lower(body COLLATE "C")) COLLATE "default""#;

/// The queued messages (jobs) numbered between `$4` and `$3` that match, newest first, at most
/// `$5`; `$1`, `$2`: application id, chat number.
pub(super) fn queued(terms: &[Term], sender: bool) -> String {
    format!(
        "SELECT message_number FROM jobs \
         WHERE application_id = $1 AND chat_number = $2 AND message_number < $3 AND message_number > $4{} \
         AND {} ORDER BY message_number DESC LIMIT $5",
        by_sender(sender, terms, 6),
        conditions(terms, "chat_search_text(body)", 6)
    )
}

/// With `sender`, the condition that hits are the sender's (its parameter follows the terms',
/// which start at `$first`).
fn by_sender(sender: bool, terms: &[Term], first: usize) -> String {
    match sender {
        true => format!(" AND sender = ${}", first + terms.len()),
        false => String::new(),
    }
}

/// A walk: reads the chat's messages numbered `$3..$4` newest-first from the top and stops at
/// the `$5`th hit. `OFFSET 0` keeps the conditions out of the scan, so the planner cannot turn
/// the walk into an index search.
pub(super) fn walk(terms: &[Term], sender: bool) -> String {
    format!(
        "SELECT number FROM ( \
           SELECT number, search_text, body FROM messages \
           WHERE application_id = $1 AND chat_number = $2 AND number >= $3 AND number < $4{} \
           ORDER BY number DESC OFFSET 0) m \
         WHERE {} LIMIT $5",
        by_sender(sender, terms, 6),
        conditions(terms, FOLDED, 6)
    )
}

/// How many of the chat's messages numbered `$3..$4` match every term (read as a walk reads).
pub(super) fn count(terms: &[Term], sender: bool) -> String {
    format!(
        "SELECT count(*) FROM ( \
           SELECT search_text, body FROM messages \
           WHERE application_id = $1 AND chat_number = $2 AND number >= $3 AND number < $4{} OFFSET 0) m \
         WHERE {}",
        by_sender(sender, terms, 5),
        conditions(terms, FOLDED, 5)
    )
}

/// The index path: every hit of the chat among the candidates its search keys give (V19: the
/// messages holding a key of every `Any` condition and all keys of every `All`, through the keys'
/// GIN index), and the messages without keys yet (`messages_unkeyed`), each checked on its text;
/// then the newest `$5` of those numbered between `$4` and `$3`. The conditions' key arrays are
/// the parameters after the terms' texts and the sender (`Params::with_keys`). Without any
/// condition, the whole chat is checked.
pub(super) fn indexed(terms: &[Term], sender: bool, keys: &[KeyCondition]) -> String {
    let first_key = 6 + terms.len() + usize::from(sender);
    let keyed: Vec<String> = keys
        .iter()
        .zip(first_key..)
        .map(|(k, p)| match k {
            KeyCondition::Any(_) => format!("search_keys && ${p}"),
            KeyCondition::All(_) => format!("search_keys @> ${p}"),
        })
        .collect();
    let candidates = match keyed.is_empty() {
        true => String::new(),
        false => format!(" AND (({}) OR search_keys IS NULL)", keyed.join(" AND ")),
    };
    format!(
        "WITH hits AS MATERIALIZED ( \
           SELECT number FROM messages WHERE application_id = $1 AND chat_number = $2{}{} AND {}) \
         SELECT number FROM hits WHERE number < $3 AND number > $4 ORDER BY number DESC LIMIT $5",
        by_sender(sender, terms, 6),
        candidates,
        conditions(terms, FOLDED, 6)
    )
}

/// True when the phrase has two adjacent words of 3+ characters (folded): the pair keys
/// (`keys::pair_keys`, V19) can then narrow the phrase down to messages with those pairs.
pub(super) fn paired(phrase: &str) -> bool {
    let folded = fold_str(phrase);
    let long: Vec<bool> = folded.split(' ').map(|w| w.chars().count() >= 3).collect();
    long.windows(2).any(|w| w[0] && w[1])
}

/// SQL conditions that hold when a row matches every term. Parameters `$first` onwards carry
/// the terms' texts, in order. A phrase is a substring like any 3+ character term: the
/// searchable text has every run of whitespace folded to one space, and so has the pattern. A
/// short term is a regular expression for a word start (`chat_word_start`, migration V14), after
/// a `LIKE` for the term anywhere, which is cheaper and drops most rows first (a walk of 50,000
/// rows: 60 ms against 128 ms for the expression alone).
fn conditions(terms: &[Term], text: &str, first: usize) -> String {
    terms
        .iter()
        .zip(first..)
        .map(|(term, p)| match term {
            Term::Infix(_) | Term::Phrase(_) => format!("{text} LIKE chat_infix_pattern(${p})"),
            Term::Prefix(_) => {
                format!("{text} LIKE chat_infix_pattern(${p}) AND {text} ~ chat_word_start(${p})")
            }
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}
