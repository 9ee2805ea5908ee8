//! The TMS callback's signature (SPEC): `X-TMS-Signature: t=<unix seconds>,v1=<hex
//! HMAC-SHA256(secret, "<t>.<raw body>")>`. Signing the time with the body means a captured
//! callback cannot be replayed once it is older than the tolerance. Several `v1` values may be
//! sent (a TMS rotating its secret); one must match.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use oms_domain::AppError;
use sha2::Sha256;

/// How far the signed time may be from now, either way.
pub const TOLERANCE_SECONDS: i64 = 300;

fn mac(secret: &[u8], timestamp: i64, body: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    mac
}

/// The header value a TMS sends for `body` at `timestamp`.
#[cfg(test)]
pub fn sign(secret: &[u8], timestamp: i64, body: &str) -> String {
    format!("t={timestamp},v1={}", hex::encode(mac(secret, timestamp, body).finalize().into_bytes()))
}

/// Checks the header against the raw body: missing, malformed, stale or wrong is 401.
pub fn verify(secret: &[u8], header: Option<&str>, body: &str, now: DateTime<Utc>) -> Result<(), AppError> {
    let header = header.ok_or(AppError::Unauthenticated)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => signatures.extend(hex::decode(value).ok()),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(AppError::Unauthenticated)?;
    if (now.timestamp() - timestamp).abs() > TOLERANCE_SECONDS {
        return Err(AppError::Unauthenticated);
    }
    let expected = mac(secret, timestamp, body);
    // `verify_slice` compares in constant time.
    if signatures.iter().any(|signature| expected.clone().verify_slice(signature).is_ok()) {
        Ok(())
    } else {
        Err(AppError::Unauthenticated)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    const SECRET: &[u8] = b"oms-local-tms-secret";
    const BODY: &str = r#"{"event_id":"e1"}"#;

    #[test]
    fn a_fresh_signature_of_the_exact_body_passes() {
        let now = Utc::now();
        let header = sign(SECRET, now.timestamp(), BODY);
        assert!(verify(SECRET, Some(&header), BODY, now).is_ok());
        assert!(verify(SECRET, Some(&format!("v1=00,{header}")), BODY, now).is_ok(), "one of several");
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
