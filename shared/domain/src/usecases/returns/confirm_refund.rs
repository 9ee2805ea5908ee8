//! `POST /v1/returns/{return_id}/confirm-refund`: the refund was paid.

use crate::kernel::access::{Action, Actor};
use crate::kernel::error::AppError;
use crate::ports::{OrderStore, StockStore};
use crate::usecases::returns::change_return;
use crate::usecases::unit_of_work::{Changed, IdempotencyKey};
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// The body of `POST /returns/{id}/confirm-refund`.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ConfirmRefundRequest {
    /// The payment's reference (bank transfer, card refund id).
    pub reference: String,
}

/// `POST /returns/{id}/confirm-refund`: accounting paid the refund; the return goes `refunded`.
pub async fn confirm_refund<S: OrderStore + StockStore>(
    store: &S,
    actor: &Actor,
    return_id: &str,
    request: ConfirmRefundRequest,
    key: Option<IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Changed, AppError> {
    change_return(store, actor, return_id, Action::ManageReturns, key, now, |order| {
        order.confirm_refund(return_id, request.reference.clone(), now)
    })
    .await
}
