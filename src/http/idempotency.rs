//! The `Idempotency-Key` header of every POST: a retry with the same key gets the original answer
//! and creates nothing; the same key for a different request is refused (422); a retry while
//! the first request still runs gets 409. This module checks the header (`KeyHeader`, whose
//! schema states the rule and whose refusal, 400 `invalid_parameter`, says it in plain words)
//! and makes it a key; claiming it and replaying are `ops`'s, freeing it after a failed creation
//! is `write::intake`'s. Results are recorded by the creation statements themselves, in the
//! creating transaction and only under the claim this request made, so a key never points at a
//! creation that did not happen, and a claim taken over can commit nothing.
//!
//! A replay of `POST /api/applications` returns the application's token to whoever sends the key
//! again, on an endpoint with no other authentication: there the key must be a random (version 4)
//! UUID, as hard to guess as the token itself, and it is stored only as a SHA-256 digest, so the
//! table holds nothing that would let anyone replay it.

use std::borrow::Cow;

use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef},
    types::{ParseError, ParseFromParameter, ParseResult, Type},
};
use sha2::{Digest, Sha256};

use super::params::parameter_type;
use crate::store::idempotency::IdemKey;

/// Longest accepted key.
pub const MAX_KEY_LEN: usize = 255;
/// Name of the header.
pub const HEADER: &str = "Idempotency-Key";
/// What the header accepts (after its name, in a problem's detail).
pub const ACCEPTS: &str = "must be 1–255 visible ASCII characters (a UUID is a good choice)";
/// What the header accepts where a retry returns an application's token.
pub const ACCEPTS_RANDOM: &str = "must be a random (version 4) UUID such as \
    `3f0e8c52-7a0b-4c1e-9d4f-2b6a1e5c7d90` on this endpoint: a retry returns the application's \
    token, so the key must be as hard to guess as the token";
/// A version 4 UUID, as the schema states it.
const RANDOM_UUID: &str = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-4[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$";

/// The `Idempotency-Key` header: 1–255 visible ASCII characters; with `RANDOM`, a random
/// (version 4) UUID. Its schema states the rule, and its parse error says it in plain words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyHeader<const RANDOM: bool>(pub String);

parameter_type!(
    [const RANDOM: bool]
    KeyHeader<RANDOM>,
    "string",
    MetaSchema {
        min_length: Some(if RANDOM { 36 } else { 1 }),
        max_length: Some(if RANDOM { 36 } else { MAX_KEY_LEN }),
        pattern: Some(if RANDOM { RANDOM_UUID } else { r"^[\x21-\x7E]+$" }.to_owned()),
        format: RANDOM.then_some("uuid"),
        ..MetaSchema::new("string")
    }
);

impl<const RANDOM: bool> ParseFromParameter for KeyHeader<RANDOM> {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        // White space around a header's value is not part of it (RFC 9110, 5.5).
        let key = value.trim_matches([' ', '\t']);
        let visible = !key.is_empty() && key.len() <= MAX_KEY_LEN && key.bytes().all(|b| b.is_ascii_graphic());
        if !visible {
            return Err(ParseError::custom(if RANDOM { ACCEPTS_RANDOM } else { ACCEPTS }));
        }
        let random = uuid::Uuid::try_parse(key)
            .is_ok_and(|u| u.get_version_num() == 4 && u.get_variant() == uuid::Variant::RFC4122)
            && key.len() == 36;
        if RANDOM && !random {
            return Err(ParseError::custom(ACCEPTS_RANDOM));
        }
        Ok(KeyHeader(key.to_owned()))
    }
}

/// The key of a request from its header, its scope (method and path), the application it
/// addresses (`None`: it creates one, and then the key is a random UUID, `RANDOM`: see the
/// module's documentation) and what it asks for.
pub fn key<const RANDOM: bool>(
    header: Option<&KeyHeader<RANDOM>>,
    scope: String,
    application: Option<uuid::Uuid>,
    request: &[&str],
) -> Option<IdemKey> {
    let key = &header?.0;
    let key = if RANDOM {
        // Stored as a digest: the key is as good as a token for a minute's replays.
        format!("sha256:{:x}", Sha256::digest(key.to_ascii_lowercase().as_bytes()))
    } else {
        key.clone()
    };
    let mut digest = Sha256::new();
    for part in request {
        digest.update(part.as_bytes());
        digest.update([0]);
    }
    Some(IdemKey {
        scope,
        key,
        hash: digest.finalize().to_vec(),
        claim: uuid::Uuid::new_v4(),
        application,
    })
}
