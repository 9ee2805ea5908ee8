//! The unit of work every order change goes through: load the order the actor may change, compute
//! the change, commit it with its history, events, stock moves and idempotency record in one atomic
//! write conditional on the version it was computed from, and recompute on a lost race.

use crate::events::{DomainEvent, EventEnvelope, OutboxMessage};
use crate::kernel::access::{Action, Actor};
use crate::kernel::error::{AppError, ConflictCode, ConflictOn, StoreError, UnprocessableCode};
use crate::kernel::ids::OrderId;
use crate::order::fulfillment::Dispatch;
use crate::order::status::OrderStatus;
use crate::order::{Order, StatusChange};
use crate::ports::{IdempotencyRecord, OrderStore, OrderWrite, StockStore, Store};
use crate::stock::StockMove;
use crate::usecases::orders::get_order;
use crate::usecases::placement::count_dispatches;
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

/// What a change of an order brings with it, committed together.
#[derive(Default)]
pub(crate) struct Effects {
    pub(crate) history: Vec<StatusChange>,
    pub(crate) outbox: Vec<OutboxMessage>,
    pub(crate) moves: Vec<StockMove>,
    /// Warehouse requests sent, counted against the hubs' daily capacity once committed.
    pub(crate) dispatched: Vec<crate::order::fulfillment::FulfillmentRequest>,
    /// Documents created that are found by their own id.
    pub(crate) lookups: Vec<crate::ports::Lookup>,
}

impl Effects {
    /// Sends an allocated order to its warehouses (unless a hold stops it) with this change.
    pub(crate) fn dispatch(&mut self, order: &mut Order, actor: &Actor, now: DateTime<Utc>) -> Result<(), AppError> {
        if let Dispatch::Sent { change, requests } = order.request_fulfillment(actor, now)? {
            self.outbox.extend(after_dispatch(order, &change, &requests, now));
            self.history.push(change);
            self.dispatched = requests;
        }
        Ok(())
    }
}

/// How many times a change is recomputed when a concurrent change of the same order wins (a
/// burst of warehouse events for one order lands on several instances at once).
const ATTEMPTS: usize = 10;

/// Changes an order the actor may change under `action`: replays a repeated `Idempotency-Key`,
/// applies `change` to the current order, and commits the order with its history, events and
/// stock moves, conditional on the version it read. When another change got there first, the
/// change is recomputed from the new state (a few times), so concurrent callers serialize
/// instead of failing. A change that leaves the order's version as it was (a repeated event,
/// a late report) writes nothing and answers as a replay.
pub(crate) async fn change_order<S, F>(
    store: &S,
    actor: &Actor,
    id: &OrderId,
    action: Action,
    key: Option<IdempotencyKey>,
    now: DateTime<Utc>,
    mut change: F,
) -> Result<Changed, AppError>
where
    S: Store,
    F: FnMut(&mut Order) -> Result<Effects, AppError>,
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
        let effects = change(&mut order)?;
        if order.version == version {
            return Ok(Changed { order, replayed: true });
        }
        let mut write = OrderWrite::update(order, version, effects.history, effects.outbox);
        write.lookups = effects.lookups;
        match commit(store, actor, key.as_ref(), write, &effects.moves, now).await {
            Ok(changed) => {
                if !changed.replayed {
                    count_dispatches(store, &actor.tenant_id, &effects.dispatched).await;
                }
                return Ok(changed);
            }
            Err(AppError::Conflict { code: ConflictCode::ConcurrentUpdate, .. }) if attempt < ATTEMPTS => attempt += 1,
            Err(other) => return Err(other),
        }
    }
}

pub(crate) fn event(order: &Order, now: DateTime<Utc>, event: DomainEvent) -> OutboxMessage {
    OutboxMessage::Event(EventEnvelope::new(order.tenant_id.clone(), now, event))
}

/// `OrderStatusChanged`, and the placement workflow when the change leaves the order waiting for
/// automatic allocation.
pub fn after_transition(order: &Order, change: &StatusChange, now: DateTime<Utc>) -> Vec<OutboxMessage> {
    let mut messages = vec![event(order, now, DomainEvent::status_changed(order, change))];
    if order.awaits_automatic_placement() {
        messages.push(OutboxMessage::start_placement(order));
    }
    messages
}

/// `OrderSubmitted`, `PriceApprovalRequested` when prices need approval, and what any
/// transition emits.
pub fn after_submit(order: &Order, change: &StatusChange, now: DateTime<Utc>) -> Vec<OutboxMessage> {
    let mut messages = vec![event(order, now, DomainEvent::order_submitted(order))];
    if let (OrderStatus::PendingPriceApproval, Some(approval)) = (order.status, &order.price_approval) {
        messages.push(event(order, now, DomainEvent::price_approval_requested(order, approval)));
    }
    messages.extend(after_transition(order, change, now));
    messages
}

/// An event about the order, wrapped for the outbox.
pub fn order_event(order: &Order, now: DateTime<Utc>, e: DomainEvent) -> OutboxMessage {
    event(order, now, e)
}

/// `FulfillmentRequested` for each new warehouse request, and what the transition emits.
pub fn after_dispatch(
    order: &Order,
    change: &StatusChange,
    requests: &[crate::order::fulfillment::FulfillmentRequest],
    now: DateTime<Utc>,
) -> Vec<OutboxMessage> {
    let mut messages = after_transition(order, change, now);
    for request in requests {
        messages.push(event(order, now, DomainEvent::fulfillment_requested(order, request)));
    }
    messages
}

/// The shipment's own event, what each status change of the order emits, and `OrderCompleted`
/// (the accounting hand-off) when the order completed.
pub fn after_shipping(
    order: &Order,
    shipment_event: DomainEvent,
    changes: &[StatusChange],
    now: DateTime<Utc>,
) -> Vec<OutboxMessage> {
    let mut messages = vec![event(order, now, shipment_event)];
    for change in changes {
        messages.extend(after_transition(order, change, now));
    }
    if changes.iter().any(|c| c.to == OrderStatus::Completed) {
        messages.push(event(order, now, DomainEvent::order_completed(order)));
    }
    messages
}
