//! The `Idempotency-Key` header of every POST: a retry with the same key gets the original answer
//! and creates nothing; the same key for a different request is refused (422); a retry while
//! the first request still runs gets 409. Results are recorded by the creation statements
//! themselves, in the creating transaction, so a key never points at a creation that did not
//! happen.

use sha2::{Digest, Sha256};

use super::problem::ApiError;
use crate::db::{
    idempotency::{Claim, IdemKey, Remembered},
    Db,
};

/// Longest accepted key.
pub const MAX_KEY_LEN: usize = 255;
/// Name of the header.
pub const HEADER: &str = "Idempotency-Key";

/// The key of a request from its header, its scope (method and path) and what it asks for.
pub fn key(header: Option<String>, scope: String, request: &[&str]) -> Result<Option<IdemKey>, ApiError> {
    let Some(key) = header else { return Ok(None) };
    if key.is_empty() || key.len() > MAX_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::BadRequest {
            field: HEADER,
            detail: format!("`{HEADER}` must be 1–{MAX_KEY_LEN} visible ASCII characters (a UUID is a good choice)"),
        });
    }
    let mut digest = Sha256::new();
    for part in request {
        digest.update(part.as_bytes());
        digest.update([0]);
    }
    Ok(Some(IdemKey {
        scope,
        key,
        hash: digest.finalize().to_vec(),
    }))
}

/// Claims the key before a creation. `Some`: an earlier request with this key succeeded, and
/// this is what it created.
pub async fn begin(db: &Db, key: Option<&IdemKey>) -> Result<Option<Remembered>, ApiError> {
    let Some(key) = key else { return Ok(None) };
    // Claims are part of a creation: the write pool, like the creation itself.
    match db.writer().claim_idempotency(key).await? {
        Claim::Owned => Ok(None),
        Claim::Replay(remembered) => Ok(Some(remembered)),
        Claim::InFlight => Err(ApiError::KeyInUse),
        Claim::Mismatch => Err(ApiError::KeyReused),
    }
}

/// After a creation: a failed one frees the key, so that a retry can run.
pub async fn finish<T>(db: &Db, key: Option<&IdemKey>, result: &Result<T, ApiError>) {
    if let (Some(key), Err(_)) = (key, result) {
        if let Err(e) = db.writer().release_idempotency(key).await {
            tracing::warn!(error = %e, "could not free an idempotency key; it frees itself in a minute");
        }
    }
}
