//! Helpers for tests against the local stack's DynamoDB Local.
//!
//! The table is the one `./dev` created from `infra/template.yaml`; each test works in a tenant
//! of its own, which is a fresh key space because every key starts with the tenant.

use aws_sdk_dynamodb::config::{Credentials, Region};
use chrono::Utc;
use oms_aws::DynamoStore;
use oms_domain::catalog::{Hub, HubType, Location, SkuRecord};
use oms_domain::ports::{CatalogStore, StockStore};
use oms_domain::stock::StockChange;
use oms_domain::{Actor, Currency, HubId, Role, Sku, TenantId};
use rust_decimal::Decimal;

fn required(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: these tests need DynamoDB Local and the table; run them with ./dev test (or ./dev up, then source .local/run/stack.env)")
    })
}

/// A client of DynamoDB Local.
pub async fn client() -> aws_sdk_dynamodb::Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "oms-tests"))
        .endpoint_url(required("OMS_DYNAMODB_ENDPOINT"))
        .load()
        .await;
    aws_sdk_dynamodb::Client::new(&config)
}

/// The local table's name.
pub fn table() -> String {
    required("OMS_TABLE_NAME")
}

/// A store over the local table.
pub async fn store() -> DynamoStore {
    DynamoStore::new(client().await, table())
}

/// A tenant no other test uses.
pub fn fresh_tenant() -> TenantId {
    TenantId::parse(format!("test-{}", ulid::Ulid::new().to_string().to_lowercase())).unwrap()
}

/// A user of the tenant with this role.
pub fn actor(tenant: &TenantId, role: Role) -> Actor {
    Actor { sub: format!("user-{role:?}").to_lowercase(), tenant_id: tenant.clone(), role }
}

/// An active warehouse.
pub async fn hub(store: &DynamoStore, tenant: &TenantId, id: &str, score: Decimal) -> HubId {
    let hub = Hub {
        hub_id: HubId::parse(id).unwrap(),
        name: id.into(),
        hub_type: HubType::Warehouse,
        location: Location { lat: 10.8, lon: 106.6 },
        daily_capacity: 1000,
        performance_score: score,
        active: true,
        updated_at: Utc::now(),
    };
    store.put_hub(tenant, &hub).await.unwrap();
    hub.hub_id
}

/// A SKU in `currency` at `price`.
pub async fn sku(store: &DynamoStore, tenant: &TenantId, code: &str, price: Decimal, currency: Currency) -> Sku {
    sku_with_shards(store, tenant, code, price, currency, 1).await
}

/// A SKU whose stock at each hub is spread over `shards` items.
pub async fn sku_with_shards(
    store: &DynamoStore,
    tenant: &TenantId,
    code: &str,
    price: Decimal,
    currency: Currency,
    shards: u16,
) -> Sku {
    let sku = SkuRecord {
        sku: Sku::parse(code).unwrap(),
        name: code.into(),
        unit: "KG".into(),
        list_price: price,
        currency,
        tax_rate: Decimal::new(10, 2),
        low_stock_threshold: Decimal::ZERO,
        channel_items: Default::default(),
        stock_shards: shards,
        updated_at: Utc::now(),
    };
    store.put_sku(tenant, &sku).await.unwrap();
    sku.sku
}

/// Sets on-hand stock.
pub async fn stock(store: &DynamoStore, tenant: &TenantId, hub: &HubId, sku: &Sku, on_hand: Decimal) {
    store.change_stock(tenant, hub, sku, StockChange::Set(on_hand)).await.unwrap();
}
