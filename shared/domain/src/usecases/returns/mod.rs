//! The return routes and the warehouse's `ReturnReceived`: create, approve / reject, receive
//! (restock and refund), confirm the refund, close. Each is one atomic change of the order the
//! return belongs to; another tenant's return, or one the actor may not see, is 404.

mod approve_return;
mod close_return;
mod confirm_refund;
mod create_return;
mod get_return;
mod receive_return;
mod reject_return;

pub use self::approve_return::approve_return;
pub use self::close_return::close_return;
pub use self::confirm_refund::{ConfirmRefundRequest, confirm_refund};
pub use self::create_return::{ReturnRequest, create_return};
pub use self::get_return::get_return;
pub use self::receive_return::{ReceiveRequest, ReturnReceived, receive_return, return_received};
pub use self::reject_return::{RejectReturnRequest, reject_return};

use crate::kernel::access::{Action, Actor};
use crate::kernel::error::AppError;
use crate::kernel::ids::OrderId;
use crate::order::{Change, Order};
use crate::ports::{OrderStore, StockStore};
use crate::usecases::orders::get_order;
use crate::usecases::unit_of_work::{Changed, IdempotencyKey, change_order};
use chrono::{DateTime, Utc};

/// The order a return belongs to, if the actor may see it.
pub(crate) async fn order_of_return<S: OrderStore>(
    store: &S,
    actor: &Actor,
    return_id: &str,
) -> Result<OrderId, AppError> {
    let order_id = store.find_return(&actor.tenant_id, return_id).await?.ok_or(AppError::NotFound("return"))?;
    get_order(store, actor, &order_id).await.map_err(|_| AppError::NotFound("return"))?;
    Ok(order_id)
}

/// Changes a return under `action` with `command`, through the order it belongs to.
pub(crate) async fn change_return<S, F>(
    store: &S,
    actor: &Actor,
    return_id: &str,
    action: Action,
    key: Option<IdempotencyKey>,
    now: DateTime<Utc>,
    change: F,
) -> Result<Changed, AppError>
where
    S: OrderStore + StockStore,
    F: FnMut(&mut Order) -> Result<Change, AppError>,
{
    actor.authorize(action)?;
    let order_id = order_of_return(store, actor, return_id).await?;
    change_order(store, actor, &order_id, action, key, now, change).await
}
