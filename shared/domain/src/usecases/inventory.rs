//! Hubs, SKUs and stock levels (`PUT`/`GET /hubs`, `/skus`, `/inventory`).

use chrono::{DateTime, Utc};

use crate::access::{Action, Actor};
use crate::error::{AppError, ConflictOn, StoreError};
use crate::ids::{HubId, Sku};
use crate::inventory::{Hub, HubInput, SkuInput, SkuRecord, StockFilter, StockInput, StockLevel};
use crate::ports::{CatalogStore, StockStore};

/// Creates or replaces a hub.
pub async fn put_hub<S: CatalogStore>(
    store: &S,
    actor: &Actor,
    hub_id: HubId,
    input: HubInput,
    now: DateTime<Utc>,
) -> Result<Hub, AppError> {
    actor.authorize(Action::WriteInventory)?;
    let hub = input.into_hub(hub_id, now)?;
    store.put_hub(&actor.tenant_id, &hub).await?;
    Ok(hub)
}

/// Every hub.
pub async fn list_hubs<S: CatalogStore>(store: &S, actor: &Actor) -> Result<Vec<Hub>, AppError> {
    actor.authorize(Action::ReadInventory)?;
    Ok(store.list_hubs(&actor.tenant_id).await?)
}

/// Creates or replaces a SKU.
pub async fn put_sku<S: CatalogStore>(
    store: &S,
    actor: &Actor,
    sku: Sku,
    input: SkuInput,
    now: DateTime<Utc>,
) -> Result<SkuRecord, AppError> {
    actor.authorize(Action::WriteInventory)?;
    let record = input.into_sku(sku, now)?;
    store.put_sku(&actor.tenant_id, &record).await.map_err(|e| match e {
        StoreError::Conflict(ConflictOn::ChannelItem { channel, item_id }) => AppError::conflict(
            "channel_item_taken",
            format!("{channel} item {item_id} is already mapped to another SKU"),
        ),
        other => other.into(),
    })?;
    Ok(record)
}

/// Every SKU.
pub async fn list_skus<S: CatalogStore>(store: &S, actor: &Actor) -> Result<Vec<SkuRecord>, AppError> {
    actor.authorize(Action::ReadInventory)?;
    Ok(store.list_skus(&actor.tenant_id).await?)
}

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
        StoreError::Conflict(ConflictOn::Stock { .. }) => {
            AppError::conflict("stock_below_reserved", "on_hand cannot go below the quantity reserved for orders")
        }
        other => other.into(),
    })
}

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
