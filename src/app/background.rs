//! The background tasks of one process: the queue workers, the LISTEN connection, the announcer
//! the upkeep tasks and the webhook deliveries, started and stopped together.

use std::{sync::Arc, time::Duration};

use tokio::{sync::Notify, task::JoinHandle};
use tokio_util::sync::CancellationToken;

use crate::{hooks, http::State, live, settings::Settings, upkeep, write};

/// The background tasks of one process, stopped together.
pub struct Background {
    cancel: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl Background {
    /// Starts the listener, the announcer, `settings.workers` queue workers, the purger, the GIN
    /// pending-list cleaner, the job table's vacuum, the reconciler and the webhook deliveries.
    pub fn start(state: &State, settings: &Settings) -> Self {
        let cancel = CancellationToken::new();
        let db = state.db.clone();
        // The queue workers and their announcer are the write path: the write pool.
        // The queue workers wake this process's webhook dispatcher when a batch queued deliveries.
        let deliveries = Arc::new(Notify::new());
        let worker = write::Worker::new(db.writer(), settings.worker_batch_size, settings.job_max_attempts)
            .waking(deliveries.clone())
            .hinted(state.bell.hints());
        let mut tasks = write::spawn_workers(
            worker,
            settings.workers,
            state.bell.clone(),
            settings.worker_poll(),
            settings.worker_linger(),
            cancel.clone(),
        );
        // The listener also feeds the live streams, so it runs even without workers.
        tasks.push(tokio::spawn(live::listen(
            db.clone(),
            state.bell.workers(),
            state.hub.clone(),
            cancel.clone(),
        )));
        tasks.push(tokio::spawn(live::announcer::run(
            db.writer(),
            state.announcer.clone(),
            cancel.clone(),
        )));
        let upkeep = upkeep::Pace {
            interval: Duration::from_millis(settings.maintenance_interval_ms.max(10)),
            gin_merge_rows: settings.gin_merge_rows.max(1),
            reconcile: Duration::from_secs(settings.reconcile_interval_secs.max(1)),
        };
        tasks.push(tokio::spawn(hooks::run(
            db.clone(),
            settings.webhooks.clone(),
            deliveries,
            cancel.clone(),
        )));
        tasks.extend(upkeep::spawn(db, state.purge_wake.clone(), upkeep, &cancel));
        Background { cancel, tasks }
    }

    /// Asks every task to stop (workers finish their batch) and waits for them.
    pub async fn shutdown(self) {
        self.cancel.cancel();
        for task in self.tasks {
            let _ = task.await;
        }
    }
}
