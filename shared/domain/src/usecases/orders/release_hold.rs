//! `POST /v1/orders/{id}/holds/{hold_id}/release`: let a held order go on.

use crate::kernel::access::{Action, Actor};
use crate::kernel::error::AppError;
use crate::kernel::ids::OrderId;
use crate::ports::{CatalogStore, OrderStore, StockStore};
use crate::usecases::placement::count_dispatches;
use crate::usecases::unit_of_work::{Changed, IdempotencyKey, change_order};
use chrono::{DateTime, Utc};

/// `POST /orders/{id}/holds/{hold_id}/release`: [`crate::order::Order::release_hold`], the
/// requests it sends counted against the hubs' capacity.
pub async fn release_hold<S: OrderStore + StockStore + CatalogStore>(
    store: &S,
    actor: &Actor,
    id: &OrderId,
    hold_id: &str,
    key: Option<IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Changed, AppError> {
    let changed =
        change_order(store, actor, id, Action::ManageOrders, key, now, |order| order.release_hold(hold_id, actor, now))
            .await?;
    count_dispatches(store, &actor.tenant_id, &changed.dispatched).await;
    Ok(changed)
}
