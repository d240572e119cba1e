//! The term dictionary's writes (`search_words`, migration V19): each application's words, added
//! in the transaction that stores messages holding them, and this process's memory of the words
//! it knows are there, so that a word is sent once, not with every message.
//!
//! A word is remembered only after the transaction that added it (or found it, marking it seen)
//! committed, and for at most `REMEMBERED`; the pruner deletes only words not seen for an hour
//! (`upkeep::keys`), and an application's words go with its purge (ids are never reused), so a
//! remembered word is always in the dictionary. The memory is per `Db` (per database) and
//! bounded: past `CAPACITY` words, or `REMEMBERED` after it started, it starts again empty.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use deadpool_postgres::Transaction;
use tokio_postgres::Statement;

/// The statement that adds words (`NewWords::add`).
pub const ADD: &str = include_str!("sql/lexicon_add.sql");
/// `ADD` on Citus.
pub const ADD_CITUS: &str = include_str!("sql/lexicon_add_citus.sql");

/// Words remembered per process at most (~50 bytes each).
const CAPACITY: usize = 500_000;
/// How long words are remembered: well under the hour the pruner leaves a word after it was
/// last seen (a word is marked seen when sent, at most every 5 minutes).
const REMEMBERED: Duration = Duration::from_secs(600);

/// The words this process knows the dictionary holds.
#[derive(Default, Clone)]
pub struct Lexicon {
    known: Arc<Mutex<Known>>,
}

/// Words by application, how many in all, and since when.
struct Known {
    words: HashMap<i64, HashSet<Box<str>>>,
    count: usize,
    since: Instant,
}

impl Default for Known {
    fn default() -> Self {
        Known {
            words: HashMap::new(),
            count: 0,
            since: Instant::now(),
        }
    }
}

/// Words to add, in the order `add` sends them.
#[derive(Default)]
pub struct NewWords {
    apps: Vec<i64>,
    words: Vec<String>,
}

impl Lexicon {
    /// Of `words` (application id, word), those not known to be in the dictionary, sorted and
    /// without repeats.
    pub fn unknown<'w>(&self, words: impl IntoIterator<Item = (i64, &'w str)>) -> NewWords {
        let mut known = self.known.lock().expect("lexicon lock");
        if known.since.elapsed() > REMEMBERED {
            *known = Known::default();
        }
        let mut new: Vec<(i64, &str)> = words
            .into_iter()
            .filter(|(app, w)| !known.words.get(app).is_some_and(|set| set.contains(*w)))
            .collect();
        drop(known);
        new.sort_unstable();
        new.dedup();
        let (apps, words) = new.into_iter().map(|(a, w)| (a, w.to_owned())).unzip();
        NewWords { apps, words }
    }

    /// Remembers `new` as in the dictionary: call after the transaction that added them committed.
    pub fn learned(&self, new: NewWords) {
        let mut known = self.known.lock().expect("lexicon lock");
        if known.count + new.words.len() > CAPACITY || known.since.elapsed() > REMEMBERED {
            *known = Known::default();
        }
        for (app, word) in new.apps.into_iter().zip(new.words) {
            if known.words.entry(app).or_default().insert(word.into_boxed_str()) {
                known.count += 1;
            }
        }
    }
}

impl NewWords {
    /// True when there is nothing to add.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Adds the words to the dictionary (in the caller's transaction).
    pub async fn add(&self, tx: &Transaction<'_>, add: &Statement, citus: bool) -> Result<u64, tokio_postgres::Error> {
        if self.words.is_empty() {
            return Ok(0);
        }
        if citus {
            return tx
                .execute(add, &[&self.apps, &self.words, &seen_slot(chrono::Utc::now())])
                .await;
        }
        tx.execute(add, &[&self.apps, &self.words]).await
    }
}

/// How often at most a word already in the dictionary is marked seen on Citus, which takes the
/// time from the service (`lexicon_add_citus.sql`).
const SEEN_EVERY_SECS: i64 = 300;

/// `now` rounded down to `SEEN_EVERY_SECS`: a word is marked seen again only in a later slot.
fn seen_slot(now: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    let secs = now.timestamp();
    chrono::DateTime::from_timestamp(secs - secs.rem_euclid(SEEN_EVERY_SECS), 0).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seen_time_is_rounded_down_to_its_five_minutes() {
        let at = |s: &str| {
            chrono::DateTime::parse_from_rfc3339(s)
                .unwrap()
                .with_timezone(&chrono::Utc)
        };
        assert_eq!(seen_slot(at("2026-12-02T19:04:59.900Z")), at("2026-12-02T19:00:00Z"));
        assert_eq!(seen_slot(at("2026-12-02T19:05:00Z")), at("2026-12-02T19:05:00Z"));
    }
}
