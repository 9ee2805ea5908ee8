//! `PUT /v1/skus/{sku}`: create or replace a SKU.

use crate::catalog::{SkuInput, SkuRecord};
use crate::kernel::access::{Action, Actor};
use crate::kernel::error::{AppError, ConflictCode, ConflictOn, StoreError};
use crate::kernel::ids::Sku;
use crate::ports::CatalogStore;
use chrono::{DateTime, Utc};

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
            ConflictCode::ChannelItemTaken,
            format!("{channel} item {item_id} is already mapped to another SKU"),
        ),
        other => other.into(),
    })?;
    Ok(record)
}
