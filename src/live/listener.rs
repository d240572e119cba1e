//! The one LISTEN connection per process, outside the pool: turns NOTIFYs on the channel into
//! worker wake-ups (it rings the workers' `Notify`) and live events, and reconnects on its own after the database comes back.

use std::{sync::Arc, time::Duration};

use futures::{stream, StreamExt};
use tokio_postgres::AsyncMessage;
use tokio_util::sync::CancellationToken;

use tokio::sync::Notify;

use super::{event::CHANNEL, hub::Hub};
use crate::store::Db;

/// Listens until `cancel` fires, reconnecting with backoff.
pub async fn listen(db: Db, workers: Arc<Notify>, hub: Hub, cancel: CancellationToken) {
    let mut backoff = Duration::from_millis(200);
    while !cancel.is_cancelled() {
        match listen_once(&db, &workers, &hub, &cancel).await {
            Ok(()) => return,
            Err(e) => tracing::warn!(error = format!("{e:#}"), "job listener disconnected; reconnecting"),
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = cancel.cancelled() => return,
        }
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

async fn listen_once(db: &Db, workers: &Notify, hub: &Hub, cancel: &CancellationToken) -> anyhow::Result<()> {
    let (client, mut connection) = db.pg_config().connect(db.tls()).await?;
    let mut messages = stream::poll_fn(move |cx| connection.poll_message(cx));
    // The one statement of the live layer built with `format!`: LISTEN takes an identifier, not
    // a parameter, and `CHANNEL` is a constant of ours.
    let listen_sql = format!("LISTEN {CHANNEL}");
    let listen = client.batch_execute(&listen_sql);
    tokio::pin!(listen);
    // The connection must be driven while LISTEN runs.
    loop {
        tokio::select! {
            r = &mut listen => { r?; break; }
            m = messages.next() => match m {
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
                None => anyhow::bail!("connection closed"),
            },
        }
    }
    tracing::debug!("listening for new jobs");
    // Anything enqueued or changed while we were not listening.
    workers.notify_waiters();
    hub.refresh_all();
    loop {
        tokio::select! {
            m = messages.next() => match m {
                Some(Ok(AsyncMessage::Notification(n))) => {
                    workers.notify_waiters();
                    hub.dispatch(n.payload());
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
                None => anyhow::bail!("connection closed"),
            },
            _ = cancel.cancelled() => return Ok(()),
        }
    }
}
