//! Order reads. Another tenant's order, or (for sales) a colleague's, answers 404: existence is
//! never leaked.

use crate::access::{Action, Actor};
use crate::error::AppError;
use crate::ids::OrderId;
use crate::order::{Order, StatusChange};
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

/// The status history of an order the actor may see, oldest first.
pub async fn order_history<S: OrderStore>(
    store: &S,
    actor: &Actor,
    order_id: &OrderId,
) -> Result<Vec<StatusChange>, AppError> {
    get_order(store, actor, order_id).await?;
    Ok(store.order_history(&actor.tenant_id, order_id).await?)
}
