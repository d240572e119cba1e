//! The search keys' upkeep (V19). The key filler computes the keys of messages that have none:
//! those written before V19, by the previous release during an upgrade, or edited since (an
//! edit sets them NULL). Searches find such messages all the same, by checking the text of every
//! one of them in the chat (`messages_unkeyed`), so the filler keeps that set small; every
//! instance runs it (`SKIP LOCKED`: they share the work; on Citus per application, as
//! `keys_by_app` says). The word pruner deletes dictionary words that no message holds any more
//! (deleted messages and chats), once they have not been seen for an hour (see `store::lexicon`
//! for why that is safe).

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::sleep::sleep;
use crate::{
    search::keys::word_key,
    store::{Db, DbResult},
    write::keys::keyed,
};

/// Messages per transaction; dictionary words per pruning statement.
const LOT: i64 = 1_000;
/// How long a word must have gone unseen before the pruner may delete it.
pub const PRUNE_AFTER: Duration = Duration::from_secs(3_600);

/// Fills the keys of up to `LOT` messages: how many it filled. On Citus, up to `LOT` of each
/// application with some (`keys_by_app`).
pub async fn fill_keys(db: &Db) -> DbResult<usize> {
    if db.on_citus() {
        return super::keys_by_app::fill_keys(db, LOT).await;
    }
    let mut client = db.client().await?;
    let tx = client.transaction().await?;
    let unkeyed = tx.prepare_cached(include_str!("sql/keys_unkeyed.sql")).await?;
    let rows = tx.query(&unkeyed, &[&LOT]).await?;
    if rows.is_empty() {
        tx.commit().await?;
        return Ok(0);
    }
    let ids: Vec<(i64, i64, i64)> = rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect();
    let bodies: Vec<&str> = rows.iter().map(|r| r.get(3)).collect();
    let keyed = keyed(
        db.lexicon(),
        ids.iter().zip(&bodies).map(|(&(app, _, _), body)| (app, *body)),
    );
    let apps: Vec<i64> = ids.iter().map(|k| k.0).collect();
    let chats: Vec<i64> = ids.iter().map(|k| k.1).collect();
    let numbers: Vec<i64> = ids.iter().map(|k| k.2).collect();
    let fill = include_str!("sql/keys_fill.sql");
    super::key_lot::write_lot(db, tx, (fill, false), &apps, (&chats, &numbers), keyed).await?;
    Ok(rows.len())
}

/// On Citus the filler looks every this many intervals: there the look
/// (`keys_apps_citus.sql`) is a query on each of the 32 shards, each planning its 32 partitions
/// (100 ms a shard on the loaded 2-core test machine, 0.4 s in all), where a single node probes
/// one small partial index. Searches find messages without keys all the same, by their text.
const CITUS_LOOK_EVERY: u32 = 30;

/// The filler's task: lot after lot while there are messages to fill, else a look every
/// `interval` (every `CITUS_LOOK_EVERY` on Citus).
pub async fn run_key_filler(db: Db, interval: Duration, cancel: CancellationToken) {
    let mut round = 0u32;
    while sleep(interval, &cancel).await {
        round = round.wrapping_add(1);
        if db.on_citus() && !round.is_multiple_of(CITUS_LOOK_EVERY) {
            continue;
        }
        loop {
            match fill_keys(&db).await {
                Ok(n) if n as i64 >= LOT && !cancel.is_cancelled() => continue,
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "filling search keys failed; will retry");
                    break;
                }
            }
        }
    }
}

/// One pass of the pruner over the whole dictionary: deletes the words not seen for `unseen`
/// that no message of their application holds. How many it deleted. On Citus, application by
/// application (`keys_by_app`).
pub async fn prune_words(db: &Db, unseen: Duration) -> DbResult<u64> {
    if db.on_citus() {
        return super::keys_by_app::prune_words(db, unseen, LOT).await;
    }
    let client = db.client().await?;
    let old = client.prepare_cached(include_str!("sql/words_old.sql")).await?;
    let prune = client.prepare_cached(include_str!("sql/words_prune.sql")).await?;
    let secs = unseen.as_secs_f64();
    let (mut after_app, mut after_word) = (0i64, String::new());
    let mut deleted = 0;
    loop {
        let rows = client.query(&old, &[&after_app, &after_word, &LOT, &secs]).await?;
        let Some(last) = rows.last() else {
            return Ok(deleted);
        };
        (after_app, after_word) = (last.get(0), last.get(1));
        let apps: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
        let words: Vec<&str> = rows.iter().map(|r| r.get(1)).collect();
        let keys: Vec<i32> = words.iter().map(|w| word_key(w)).collect();
        deleted += client.execute(&prune, &[&apps, &words, &keys, &secs]).await?;
        if (rows.len() as i64) < LOT {
            return Ok(deleted);
        }
    }
}

/// The pruner's task: a pass every `PRUNE_AFTER`.
pub async fn run_word_pruner(db: Db, cancel: CancellationToken) {
    while sleep(PRUNE_AFTER, &cancel).await {
        match prune_words(&db, PRUNE_AFTER).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(words = n, "pruned words no message holds from the search dictionary"),
            Err(e) => tracing::warn!(error = %e, "pruning the search dictionary failed; will retry"),
        }
    }
}
