//! `POST /v1/orders/{id}/cancel`: cancel an order before it ships.

use crate::kernel::access::{Action, Actor};
use crate::kernel::error::AppError;
use crate::kernel::ids::OrderId;
use crate::ports::{OrderStore, StockStore};
use crate::usecases::unit_of_work::{Changed, IdempotencyKey, change_order};
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// The body of `POST /orders/{id}/cancel`.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    /// Why.
    pub reason: String,
}

/// `POST /orders/{id}/cancel`: [`crate::order::Order::cancel`], committed with the reservations
/// it gives back.
pub async fn cancel_order<S: OrderStore + StockStore>(
    store: &S,
    actor: &Actor,
    id: &OrderId,
    request: CancelRequest,
    key: Option<IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Changed, AppError> {
    let reason = crate::kernel::text::non_empty_text("reason", request.reason, 500)?;
    change_order(store, actor, id, Action::ManageOrders, key, now, |order| order.cancel(&reason, actor, now)).await
}
