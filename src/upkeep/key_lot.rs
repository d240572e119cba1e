//! One lot of the key filler written (`keys`, and on Citus `keys_by_app`): its messages' keys
//! and its new dictionary words, in the transaction that locked the lot.

use tokio_postgres::types::ToSql;

use crate::{
    store::{lexicon, Db, DbResult},
    write::keys::Keyed,
};

/// Writes a locked lot's keys (statement `fill`; `citus`: its Citus form, and the dictionary's)
/// and adds its new words in `tx`, commits, then remembers the words. `apps`: the statement's
/// first parameter, the lot's applications (on Citus its one application).
pub(super) async fn write_lot(
    db: &Db,
    tx: deadpool_postgres::Transaction<'_>,
    (fill, citus): (&str, bool),
    apps: &(dyn ToSql + Sync),
    (chats, numbers): (&[i64], &[i64]),
    keyed: Keyed,
) -> DbResult<()> {
    let fill = tx.prepare_cached(fill).await?;
    let add = tx
        .prepare_cached(if citus { lexicon::ADD_CITUS } else { lexicon::ADD })
        .await?;
    let params: [&(dyn ToSql + Sync); 6] = [apps, &chats, &numbers, &keyed.keys, &keyed.from, &keyed.to];
    tokio::try_join!(biased; keyed.words.add(&tx, &add, citus), tx.execute(&fill, &params))?;
    tx.commit().await?;
    db.lexicon().learned(keyed.words);
    Ok(())
}
