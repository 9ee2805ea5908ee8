//! `GET /v1/shipments/{shipment_id}`: a shipment, through the order it belongs to.

use crate::kernel::access::{Action, Actor};
use crate::kernel::error::AppError;
use crate::order::Order;
use crate::ports::OrderStore;
use crate::usecases::orders::get_order;

/// The order a shipment belongs to, if the actor may see it (404 otherwise, also for another
/// tenant's shipment).
pub async fn get_shipment<S: OrderStore>(store: &S, actor: &Actor, shipment_id: &str) -> Result<Order, AppError> {
    actor.authorize(Action::ReadOrders)?;
    let found = store.find_shipment(shipment_id).await?.filter(|f| f.tenant_id == actor.tenant_id);
    let found = found.ok_or(AppError::NotFound("shipment"))?;
    get_order(store, actor, &found.order_id).await.map_err(|_| AppError::NotFound("shipment"))
}
