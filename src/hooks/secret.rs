//! Signing secrets and signatures, as the Standard Webhooks specification has them: a secret is
//! `whsec_` and the base64 of random bytes; a signature is `v1,` and the base64 of the
//! HMAC-SHA256, keyed with the secret's bytes, of `{webhook-id}.{webhook-timestamp}.{body}`.

use base64::{engine::general_purpose::STANDARD, Engine};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// What every secret starts with.
pub const PREFIX: &str = "whsec_";

/// A new secret: 32 bytes from the operating system's random source.
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).expect("the operating system's random source works");
    format!("{PREFIX}{}", STANDARD.encode(bytes))
}

/// The `v1,` signature of one delivery with `secret` (a secret this module generated).
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    let key = secret
        .strip_prefix(PREFIX)
        .and_then(|b64| STANDARD.decode(b64).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec());
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes keys of any length");
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The `webhook-signature` header: one signature per secret, space-separated (the current
/// secret's and, for 24 hours after a rotation, the previous one's).
pub fn header(secrets: &[&str], id: &str, timestamp: i64, body: &[u8]) -> String {
    let signatures: Vec<String> = secrets.iter().map(|s| sign(s, id, timestamp, body)).collect();
    signatures.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_as_the_standard_webhooks_reference() {
        // The test vector of the Standard Webhooks reference libraries.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        let signature = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn secrets_are_random_and_long_enough() {
        let (a, b) = (generate(), generate());
        assert_ne!(a, b);
        let bytes = STANDARD.decode(a.strip_prefix(PREFIX).unwrap()).unwrap();
        assert_eq!(bytes.len(), 32);
        assert_eq!(header(&[&a, &b], "x", 1, b"{}").split(' ').count(), 2);
    }
}
