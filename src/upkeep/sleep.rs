//! Sleeping that ends early when the task is cancelled.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// Sleeps for `d`; false when cancelled first.
pub(super) async fn sleep(d: Duration, cancel: &CancellationToken) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(d) => true,
        _ = cancel.cancelled() => false,
    }
}
