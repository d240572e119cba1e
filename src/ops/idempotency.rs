//! The one path of every creation with an `Idempotency-Key`: claim the key, replay what an
//! earlier request with it created, or create (the creation statement records its result under
//! the claim, and the intake frees the key when the creation fails: see `write::intake`).

use std::future::Future;

use super::error::{CreateError, KeyConflict};
use crate::store::{
    idempotency::{Claim, IdemKey, Remembered},
    Db, DbError, DbResult, Missing,
};

/// What a creation answers.
#[derive(Debug, Clone)]
pub struct Created<T> {
    /// The created resource (for a replay, as the earlier request created it).
    pub value: T,
    /// True when this answers a retry with a used key: nothing new was created.
    pub replayed: bool,
}

/// Claims `key` (if any), then either rebuilds the earlier request's result with `replay` or
/// runs `create` with the key.
pub(super) async fn create<T, E, Fut>(
    db: &Db,
    key: Option<IdemKey>,
    replay: impl FnOnce(Remembered) -> T,
    create: impl FnOnce(Option<IdemKey>) -> Fut,
) -> Result<Created<T>, E>
where
    Fut: Future<Output = DbResult<T>>,
    E: From<CreateError> + From<DbError>,
{
    if let Some(key) = &key {
        // Claims are part of a creation: the write pool, like the creation itself.
        let earlier = match db.writer().claim_idempotency(key).await? {
            Claim::Owned => None,
            Claim::Replay(remembered) => Some(remembered),
            Claim::InFlight => return Err(CreateError::Key(KeyConflict::InUse).into()),
            Claim::Mismatch => return Err(CreateError::Key(KeyConflict::Reused).into()),
            // A deleted application answers 404 to everything, replays included.
            Claim::Gone => return Err(CreateError::NotFound(Missing::Application).into()),
        };
        if let Some(earlier) = earlier {
            return Ok(Created {
                value: replay(earlier),
                replayed: true,
            });
        }
    }
    let value = create(key).await?;
    Ok(Created { value, replayed: false })
}
