//! `GET /v1/orders/{id}`: an order the actor may see.

use crate::kernel::access::{Action, Actor};
use crate::kernel::error::AppError;
use crate::kernel::ids::OrderId;
use crate::order::Order;
use crate::ports::OrderStore;

/// An order the actor may see.
pub async fn get_order<S: OrderStore>(store: &S, actor: &Actor, order_id: &OrderId) -> Result<Order, AppError> {
    actor.authorize(Action::ReadOrders)?;
    store
        .get_order(&actor.tenant_id, order_id)
        .await?
        .filter(|order| actor.can_see_order_of(&order.created_by))
        .ok_or(AppError::NotFound("order"))
}
