//! `POST /v1/orders/{id}/confirm-allocation`: the manual allocation is complete; fulfillment starts.

use crate::kernel::access::{Action, Actor};
use crate::kernel::error::AppError;
use crate::kernel::ids::OrderId;
use crate::ports::Store;
use crate::usecases::unit_of_work::{self, Changed, Effects, IdempotencyKey, change_order};
use chrono::{DateTime, Utc};

/// `POST /orders/{id}/confirm-allocation`: every line fully allocated, the order goes
/// `ALLOCATED` and on to its warehouses (unless a hold stops it).
pub async fn confirm_allocation<S: Store>(
    store: &S,
    actor: &Actor,
    id: &OrderId,
    key: Option<IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Changed, AppError> {
    change_order(store, actor, id, Action::ManageOrders, key, now, |order| {
        let change = order.confirm_allocation(actor, now)?;
        let mut effects = Effects {
            outbox: unit_of_work::after_transition(order, &change, now),
            history: vec![change],
            ..Effects::default()
        };
        effects.dispatch(order, actor, now)?;
        Ok(effects)
    })
    .await
}
