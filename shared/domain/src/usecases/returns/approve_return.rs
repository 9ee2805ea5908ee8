//! `POST /v1/returns/{return_id}/approve`.

use crate::kernel::access::{Action, Actor};
use crate::kernel::error::AppError;
use crate::ports::{OrderStore, StockStore};
use crate::usecases::returns::change_return;
use crate::usecases::unit_of_work::{Changed, IdempotencyKey};
use chrono::{DateTime, Utc};

/// `POST /returns/{id}/approve`: `ReturnApproved` tells the warehouse what to expect, where.
pub async fn approve_return<S: OrderStore + StockStore>(
    store: &S,
    actor: &Actor,
    return_id: &str,
    key: Option<IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Changed, AppError> {
    change_return(store, actor, return_id, Action::ManageReturns, key, now, |order| {
        order.approve_return(return_id, now)
    })
    .await
}
