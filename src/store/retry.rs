//! Sending an idempotent statement again after a transient failure.

use std::time::Duration;

use super::DbResult;

/// Runs an idempotent statement (`run`) up to `attempts` times while it fails for a transient
/// reason (a broken connection, a timeout): sending it again cannot do anything twice.
pub(crate) async fn retry_idempotent<T, F, Fut>(attempts: u32, mut run: F) -> DbResult<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = DbResult<T>>,
{
    let mut attempt = 1;
    loop {
        match run().await {
            Err(e) if e.is_unavailable() && attempt < attempts => {
                tracing::debug!(error = %e, attempt, "statement failed for a transient reason; sending it again");
                tokio::time::sleep(Duration::from_millis(10 << attempt.min(6))).await;
                attempt += 1;
            }
            result => return result,
        }
    }
}
