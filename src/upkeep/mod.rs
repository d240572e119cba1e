//! Background upkeep shared by all instances: the purger (finishes application and chat deletes
//! in small chunks), the count reconciler (corrects any drift of `chats_count` and
//! `messages_count`, the safety net behind the 1-hour bound), the cleaner that merges the
//! search indexes' GIN pending lists, the job table's vacuum, the filler of missing search
//! keys, the search dictionary's pruner and the watch for earlier releases (what the schema lets
//! this one skip). Their statements are in `sql/` beside this module.

mod gin;
mod key_lot;
mod keys;
mod keys_by_app;
mod nodes;
mod purge;
mod reconcile;
mod releases;
mod sleep;
mod tasks;
mod vacuum;

pub use gin::run_gin_cleaner;
pub use keys::{fill_keys, prune_words, run_key_filler, run_word_pruner, PRUNE_AFTER};
pub use purge::{purge_all, run_purger};
pub use reconcile::{reconcile_counts, run_reconciler};
pub use releases::run_release_watch;
pub use tasks::{spawn, Pace};
pub use vacuum::{run_jobs_vacuum, vacuum_jobs};
