//! `POST /v1/orders/{id}/submit`: a draft goes to price approval or to placement.

use crate::kernel::access::{Action, Actor};
use crate::kernel::error::AppError;
use crate::kernel::ids::OrderId;
use crate::ports::{OrderStore, StockStore};
use crate::usecases::unit_of_work::{Changed, IdempotencyKey, change_order};
use chrono::{DateTime, Utc};

/// `POST /orders/{id}/submit`: [`crate::order::Order::submit`].
pub async fn submit_order<S: OrderStore + StockStore>(
    store: &S,
    actor: &Actor,
    id: &OrderId,
    key: Option<IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Changed, AppError> {
    change_order(store, actor, id, Action::CreateOrder, key, now, |order| order.submit(actor, now)).await
}
