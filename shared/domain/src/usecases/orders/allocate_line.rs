//! `POST /v1/orders/{id}/allocations`: a dispatcher allocates a line to a hub by hand.

use crate::kernel::access::{Action, Actor};
use crate::kernel::error::{AppError, ConflictCode};
use crate::kernel::ids::OrderId;
use crate::ports::{CatalogStore, OrderStore, StockStore};
use crate::usecases::unit_of_work::{Changed, IdempotencyKey, change_order};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;

/// The body of `POST /orders/{id}/allocations`.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AllocationRequest {
    /// The line.
    pub order_line_id: crate::kernel::ids::LineId,
    /// The source hub.
    pub hub_id: crate::kernel::ids::HubId,
    /// How much to reserve there.
    pub quantity: Decimal,
}

/// `POST /orders/{id}/allocations`: [`crate::order::Order::allocate_line`] at an active hub,
/// atomically with the order (409 when the hub has not that much available).
pub async fn allocate_line<S: OrderStore + StockStore + CatalogStore>(
    store: &S,
    actor: &Actor,
    id: &OrderId,
    request: AllocationRequest,
    key: Option<IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Changed, AppError> {
    actor.authorize(Action::ManageOrders)?;
    match store.get_hub(&actor.tenant_id, &request.hub_id).await? {
        Some(hub) if hub.active => {}
        Some(_) => {
            return Err(AppError::conflict(ConflictCode::HubInactive, format!("hub {} is inactive", request.hub_id)));
        }
        None => return Err(AppError::NotFound("hub")),
    }
    change_order(store, actor, id, Action::ManageOrders, key, now, |order| {
        order.allocate_line(&request.order_line_id, &request.hub_id, request.quantity, now)
    })
    .await
}
