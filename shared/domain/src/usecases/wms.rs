//! Events from the warehouse system (source `wms`). Delivered at least once and possibly out of
//! order: each is applied so that a repeat, or an older event arriving late, changes nothing.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::kernel::error::{AppError, ConflictCode, ConflictOn, InvalidCode, StoreError};
use crate::kernel::ids::{HubId, Sku, TenantId};
use crate::kernel::quantity::non_negative_quantity;
use crate::order::fulfillment::{ReportedLine, WarehouseReport};
use crate::order::shipment::Package;
use crate::ports::{CatalogStore, OrderStore, StockStore};
use crate::stock::StockChange;
use crate::usecases::shipments::warehouse_report;
use crate::usecases::unit_of_work::Changed;

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

impl From<&Changed> for Applied {
    fn from(changed: &Changed) -> Self {
        if changed.replayed { Self::Ignored } else { Self::Changed }
    }
}

/// The fields every warehouse event about a fulfillment request carries.
macro_rules! request_event {
    ($(#[$doc:meta])* $name:ident { $($(#[$field_doc:meta])* $field:ident: $ty:ty,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            /// Owner.
            pub tenant_id: TenantId,
            /// Unique per event.
            pub event_id: String,
            /// The request reported on.
            pub fulfillment_request_id: String,
            /// When it happened.
            pub occurred_at: Option<DateTime<Utc>>,
            $($(#[$field_doc])* pub $field: $ty,)*
        }
    };
}

request_event!(
    /// `FulfillmentAccepted`: the warehouse took the request.
    FulfillmentAccepted {}
);

request_event!(
    /// `PickCompleted`: quantities picked.
    PickCompleted {
        /// Quantities picked.
        lines: Vec<ReportedLine>,
    }
);

request_event!(
    /// `PackCompleted`: quantities packed, and the packages.
    PackCompleted {
        /// Quantities packed.
        lines: Vec<ReportedLine>,
        /// The packages.
        #[serde(default)]
        packages: Vec<Package>,
    }
);

request_event!(
    /// `ShipCompleted`: the goods left with a carrier.
    ShipCompleted {
        /// Who carries it.
        carrier: String,
        /// The carrier's tracking number.
        tracking_number: String,
        /// The packages.
        packages: Vec<Package>,
        /// Quantities shipped.
        lines: Vec<ReportedLine>,
    }
);

/// Applies a warehouse report about a fulfillment request (see [`warehouse_report`]).
pub async fn fulfillment_accepted<S: OrderStore + StockStore>(
    store: &S,
    e: FulfillmentAccepted,
    now: DateTime<Utc>,
) -> Result<Applied, AppError> {
    warehouse_report(store, &e.tenant_id, &e.event_id, &e.fulfillment_request_id, WarehouseReport::Accepted, now).await
}

/// See [`fulfillment_accepted`].
pub async fn pick_completed<S: OrderStore + StockStore>(
    store: &S,
    e: PickCompleted,
    now: DateTime<Utc>,
) -> Result<Applied, AppError> {
    let report = WarehouseReport::Picked { lines: e.lines };
    warehouse_report(store, &e.tenant_id, &e.event_id, &e.fulfillment_request_id, report, now).await
}

/// See [`fulfillment_accepted`].
pub async fn pack_completed<S: OrderStore + StockStore>(
    store: &S,
    e: PackCompleted,
    now: DateTime<Utc>,
) -> Result<Applied, AppError> {
    let report = WarehouseReport::Packed { lines: e.lines, packages: e.packages };
    warehouse_report(store, &e.tenant_id, &e.event_id, &e.fulfillment_request_id, report, now).await
}

/// See [`fulfillment_accepted`].
pub async fn ship_completed<S: OrderStore + StockStore>(
    store: &S,
    e: ShipCompleted,
    now: DateTime<Utc>,
) -> Result<Applied, AppError> {
    let report = WarehouseReport::Shipped {
        lines: e.lines,
        packages: e.packages,
        carrier: e.carrier,
        tracking_number: e.tracking_number,
    };
    warehouse_report(store, &e.tenant_id, &e.event_id, &e.fulfillment_request_id, report, now).await
}

/// Applies a warehouse count: sets on-hand unless a later count was applied. A count below what
/// is reserved for orders is refused (the shortage needs a person), as is an unknown hub or SKU.
pub async fn stock_adjusted<S: CatalogStore + StockStore>(
    store: &S,
    event: StockAdjusted,
    sent_at: DateTime<Utc>,
) -> Result<Applied, AppError> {
    let on_hand = non_negative_quantity("on_hand", event.on_hand)?;
    let tenant = &event.tenant_id;
    if store.get_hub(tenant, &event.hub_id).await?.is_none() {
        return Err(AppError::invalid_with_code(
            InvalidCode::UnknownHub,
            "hub_id",
            format!("unknown hub {}", event.hub_id),
        ));
    }
    if store.get_skus(tenant, std::slice::from_ref(&event.sku)).await?.is_empty() {
        return Err(AppError::invalid_with_code(InvalidCode::UnknownSku, "sku", format!("unknown SKU {}", event.sku)));
    }
    let change = StockChange::Counted { on_hand, at: event.occurred_at.unwrap_or(sent_at) };
    match store.change_stock(tenant, &event.hub_id, &event.sku, change).await {
        Ok(_) => Ok(Applied::Changed),
        Err(StoreError::Conflict(ConflictOn::Stale)) => Ok(Applied::Ignored),
        Err(StoreError::Conflict(ConflictOn::Stock { .. })) => Err(AppError::conflict(
            ConflictCode::StockBelowReserved,
            format!("counted {on_hand} of {} at {}, less than is reserved for orders", event.sku, event.hub_id),
        )),
        Err(other) => Err(other.into()),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::catalog::{HubInput, HubType, Location, SkuInput};
    use crate::memory::MemoryStore;
    use crate::ports::{CatalogStore, StockStore};
    use crate::stock::StockFilter;

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
            Err(AppError::Invalid { code: InvalidCode::UnknownSku, .. })
        ));
    }
}
