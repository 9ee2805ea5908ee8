//! Events from the warehouse system (source `wms`). Delivered at least once and possibly out of
//! order: each is applied so that a repeat, or an older event arriving late, changes nothing.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::error::{AppError, ConflictOn, StoreError};
use crate::ids::{HubId, Sku, TenantId};
use crate::inventory::StockChange;
use crate::ports::Store;
use crate::quantity::non_negative_quantity;

/// `StockAdjusted`: the warehouse counted a SKU at a hub.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockAdjusted {
    /// Owner.
    pub tenant_id: TenantId,
    /// Unique per event.
    pub event_id: String,
    /// The hub counted.
    pub hub_id: HubId,
    /// The SKU counted.
    pub sku: Sku,
    /// What is physically there.
    pub on_hand: Decimal,
    /// When it was counted (defaults to the event's time).
    pub occurred_at: Option<DateTime<Utc>>,
}

/// What applying an event did.
#[derive(Debug, PartialEq, Eq)]
pub enum Applied {
    /// The change was made.
    Changed,
    /// A repeat, or older than what was applied already: nothing changed.
    Ignored,
}

/// Applies a warehouse count: sets on-hand unless a later count was applied. A count below what
/// is reserved for orders is refused (the shortage needs a person), as is an unknown hub or SKU.
pub async fn stock_adjusted<S: Store>(
    store: &S,
    event: StockAdjusted,
    sent_at: DateTime<Utc>,
) -> Result<Applied, AppError> {
    let on_hand = non_negative_quantity("on_hand", event.on_hand)?;
    let tenant = &event.tenant_id;
    if store.get_hub(tenant, &event.hub_id).await?.is_none() {
        return Err(AppError::invalid_with_code("unknown_hub", "hub_id", format!("unknown hub {}", event.hub_id)));
    }
    if store.get_skus(tenant, std::slice::from_ref(&event.sku)).await?.is_empty() {
        return Err(AppError::invalid_with_code("unknown_sku", "sku", format!("unknown SKU {}", event.sku)));
    }
    let change = StockChange::Counted { on_hand, at: event.occurred_at.unwrap_or(sent_at) };
    match store.change_stock(tenant, &event.hub_id, &event.sku, change).await {
        Ok(_) => Ok(Applied::Changed),
        Err(StoreError::Conflict(ConflictOn::Stale)) => Ok(Applied::Ignored),
        Err(StoreError::Conflict(ConflictOn::Stock { .. })) => Err(AppError::conflict(
            "stock_below_reserved",
            format!("counted {on_hand} of {} at {}, less than is reserved for orders", event.sku, event.hub_id),
        )),
        Err(other) => Err(other.into()),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::inventory::{HubInput, HubType, Location, SkuInput, StockFilter};
    use crate::memory::MemoryStore;
    use crate::ports::{CatalogStore, StockStore};

    async fn store() -> MemoryStore {
        let store = MemoryStore::new();
        let t = TenantId::parse("t1").unwrap();
        let hub = HubInput {
            name: "H".into(),
            hub_type: HubType::Warehouse,
            location: Location { lat: 0.0, lon: 0.0 },
            daily_capacity: 1,
            performance_score: Decimal::ONE,
            active: true,
        };
        store.put_hub(&t, &hub.into_hub(HubId::parse("H1").unwrap(), Utc::now()).unwrap()).await.unwrap();
        let sku = SkuInput {
            name: "S".into(),
            unit: "EA".into(),
            list_price: Decimal::ONE,
            currency: Default::default(),
            tax_rate: None,
            low_stock_threshold: None,
            channel_items: Default::default(),
            stock_shards: None,
        };
        store.put_sku(&t, &sku.into_sku(Sku::parse("S1").unwrap(), Utc::now()).unwrap()).await.unwrap();
        store
    }

    fn count(on_hand: i64, at: DateTime<Utc>) -> StockAdjusted {
        serde_json::from_value(serde_json::json!({
            "tenant_id": "t1", "event_id": "e1", "hub_id": "H1", "sku": "S1", "on_hand": on_hand.to_string(), "occurred_at": at
        }))
        .unwrap()
    }

    #[tokio::test]
    async fn a_late_older_count_changes_nothing() {
        let store = store().await;
        let now = Utc::now();
        assert_eq!(stock_adjusted(&store, count(40, now), now).await.unwrap(), Applied::Changed);
        assert_eq!(stock_adjusted(&store, count(40, now), now).await.unwrap(), Applied::Ignored, "a repeat");
        assert_eq!(stock_adjusted(&store, count(10, now - Duration::minutes(5)), now).await.unwrap(), Applied::Ignored);
        let levels = store.list_stock(&TenantId::parse("t1").unwrap(), &StockFilter::default()).await.unwrap();
        assert_eq!(levels[0].on_hand, Decimal::new(40, 0));
    }

    #[tokio::test]
    async fn unknown_skus_are_refused() {
        let store = store().await;
        let mut event = count(1, Utc::now());
        event.sku = Sku::parse("NOPE").unwrap();
        assert!(matches!(
            stock_adjusted(&store, event, Utc::now()).await,
            Err(AppError::Invalid { code: "unknown_sku", .. })
        ));
    }
}
