//! The `assign-hub` task: plan which hubs serve which lines.

use crate::kernel::error::{AppError, ConflictCode};
use crate::kernel::ids::{OrderId, Sku, TenantId};
use crate::order::status::OrderStatus;
use crate::ports::{CatalogStore, OrderStore, StockStore};
use crate::routing::{PlacementPlan, RoutingWeights, plan_reservations};
use crate::usecases::placement::today;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The workflow's input to both tasks' first step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacementRequest {
    /// Owner.
    pub tenant_id: TenantId,
    /// The order to place.
    pub order_id: OrderId,
}

pub(crate) const COMPONENT: &str = "order-placement";

pub(crate) fn not_placeable(status: OrderStatus) -> AppError {
    AppError::conflict(ConflictCode::NotPlaceable, format!("the order is {status}, not awaiting allocation"))
}

pub(crate) fn plan_stale(why: &str) -> AppError {
    AppError::conflict(ConflictCode::PlanStale, format!("the placement plan is stale: {why}"))
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
