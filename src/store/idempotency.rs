//! Idempotency keys: claiming a key for a request, reading what an earlier request with the same
//! key did, freeing a key whose request failed, and expiring old keys. The creation statements
//! record results themselves, in the same transaction as the creation, and only under the claim
//! the request made (a claim taken over after a minute can no longer commit anything).

use chrono::{DateTime, Utc};
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use super::{retry_idempotent, Db, DbResult};

/// A request's idempotency key, scoped to its method and path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdemKey {
    /// Method and path of the request.
    pub scope: String,
    /// The client's key, as stored (a digest of it where the key guards a secret).
    pub key: String,
    /// Digest of what the request asks for, to tell a retry from a different request.
    pub hash: Vec<u8>,
    /// This request's claim on the key: chosen once per request, so claiming again after a lost
    /// answer recognises the claim as its own, and the creation commits only under it.
    pub claim: Uuid,
    /// The application the request addresses (`None` for an application creation): the key is
    /// purged with it, and once it is deleted the key replays nothing.
    pub application: Option<Uuid>,
}

/// What an earlier request with the same key committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Remembered {
    /// The number it created (chats, messages).
    pub number: Option<i64>,
    /// The token it created (applications).
    pub token: Option<Uuid>,
    /// When it was created.
    pub at: DateTime<Utc>,
}

/// The outcome of claiming a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// This request holds the key: go ahead.
    Owned,
    /// An earlier request with this key succeeded: answer what it answered.
    Replay(Remembered),
    /// An earlier request with this key is still running.
    InFlight,
    /// The key was used for a different request.
    Mismatch,
    /// An earlier request with this key succeeded, but the application it addressed has been
    /// deleted since (its keys are purged with it).
    Gone,
}

/// `(scope, key, claim)` parameters for the creation statements: NULLs without a key.
pub fn params(key: Option<&IdemKey>) -> (Option<&str>, Option<&str>, Option<Uuid>) {
    (
        key.map(|k| k.scope.as_str()),
        key.map(|k| k.key.as_str()),
        key.map(|k| k.claim),
    )
}

/// Attempts at a key statement whose connection broke: each is idempotent (the claim id makes a
/// repeated claim recognise itself), so it is simply sent again.
const KEY_STATEMENT_ATTEMPTS: u32 = 5;

/// On Citus, claims made before this (a minute ago, by the service's clock: Citus takes no
/// `now()` in an ON CONFLICT update) whose request recorded no result are taken over. On one node
/// the statement reads the database's clock, which every instance shares.
fn abandoned_before() -> DateTime<Utc> {
    Utc::now() - chrono::Duration::seconds(60)
}

impl Db {
    /// Claims `key` for a new request, or says why not.
    pub async fn claim_idempotency(&self, key: &IdemKey) -> DbResult<Claim> {
        retry_idempotent(KEY_STATEMENT_ATTEMPTS, || self.try_claim(key)).await
    }

    /// The id of the application `key`'s request addresses: `None` for an application creation
    /// or a token no application has.
    async fn key_app(&self, key: &IdemKey) -> DbResult<Option<i64>> {
        match key.application {
            Some(token) => self.app_id(token).await,
            None => Ok(None),
        }
    }

    async fn try_claim(&self, key: &IdemKey) -> DbResult<Claim> {
        let app = self.key_app(key).await?;
        // On Citus keys are kept under their application's id, 0 for none (V21).
        let kept_under = app.unwrap_or(0);
        let found = if self.on_citus() {
            let claim = include_str!("sql/idempotency_claim_citus.sql");
            let cutoff = abandoned_before();
            let params: [&(dyn ToSql + Sync); 6] = [&key.scope, &key.key, &key.hash, &key.claim, &kept_under, &cutoff];
            if self.query_opt(claim, &params).await?.is_some() {
                return Ok(Claim::Owned);
            }
            let get = include_str!("sql/idempotency_get_citus.sql");
            self.query_opt(get, &[&key.scope, &key.key, &kept_under]).await?
        } else {
            let claim = include_str!("sql/idempotency_claim.sql");
            let params: [&(dyn ToSql + Sync); 5] = [&key.scope, &key.key, &key.hash, &key.claim, &app];
            if self.query_opt(claim, &params).await?.is_some() {
                return Ok(Claim::Owned);
            }
            let get = include_str!("sql/idempotency_get.sql");
            self.query_opt(get, &[&key.scope, &key.key]).await?
        };
        let Some(row) = found else {
            // Freed between the two statements: the earlier request failed; try again.
            return Box::pin(self.try_claim(key)).await;
        };
        if row.get::<_, Vec<u8>>(0) != key.hash {
            return Ok(Claim::Mismatch);
        }
        let alive = row.get::<_, bool>(6) || key.application.is_none();
        Ok(
            match (row.get::<_, Option<i16>>(1), row.get::<_, Option<DateTime<Utc>>>(4)) {
                (Some(_), Some(_)) if !alive => Claim::Gone,
                (Some(_), Some(at)) => Claim::Replay(Remembered {
                    number: row.get(2),
                    token: row.get(3),
                    at,
                }),
                // This request's own claim, made by an attempt whose answer was lost.
                _ if row.get::<_, Option<Uuid>>(5) == Some(key.claim) => Claim::Owned,
                _ => Claim::InFlight,
            },
        )
    }

    /// Frees `key` after its request failed without creating anything (only this request's own
    /// claim, and only while no result is recorded: a creation still committing holds the row
    /// locked, so this waits for it and then finds its result).
    pub async fn release_idempotency(&self, key: &IdemKey) -> DbResult<()> {
        // On Citus the key is kept under its application's id (a lookup, cached); one node needs none.
        let kept_under = match self.on_citus() {
            true => self.key_app(key).await?.unwrap_or(0),
            false => 0,
        };
        retry_idempotent(KEY_STATEMENT_ATTEMPTS, || async {
            match self.on_citus() {
                false => {
                    let sql = include_str!("sql/idempotency_release.sql");
                    self.query(sql, &[&key.scope, &key.key, &key.claim]).await
                }
                true => {
                    let sql = include_str!("sql/idempotency_release_citus.sql");
                    self.query(sql, &[&key.scope, &key.key, &key.claim, &kept_under]).await
                }
            }
        })
        .await
        .map(drop)
    }

    /// Deletes keys older than 48 hours. Returns how many.
    pub async fn expire_idempotency(&self) -> DbResult<u64> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(include_str!("sql/idempotency_expire.sql"))
            .await?;
        Ok(client.execute(&stmt, &[]).await?)
    }
}
