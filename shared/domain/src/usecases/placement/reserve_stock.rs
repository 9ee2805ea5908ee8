//! The `reserve-stock` task: reserve the planned stock, never more than there is.

use crate::kernel::access::Actor;
use crate::kernel::error::{AppError, StoreError};
use crate::kernel::ids::OrderId;
use crate::order::status::OrderStatus;
use crate::ports::{OrderStore, StockStore};
use crate::routing::PlacementPlan;
use crate::usecases::placement::assign_hub::{COMPONENT, not_placeable, plan_stale};
use crate::usecases::unit_of_work;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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
    let change = order.reserve(&plan.reservations, &actor, now)?;
    let result = PlacementResult { order_id: order.order_id.clone(), status: order.status, version: order.version };
    // Not `unit_of_work::change_order`: a lost race makes the plan stale, and the workflow plans
    // again from fresh stock rather than this task recomputing an old plan.
    let (write, moves) = unit_of_work::order_write(order, Some(plan.order_version), change, now);
    match store.save_with_stock(write, &moves).await {
        Ok(()) => Ok(result),
        Err(StoreError::Conflict(on)) => Err(plan_stale(&format!("{on:?}"))),
        Err(other) => Err(other.into()),
    }
}
