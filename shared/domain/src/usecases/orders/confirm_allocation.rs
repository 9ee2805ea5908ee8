//! `POST /v1/orders/{id}/allocations/confirm`: the manual allocation is complete; fulfillment starts.

use crate::kernel::access::{Action, Actor};
use crate::kernel::error::AppError;
use crate::kernel::ids::OrderId;
use crate::order::Change;
use crate::ports::Store;
use crate::usecases::placement::count_dispatches;
use crate::usecases::unit_of_work::{Changed, IdempotencyKey, change_order};
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
    let changed = change_order(store, actor, id, Action::ManageOrders, key, now, |order| {
        let change = order.confirm_allocation(actor, now)?;
        let mut committed = Change::none();
        committed.status_changed(order, change);
        Ok(committed.and(order.request_fulfillment(actor, now)?))
    })
    .await?;
    count_dispatches(store, &actor.tenant_id, &changed.dispatched).await;
    Ok(changed)
}
