//! The delivery workers: a dispatcher finds the endpoints with deliveries due and runs one task
//! per endpoint (in this process), which claims up to `WEBHOOK_CONCURRENCY` of them at a time
//! (`claim.sql`: `SKIP LOCKED`, a lease, committed at once), sends them, and records the
//! outcomes: the delivered ones in one statement, each failure in one of its own. A slow or dead
//! endpoint thus holds up only its own task: never the queue workers (which only insert into the
//! outbox) nor other endpoints.

use std::{collections::HashMap, sync::Arc, time::Duration};

use chrono::Utc;
use tokio::{
    sync::{Notify, Semaphore},
    task::JoinHandle,
};
use tokio_util::sync::CancellationToken;

use super::{
    client::{Attempt, Sender},
    expire::expire,
    payload::Claimed,
};
use crate::{
    settings::webhooks::WebhookSettings,
    store::{Db, DbResult},
};

/// How often the dispatcher looks for due deliveries.
const POLL: Duration = Duration::from_millis(200);
/// `POLL` on Citus, where the look (`due_endpoints.sql`) reads every shard of the outbox: 32
/// queries on the nodes, 25–190 ms on the 2-core test machine, where it is one index probe on a
/// single node. A look still follows at once when this process's queue workers wrote
/// deliveries (`wake`); only retries and other instances' deliveries wait for it.
const POLL_CITUS: Duration = Duration::from_secs(1);
/// Endpoints the dispatcher looks at per round.
const ENDPOINTS_PER_ROUND: i64 = 1000;
/// Attempts after which a failing delivery stops holding up the later ones of its chat.
const BLOCKING_ATTEMPTS: i32 = 3;
/// The first retry's delay; each later one doubles it, up to `MAX_BACKOFF`.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// The longest delay between two attempts (and the longest `Retry-After` honoured).
const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// Endpoint tasks at once per process.
const MAX_ENDPOINT_TASKS: usize = 64;
/// Statements the delivery workers run at once per process: their share of the read pool, so
/// that a burst of deliveries never keeps requests waiting for a connection.
const DB_SLOTS: usize = 4;
/// How often finished deliveries older than a week are expired.
const EXPIRE_EVERY: Duration = Duration::from_secs(60);

/// What the delivery tasks share.
#[derive(Clone)]
struct Delivery {
    db: Db,
    sender: Sender,
    concurrency: i64,
    db_slots: Arc<Semaphore>,
    lease_ms: f64,
    window_secs: f64,
}

/// The dispatcher task: runs until `cancel`, then waits for the endpoint tasks (which stop at
/// once, leaving the attempts under way to be sent again). It looks for due deliveries every
/// `POLL`, and at once when `wake` is told (this process's queue workers committed some).
pub async fn run(db: Db, settings: WebhookSettings, wake: Arc<Notify>, cancel: CancellationToken) {
    let sender = match Sender::new(&settings) {
        Ok(sender) => sender,
        Err(e) => {
            tracing::error!(error = %e, "webhook deliveries disabled: no HTTP client");
            return;
        }
    };
    // A lease outlasts an attempt: its sender is gone when it expires.
    let lease = settings.timeout() * 2 + Duration::from_secs(1);
    let delivery = Delivery {
        db,
        sender,
        concurrency: settings.webhook_concurrency.max(1) as i64,
        db_slots: Arc::new(Semaphore::new(DB_SLOTS)),
        lease_ms: lease.as_millis() as f64,
        window_secs: settings.retry_window().as_secs_f64(),
    };
    let mut tasks: HashMap<(i64, i64), JoinHandle<()>> = HashMap::new();
    let mut expired_at = tokio::time::Instant::now();
    loop {
        tasks.retain(|_, task| !task.is_finished());
        match delivery.due_endpoints().await {
            Ok(endpoints) => {
                for endpoint in endpoints {
                    if tasks.len() >= MAX_ENDPOINT_TASKS {
                        break; // the others next round, as tasks finish
                    }
                    tasks.entry(endpoint).or_insert_with(|| {
                        let delivery = delivery.clone();
                        let cancel = cancel.clone();
                        tokio::spawn(async move { delivery.drain(endpoint, cancel).await })
                    });
                }
            }
            Err(e) => tracing::warn!(error = %e, "looking for due webhook deliveries failed; will retry"),
        }
        if expired_at.elapsed() >= EXPIRE_EVERY {
            expired_at = tokio::time::Instant::now();
            if let Err(e) = expire(&delivery.db).await {
                tracing::warn!(error = %e, "expiring old webhook deliveries failed; will retry");
            }
        }
        let poll = if delivery.db.on_citus() { POLL_CITUS } else { POLL };
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = wake.notified() => {}
            _ = cancel.cancelled() => break,
        }
    }
    for (_, task) in tasks {
        let _ = task.await;
    }
}

impl Delivery {
    async fn due_endpoints(&self) -> DbResult<Vec<(i64, i64)>> {
        let rows = self
            .db
            .query(include_str!("sql/due_endpoints.sql"), &[&ENDPOINTS_PER_ROUND])
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// Sends the endpoint's due deliveries, a claim at a time, until none is left (or `cancel`).
    async fn drain(&self, (app, webhook): (i64, i64), cancel: CancellationToken) {
        while !cancel.is_cancelled() {
            let claimed = match self.claim(app, webhook).await {
                Ok(claimed) if claimed.is_empty() => return,
                Ok(claimed) => claimed,
                Err(e) => {
                    tracing::warn!(error = %e, app, webhook, "claiming webhook deliveries failed; will retry");
                    return;
                }
            };
            let sends = futures::future::join_all(claimed.iter().map(|d| self.send(d)));
            // On shutdown the attempts under way are dropped: their leases run out and they are
            // sent again, by this process after a restart or by another one.
            let attempts = tokio::select! {
                attempts = sends => attempts,
                _ = cancel.cancelled() => return,
            };
            if let Err(e) = self.record(app, &claimed, &attempts).await {
                // The leases run out and the deliveries are sent again.
                tracing::warn!(error = %e, app, webhook, "recording webhook deliveries failed");
            }
        }
    }

    async fn claim(&self, app: i64, webhook: i64) -> DbResult<Vec<Claimed>> {
        let sql = include_str!("sql/claim.sql");
        let now = Utc::now();
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 6] = [
            &app,
            &webhook,
            &self.concurrency,
            &BLOCKING_ATTEMPTS,
            &self.lease_ms,
            &now,
        ];
        let rows = {
            let _slot = self.db_slots.acquire().await.expect("never closed");
            self.db.query(sql, &params).await?
        };
        let mut claimed: Vec<Claimed> = rows.iter().map(Claimed::from_row).collect();
        claimed.sort_unstable_by_key(|d| d.event_id);
        Ok(claimed)
    }

    /// Sends one delivery.
    async fn send(&self, delivery: &Claimed) -> Attempt {
        let body = delivery.body();
        let headers = delivery.headers(Utc::now(), &body);
        self.sender.send(&delivery.url, headers, body).await
    }

    /// Records what happened to a claim's deliveries: the delivered ones in one statement, each
    /// failure in one of its own (with its retry time and the endpoint's failure streak).
    async fn record(&self, app: i64, claimed: &[Claimed], attempts: &[Attempt]) -> DbResult<()> {
        let latency = |a: &Attempt| i32::try_from(a.latency.as_millis()).unwrap_or(i32::MAX);
        let mut ids = Vec::new();
        let mut statuses = Vec::new();
        let mut latencies = Vec::new();
        let mut failed = Vec::new();
        for (delivery, attempt) in claimed.iter().zip(attempts) {
            if attempt.delivered() {
                ids.push(delivery.id);
                statuses.push(attempt.status.map(i32::from));
                latencies.push(latency(attempt));
            } else {
                failed.push((delivery, attempt));
            }
        }
        let _slot = self.db_slots.acquire().await.expect("never closed");
        if !ids.is_empty() {
            let sql = include_str!("sql/delivered.sql");
            self.db.query(sql, &[&app, &ids, &statuses, &latencies]).await?;
        }
        for (delivery, attempt) in failed {
            let error = attempt.error.clone().unwrap_or_default();
            tracing::info!(app, delivery = delivery.id, url = %delivery.url, %error, "webhook delivery failed");
            let retry_at = retry_delay(attempt, delivery.attempts).map(|d| Utc::now() + d);
            let sql = include_str!("sql/failed.sql");
            let params: [&(dyn tokio_postgres::types::ToSql + Sync); 7] = [
                &app,
                &delivery.id,
                &attempt.status.map(i32::from),
                &latency(attempt),
                &error,
                &retry_at,
                &self.window_secs,
            ];
            self.db.query(sql, &params).await?;
        }
        Ok(())
    }
}

/// When to try `attempt` again (the `attempts`-th): `None` when it is not worth it (a 4xx other
/// than 429, a redirect). Exponential from `FIRST_BACKOFF`, with jitter (half to all of the
/// delay, so that the retries of many deliveries spread out), or the answer's `Retry-After`.
pub fn retry_delay(attempt: &Attempt, attempts: i32) -> Option<chrono::Duration> {
    if !attempt.retryable() {
        return None;
    }
    let delay = match attempt.retry_after {
        Some(wait) => wait.min(MAX_BACKOFF),
        None => {
            let exponential = FIRST_BACKOFF.saturating_mul(1 << attempts.clamp(1, 20).saturating_sub(1));
            let full = exponential.min(MAX_BACKOFF);
            full / 2 + full.mul_f64(jitter() / 2.0)
        }
    };
    chrono::Duration::from_std(delay).ok()
}

/// A random number in [0, 1).
fn jitter() -> f64 {
    let mut bytes = [0u8; 4];
    getrandom::getrandom(&mut bytes).expect("the operating system's random source works");
    f64::from(u32::from_le_bytes(bytes)) / (f64::from(u32::MAX) + 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_honours_retry_after() {
        let failed = Attempt::default();
        for attempts in 1..=10 {
            let delay = retry_delay(&failed, attempts).unwrap().to_std().unwrap();
            let full = FIRST_BACKOFF * (1 << (attempts - 1));
            assert!(delay >= full / 2 && delay <= full, "{attempts}: {delay:?}");
        }
        assert!(retry_delay(&failed, 40).unwrap().to_std().unwrap() <= MAX_BACKOFF);
        let limited = Attempt {
            status: Some(429),
            retry_after: Some(Duration::from_secs(7)),
            ..Attempt::default()
        };
        assert_eq!(retry_delay(&limited, 1), chrono::Duration::try_seconds(7));
        let refused = Attempt {
            status: Some(404),
            ..Attempt::default()
        };
        assert_eq!(retry_delay(&refused, 1), None);
    }
}
