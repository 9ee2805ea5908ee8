//! `GET /v1/orders/{id}/history`: what happened to an order, oldest first.

use crate::kernel::access::Actor;
use crate::kernel::error::AppError;
use crate::kernel::ids::OrderId;
use crate::order::StatusChange;
use crate::ports::OrderStore;
use crate::usecases::orders::get_order;

/// The status history of an order the actor may see, oldest first.
pub async fn order_history<S: OrderStore>(
    store: &S,
    actor: &Actor,
    order_id: &OrderId,
) -> Result<Vec<StatusChange>, AppError> {
    get_order(store, actor, order_id).await?;
    Ok(store.order_history(&actor.tenant_id, order_id).await?)
}
