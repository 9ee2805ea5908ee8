//! `POST /v1/orders/{id}/allocations`: a dispatcher allocates a line to a hub by hand.

use crate::events::DomainEvent;
use crate::kernel::access::{Action, Actor};
use crate::kernel::error::{AppError, ConflictCode};
use crate::kernel::ids::OrderId;
use crate::ports::Store;
use crate::usecases::unit_of_work::{Changed, Effects, IdempotencyKey, change_order, order_event};
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

/// `POST /orders/{id}/allocations`: reserves part of a line at a hub, atomically with the order
/// (409 when the hub has not that much available or the line needs less).
pub async fn allocate_line<S: Store>(
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
        let reserve = order.allocate_manually(&request.order_line_id, &request.hub_id, request.quantity, now)?;
        let reservation = crate::routing::PlannedReservation {
            line_id: request.order_line_id.clone(),
            sku: reserve.sku.clone(),
            hub_id: reserve.hub_id.clone(),
            quantity: reserve.quantity,
        };
        let reserved = DomainEvent::stock_reserved(order, &[reservation]);
        Ok(Effects { outbox: vec![order_event(order, now, reserved)], moves: vec![reserve], ..Effects::default() })
    })
    .await
}
