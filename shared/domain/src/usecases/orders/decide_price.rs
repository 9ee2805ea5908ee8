//! `POST /v1/orders/{id}/approve-price`: a manager approves or rejects an order's prices.

use crate::kernel::access::{Action, Actor};
use crate::kernel::error::AppError;
use crate::kernel::ids::OrderId;
use crate::ports::{OrderStore, StockStore};
use crate::usecases::orders::optional_text;
use crate::usecases::unit_of_work::{Changed, IdempotencyKey, change_order};
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// The body of `POST /orders/{id}/approve-price`.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PriceDecisionRequest {
    /// Approve (true) or reject (false).
    pub approved: bool,
    /// Why.
    pub notes: Option<String>,
}

/// `POST /orders/{id}/approve-price`: [`crate::order::Order::decide_price`].
pub async fn decide_price<S: OrderStore + StockStore>(
    store: &S,
    actor: &Actor,
    id: &OrderId,
    request: PriceDecisionRequest,
    key: Option<IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Changed, AppError> {
    let notes = optional_text("notes", request.notes, 2000)?;
    change_order(store, actor, id, Action::ApprovePrice, key, now, |order| {
        order.decide_price(request.approved, notes.clone(), actor, now)
    })
    .await
}
