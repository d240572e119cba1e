//! On Citus, a batch of creations goes out as one batch per application: each runs and commits
//! on the node that holds its application (V21's functions, delegated there), so no creation
//! needs a transaction across nodes. Applications' batches go out side by side.

use std::collections::BTreeMap;

use chrono::Utc;

use super::coalesce::{run_on, Creation, Request};
use crate::store::Db;

/// Runs `batch` as one batch per application (application creations under 0, as V21 keeps their
/// keys). A request for a token no application has is answered as the statement would answer it.
pub(super) async fn run_per_application<C: Creation>(db: &Db, batch: Vec<Request<C>>) {
    let mut groups: BTreeMap<i64, Vec<Request<C>>> = BTreeMap::new();
    for request in batch {
        let app = match request.what.application() {
            None => Ok(Some(0)),
            Some(token) => db.app_id(token).await,
        };
        match app {
            Ok(Some(app)) => groups.entry(app).or_default().push(request),
            Ok(None) => request.answer(db, None, Utc::now()).await,
            Err(e) => request.pending.fail(db, e).await,
        }
    }
    futures::future::join_all(groups.into_iter().map(|(app, group)| run_on(db, group, Some(app)))).await;
}
