//! Exactly-once resolution. Every creation statement records its batch under an id chosen here
//! (`intake_batches`, V10); when its answer is lost, the id is inserted again as a fence, which
//! either finds the original committed (its record answers the requests) or keeps it out for good
//! (`intake_resolve.sql`). A resolution never guesses.

use std::{future::Future, time::Duration};

use chrono::{DateTime, Utc};
use tokio::time::Instant;
use tokio_postgres::{types::ToSql, Row};
use uuid::Uuid;

use crate::store::{Db, DbError, DbResult};

/// What a creation statement recorded (its `intake_batches` row): per request, in order, the
/// number it created (`None`: nothing, the application or chat does not exist; `Some(0)`:
/// nothing, the request's idempotency claim was no longer its own), and when.
pub(super) struct Recorded {
    pub(super) numbers: Vec<Option<i64>>,
    pub(super) at: DateTime<Utc>,
}

impl Recorded {
    /// Runs a creation statement whose one row is its batch record.
    pub(super) async fn from_statement(db: &Db, sql: &str, params: &[&(dyn ToSql + Sync)]) -> DbResult<Self> {
        let rows = db.query(sql, params).await?;
        Ok(Recorded::from_row(&rows[0]))
    }

    /// Runs a creation function of V21 (Citus), whose value is its batch record as JSON
    /// (`{"numbers": [...], "at": "..."}`).
    pub(super) async fn from_function(db: &Db, sql: &str, params: &[&(dyn ToSql + Sync)]) -> DbResult<Self> {
        let rows = db.query(sql, params).await?;
        let record: serde_json::Value = rows[0].get(0);
        let numbers = record["numbers"]
            .as_array()
            .map(|n| n.iter().map(serde_json::Value::as_i64).collect())
            .unwrap_or_default();
        let at = record["at"]
            .as_str()
            .and_then(|at| DateTime::parse_from_rfc3339(at).ok())
            .ok_or_else(|| DbError::Unexpected(format!("a creation function's record has no time: {record}")))?;
        Ok(Recorded {
            numbers,
            at: at.with_timezone(&Utc),
        })
    }

    fn from_row(row: &Row) -> Self {
        Recorded {
            numbers: row.get(0),
            at: row.get(1),
        }
    }
}

/// Deletes creation batch records older than 15 minutes (a resolution needs them for seconds,
/// and gives up after 10 minutes).
pub async fn expire_batches(db: &Db) -> DbResult<()> {
    let sql = include_str!("../sql/intake_batches_expire.sql");
    db.query(sql, &[]).await.map(drop)
}

/// Runs a creation statement under a fresh batch id. `Ok`: what it created (committed). `Err`:
/// nothing of it committed, even when its answer was lost on the way (then the outcome is
/// resolved first: see the module's documentation).
/// `app`: on Citus, the application whose shard holds the batch record (V21).
pub(super) async fn run_fenced<F, Fut>(db: &Db, app: Option<i64>, statement: F) -> DbResult<Recorded>
where
    F: FnOnce(Uuid) -> Fut,
    Fut: Future<Output = DbResult<Recorded>>,
{
    let id = Uuid::new_v4();
    match statement(id).await {
        Err(e) if e.outcome_unknown() => {
            tracing::warn!(batch = %id, error = %e, "a creation statement's answer was lost; resolving its outcome");
            crate::metrics::metrics().intake_resolution();
            match resolve(db, id, app).await? {
                Some(recorded) => Ok(recorded),
                None => Err(e),
            }
        }
        result => result,
    }
}

/// How long a resolution keeps trying while the database is away; then the outcome is reported
/// unknown (the batch record outlives this, so a resolution never mistakes an expired record for
/// a statement that did not commit).
const RESOLVE_FOR: Duration = Duration::from_secs(600);

/// The outcome of the creation statement recorded under `id`, whose answer was lost: `Ok(Some)`
/// if it committed, `Ok(None)` if it did not (and now never will). Tries until it knows, or for
/// `RESOLVE_FOR` while the database stays away (`Err(OutcomeUnknown)`): it never guesses.
async fn resolve(db: &Db, id: Uuid, app: Option<i64>) -> DbResult<Option<Recorded>> {
    let give_up = Instant::now() + RESOLVE_FOR;
    let mut attempt = 0u32;
    loop {
        match try_resolve(db, id, app).await {
            Ok(Some(outcome)) => return Ok(outcome),
            Ok(None) => {} // the record expired between the two statements: fence again
            Err(e) => {
                tracing::warn!(batch = %id, error = %e, attempt, "resolving a creation's outcome failed; trying again")
            }
        }
        if Instant::now() > give_up {
            tracing::error!(batch = %id, "the outcome of a creation statement could not be learned; its requests are answered as unknown");
            return Err(DbError::OutcomeUnknown);
        }
        attempt += 1;
        tokio::time::sleep(Duration::from_millis(10 << attempt.min(7))).await;
    }
}

/// One attempt at a resolution: `Some(None)` fenced (never committed), `Some(Some)` committed,
/// `None` nothing learned (the record expired in between).
async fn try_resolve(db: &Db, id: Uuid, app: Option<i64>) -> DbResult<Option<Option<Recorded>>> {
    let fenced = match &app {
        None => db.query(include_str!("../sql/intake_resolve.sql"), &[&id]).await?,
        Some(app) => {
            db.query(include_str!("../sql/intake_resolve_app.sql"), &[&id, app])
                .await?
        }
    };
    if !fenced.is_empty() {
        return Ok(Some(None)); // fenced: the original never committed
    }
    // The insert conflicted with a committed row: read it (a new statement sees it).
    let rows = match &app {
        None => db.query(include_str!("../sql/intake_batch_get.sql"), &[&id]).await?,
        Some(app) => {
            db.query(include_str!("../sql/intake_batch_get_app.sql"), &[&id, app])
                .await?
        }
    };
    // A NULL `numbers` is a fence of ours, from an earlier attempt whose answer was lost.
    Ok(rows.first().map(|row| {
        row.get::<_, Option<Vec<Option<i64>>>>(0).map(|numbers| Recorded {
            numbers,
            at: row.get(1),
        })
    }))
}
