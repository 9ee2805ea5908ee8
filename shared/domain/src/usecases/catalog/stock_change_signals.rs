//! What a stored change of stock means (the outbox relay, on the table stream's stock images):
//! the domain's judgement, the adapter only hands over the images.

use crate::events::DomainEvent;
use crate::kernel::error::StoreError;
use crate::kernel::ids::TenantId;
use crate::ports::{CatalogStore, StockStore};
use crate::stock::signals::{hub_change, may_run_low, stock_signals};
use crate::stock::{StockFilter, StockLevel};

/// The signals of a change of one stored part of a hub's stock (`part_before` is `None` for a
/// new part), judged on the hub's total read now, against the SKU's low-stock threshold (looked
/// up only when available fell).
pub async fn stock_change_signals<S: CatalogStore + StockStore>(
    store: &S,
    tenant: &TenantId,
    part_before: Option<&StockLevel>,
    part_after: &StockLevel,
) -> Result<Vec<DomainEvent>, StoreError> {
    let filter = StockFilter { sku: Some(part_after.sku.clone()), hub_id: Some(part_after.hub_id.clone()) };
    let hub_after = store.list_stock(tenant, &filter).await?.into_iter().next();
    let (before, after) = hub_change(part_before, part_after, hub_after);
    let threshold = if may_run_low(before.as_ref(), &after) {
        let sku = store.get_skus(tenant, std::slice::from_ref(&after.sku)).await?;
        sku.first().map(|s| s.low_stock_threshold).unwrap_or_default()
    } else {
        Default::default()
    };
    Ok(stock_signals(before.as_ref(), &after, threshold))
}
