//! The unit of work every order change goes through: load the order the actor may change, let
//! the command change it, commit the order with its [`Change`] (history, events, stock moves,
//! workflow starts, lookups) and idempotency record in one atomic write conditional on the
//! version it was computed from, and recompute on a lost race. What a change does and emits is
//! the command's business (`order::*`); this module only wraps and writes it.

use crate::events::{EventEnvelope, OutboxMessage};
use crate::kernel::access::{Action, Actor};
use crate::kernel::error::{AppError, ConflictCode, ConflictOn, StoreError, UnprocessableCode};
use crate::kernel::ids::OrderId;
use crate::order::fulfillment::FulfillmentRequest;
use crate::order::{Change, Order};
use crate::ports::{IdempotencyRecord, OrderStore, OrderWrite, StockStore};
use crate::stock::StockMove;
use crate::usecases::orders::get_order;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

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
    /// Warehouse requests the change sent (none when replayed): the caller counts them against
    /// the hubs' capacity (`usecases::placement::count_dispatches`).
    pub dispatched: Vec<FulfillmentRequest>,
}

impl Changed {
    fn replayed(order: Order) -> Self {
        Self { order, replayed: true, dispatched: Vec::new() }
    }
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
            code: UnprocessableCode::IdempotencyKeyReused,
            message: "this Idempotency-Key was used with a different request".into(),
        });
    }
    let order = crate::usecases::orders::get_order(store, actor, &record.order_id).await?;
    Ok(Some(Changed::replayed(order)))
}

/// The write that commits `order` with `change`: its history, its events wrapped for the outbox
/// (then the placement start), its lookups; and the stock moves to commit with it. The
/// change's dispatched requests are the caller's to count.
pub(crate) fn order_write(
    order: Order,
    expected_version: Option<u64>,
    change: Change,
    now: DateTime<Utc>,
) -> (OrderWrite, Vec<StockMove>) {
    let Change { history, events, moves, start_placement, dispatched: _, lookups } = change;
    let mut outbox: Vec<OutboxMessage> = events
        .into_iter()
        .map(|event| OutboxMessage::Event(EventEnvelope::new(order.tenant_id.clone(), now, event)))
        .collect();
    if start_placement {
        outbox.push(OutboxMessage::start_placement(&order));
    }
    let write = OrderWrite { order, expected_version, history, outbox, idempotency: None, lookups };
    (write, moves)
}

/// Commits `order` with `change` (a new order when `expected_version` is none), binding the key
/// to it.
pub async fn commit<S: OrderStore + StockStore>(
    store: &S,
    actor: &Actor,
    key: Option<&IdempotencyKey>,
    order: Order,
    expected_version: Option<u64>,
    mut change: Change,
    now: DateTime<Utc>,
) -> Result<Changed, AppError> {
    let dispatched = std::mem::take(&mut change.dispatched);
    let (mut write, moves) = order_write(order, expected_version, change, now);
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
        (Some(_), false) => store.save_with_stock(write, &moves).await,
    };
    match result {
        Ok(()) => Ok(Changed { order, replayed: false, dispatched }),
        Err(StoreError::Conflict(ConflictOn::IdempotencyKey)) => replay_if_seen(store, actor, key)
            .await?
            .ok_or_else(|| AppError::unexpected("an idempotency key conflicted but has no record")),
        Err(StoreError::Conflict(ConflictOn::ChannelOrder)) => Err(AppError::conflict(
            ConflictCode::DuplicateChannelOrder,
            "an order with this channel and channel_order_id already exists",
        )),
        Err(StoreError::Conflict(ConflictOn::Stock { hub_id, sku })) => {
            Err(AppError::conflict(ConflictCode::InsufficientStock, format!("not enough {sku} available at {hub_id}")))
        }
        Err(other) => Err(other.into()),
    }
}

/// Loads an order the actor may change, refusing roles without `action` first.
pub(crate) async fn load_for<S: OrderStore>(
    store: &S,
    actor: &Actor,
    id: &OrderId,
    action: Action,
) -> Result<Order, AppError> {
    actor.authorize(action)?;
    get_order(store, actor, id).await
}

/// How many times a change is recomputed when a concurrent change of the same order wins (a
/// burst of warehouse events for one order lands on several instances at once).
const ATTEMPTS: usize = 10;

/// Changes an order the actor may change under `action`: replays a repeated `Idempotency-Key`,
/// applies `command` to the current order, and commits the order with its [`Change`],
/// conditional on the version it read. When another change got there first, the command is
/// recomputed from the new state (a few times), so concurrent callers serialize instead of
/// failing. A command that leaves the order's version as it was (a repeated event, a late
/// report) writes nothing and answers as a replay.
pub(crate) async fn change_order<S, F>(
    store: &S,
    actor: &Actor,
    id: &OrderId,
    action: Action,
    key: Option<IdempotencyKey>,
    now: DateTime<Utc>,
    mut command: F,
) -> Result<Changed, AppError>
where
    S: OrderStore + StockStore,
    F: FnMut(&mut Order) -> Result<Change, AppError>,
{
    // Authorized before a replay: a key never lets a caller past a check they would fail now.
    actor.authorize(action)?;
    if let Some(done) = replay_if_seen(store, actor, key.as_ref()).await? {
        return Ok(done);
    }
    let mut attempt = 1;
    loop {
        let mut order = load_for(store, actor, id, action).await?;
        let version = order.version;
        let change = command(&mut order)?;
        if order.version == version {
            return Ok(Changed::replayed(order));
        }
        match commit(store, actor, key.as_ref(), order, Some(version), change, now).await {
            Err(AppError::Conflict { code: ConflictCode::ConcurrentUpdate, .. }) if attempt < ATTEMPTS => attempt += 1,
            done => return done,
        }
    }
}
