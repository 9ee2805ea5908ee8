//! `POST /v1/returns/{return_id}/reject`.

use crate::kernel::access::{Action, Actor};
use crate::kernel::error::AppError;
use crate::ports::{OrderStore, StockStore};
use crate::usecases::returns::change_return;
use crate::usecases::unit_of_work::{Changed, IdempotencyKey};
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// The body of `POST /returns/{id}/reject`.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RejectReturnRequest {
    /// Why.
    pub reason: String,
}

/// `POST /returns/{id}/reject` `{reason}`.
pub async fn reject_return<S: OrderStore + StockStore>(
    store: &S,
    actor: &Actor,
    return_id: &str,
    request: RejectReturnRequest,
    key: Option<IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Changed, AppError> {
    change_return(store, actor, return_id, Action::ManageReturns, key, now, |order| {
        order.reject_return(return_id, request.reason.clone(), now)
    })
    .await
}
