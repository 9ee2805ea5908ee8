//! `POST /v1/orders/{id}/confirm-allocation`: the manual allocation is complete; fulfillment starts.

use crate::kernel::access::{Action, Actor};
use crate::kernel::error::AppError;
use crate::kernel::ids::OrderId;
use crate::ports::{CatalogStore, OrderStore, StockStore};
use crate::usecases::placement::count_dispatches;
use crate::usecases::unit_of_work::{Changed, IdempotencyKey, change_order};
use chrono::{DateTime, Utc};

/// `POST /orders/{id}/confirm-allocation`: [`crate::order::Order::confirm_allocation`], the
/// requests it sends counted against the hubs' capacity.
pub async fn confirm_allocation<S: OrderStore + StockStore + CatalogStore>(
    store: &S,
    actor: &Actor,
    id: &OrderId,
    key: Option<IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Changed, AppError> {
    let changed =
        change_order(store, actor, id, Action::ManageOrders, key, now, |order| order.confirm_allocation(actor, now))
            .await?;
    count_dispatches(store, &actor.tenant_id, &changed.dispatched).await;
    Ok(changed)
}
