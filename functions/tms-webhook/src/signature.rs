//! The TMS callback's signature (SPEC): `X-TMS-Signature: t=<unix seconds>,v1=<hex
//! HMAC-SHA256(secret, "<t>.<raw body>")>`, and with a tenant's key `k=<key id>` as well, naming
//! the key the TMS signed with (`crate::keys`). Signing the time with the body means a captured
//! callback cannot be replayed once it is older than the tolerance. Several `v1` values may be
//! sent (a TMS rotating its secret); one must match. Every failure is 401 and says nothing more.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use oms_domain::AppError;
use sha2::Sha256;

/// How far the signed time may be from now, either way.
pub const TOLERANCE_SECONDS: i64 = 300;

/// A key id is an operator's label (`ghn-demo-2026-11`), never long.
const MAX_KEY_ID: usize = 128;

fn mac(secret: &[u8], timestamp: i64, body: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    mac
}

/// The header value a TMS sends for `body` at `timestamp` with the deployment-wide secret.
#[cfg(test)]
pub fn sign(secret: &[u8], timestamp: i64, body: &str) -> String {
    format!("t={timestamp},v1={}", hex::encode(mac(secret, timestamp, body).finalize().into_bytes()))
}

/// The header value a TMS sends for `body` at `timestamp` with the tenant key `key_id`.
#[cfg(test)]
pub fn sign_with_key(key_id: &str, secret: &[u8], timestamp: i64, body: &str) -> String {
    format!("k={key_id},{}", sign(secret, timestamp, body))
}

/// A parsed `X-TMS-Signature` whose time is within the tolerance: what remains is to check a
/// `v1` against the secret of the key it names ([`SignatureHeader::key_id`]).
#[derive(Debug)]
pub struct SignatureHeader {
    timestamp: i64,
    key_id: Option<String>,
    signatures: Vec<Vec<u8>>,
}

impl SignatureHeader {
    /// Parses the header and checks its time, before any key is looked up, so a stale or
    /// malformed request costs no key lookup. Missing, malformed or stale is 401.
    pub fn parse(header: Option<&str>, now: DateTime<Utc>) -> Result<Self, AppError> {
        let header = header.ok_or(AppError::Unauthenticated)?;
        let mut timestamp = None;
        let mut key_id = None;
        let mut signatures = Vec::new();
        for part in header.split(',') {
            match part.trim().split_once('=') {
                Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
                Some(("v1", value)) => signatures.extend(hex::decode(value).ok()),
                // Two key ids would leave it open which one the signature is checked with.
                Some(("k", _)) if key_id.is_some() => return Err(AppError::Unauthenticated),
                Some(("k", value)) if !value.is_empty() && value.len() <= MAX_KEY_ID => key_id = Some(value.to_owned()),
                Some(("k", _)) => return Err(AppError::Unauthenticated),
                _ => {}
            }
        }
        let timestamp = timestamp.ok_or(AppError::Unauthenticated)?;
        if (now.timestamp() - timestamp).abs() > TOLERANCE_SECONDS {
            return Err(AppError::Unauthenticated);
        }
        Ok(Self { timestamp, key_id, signatures })
    }

    /// The tenant key the TMS says it signed with (`k=`); `None` for the deployment-wide secret.
    pub fn key_id(&self) -> Option<&str> {
        self.key_id.as_deref()
    }

    /// Whether one of the `v1` values is the HMAC of the raw body under `secret`; else 401.
    pub fn verify(&self, secret: &[u8], body: &str) -> Result<(), AppError> {
        let expected = mac(secret, self.timestamp, body);
        // `verify_slice` compares in constant time.
        if self.signatures.iter().any(|signature| expected.clone().verify_slice(signature).is_ok()) {
            Ok(())
        } else {
            Err(AppError::Unauthenticated)
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    const SECRET: &[u8] = b"oms-local-tms-secret";
    const BODY: &str = r#"{"event_id":"e1"}"#;

    fn verify(secret: &[u8], header: Option<&str>, body: &str, now: DateTime<Utc>) -> Result<(), AppError> {
        SignatureHeader::parse(header, now)?.verify(secret, body)
    }

    #[test]
    fn a_fresh_signature_of_the_exact_body_passes() {
        let now = Utc::now();
        let header = sign(SECRET, now.timestamp(), BODY);
        assert!(verify(SECRET, Some(&header), BODY, now).is_ok());
        assert!(verify(SECRET, Some(&format!("v1=00,{header}")), BODY, now).is_ok(), "one of several");
        assert_eq!(SignatureHeader::parse(Some(&header), now).unwrap().key_id(), None);
    }

    #[test]
    fn a_key_id_is_read_wherever_it_stands_and_the_signature_is_the_same_hmac() {
        let now = Utc::now();
        let header = sign_with_key("ghn-demo-2", SECRET, now.timestamp(), BODY);
        let parsed = SignatureHeader::parse(Some(&header), now).unwrap();
        assert_eq!(parsed.key_id(), Some("ghn-demo-2"));
        assert!(parsed.verify(SECRET, BODY).is_ok());
        let moved = format!("{} , k=ghn-demo-2", sign(SECRET, now.timestamp(), BODY));
        assert_eq!(SignatureHeader::parse(Some(&moved), now).unwrap().key_id(), Some("ghn-demo-2"));
    }

    #[test]
    fn an_empty_repeated_or_overlong_key_id_is_unauthenticated() {
        let now = Utc::now();
        let signed = sign(SECRET, now.timestamp(), BODY);
        let long = "k".repeat(MAX_KEY_ID + 1);
        for header in [format!("k=,{signed}"), format!("k=a,k=b,{signed}"), format!("k={long},{signed}")] {
            assert!(matches!(SignatureHeader::parse(Some(&header), now), Err(AppError::Unauthenticated)), "{header}");
        }
    }

    #[test]
    fn anything_else_is_unauthenticated() {
        let now = Utc::now();
        let fresh = sign(SECRET, now.timestamp(), BODY);
        let old = sign(SECRET, (now - Duration::minutes(10)).timestamp(), BODY);
        let early = sign(SECRET, (now + Duration::minutes(10)).timestamp(), BODY);
        let cases = [
            (None, BODY),
            (Some("nonsense"), BODY),
            (Some(fresh.as_str()), r#"{"event_id":"e2"}"#),
            (Some(old.as_str()), BODY),
            (Some(early.as_str()), BODY),
        ];
        for (header, body) in cases {
            assert!(matches!(verify(SECRET, header, body, now), Err(AppError::Unauthenticated)), "{header:?}");
        }
        let other_secret = sign(b"another", now.timestamp(), BODY);
        assert!(verify(SECRET, Some(&other_secret), BODY, now).is_err());
    }
}
