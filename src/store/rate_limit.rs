//! The per-application request counter behind the rate limit (one row per application and
//! minute).

use super::{Db, DbResult};

impl Db {
    /// Counts one request of application `app` (its id: the table holds no tokens) in the
    /// current minute: (count so far, seconds to the next window).
    pub async fn hit_rate_limit(&self, app: i64) -> DbResult<(i32, i32)> {
        let row = self.query(include_str!("sql/rate_limit_hit.sql"), &[&app]).await?;
        Ok((row[0].get(0), row[0].get(1)))
    }

    /// Deletes finished rate-limit windows.
    pub async fn expire_rate_limits(&self) -> DbResult<()> {
        self.query(include_str!("sql/rate_limit_expire.sql"), &[])
            .await
            .map(drop)
    }
}
