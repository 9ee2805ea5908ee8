//! Sales-channel intake: a connector drops a channel's order on a queue; it becomes an order of
//! the tenant, submitted at once. The channel and its order id are unique per tenant, so a
//! message delivered twice (or a connector that resends) never makes a second order.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::kernel::access::Actor;
use crate::kernel::error::{AppError, ConflictCode};
use crate::kernel::ids::{OrderId, Sku, TenantId};
use crate::kernel::money::Currency;
use crate::kernel::text::channel_name;
use crate::order::{Customer, FulfillmentPolicy};
use crate::ports::{CatalogStore, OrderStore, StockStore};
use crate::usecases::orders::{CreateOrderRequest, LineRequest, create_order};

/// A channel's order, as the connector sends it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelOrder {
    /// The tenant the channel sells for.
    pub tenant_id: TenantId,
    /// `shopee`, `lazada`, `b2b-portal`, ...
    pub channel: String,
    /// The channel's id for the order.
    pub channel_order_id: String,
    /// The buyer.
    pub customer: Customer,
    /// Defaults to VND.
    #[serde(default)]
    pub currency: Currency,
    /// Defaults to `ship_partial`.
    #[serde(default)]
    pub fulfillment_policy: FulfillmentPolicy,
    /// The buyer's reference.
    pub external_reference: Option<String>,
    /// Free text.
    pub notes: Option<String>,
    /// The items.
    pub lines: Vec<ChannelLine>,
}

/// One item of a channel order.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelLine {
    /// The channel's item id (mapped to a SKU by the SKU's `channel_items`), or a SKU code.
    pub channel_item_id: String,
    /// Quantity.
    pub quantity: Decimal,
    /// The price the channel sold at (defaults to list price).
    pub unit_price: Option<Decimal>,
    /// Shipping cost per unit.
    pub shipping_unit_cost: Option<Decimal>,
}

/// What intake did with a message.
#[derive(Debug, PartialEq, Eq)]
pub enum Ingested {
    /// A new order.
    Created(OrderId),
    /// The channel order was taken in before.
    Duplicate,
}

/// Turns a channel order into a submitted order.
pub async fn ingest<S: OrderStore + CatalogStore + StockStore>(
    store: &S,
    message: ChannelOrder,
    now: DateTime<Utc>,
) -> Result<Ingested, AppError> {
    let channel = channel_name("channel", &message.channel)?;
    let actor = Actor::system(message.tenant_id.clone(), &format!("channel:{channel}"));
    let item_ids: Vec<String> = message.lines.iter().map(|l| l.channel_item_id.clone()).collect();
    let mapped: HashMap<String, Sku> = store.skus_for_channel_items(&message.tenant_id, &channel, &item_ids).await?;
    let mut lines = Vec::with_capacity(message.lines.len());
    for (i, line) in message.lines.into_iter().enumerate() {
        // An item id with no mapping is taken as the SKU code itself; an unknown SKU is then
        // refused by order validation like any other.
        let sku = match mapped.get(&line.channel_item_id) {
            Some(sku) => sku.clone(),
            None => Sku::parse(line.channel_item_id).map_err(|e| e.within(&format!("lines[{i}]")))?,
        };
        lines.push(LineRequest {
            sku,
            quantity: line.quantity,
            unit: None,
            quoted_unit_price: line.unit_price,
            shipping_unit_cost: line.shipping_unit_cost,
        });
    }
    let request = CreateOrderRequest {
        customer: message.customer,
        currency: message.currency,
        fulfillment_policy: message.fulfillment_policy,
        allocation: Default::default(),
        external_reference: message.external_reference,
        channel: Some(channel),
        channel_order_id: Some(message.channel_order_id),
        notes: message.notes,
        discount: Decimal::ZERO,
        lines,
        submit: true,
    };
    match create_order(store, &actor, request, None, now).await {
        Ok(created) => Ok(Ingested::Created(created.order.order_id)),
        Err(AppError::Conflict { code: ConflictCode::DuplicateChannelOrder, .. }) => Ok(Ingested::Duplicate),
        Err(other) => Err(other),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::catalog::SkuInput;
    use crate::kernel::error::InvalidCode;
    use crate::memory::MemoryStore;
    use crate::order::status::OrderStatus;

    fn message(channel_order_id: &str, item: &str) -> ChannelOrder {
        serde_json::from_value(serde_json::json!({
            "tenant_id": "t1",
            "channel": "shopee",
            "channel_order_id": channel_order_id,
            "customer": {"id": "buyer-9", "name": "Lan", "delivery_address": {"line1": "1 Hue", "city": "Hue", "country": "VN"}},
            "lines": [{"channel_item_id": item, "quantity": "2", "unit_price": "120"}]
        }))
        .unwrap()
    }

    async fn store() -> MemoryStore {
        let store = MemoryStore::new();
        let input = SkuInput {
            name: "Cup".into(),
            unit: "EA".into(),
            list_price: Decimal::new(100, 0),
            currency: Currency::Vnd,
            tax_rate: None,
            low_stock_threshold: None,
            channel_items: BTreeMap::from([("shopee".to_owned(), "SP-77".to_owned())]),
            stock_shards: None,
        };
        let tenant = TenantId::parse("t1").unwrap();
        store.put_sku(&tenant, &input.into_sku(Sku::parse("CUP").unwrap(), Utc::now()).unwrap()).await.unwrap();
        store
    }

    #[tokio::test]
    async fn a_channel_order_becomes_a_submitted_order_once() {
        let store = store().await;
        let Ingested::Created(id) = ingest(&store, message("SO-1", "SP-77"), Utc::now()).await.unwrap() else {
            panic!("expected a new order")
        };
        let order = store.get_order(&TenantId::parse("t1").unwrap(), &id).await.unwrap().unwrap();
        assert_eq!((order.status, order.lines[0].sku.as_str()), (OrderStatus::PendingAllocation, "CUP"));
        assert_eq!((order.channel.as_deref(), order.created_by.as_str()), (Some("shopee"), "channel:shopee"));
        assert_eq!(ingest(&store, message("SO-1", "SP-77"), Utc::now()).await.unwrap(), Ingested::Duplicate);
        assert!(
            matches!(ingest(&store, message("SO-2", "CUP"), Utc::now()).await, Ok(Ingested::Created(_))),
            "a SKU code works too"
        );
    }

    #[tokio::test]
    async fn an_unknown_item_is_refused_and_writes_nothing() {
        let store = store().await;
        let err = ingest(&store, message("SO-3", "SP-404"), Utc::now()).await.unwrap_err();
        assert!(matches!(err, AppError::Invalid { code: InvalidCode::UnknownSku, .. }), "{err:?}");
        assert!(store.outbox().is_empty());
    }
}
