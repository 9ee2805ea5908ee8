//! `GET /v1/returns/{return_id}`: a return, through the order it belongs to.

use crate::kernel::access::{Action, Actor};
use crate::kernel::error::AppError;
use crate::order::Order;
use crate::ports::OrderStore;
use crate::usecases::orders::get_order;
use crate::usecases::returns::order_of_return;

/// `GET /returns/{id}`: the order the return belongs to (see [`Order::return_view`]).
pub async fn get_return<S: OrderStore>(store: &S, actor: &Actor, return_id: &str) -> Result<Order, AppError> {
    actor.authorize(Action::ReadOrders)?;
    let order_id = order_of_return(store, actor, return_id).await?;
    get_order(store, actor, &order_id).await
}
