//! The one LISTEN connection per process, outside the pool: turns NOTIFYs on the jobs channel
//! into worker wake-ups and live events, and reconnects on its own after the database comes back.

use std::time::Duration;

use futures::{stream, StreamExt};
use tokio_postgres::AsyncMessage;
use tokio_util::sync::CancellationToken;

use super::Bell;
use crate::{
    db::{Db, JOBS_CHANNEL},
    live::Hub,
};

/// Listens until `cancel` fires, reconnecting with backoff.
pub async fn listen(db: Db, bell: Bell, hub: Hub, cancel: CancellationToken) {
    let mut backoff = Duration::from_millis(200);
    while !cancel.is_cancelled() {
        match listen_once(&db, &bell, &hub, &cancel).await {
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

async fn listen_once(db: &Db, bell: &Bell, hub: &Hub, cancel: &CancellationToken) -> anyhow::Result<()> {
    let (client, mut connection) = db.pg_config().connect(db.tls()).await?;
    let mut messages = stream::poll_fn(move |cx| connection.poll_message(cx));
    let listen_sql = format!("LISTEN {JOBS_CHANNEL}");
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
    bell.ring();
    hub.refresh_all();
    loop {
        tokio::select! {
            m = messages.next() => match m {
                Some(Ok(AsyncMessage::Notification(n))) => {
                    bell.ring();
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
