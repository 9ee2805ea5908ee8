//! The two placement tasks of the `order-placement` workflow.
//!
//! `plan` (assign-hub) reads the order, hubs and stock and proposes reservations. `reserve`
//! (reserve-stock) applies the plan to the order and commits it together with a conditional
//! reservation per stock item. A plan that no longer fits (stock taken, order changed) fails as
//! `plan_stale` and the workflow plans again from fresh data.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::access::Actor;
use crate::error::{AppError, StoreError};
use crate::events::{DomainEvent, EventEnvelope, OutboxMessage};
use crate::fulfillment::Dispatch;
use crate::ids::{OrderId, Sku, TenantId};
use crate::inventory::StockMove;
use crate::order::{AllocationMode, FulfillmentPolicy};
use crate::placement::{PlacementPlan, RoutingWeights, plan_reservations};
use crate::ports::{CatalogStore, OrderStore, OrderWrite, StockStore, Store};
use crate::status::OrderStatus;
use crate::usecases::effects;
use rust_decimal::Decimal;

/// The workflow's input to both tasks' first step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacementRequest {
    /// Owner.
    pub tenant_id: TenantId,
    /// The order to place.
    pub order_id: OrderId,
}

/// What `reserve` reports back to the workflow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacementResult {
    /// The order.
    pub order_id: OrderId,
    /// `ALLOCATED` or `BACKORDERED`.
    pub status: OrderStatus,
    /// The order's version after placement.
    pub version: u64,
}

const COMPONENT: &str = "order-placement";

fn not_placeable(status: OrderStatus) -> AppError {
    AppError::conflict("not_placeable", format!("the order is {status}, not awaiting allocation"))
}

fn plan_stale(why: &str) -> AppError {
    AppError::conflict("plan_stale", format!("the placement plan is stale: {why}"))
}

/// Plans which hubs reserve each line.
pub async fn plan<S>(store: &S, request: &PlacementRequest, weights: RoutingWeights) -> Result<PlacementPlan, AppError>
where
    S: OrderStore + CatalogStore + StockStore,
{
    let tenant = &request.tenant_id;
    let order = store.get_order(tenant, &request.order_id).await?.ok_or(AppError::NotFound("order"))?;
    if !order.status.awaits_allocation() {
        return Err(not_placeable(order.status));
    }
    let skus: Vec<Sku> = order.lines.iter().map(|l| l.sku.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    let hubs = store.list_hubs(tenant).await?;
    let loads = store.hub_loads(tenant, today()).await?;
    let stock = store.stock_for_skus(tenant, &skus).await?;
    Ok(PlacementPlan {
        tenant_id: tenant.clone(),
        order_id: order.order_id.clone(),
        order_version: order.version,
        reservations: plan_reservations(&order, &hubs, &loads, &stock, weights),
    })
}

/// Reserves the plan and moves the order to `ALLOCATED` or `BACKORDERED`, atomically.
pub async fn reserve<S>(store: &S, plan: &PlacementPlan, now: DateTime<Utc>) -> Result<PlacementResult, AppError>
where
    S: OrderStore + StockStore,
{
    let tenant = &plan.tenant_id;
    let mut order = store.get_order(tenant, &plan.order_id).await?.ok_or(AppError::NotFound("order"))?;
    if order.version != plan.order_version {
        return Err(plan_stale("the order changed since it was planned"));
    }
    if !order.status.awaits_allocation() {
        return Err(not_placeable(order.status));
    }
    let actor = Actor::system(tenant.clone(), COMPONENT);
    let change = order.apply_placement(&plan.reservations, &actor, now)?;

    let event = |e| OutboxMessage::Event(EventEnvelope::new(tenant.clone(), now, e));
    let mut outbox = effects::after_transition(&order, &change, now);
    if !plan.reservations.is_empty() {
        outbox.push(event(DomainEvent::stock_reserved(&order, &plan.reservations)));
    }
    outbox.extend(DomainEvent::order_backordered(&order).map(event));

    let result = PlacementResult { order_id: order.order_id.clone(), status: order.status, version: order.version };
    let moves: Vec<StockMove> =
        plan.reservations.iter().map(|r| StockMove::reserve(r.hub_id.clone(), r.sku.clone(), r.quantity)).collect();
    let write = OrderWrite::update(order, plan.order_version, vec![change], outbox);
    match store.save_with_stock(write, &StockMove::net(moves)).await {
        Ok(()) => Ok(result),
        Err(StoreError::Conflict(on)) => Err(plan_stale(&format!("{on:?}"))),
        Err(other) => Err(other.into()),
    }
}

/// What `dispatch` reports to the workflow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DispatchResult {
    /// When held: how long the workflow waits before the reservation expires (seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_seconds: Option<i64>,
    /// The order.
    pub order_id: OrderId,
    /// `IN_FULFILLMENT`, or `ALLOCATED` when a hold stopped it.
    pub status: OrderStatus,
    /// Whether an active hold stopped it (releasing the last hold sends it on).
    pub held: bool,
}

/// Sends an allocated order to its warehouses (`FulfillmentRequested` per hub), unless a hold
/// stops it.
pub async fn dispatch<S: Store>(
    store: &S,
    request: &PlacementRequest,
    reservation_timeout: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<DispatchResult, AppError> {
    let mut order = store.get_order(&request.tenant_id, &request.order_id).await?.ok_or(AppError::NotFound("order"))?;
    if order.status != OrderStatus::Allocated {
        return Err(AppError::conflict("not_placeable", format!("the order is {}, not ALLOCATED", order.status)));
    }
    let version = order.version;
    let actor = Actor::system(request.tenant_id.clone(), COMPONENT);
    match order.request_fulfillment(&actor, now)? {
        Dispatch::Held => Ok(DispatchResult {
            order_id: order.order_id,
            status: order.status,
            held: true,
            expires_in_seconds: Some(reservation_timeout.num_seconds()),
        }),
        Dispatch::Sent { change, requests } => {
            let outbox = effects::after_dispatch(&order, &change, &requests, now);
            let result = DispatchResult {
                order_id: order.order_id.clone(),
                status: order.status,
                held: false,
                expires_in_seconds: None,
            };
            store.save_order(OrderWrite::update(order, version, vec![change], outbox)).await?;
            count_dispatches(store, &request.tenant_id, &requests).await;
            Ok(result)
        }
    }
}

/// How many backordered orders one replenishment looks at.
const BACKORDER_BATCH: usize = 200;

/// Stock of `sku` went up: sends its `BACKORDERED` orders back to placement, oldest first, as
/// far as the stock now available can serve them (a `ship_complete` order that cannot be served
/// whole is passed over). Returns the orders re-placed.
pub async fn replace_backorders<S: Store>(
    store: &S,
    tenant: &TenantId,
    sku: &Sku,
    now: DateTime<Utc>,
) -> Result<Vec<OrderId>, AppError> {
    let levels = store.stock_for_skus(tenant, std::slice::from_ref(sku)).await?;
    let mut remaining: Decimal = levels.iter().map(|l| l.available().max(Decimal::ZERO)).sum();
    let actor = Actor::system(tenant.clone(), COMPONENT);
    let mut replaced = Vec::new();
    for id in store.backordered_orders(tenant, sku, BACKORDER_BATCH).await? {
        if remaining <= Decimal::ZERO {
            break;
        }
        let Some(mut order) = store.get_order(tenant, &id).await? else { continue };
        if order.status != OrderStatus::Backordered || order.allocation != AllocationMode::Auto {
            continue;
        }
        let need: Decimal = order.lines.iter().filter(|l| &l.sku == sku).map(|l| l.unallocated()).sum();
        if order.fulfillment_policy == FulfillmentPolicy::ShipComplete && need > remaining {
            continue;
        }
        let version = order.version;
        let change =
            order.change_status(OrderStatus::PendingAllocation, format!("{sku} back in stock"), &actor, now)?;
        let outbox = effects::after_transition(&order, &change, now);
        match store.save_order(OrderWrite::update(order, version, vec![change], outbox)).await {
            Ok(()) => {
                remaining -= need;
                replaced.push(id);
            }
            // Changed meanwhile (cancelled, or re-placed by a concurrent replenishment).
            Err(StoreError::Conflict(_)) => {}
            Err(other) => return Err(other.into()),
        }
    }
    Ok(replaced)
}

/// The day hub capacity is counted against (UTC).
fn today() -> chrono::NaiveDate {
    Utc::now().date_naive()
}

/// Counts the orders just sent to their hubs against today's capacity. Best effort, after the
/// dispatch committed: a lost count only makes routing a little optimistic, never oversells.
pub(crate) async fn count_dispatches<S: CatalogStore>(
    store: &S,
    tenant: &TenantId,
    requests: &[crate::fulfillment::FulfillmentRequest],
) {
    let hubs: Vec<crate::ids::HubId> = requests.iter().map(|r| r.hub_id.clone()).collect();
    if let Err(err) = store.count_dispatches(tenant, today(), &hubs).await {
        tracing::warn!(%err, "hub capacity count failed; routing may overfill a hub today");
    }
}

/// What `expire` reports to the workflow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpiryResult {
    /// The order.
    pub order_id: OrderId,
    /// Whether its reservation was released.
    pub expired: bool,
    /// Its status now.
    pub status: OrderStatus,
}

/// The workflow waited out the reservation timeout of an order held at `ALLOCATED`: if it is
/// still held there, its stock goes back and the order to `PENDING_ALLOCATION` (placed again
/// when the hold is released); otherwise nothing changes.
pub async fn expire<S: Store>(
    store: &S,
    request: &PlacementRequest,
    timeout: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<ExpiryResult, AppError> {
    let mut order = store.get_order(&request.tenant_id, &request.order_id).await?.ok_or(AppError::NotFound("order"))?;
    let version = order.version;
    let actor = Actor::system(request.tenant_id.clone(), COMPONENT);
    let Some((change, released)) = order.expire_reservation(timeout, &actor, now)? else {
        return Ok(ExpiryResult { order_id: order.order_id, expired: false, status: order.status });
    };
    // Not `effects::after_transition`: the order is on hold, so it is not placed again now.
    let outbox = vec![effects::order_event(&order, now, DomainEvent::status_changed(&order, &change))];
    let result = ExpiryResult { order_id: order.order_id.clone(), expired: true, status: order.status };
    store.save_with_stock(OrderWrite::update(order, version, vec![change], outbox), &StockMove::net(released)).await?;
    Ok(result)
}

/// The workflow's input when placement failed for good: the order and the failure Step
/// Functions caught.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacementFailure {
    /// Owner.
    pub tenant_id: TenantId,
    /// The order.
    pub order_id: OrderId,
    /// What Step Functions caught (`Error`, `Cause`).
    #[serde(default)]
    pub error: serde_json::Value,
}

/// Placement gave up (retries exhausted, or an unexpected error): nothing is reserved (every
/// reservation is atomic, and chunked ones are moved back), so the order goes `BACKORDERED`
/// with the reason in its history, to be placed again when stock comes back.
pub async fn record_failure<S: Store>(
    store: &S,
    failure: &PlacementFailure,
    now: DateTime<Utc>,
) -> Result<OrderStatus, AppError> {
    let mut order = store.get_order(&failure.tenant_id, &failure.order_id).await?.ok_or(AppError::NotFound("order"))?;
    if order.status != OrderStatus::PendingAllocation {
        return Ok(order.status);
    }
    let name = failure.error.get("Error").and_then(|e| e.as_str()).unwrap_or("unknown error");
    let cause = failure.error.get("Cause").and_then(|c| c.as_str()).unwrap_or_default();
    let cause: String = cause.chars().take(300).collect();
    let version = order.version;
    let actor = Actor::system(failure.tenant_id.clone(), COMPONENT);
    for line in &mut order.lines {
        line.backordered = line.unallocated();
    }
    let reason = format!("placement failed ({name}): {cause}");
    let change = order.change_status(OrderStatus::Backordered, reason.trim_end_matches(": "), &actor, now)?;
    let outbox = effects::after_transition(&order, &change, now);
    let status = order.status;
    store.save_order(OrderWrite::update(order, version, vec![change], outbox)).await?;
    Ok(status)
}
