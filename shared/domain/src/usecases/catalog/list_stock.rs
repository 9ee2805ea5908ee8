//! `GET /v1/inventory`: stock levels, filtered.

use crate::kernel::access::{Action, Actor};
use crate::kernel::error::AppError;
use crate::ports::StockStore;
use crate::stock::{StockFilter, StockLevel};

/// Stock levels; a hub and SKU pair with no record reads as zero.
pub async fn list_stock<S: StockStore>(
    store: &S,
    actor: &Actor,
    filter: StockFilter,
) -> Result<Vec<StockLevel>, AppError> {
    actor.authorize(Action::ReadInventory)?;
    let mut levels = store.list_stock(&actor.tenant_id, &filter).await?;
    if let (Some(hub_id), Some(sku), true) = (&filter.hub_id, &filter.sku, levels.is_empty()) {
        levels.push(StockLevel::empty(hub_id.clone(), sku.clone()));
    }
    Ok(levels)
}
