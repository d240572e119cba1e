//! The `Idempotency-Key` header of every POST: a retry with the same key gets the original answer
//! and creates nothing; the same key for a different request is refused (422); a retry while
//! the first request still runs gets 409. This module reads the header into a key; claiming it
//! and replaying are `ops`'s, freeing it after a failed creation is `write::intake`'s. Results are
//! recorded by the creation statements themselves, in the creating transaction and only under
//! the claim this request made, so a key never points at a creation that did not happen, and a
//! claim taken over can commit nothing.
//!
//! A replay of `POST /api/applications` returns the application's token to whoever sends the key
//! again, on an endpoint with no other authentication: there the key must be a random (version 4)
//! UUID, as hard to guess as the token itself, and it is stored only as a SHA-256 digest, so the
//! table holds nothing that would let anyone replay it.

use sha2::{Digest, Sha256};

use super::input::BadRequest;
use crate::store::idempotency::IdemKey;

/// Longest accepted key.
pub const MAX_KEY_LEN: usize = 255;
/// Name of the header.
pub const HEADER: &str = "Idempotency-Key";

/// The key of a request from its header, its scope (method and path), the application it
/// addresses (`None`: it creates one, and then the key must be a random UUID: see the module's
/// documentation) and what it asks for.
pub fn key(
    header: Option<String>,
    scope: String,
    application: Option<uuid::Uuid>,
    request: &[&str],
) -> Result<Option<IdemKey>, BadRequest> {
    let Some(key) = header else { return Ok(None) };
    if key.is_empty() || key.len() > MAX_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(BadRequest {
            field: HEADER,
            detail: format!("`{HEADER}` must be 1–{MAX_KEY_LEN} visible ASCII characters (a UUID is a good choice)"),
        });
    }
    let key = match application {
        Some(_) => key,
        None => {
            let random = uuid::Uuid::try_parse(&key).is_ok_and(|u| u.get_version_num() == 4) && key.len() == 36;
            if !random {
                return Err(BadRequest {
                    field: HEADER,
                    detail: format!(
                        "on this endpoint `{HEADER}` must be a random (version 4) UUID such as \
                         `3f0e8c52-7a0b-4c1e-9d4f-2b6a1e5c7d90`: a retry returns the application's token, \
                         so the key must be as hard to guess as the token"
                    ),
                });
            }
            // Stored as a digest: the key is as good as a token for a minute's replays.
            format!("sha256:{:x}", Sha256::digest(key.to_ascii_lowercase().as_bytes()))
        }
    };
    let mut digest = Sha256::new();
    for part in request {
        digest.update(part.as_bytes());
        digest.update([0]);
    }
    Ok(Some(IdemKey {
        scope,
        key,
        hash: digest.finalize().to_vec(),
        claim: uuid::Uuid::new_v4(),
        application,
    }))
}
