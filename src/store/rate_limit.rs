//! The per-application request counter behind the rate limit (one row per application and
//! minute).

use super::{Db, DbResult};

impl Db {
    /// Counts one request of application `app` (its id: the table holds no tokens) in the
    /// current minute: (count so far, seconds to the next window).
    pub async fn hit_rate_limit(&self, app: i64) -> DbResult<(i32, i32)> {
        let row = self.query(include_str!("sql/rate_limit_hit.sql"), &[&app]).await?;
        let window_start: chrono::DateTime<chrono::Utc> = row[0].get(1);
        Ok((row[0].get(0), seconds_left(window_start, chrono::Utc::now())))
    }

    /// Deletes finished rate-limit windows.
    pub async fn expire_rate_limits(&self) -> DbResult<()> {
        self.query(include_str!("sql/rate_limit_expire.sql"), &[])
            .await
            .map(drop)
    }
}

/// Whole seconds (rounded up) from `now` to the end of the minute that starts at `window_start`,
/// within 1..=60 (the database's clock and this process's may differ by a little).
fn seconds_left(window_start: chrono::DateTime<chrono::Utc>, now: chrono::DateTime<chrono::Utc>) -> i32 {
    let left = window_start + chrono::Duration::minutes(1) - now;
    let secs = left.num_milliseconds().saturating_add(999).div_euclid(1000);
    secs.clamp(1, 60) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_left_round_up_within_the_minute() {
        let start = chrono::DateTime::parse_from_rfc3339("2026-01-01T10:00:00Z")
            .unwrap()
            .to_utc();
        let at = |ms: i64| start + chrono::Duration::milliseconds(ms);
        assert_eq!(seconds_left(start, at(0)), 60);
        assert_eq!(seconds_left(start, at(500)), 60);
        assert_eq!(seconds_left(start, at(1_000)), 59);
        assert_eq!(seconds_left(start, at(59_001)), 1);
        assert_eq!(seconds_left(start, at(61_000)), 1, "a clock ahead of the database's");
        assert_eq!(seconds_left(start, at(-3_000)), 60, "a clock behind it");
    }
}
