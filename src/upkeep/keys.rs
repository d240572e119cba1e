//! The key filler: computes the search keys of messages that have none (V19): those written
//! before V19, by the previous release during an upgrade, or edited since (an edit sets them
//! NULL). Searches find such messages all the same, by checking the text of every one of them in
//! the chat (`messages_unkeyed`), so the filler keeps that set small; every instance runs it
//! (`SKIP LOCKED`: they share the work).

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::sleep::sleep;
use crate::{
    store::{lexicon, Db, DbResult},
    write::keys::keyed,
};

/// Messages per transaction.
const LOT: i64 = 1_000;

/// Fills the keys of up to `LOT` messages: how many it filled.
pub async fn fill_keys(db: &Db) -> DbResult<usize> {
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
    let fill = tx.prepare_cached(include_str!("sql/keys_fill.sql")).await?;
    let add_words = tx.prepare_cached(lexicon::ADD).await?;
    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 6] =
        [&apps, &chats, &numbers, &keyed.keys, &keyed.from, &keyed.to];
    tokio::try_join!(biased; keyed.words.add(&tx, &add_words), tx.execute(&fill, &params))?;
    tx.commit().await?;
    db.lexicon().learned(keyed.words);
    Ok(rows.len())
}

/// The filler's task: lot after lot while there are messages to fill, else a look every
/// `interval`.
pub async fn run_key_filler(db: Db, interval: Duration, cancel: CancellationToken) {
    while sleep(interval, &cancel).await {
        loop {
            match fill_keys(&db).await {
                Ok(n) if n as i64 == LOT && !cancel.is_cancelled() => continue,
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "filling search keys failed; will retry");
                    break;
                }
            }
        }
    }
}
