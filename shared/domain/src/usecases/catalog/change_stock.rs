//! `PUT /v1/inventory/{hub_id}/{sku}`: set or adjust on-hand stock.

use crate::kernel::access::{Action, Actor};
use crate::kernel::error::{AppError, ConflictCode, ConflictOn, StoreError};
use crate::kernel::ids::{HubId, Sku};
use crate::ports::{CatalogStore, StockStore};
use crate::stock::{StockInput, StockLevel};

/// Sets or adjusts on-hand stock of a known SKU at a known hub. Refused (409) when it would take
/// on-hand below what is reserved.
pub async fn change_stock<S: CatalogStore + StockStore>(
    store: &S,
    actor: &Actor,
    hub_id: HubId,
    sku: Sku,
    input: StockInput,
) -> Result<StockLevel, AppError> {
    actor.authorize(Action::WriteInventory)?;
    let change = input.into_change()?;
    let tenant = &actor.tenant_id;
    if store.get_hub(tenant, &hub_id).await?.is_none() {
        return Err(AppError::NotFound("hub"));
    }
    if store.get_skus(tenant, std::slice::from_ref(&sku)).await?.is_empty() {
        return Err(AppError::NotFound("sku"));
    }
    store.change_stock(tenant, &hub_id, &sku, change).await.map_err(|e| match e {
        StoreError::Conflict(ConflictOn::Stock { .. }) => AppError::conflict(
            ConflictCode::StockBelowReserved,
            "on_hand cannot go below the quantity reserved for orders",
        ),
        other => other.into(),
    })
}
