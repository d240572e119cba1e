//! The batch runner, the same for every kind of creation: collects queued requests into batches,
//! runs up to `in_flight` of them at once, sends each as one statement (again after a transient
//! failure, request by request after any other), and answers every request from the outcome.

use std::{future::Future, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use tokio::{
    sync::{mpsc, Notify, Semaphore},
    time::Instant,
};
use uuid::Uuid;

use super::{
    config::IntakeConfig,
    fence::{run_fenced, Recorded},
    pending::Pending,
};
use crate::{
    store::{Db, DbError, DbResult},
    write::bell::Bell,
};

/// One kind of creation, as the batch runner needs it.
pub(super) trait Creation: Sized + Send + Sync + 'static {
    /// What a request of this kind creates.
    type Created: Send + 'static;
    /// The application the request creates in (its token; `None`: it creates one).
    fn application(&self) -> Option<Uuid>;
    /// Sends one request alone (a batch of one: an idle or lightly loaded server), recorded under
    /// `id`. `app`: on Citus, the application every request of the batch is for (its id; 0 for
    /// application creations), whose node runs it (`run_per_application`).
    fn one<'a>(
        db: &'a Db,
        request: &'a Request<Self>,
        id: Uuid,
        app: Option<i64>,
    ) -> impl Future<Output = DbResult<Recorded>> + Send + 'a;
    /// Sends a batch of several requests as one statement recorded under `id`. By default the
    /// batch's first request alone: for the kinds never coalesced (applications, which
    /// `Intake::create_application` runs one at a time).
    fn many<'a>(
        db: &'a Db,
        batch: &'a [Request<Self>],
        id: Uuid,
        app: Option<i64>,
    ) -> impl Future<Output = DbResult<Recorded>> + Send + 'a {
        Self::one(db, &batch[0], id, app)
    }
    /// What the request created, from what its statement recorded for it (`number`, `at`).
    fn created(
        self,
        db: &Db,
        number: Option<i64>,
        at: DateTime<Utc>,
    ) -> impl Future<Output = DbResult<Self::Created>> + Send;
}

/// A creation waiting for its batch: what to create, and whom to answer.
pub(super) struct Request<C: Creation> {
    pub(super) what: C,
    pub(super) pending: Pending<C::Created>,
}

impl<C: Creation> Request<C> {
    /// Answers the request from what its statement recorded for it.
    async fn answer(self, db: &Db, number: Option<i64>, at: DateTime<Utc>) {
        let result = self.what.created(db, number, at).await;
        self.pending.respond(db, result).await;
    }
}

/// Queues a request, refusing it at once when the queue is full.
pub(super) async fn submit<C: Creation>(db: &Db, queue: &mpsc::Sender<Request<C>>, request: Request<C>) {
    let (request, error) = match queue.try_send(request) {
        Ok(()) => return,
        Err(mpsc::error::TrySendError::Full(request)) => (request, DbError::Busy),
        Err(mpsc::error::TrySendError::Closed(request)) => (request, DbError::ShuttingDown),
    };
    request.pending.fail(db, error).await;
}

/// Collects requests into batches and runs up to `in_flight` batches at once. A permit is taken
/// before waiting for the first request, so on an idle server that request runs immediately;
/// under load, requests pile up while the batch in flight commits and go out together next.
///
/// A batch goes out beside another still in flight only when it is full (`max_batch`): until
/// then it waits for one in flight to finish, gathering what arrives meanwhile. Fewer, larger
/// batches cost the database less per request, and batches of one chat (or one application's
/// chats) would only queue on its counter's lock in the database anyway: on 2 cores, one chat's
/// creations at 16 clients went from 1.15× to 2.41× pgbench's hot-chat rate and spread ones from
/// 0.31× to 0.38× of its spread rate (BENCHMARKS.md, "Issue 14: one batch in flight until full").
/// More batches in flight, up to `in_flight`, carry loads that fill batches.
pub(super) async fn coalesce<C: Creation>(
    kind: &'static str,
    mut rx: mpsc::Receiver<Request<C>>,
    db: Db,
    bell: Bell,
    config: IntakeConfig,
) {
    let in_flight = config.in_flight.max(1);
    let slots = Arc::new(Semaphore::new(in_flight));
    let finished = Arc::new(Notify::new());
    let max_batch = config.max_batch.max(1);
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let Some(first) = rx.recv().await else { return };
        let mut batch = vec![first];
        fill(&mut rx, &mut batch, max_batch);
        // Others in flight (this permit aside): wait for one to finish unless the batch is full.
        while batch.len() < max_batch && slots.available_permits() + 1 < in_flight {
            tokio::select! {
                () = finished.notified() => {}
                request = rx.recv() => match request {
                    Some(request) => batch.push(request),
                    None => break,
                },
            }
            fill(&mut rx, &mut batch, max_batch);
        }
        crate::metrics::metrics().intake_batch(kind, batch.len());
        let (db, bell, finished) = (db.clone(), bell.clone(), finished.clone());
        tokio::spawn(async move {
            let apps = run(&db, batch).await;
            bell.announce_for(apps);
            drop(permit);
            finished.notify_one();
        });
    }
}

/// Adds to `batch` the requests already queued, up to `max` in all.
fn fill<C: Creation>(rx: &mut mpsc::Receiver<Request<C>>, batch: &mut Vec<Request<C>>, max: usize) {
    while batch.len() < max {
        match rx.try_recv() {
            Ok(request) => batch.push(request),
            Err(_) => break,
        }
    }
}

/// Attempts at a batch that fails for a transient reason (each one resolved, so none can have
/// committed when the next goes out) before its requests are answered with the error.
const TRANSIENT_ATTEMPTS: u32 = 4;

/// Runs a batch to its answers (on Citus, a batch per application). Returns the applications
/// whose batches went out on Citus (their workers' hints), none on one node.
pub(super) async fn run<C: Creation>(db: &Db, batch: Vec<Request<C>>) -> Vec<i64> {
    if db.on_citus() {
        return run_per_application(db, batch).await;
    }
    run_on(db, batch, None).await;
    Vec::new()
}

/// On Citus, `batch` goes out as one batch per application: each runs and commits on the node
/// that holds its application (V21's functions, delegated there), so no creation needs a
/// transaction across nodes; the applications' batches go out side by side. Application
/// creations go under 0 (as V21 keeps their keys); a request for a token no application has is
/// answered as the statement would answer it. The tokens not in the id cache are looked up side
/// by side.
async fn run_per_application<C: Creation>(db: &Db, batch: Vec<Request<C>>) -> Vec<i64> {
    let tokens: std::collections::BTreeSet<Uuid> = batch.iter().filter_map(|r| r.what.application()).collect();
    let ids: std::collections::HashMap<Uuid, Result<Option<i64>, Arc<DbError>>> = futures::future::join_all(
        tokens
            .into_iter()
            .map(|token| async move { (token, db.app_id(token).await.map_err(Arc::new)) }),
    )
    .await
    .into_iter()
    .collect();
    let mut groups: std::collections::BTreeMap<i64, Vec<Request<C>>> = Default::default();
    for request in batch {
        let app = match request.what.application() {
            None => Ok(Some(0)),
            Some(token) => ids[&token].clone(),
        };
        match app {
            Ok(Some(app)) => groups.entry(app).or_default().push(request),
            Ok(None) => request.answer(db, None, Utc::now()).await,
            Err(e) => request.pending.fail(db, DbError::Shared(e)).await,
        }
    }
    // Application creations (under 0) queue no job.
    let apps = groups.keys().copied().filter(|&app| app != 0).collect();
    futures::future::join_all(groups.into_iter().map(|(app, group)| run_on(db, group, Some(app)))).await;
    apps
}

/// Runs a batch to its answers (on Citus, of application `app`); if it fails as a whole for a
/// reason that is not transient, runs its requests one by one, so that one request cannot fail
/// the others.
async fn run_on<C: Creation>(db: &Db, batch: Vec<Request<C>>, app: Option<i64>) {
    match send(db, batch, app).await {
        // (Not when the outcome is unknown: the batch may have committed.)
        (batch, Err(e)) if batch.len() > 1 && !e.is_unavailable() && !matches!(e, DbError::OutcomeUnknown) => {
            tracing::warn!(error = %e, requests = batch.len(), "creation batch failed; running its requests one by one");
            for request in batch {
                let (alone, result) = send(db, vec![request], app).await;
                finish(db, alone, result).await;
            }
        }
        (batch, result) => finish(db, batch, result).await,
    }
}

/// Sends a batch until it commits or fails for good: again after a transient failure (a few
/// times), each time without the requests whose deadline passed (they are answered
/// `Expired`). Returns the requests still to answer and the outcome.
async fn send<C: Creation>(
    db: &Db,
    mut batch: Vec<Request<C>>,
    app: Option<i64>,
) -> (Vec<Request<C>>, DbResult<Recorded>) {
    let mut attempt = 1;
    loop {
        let now = Instant::now();
        let (live, expired): (Vec<_>, Vec<_>) = batch.into_iter().partition(|r| r.pending.deadline() > now);
        for request in expired {
            request.pending.fail(db, DbError::Expired).await;
        }
        batch = live;
        if batch.is_empty() {
            return (batch, Err(DbError::Expired));
        }
        match run_fenced(db, app, |id| statement(db, &batch, id, app)).await {
            Err(e) if e.is_unavailable() && attempt < TRANSIENT_ATTEMPTS => {
                tracing::warn!(error = %e, requests = batch.len(), attempt, "creation batch not committed; sending it again");
                tokio::time::sleep(Duration::from_millis(25 << attempt)).await;
                attempt += 1;
            }
            result => return (batch, result),
        }
    }
}

/// Sends `batch` as one statement recorded under `id`: the one-request statement for a batch of
/// one (the same effect in a third less database time), the group-commit one otherwise.
async fn statement<C: Creation>(db: &Db, batch: &[Request<C>], id: Uuid, app: Option<i64>) -> DbResult<Recorded> {
    match batch {
        [one] => C::one(db, one, id, app).await,
        all => C::many(db, all, id, app).await,
    }
}

/// Answers every request of a batch from its outcome.
async fn finish<C: Creation>(db: &Db, batch: Vec<Request<C>>, result: DbResult<Recorded>) {
    match result {
        Ok(recorded) => {
            for (request, number) in batch.into_iter().zip(recorded.numbers) {
                request.answer(db, number, recorded.at).await;
            }
        }
        Err(e) => {
            let shared = Arc::new(e);
            for request in batch {
                request.pending.fail(db, DbError::Shared(shared.clone())).await;
            }
        }
    }
}
