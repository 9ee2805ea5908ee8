//! Committing an order change under an optional `Idempotency-Key`.
//!
//! The key's record is written in the same transaction as the change, so a key is either unused
//! or bound to exactly one committed change. A retry with the same key and request replays the
//! order as it is now; the same key with another request is refused (422); of two concurrent
//! requests with one key, one commits and the other loses the conditional write and replays it.
//!
//! A key belongs to its caller (tenant and user): a colleague's identical key is a request of its
//! own, never a way to someone else's outcome. Callers authorize before they look for a replay,
//! and a replay shows the order only if the caller may see it.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::access::Actor;
use crate::error::{AppError, ConflictOn, StoreError};
use crate::inventory::StockMove;
use crate::order::Order;
use crate::ports::{IdempotencyRecord, OrderStore, OrderWrite, StockStore};

/// An `Idempotency-Key` and the fingerprint of the request it came with.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    /// The client's key.
    pub key: String,
    /// See [`request_fingerprint`].
    pub request_hash: String,
}

impl IdempotencyKey {
    /// Validates the header value and fingerprints the request (route, path and body).
    pub fn new(key: &str, request: &str, body: &serde_json::Value) -> Result<Self, AppError> {
        let key = key.trim();
        if key.is_empty() || key.len() > 255 || !key.chars().all(|c| c.is_ascii_graphic()) {
            return Err(AppError::invalid(
                "Idempotency-Key",
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
            ));
        }
        Ok(Self { key: key.to_owned(), request_hash: request_fingerprint(request, body) })
    }
}

/// SHA-256 of the request line and the body's canonical JSON (object keys sorted), so the same
/// request with other whitespace or key order is still the same request.
pub fn request_fingerprint(request: &str, body: &serde_json::Value) -> String {
    let mut hasher = Sha256::new();
    hasher.update(request.as_bytes());
    hasher.update([0]);
    hasher.update(serde_json::to_vec(body).expect("a JSON value serializes"));
    hex::encode(hasher.finalize())
}

/// The outcome of an order change.
#[derive(Debug)]
pub struct Changed {
    /// The order after the change (its current state when replayed).
    pub order: Order,
    /// Whether this answers a repeated request.
    pub replayed: bool,
}

/// The earlier outcome of the caller's key, if they used it: `Ok(Some)` to replay, 422 if it was
/// used for another request. The caller has been authorized for the action already.
pub async fn replay_if_seen<S: OrderStore>(
    store: &S,
    actor: &Actor,
    key: Option<&IdempotencyKey>,
) -> Result<Option<Changed>, AppError> {
    let Some(key) = key else { return Ok(None) };
    let Some(record) = store.find_idempotency(&actor.tenant_id, &actor.sub, &key.key).await? else {
        return Ok(None);
    };
    if record.request_hash != key.request_hash {
        return Err(AppError::Unprocessable {
            code: "idempotency_key_reused",
            message: "this Idempotency-Key was used with a different request".into(),
        });
    }
    let order = crate::usecases::orders::get_order(store, actor, &record.order_id).await?;
    Ok(Some(Changed { order, replayed: true }))
}

/// Commits the change (with its stock moves), binding the key to it.
pub async fn commit<S: OrderStore + StockStore>(
    store: &S,
    actor: &Actor,
    key: Option<&IdempotencyKey>,
    mut write: OrderWrite,
    moves: &[StockMove],
    now: DateTime<Utc>,
) -> Result<Changed, AppError> {
    write.idempotency = key.map(|k| IdempotencyRecord {
        tenant_id: actor.tenant_id.clone(),
        user: actor.sub.clone(),
        key: k.key.clone(),
        request_hash: k.request_hash.clone(),
        order_id: write.order.order_id.clone(),
        created_at: now,
    });
    let order = write.order.clone();
    let result = match (write.expected_version, moves.is_empty()) {
        (None, _) => store.create_order(write).await,
        (Some(_), true) => store.save_order(write).await,
        (Some(_), false) => store.save_with_stock(write, moves).await,
    };
    match result {
        Ok(()) => Ok(Changed { order, replayed: false }),
        Err(StoreError::Conflict(ConflictOn::IdempotencyKey)) => replay_if_seen(store, actor, key)
            .await?
            .ok_or_else(|| AppError::unexpected("an idempotency key conflicted but has no record")),
        Err(StoreError::Conflict(ConflictOn::ChannelOrder)) => Err(AppError::conflict(
            "duplicate_channel_order",
            "an order with this channel and channel_order_id already exists",
        )),
        Err(StoreError::Conflict(ConflictOn::Stock { hub_id, sku })) => {
            Err(AppError::conflict("insufficient_stock", format!("not enough {sku} available at {hub_id}")))
        }
        Err(other) => Err(other.into()),
    }
}
