//! Who may sign a TMS callback, and which tenant's shipments the signature reaches.
//!
//! The header tells the two kinds of signer apart: `k=<key id>` names a tenant key; without `k=`
//! the deployment-wide secret (`OMS_TMS_WEBHOOK_SECRET`, the SPEC's one-key deployment) is used.
//! Neither wins over the other: each header is checked against the one kind it names, so both can
//! be configured while carriers move to tenant keys. A tenant key reaches only its tenant's
//! shipments; the deployment-wide secret reaches any (scoped by the body's `tenant_id` if sent).
//!
//! The tenant keys are one Secrets Manager secret (`OMS_TMS_KEYS_SECRET_ARN`) holding a key set:
//!
//! ```json
//! {"keys": [{"id": "ghn-demo-2", "tenant_id": "demo", "secret": "…",
//!            "previous": {"id": "ghn-demo-1", "secret": "…"}, "rotated_at": "2026-11-29T10:00:00Z"}]}
//! ```
//!
//! Invariants:
//! - A key id names one secret of one tenant: ids are unique across the set, current and previous
//!   alike, and a rotation brings a new id. A document that breaks this, or any other rule below,
//!   is refused whole (the keys already cached keep serving).
//! - A previous key is accepted until `rotated_at` + the grace period, then refused (401) like an
//!   unknown one; `rotated_at` is required with `previous`.
//! - The set is cached per function instance for a TTL, so a rotation is seen without a
//!   redeploy; an id the cache does not know forces one reload (a newly registered key works at
//!   once), at most once per [`MIN_RELOAD_INTERVAL`] (or the TTL if shorter), so unknown ids cannot
//!   turn into a flood of Secrets Manager reads.
//! - When a reload fails, the keys already cached keep serving (logged); with none cached the
//!   answer is 503, so the TMS retries and no update is lost.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use oms_domain::{AppError, TenantId};
use serde::Deserialize;

use crate::signature::SignatureHeader;

/// The shortest wait between two reads of the key set that the cache's TTL did not ask for.
pub const MIN_RELOAD_INTERVAL: Duration = Duration::seconds(10);

/// The shortest secret a key may have: an HMAC key guessable by brute force protects nothing.
const MIN_SECRET_BYTES: usize = 16;

/// Where the key set document comes from (Secrets Manager; a fake in tests).
pub trait KeySource: Send + Sync {
    /// The key set document's current text.
    fn load(&self) -> impl Future<Output = Result<String, AppError>> + Send;
}

impl KeySource for oms_aws::edge::secrets::SecretString {
    fn load(&self) -> impl Future<Output = Result<String, AppError>> + Send {
        self.current()
    }
}

#[derive(Deserialize)]
struct KeySetDocument {
    keys: Vec<KeyEntry>,
}

#[derive(Deserialize)]
struct KeyEntry {
    id: String,
    tenant_id: TenantId,
    secret: String,
    previous: Option<PreviousKey>,
    rotated_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct PreviousKey {
    id: String,
    secret: String,
}

/// One key's secret and the tenant it reaches.
#[derive(Clone)]
pub struct SigningKey {
    tenant_id: TenantId,
    secret: Vec<u8>,
    /// Set for a previous key: the end of its grace period.
    valid_until: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("tenant_id", &self.tenant_id)
            .field("valid_until", &self.valid_until)
            .finish()
    }
}

/// The key set, by id.
#[derive(Debug, Default)]
pub struct KeySet {
    keys: HashMap<String, SigningKey>,
}

fn bad_key_set(message: String) -> AppError {
    AppError::Unexpected(format!("TMS signing key set: {message}").into())
}

impl KeySet {
    /// Reads the document. Error messages never quote a value: they end up in logs.
    pub fn parse(text: &str, grace: Duration) -> Result<Self, AppError> {
        let document: KeySetDocument = serde_json::from_str(text).map_err(|e| {
            bad_key_set(format!("not the expected JSON (line {}, column {}, {:?})", e.line(), e.column(), e.classify()))
        })?;
        let mut set = Self::default();
        for entry in document.keys {
            let previous = match (entry.previous, entry.rotated_at) {
                (Some(previous), Some(rotated_at)) => Some((previous, rotated_at + grace)),
                (Some(_), None) => {
                    return Err(bad_key_set(format!("key {} has a previous key but no rotated_at", entry.id)));
                }
                (None, _) => None,
            };
            set.insert(
                entry.id,
                SigningKey { tenant_id: entry.tenant_id.clone(), secret: entry.secret.into_bytes(), valid_until: None },
            )?;
            if let Some((previous, valid_until)) = previous {
                let key = SigningKey {
                    tenant_id: entry.tenant_id,
                    secret: previous.secret.into_bytes(),
                    valid_until: Some(valid_until),
                };
                set.insert(previous.id, key)?;
            }
        }
        Ok(set)
    }

    fn insert(&mut self, id: String, key: SigningKey) -> Result<(), AppError> {
        if id.is_empty() || id.contains(',') || id.contains('=') {
            return Err(bad_key_set(format!("key id {id:?} must be non-empty, without ',' or '='")));
        }
        if key.secret.len() < MIN_SECRET_BYTES {
            return Err(bad_key_set(format!("the secret of key {id} is shorter than {MIN_SECRET_BYTES} bytes")));
        }
        if self.keys.contains_key(&id) {
            return Err(bad_key_set(format!("key id {id} appears twice")));
        }
        self.keys.insert(id, key);
        Ok(())
    }

    fn contains(&self, id: &str) -> bool {
        self.keys.contains_key(id)
    }

    /// The key `id` if it is accepted at `now`: known, and not a previous key past its grace.
    fn accepted(&self, id: &str, now: DateTime<Utc>) -> Option<&SigningKey> {
        self.keys.get(id).filter(|key| key.valid_until.is_none_or(|until| now < until))
    }
}

#[derive(Default)]
struct Cached {
    keys: Option<Arc<KeySet>>,
    loaded_at: Option<DateTime<Utc>>,
    tried_at: Option<DateTime<Utc>>,
}

/// The key set, read from its source at most once per TTL, plus the rate-limited reloads an
/// unknown id forces (module docs).
pub struct KeyCache<S> {
    source: S,
    ttl: Duration,
    grace: Duration,
    state: Mutex<Cached>,
}

impl<S: KeySource> KeyCache<S> {
    /// A cache of `source` kept for `ttl`; previous keys accepted for `grace` after their rotation.
    pub fn new(source: S, ttl: Duration, grace: Duration) -> Self {
        Self { source, ttl, grace, state: Mutex::new(Cached::default()) }
    }

    fn min_interval(&self) -> Duration {
        self.ttl.min(MIN_RELOAD_INTERVAL)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, Cached> {
        // Nothing panics while holding the lock; a poisoned one still holds consistent data.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn may_reload(&self, now: DateTime<Utc>) -> bool {
        self.state().tried_at.is_none_or(|tried| now - tried >= self.min_interval())
    }

    /// The key `id` if it is accepted at `now`; `None` (a 401) if unknown or past its grace.
    pub async fn key(&self, id: &str, now: DateTime<Utc>) -> Result<Option<SigningKey>, AppError> {
        let (cached, expired) = {
            let state = self.state();
            (state.keys.clone(), state.loaded_at.is_none_or(|at| now - at >= self.ttl))
        };
        let keys = match cached {
            None if self.may_reload(now) => self.reload(now, None).await?,
            None => return Err(AppError::Unavailable("the TMS signing keys could not be read".into())),
            Some(keys) if expired && self.may_reload(now) => self.reload(now, Some(keys)).await?,
            Some(keys) => keys,
        };
        if keys.contains(id) || !self.may_reload(now) {
            return Ok(keys.accepted(id, now).cloned());
        }
        let keys = self.reload(now, Some(keys)).await?;
        Ok(keys.accepted(id, now).cloned())
    }

    async fn reload(&self, now: DateTime<Utc>, fallback: Option<Arc<KeySet>>) -> Result<Arc<KeySet>, AppError> {
        self.state().tried_at = Some(now);
        match self.source.load().await.and_then(|text| KeySet::parse(&text, self.grace)) {
            Ok(keys) => {
                let keys = Arc::new(keys);
                let mut state = self.state();
                state.keys = Some(keys.clone());
                state.loaded_at = Some(now);
                Ok(keys)
            }
            Err(err) => match fallback {
                Some(keys) => {
                    tracing::error!(error = %err, "could not reload the TMS signing keys; the cached ones keep serving");
                    Ok(keys)
                }
                None => Err(err),
            },
        }
    }
}

/// The signers a deployment accepts: the deployment-wide secret, tenant keys, or both.
pub struct Signers<S> {
    deployment_secret: Option<Vec<u8>>,
    tenant_keys: Option<KeyCache<S>>,
}

impl<S: KeySource> Signers<S> {
    /// Either may be absent; a header naming the kind that is absent is 401.
    pub fn new(deployment_secret: Option<Vec<u8>>, tenant_keys: Option<KeyCache<S>>) -> Self {
        Self { deployment_secret, tenant_keys }
    }

    /// Checks the header against the raw body. `Some(tenant)`: signed with that tenant's key,
    /// which reaches only its shipments; `None`: the deployment-wide secret. Missing, malformed,
    /// stale, unknown, past its grace or wrong is 401.
    pub async fn authenticate(
        &self,
        header: Option<&str>,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<TenantId>, AppError> {
        let header = SignatureHeader::parse(header, now)?;
        match header.key_id() {
            None => {
                header.verify(self.deployment_secret.as_deref().ok_or(AppError::Unauthenticated)?, body)?;
                Ok(None)
            }
            Some(id) => {
                let cache = self.tenant_keys.as_ref().ok_or(AppError::Unauthenticated)?;
                let key = cache.key(id, now).await?.ok_or(AppError::Unauthenticated)?;
                header.verify(&key.secret, body)?;
                Ok(Some(key.tenant_id))
            }
        }
    }
}

#[cfg(test)]
pub mod fake {
    //! A key source for tests: a document that can be replaced, and a count of reads.

    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use oms_domain::AppError;

    use super::KeySource;

    /// Serves `document` (`None`: Secrets Manager is down) and counts the reads.
    #[derive(Default)]
    pub struct FakeSource {
        pub document: Mutex<Option<String>>,
        pub loads: AtomicUsize,
    }

    impl FakeSource {
        pub fn new(document: &serde_json::Value) -> Self {
            Self { document: Mutex::new(Some(document.to_string())), loads: AtomicUsize::new(0) }
        }

        pub fn set(&self, document: Option<&serde_json::Value>) {
            *self.document.lock().unwrap() = document.map(ToString::to_string);
        }

        pub fn loads(&self) -> usize {
            self.loads.load(Ordering::SeqCst)
        }
    }

    impl KeySource for &FakeSource {
        fn load(&self) -> impl Future<Output = Result<String, AppError>> + Send {
            self.loads.fetch_add(1, Ordering::SeqCst);
            let document = self.document.lock().unwrap().clone();
            async move { document.ok_or_else(|| AppError::Unavailable("Secrets Manager is down".into())) }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::fake::FakeSource;
    use super::*;
    use crate::signature::sign_with_key;

    const BODY: &str = r#"{"event_id":"e1"}"#;

    fn at(rfc3339: &str) -> DateTime<Utc> {
        rfc3339.parse().unwrap()
    }

    /// Tenant `demo`: key `d2`, rotated from `d1` at `rotated_at`; tenant `acme`: key `a1`.
    fn document(rotated_at: &str) -> serde_json::Value {
        json!({"keys": [
            {"id": "d2", "tenant_id": "demo", "secret": "demo-secret-two-0000",
             "previous": {"id": "d1", "secret": "demo-secret-one-0000"}, "rotated_at": rotated_at},
            {"id": "a1", "tenant_id": "acme", "secret": "acme-secret-one-0000"},
        ]})
    }

    fn tenant(of: &Option<SigningKey>) -> Option<&str> {
        of.as_ref().map(|key| key.tenant_id.as_str())
    }

    #[tokio::test]
    async fn current_and_previous_keys_reach_their_tenant_and_the_previous_one_only_within_its_grace() {
        let rotated = at("2026-11-29T10:00:00Z");
        let source = FakeSource::new(&document("2026-11-29T10:00:00Z"));
        let cache = KeyCache::new(&source, Duration::minutes(5), Duration::hours(24));
        assert_eq!(tenant(&cache.key("d2", rotated).await.unwrap()), Some("demo"));
        assert_eq!(tenant(&cache.key("a1", rotated).await.unwrap()), Some("acme"));
        let almost = rotated + Duration::hours(24) - Duration::seconds(1);
        assert_eq!(tenant(&cache.key("d1", almost).await.unwrap()), Some("demo"), "within the grace");
        let after = rotated + Duration::hours(24);
        assert!(cache.key("d1", after).await.unwrap().is_none(), "past the grace");
        assert_eq!(tenant(&cache.key("d2", after).await.unwrap()), Some("demo"), "the current key never expires");
    }

    #[tokio::test]
    async fn the_set_is_read_again_once_its_ttl_is_over() {
        let now = at("2026-11-29T10:00:00Z");
        let source = FakeSource::new(&document("2026-11-29T09:00:00Z"));
        let cache = KeyCache::new(&source, Duration::minutes(5), Duration::hours(24));
        cache.key("d2", now).await.unwrap();
        cache.key("a1", now + Duration::minutes(4)).await.unwrap();
        assert_eq!(source.loads(), 1, "cached within the TTL");
        source.set(Some(&json!({"keys": [{"id": "a2", "tenant_id": "acme", "secret": "acme-secret-two-0000"}]})));
        assert!(cache.key("a1", now + Duration::minutes(5)).await.unwrap().is_none(), "a1 was removed");
        assert_eq!(source.loads(), 2);
    }

    #[tokio::test]
    async fn an_unknown_id_forces_one_reload_at_most_once_per_interval() {
        let now = at("2026-11-29T10:00:00Z");
        let source = FakeSource::new(&document("2026-11-29T09:00:00Z"));
        let cache = KeyCache::new(&source, Duration::minutes(5), Duration::hours(24));
        cache.key("d2", now).await.unwrap();
        source.set(Some(&json!({"keys": [{"id": "n1", "tenant_id": "new", "secret": "new-tenant-secret-00"}]})));
        let soon = now + MIN_RELOAD_INTERVAL;
        assert_eq!(tenant(&cache.key("n1", soon).await.unwrap()), Some("new"), "a new key works at once");
        assert_eq!(source.loads(), 2);
        for n in 0..5 {
            assert!(cache.key(&format!("guess-{n}"), soon + Duration::seconds(n)).await.unwrap().is_none());
        }
        assert_eq!(source.loads(), 2, "unknown ids within the interval read nothing");
        assert!(cache.key("guess", soon + MIN_RELOAD_INTERVAL).await.unwrap().is_none());
        assert_eq!(source.loads(), 3);
    }

    #[tokio::test]
    async fn a_failed_reload_keeps_the_cached_keys_and_with_none_cached_is_unavailable() {
        let now = at("2026-11-29T10:00:00Z");
        let source = FakeSource::default();
        let cache = KeyCache::new(&source, Duration::minutes(5), Duration::hours(24));
        assert!(matches!(cache.key("d2", now).await, Err(AppError::Unavailable(_))));
        assert!(matches!(cache.key("d2", now + Duration::seconds(1)).await, Err(AppError::Unavailable(_))));
        assert_eq!(source.loads(), 1, "rate-limited while nothing is cached too");
        source.set(Some(&document("2026-11-29T09:00:00Z")));
        let later = now + MIN_RELOAD_INTERVAL;
        assert!(cache.key("d2", later).await.unwrap().is_some());
        source.set(None);
        assert!(cache.key("d2", later + Duration::minutes(5)).await.unwrap().is_some(), "stale but serving");
        source.set(Some(&json!({"keys": [{"id": "x", "tenant_id": "demo", "secret": "short"}]})));
        let much_later = later + Duration::minutes(10);
        assert!(cache.key("d2", much_later).await.unwrap().is_some(), "a bad document is refused whole");
    }

    #[test]
    fn a_key_set_that_breaks_a_rule_is_refused_and_names_no_secret() {
        let grace = Duration::hours(24);
        let cases = [
            json!({"keys": [{"id": "k", "tenant_id": "demo", "secret": "0123456789abcdef"},
                            {"id": "k", "tenant_id": "acme", "secret": "fedcba9876543210"}]}),
            json!({"keys": [{"id": "k2", "tenant_id": "demo", "secret": "0123456789abcdef",
                             "previous": {"id": "k2", "secret": "fedcba9876543210"}, "rotated_at": "2026-11-29T10:00:00Z"}]}),
            json!({"keys": [{"id": "k2", "tenant_id": "demo", "secret": "0123456789abcdef",
                             "previous": {"id": "k1", "secret": "fedcba9876543210"}}]}),
            json!({"keys": [{"id": "k", "tenant_id": "demo", "secret": "too-short"}]}),
            json!({"keys": [{"id": "a,b", "tenant_id": "demo", "secret": "0123456789abcdef"}]}),
            json!({"keys": [{"id": "k", "tenant_id": "", "secret": "0123456789abcdef"}]}),
            json!({"keys": [{"id": "k", "tenant_id": "demo", "secret": 1234567890123456789_u64}]}),
            json!({"key": []}),
        ];
        for case in cases {
            let err = KeySet::parse(&case.to_string(), grace).unwrap_err();
            let message = format!("{err}");
            assert!(matches!(err, AppError::Unexpected(_)), "{case}");
            for secret in ["0123456789abcdef", "fedcba9876543210", "too-short", "1234567890123456789"] {
                assert!(!message.contains(secret), "{message}");
            }
        }
        assert!(KeySet::parse(r#"{"keys": []}"#, grace).unwrap().keys.is_empty());
    }

    fn signers<'a>(source: &'a FakeSource, deployment: Option<&[u8]>) -> Signers<&'a FakeSource> {
        Signers::new(
            deployment.map(<[u8]>::to_vec),
            Some(KeyCache::new(source, Duration::minutes(5), Duration::hours(24))),
        )
    }

    #[tokio::test]
    async fn the_header_picks_the_signer_and_a_tenant_key_names_its_tenant() {
        let now = Utc::now();
        let source = FakeSource::new(&document(&(now - Duration::hours(1)).to_rfc3339()));
        let deployment = b"oms-local-tms-secret".as_slice();
        let both = signers(&source, Some(deployment));
        let t = now.timestamp();
        let tenant_key = sign_with_key("d2", b"demo-secret-two-0000", t, BODY);
        let previous = sign_with_key("d1", b"demo-secret-one-0000", t, BODY);
        let wide = crate::signature::sign(deployment, t, BODY);
        assert_eq!(both.authenticate(Some(&tenant_key), BODY, now).await.unwrap().unwrap().as_str(), "demo");
        assert_eq!(both.authenticate(Some(&previous), BODY, now).await.unwrap().unwrap().as_str(), "demo");
        assert_eq!(both.authenticate(Some(&wide), BODY, now).await.unwrap(), None);
        let refused = [
            sign_with_key("d2", deployment, t, BODY), // the wide secret under a key id
            sign_with_key("a1", b"demo-secret-two-0000", t, BODY), // demo's secret, acme's id
            sign_with_key("zz", b"demo-secret-two-0000", t, BODY), // unknown id
            crate::signature::sign(b"demo-secret-two-0000", t, BODY), // a tenant secret without its id
        ];
        for header in refused {
            assert!(
                matches!(both.authenticate(Some(&header), BODY, now).await, Err(AppError::Unauthenticated)),
                "{header}"
            );
        }
        let keys_only = signers(&source, None);
        assert!(matches!(keys_only.authenticate(Some(&wide), BODY, now).await, Err(AppError::Unauthenticated)));
        let wide_only: Signers<&FakeSource> = Signers::new(Some(deployment.to_vec()), None);
        assert!(matches!(wide_only.authenticate(Some(&tenant_key), BODY, now).await, Err(AppError::Unauthenticated)));
    }

    #[tokio::test]
    async fn a_stale_header_is_refused_before_any_key_is_read() {
        let now = Utc::now();
        let source = FakeSource::new(&document(&now.to_rfc3339()));
        let stale = sign_with_key("d2", b"demo-secret-two-0000", now.timestamp() - 600, BODY);
        assert!(signers(&source, None).authenticate(Some(&stale), BODY, now).await.is_err());
        assert_eq!(source.loads(), 0);
    }
}
