//! A creation request's reply plumbing, the same for every kind of creation: its idempotency key,
//! its deadline and the channel its caller waits on.

use tokio::{sync::oneshot, time::Instant};

use crate::store::{idempotency::IdemKey, Db, DbError, DbResult};

/// Whom to answer about one creation, and until when it is worth sending.
pub(super) struct Pending<T> {
    key: Option<IdemKey>,
    deadline: Instant,
    reply: oneshot::Sender<DbResult<T>>,
}

impl<T> Pending<T> {
    /// A request under `key` (if any) that may be sent until `deadline`, and the answer its caller
    /// waits on (see [`Pending::wait`]).
    pub(super) fn new(key: Option<IdemKey>, deadline: Instant) -> (Self, oneshot::Receiver<DbResult<T>>) {
        let (reply, answer) = oneshot::channel();
        (Pending { key, deadline, reply }, answer)
    }

    /// The caller's side: the answer, or `ShuttingDown` when the intake dropped the request.
    pub(super) async fn wait(answer: oneshot::Receiver<DbResult<T>>) -> DbResult<T> {
        answer.await.map_err(|_| DbError::ShuttingDown)?
    }

    /// The request's idempotency key.
    pub(super) fn key(&self) -> Option<&IdemKey> {
        self.key.as_ref()
    }

    /// When the request stops being worth sending.
    pub(super) fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Answers the request with an error: nothing was created for it.
    pub(super) async fn fail(self, db: &Db, error: DbError) {
        self.respond(db, Err(error)).await;
    }

    /// Answers the request. A failed one first frees its idempotency key (nothing was created
    /// under it), so that a retry can run at once, even when the request's own handler is gone
    /// (its deadline passed while it waited here).
    pub(super) async fn respond(self, db: &Db, result: DbResult<T>) {
        if let (Err(e), Some(key)) = (&result, &self.key) {
            // A lost claim is another request's now: not ours to free.
            if !matches!(e, DbError::ClaimLost) {
                if let Err(e) = db.release_idempotency(key).await {
                    tracing::warn!(error = %e, "could not free an idempotency key; it frees itself in a minute");
                }
            }
        }
        let _ = self.reply.send(result);
    }
}
