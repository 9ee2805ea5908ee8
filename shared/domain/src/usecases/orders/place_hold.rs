//! `POST /v1/orders/{id}/holds`: stop an order where it is.

use crate::kernel::access::{Action, Actor};
use crate::kernel::error::AppError;
use crate::kernel::ids::OrderId;
use crate::ports::{OrderStore, StockStore};
use crate::usecases::unit_of_work::{Changed, IdempotencyKey, change_order};
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// The body of `POST /orders/{id}/holds`.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HoldRequest {
    /// `payment_hold`, `fraud`, `manual`, ...: lower-case letters, digits and `_`.
    pub code: String,
    /// Why.
    pub reason: String,
}

/// `POST /orders/{id}/holds`: [`crate::order::Order::place_hold`], once the code and reason are
/// well-formed.
pub async fn place_hold<S: OrderStore + StockStore>(
    store: &S,
    actor: &Actor,
    id: &OrderId,
    request: HoldRequest,
    key: Option<IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Changed, AppError> {
    let code = request.code.trim().to_owned();
    if code.is_empty()
        || code.len() > 32
        || !code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(AppError::invalid(
            "code",
            "code must be 1 to 32 lower-case letters, digits or '_', e.g. payment_hold",
        ));
    }
    let reason = crate::kernel::text::non_empty_text("reason", request.reason, 500)?;
    change_order(store, actor, id, Action::ManageOrders, key, now, |order| order.place_hold(&code, &reason, actor, now))
        .await
}
