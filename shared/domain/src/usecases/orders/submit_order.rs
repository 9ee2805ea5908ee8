//! `POST /v1/orders/{id}/submit`: a draft goes to price approval or to placement.

use crate::kernel::access::{Action, Actor};
use crate::kernel::error::AppError;
use crate::kernel::ids::OrderId;
use crate::ports::Store;
use crate::usecases::unit_of_work::{self, Changed, Effects, IdempotencyKey, change_order};
use chrono::{DateTime, Utc};

/// `POST /orders/{id}/submit`.
pub async fn submit_order<S: Store>(
    store: &S,
    actor: &Actor,
    id: &OrderId,
    key: Option<IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Changed, AppError> {
    change_order(store, actor, id, Action::CreateOrder, key, now, |order| {
        let change = order.submit(actor, now)?;
        Ok(Effects {
            outbox: unit_of_work::after_submit(order, &change, now),
            history: vec![change],
            ..Effects::default()
        })
    })
    .await
}
