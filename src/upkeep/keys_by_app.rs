//! The search keys' upkeep on Citus (`keys`), one application at a time: there row locks
//! (`SKIP LOCKED`) work only within one shard, and a statement is sent to one shard only when
//! every table in it is named by the application. The applications with work are found by a read
//! of every shard without locks; each one's lot is then locked, filled or pruned on its shard.

use std::time::Duration;

use deadpool_postgres::Object;

use crate::{
    search::keys::word_key,
    store::{Db, DbResult},
    write::keys::keyed,
};

/// Fills the keys of up to `lot` messages of each of up to `lot` applications that have some:
/// how many it filled (`lot` or more: there may be more).
pub(super) async fn fill_keys(db: &Db, lot: i64) -> DbResult<usize> {
    let apps = db.query(include_str!("sql/keys_apps_citus.sql"), &[&lot]).await?;
    let mut filled = 0;
    for app in apps.iter().map(|r| r.get(0)) {
        filled += fill_app_keys(db, app, lot).await?;
    }
    Ok(filled)
}

/// Fills the keys of up to `lot` messages of application `app`, in one transaction on its shard.
async fn fill_app_keys(db: &Db, app: i64, lot: i64) -> DbResult<usize> {
    let mut client = db.client().await?;
    let tx = client.transaction().await?;
    let unkeyed = tx.prepare_cached(include_str!("sql/keys_unkeyed_citus.sql")).await?;
    let rows = tx.query(&unkeyed, &[&app, &lot]).await?;
    if rows.is_empty() {
        tx.commit().await?;
        return Ok(0);
    }
    let keyed = keyed(db.lexicon(), rows.iter().map(|r| (app, r.get::<_, &str>(2))));
    let chats: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    let numbers: Vec<i64> = rows.iter().map(|r| r.get(1)).collect();
    let fill = include_str!("sql/keys_fill_citus.sql");
    super::key_lot::write_lot(db, tx, (fill, true), &app, (&chats, &numbers), keyed).await?;
    Ok(rows.len())
}

/// One pass of the pruner over every application with words not seen for `unseen`: deletes
/// those no message of their application holds, `lot` words (and applications) at a time. How
/// many it deleted.
pub(super) async fn prune_words(db: &Db, unseen: Duration, lot: i64) -> DbResult<u64> {
    let client = db.client().await?;
    let apps = client.prepare_cached(include_str!("sql/words_apps_citus.sql")).await?;
    let secs = unseen.as_secs_f64();
    let (mut after_app, mut deleted) = (0i64, 0);
    loop {
        let rows = client.query(&apps, &[&after_app, &lot, &secs]).await?;
        for app in rows.iter().map(|r| r.get(0)) {
            deleted += prune_app_words(&client, app, secs, lot).await?;
        }
        match rows.last() {
            Some(last) if rows.len() as i64 == lot => after_app = last.get(0),
            _ => return Ok(deleted),
        }
    }
}

/// The pruner's pass over application `app`'s words not seen for `secs` seconds, `lot` at a
/// time, each lot on its shard.
async fn prune_app_words(client: &Object, app: i64, secs: f64, lot: i64) -> DbResult<u64> {
    let old = client.prepare_cached(include_str!("sql/words_old_citus.sql")).await?;
    let prune = client.prepare_cached(include_str!("sql/words_prune_citus.sql")).await?;
    let (mut after, mut deleted) = (String::new(), 0);
    loop {
        let rows = client.query(&old, &[&app, &after, &lot, &secs]).await?;
        let words: Vec<&str> = rows.iter().map(|r| r.get(0)).collect();
        let keys: Vec<i32> = words.iter().map(|w| word_key(w)).collect();
        if !words.is_empty() {
            deleted += client.execute(&prune, &[&app, &words, &keys, &secs]).await?;
        }
        match words.last() {
            Some(last) if words.len() as i64 == lot => after = (*last).to_owned(),
            _ => return Ok(deleted),
        }
    }
}
