//! Starting every upkeep task of a process.

use std::{sync::Arc, time::Duration};

use tokio::{sync::Notify, task::JoinHandle};
use tokio_util::sync::CancellationToken;

use super::{gin, keys, purge, reconcile, releases, vacuum};
use crate::store::Db;

/// How often the upkeep tasks run.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// How often the GIN cleaner looks and the job table is vacuumed.
    pub interval: Duration,
    /// Rows written to a partition before its pending lists are merged.
    pub gin_merge_rows: i64,
    /// How often counts are reconciled.
    pub reconcile: Duration,
}

/// Starts the purger (woken by `purge_wake`), the GIN cleaner, the job table's vacuum, the
/// search key filler, the dictionary's pruner, the watch for earlier releases and the
/// reconciler; each stops when `cancel` fires.
pub fn spawn(db: Db, purge_wake: Arc<Notify>, pace: Pace, cancel: &CancellationToken) -> Vec<JoinHandle<()>> {
    vec![
        tokio::spawn(purge::run_purger(db.clone(), purge_wake, cancel.clone())),
        tokio::spawn(gin::run_gin_cleaner(
            db.clone(),
            pace.interval,
            pace.gin_merge_rows,
            cancel.clone(),
        )),
        tokio::spawn(vacuum::run_jobs_vacuum(db.clone(), pace.interval, cancel.clone())),
        tokio::spawn(keys::run_key_filler(db.clone(), pace.interval, cancel.clone())),
        tokio::spawn(keys::run_word_pruner(db.clone(), cancel.clone())),
        tokio::spawn(releases::run_release_watch(db.clone(), pace.interval, cancel.clone())),
        tokio::spawn(reconcile::run_reconciler(db, pace.reconcile, cancel.clone())),
    ]
}
