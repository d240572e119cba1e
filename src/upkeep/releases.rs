//! The watch for earlier releases (V20): looks at once, then every maintenance interval, whether
//! an instance of a release before V20 is connected, which decides whether this process stores
//! the folded text of plain bodies (`store::releases` says why), and logs each change.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::sleep::sleep;
use crate::store::Db;

/// Looks now and every `interval` until `cancel` fires.
pub async fn run_release_watch(db: Db, interval: Duration, cancel: CancellationToken) {
    let mut last = None;
    loop {
        match db.look_for_earlier_releases().await {
            Ok(none) if last != Some(none) => {
                last = Some(none);
                match none {
                    true => tracing::info!("no release before V20 connected: plain bodies' folded text not stored"),
                    false => tracing::info!("a release before V20 is connected: every folded text stored"),
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "looking for earlier releases failed; will retry"),
        }
        if !sleep(interval, &cancel).await {
            return;
        }
    }
}
