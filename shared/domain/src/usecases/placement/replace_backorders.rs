//! The `replace-backorders` task: stock arrived; backordered orders try placement again.

use crate::kernel::access::Actor;
use crate::kernel::error::{AppError, StoreError};
use crate::kernel::ids::{OrderId, Sku, TenantId};
use crate::ports::{OrderStore, StockStore};
use crate::usecases::placement::COMPONENT;
use crate::usecases::unit_of_work;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

/// How many backordered orders one replenishment looks at.
const BACKORDER_BATCH: usize = 200;

/// Stock of `sku` went up: sends its `BACKORDERED` orders back to placement, oldest first, as
/// far as the stock now available can serve them (a `ship_complete` order that cannot be served
/// whole is passed over). Returns the orders re-placed.
pub async fn replace_backorders<S: OrderStore + StockStore>(
    store: &S,
    tenant: &TenantId,
    sku: &Sku,
    now: DateTime<Utc>,
) -> Result<Vec<OrderId>, AppError> {
    let levels = store.stock_for_skus(tenant, std::slice::from_ref(sku)).await?;
    let mut remaining: Decimal = levels.iter().map(|l| l.available().max(Decimal::ZERO)).sum();
    let actor = Actor::system(tenant.clone(), COMPONENT);
    let mut replaced = Vec::new();
    for id in store.backordered_orders(tenant, sku, BACKORDER_BATCH).await? {
        if remaining <= Decimal::ZERO {
            break;
        }
        let Some(mut order) = store.get_order(tenant, &id).await? else { continue };
        let (version, need) = (order.version, order.waits_for(sku));
        let change = order.replace_backorder(sku, remaining, &actor, now)?;
        if order.version == version {
            continue;
        }
        let (write, _) = unit_of_work::order_write(order, Some(version), change, now);
        match store.save_order(write).await {
            Ok(()) => {
                remaining -= need;
                replaced.push(id);
            }
            // Changed meanwhile (cancelled, or re-placed by a concurrent replenishment).
            Err(StoreError::Conflict(_)) => {}
            Err(other) => return Err(other.into()),
        }
    }
    Ok(replaced)
}
