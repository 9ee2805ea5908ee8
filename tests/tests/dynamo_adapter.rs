//! The DynamoDB adapter against DynamoDB Local: conditional writes, tenant isolation,
//! idempotency and reservations under concurrency.

use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::Utc;
use futures_util::future::join_all;
use oms_aws::DynamoStore;
use oms_aws::dynamo::keys;
use oms_domain::inventory::{StockChange, StockFilter};
use oms_domain::placement::RoutingWeights;
use oms_domain::ports::{OrderStore, OrderWrite, StockStore};
use oms_domain::usecases::orders::get_order;
use oms_domain::usecases::placement::{PlacementRequest, plan, reserve};
use oms_domain::usecases::{CreateOrderRequest, IdempotencyKey, create_order};
use oms_domain::{AppError, ConflictOn, Currency, OrderId, OrderStatus, Role, StoreError, TenantId};
use oms_tests::{actor, client, fresh_tenant, hub, sku, stock, store, table};
use rust_decimal::Decimal;
use serde_json::json;

fn request(body: &serde_json::Value) -> CreateOrderRequest {
    serde_json::from_value(body.clone()).unwrap()
}

fn order_body(sku: &str, quantity: &str, submit: bool) -> serde_json::Value {
    json!({
        "customer": {"id": "C1", "name": "Nhựa ABC", "delivery_address": {"line1": "1 Lê Lợi", "city": "HCM", "country": "VN", "lat": 10.77, "lon": 106.7}},
        "lines": [{"sku": sku, "quantity": quantity}],
        "submit": submit
    })
}

async fn count_orders(tenant: &TenantId) -> usize {
    let out = client()
        .await
        .query()
        .table_name(table())
        .index_name("GSI1")
        .key_condition_expression("GSI1PK = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(keys::orders_by_date_pk(tenant)))
        .send()
        .await
        .unwrap();
    out.items.unwrap_or_default().len()
}

async fn new_order(store: &DynamoStore, tenant: &TenantId, sku_code: &str, quantity: &str) -> OrderId {
    let sales = actor(tenant, Role::Sales);
    create_order(store, &sales, request(&order_body(sku_code, quantity, true)), None, Utc::now())
        .await
        .unwrap()
        .order
        .order_id
}

#[tokio::test]
async fn a_created_order_reads_back_whole_with_its_history() {
    let store = store().await;
    let tenant = fresh_tenant();
    sku(&store, &tenant, "PP", Decimal::new(32000, 0), Currency::Vnd).await;
    let sales = actor(&tenant, Role::Sales);
    let created =
        create_order(&store, &sales, request(&order_body("PP", "1.5", true)), None, Utc::now()).await.unwrap();
    let read = store.get_order(&tenant, &created.order.order_id).await.unwrap().unwrap();
    assert_eq!(read, created.order);
    assert_eq!(read.totals.grand_total, Decimal::new(52800, 0));
    let history = store.order_history(&tenant, &read.order_id).await.unwrap();
    let steps: Vec<_> = history.iter().map(|h| (h.from, h.to)).collect();
    assert_eq!(steps, [(None, OrderStatus::Draft), (Some(OrderStatus::Draft), OrderStatus::PendingAllocation)]);
}

#[tokio::test]
async fn a_write_from_a_stale_version_loses_and_writes_nothing() {
    let store = store().await;
    let tenant = fresh_tenant();
    sku(&store, &tenant, "PP", Decimal::ONE, Currency::Vnd).await;
    let id = new_order(&store, &tenant, "PP", "1").await;
    let admin = actor(&tenant, Role::Admin);

    let original = store.get_order(&tenant, &id).await.unwrap().unwrap();
    let (mut first, mut second) = (original.clone(), original.clone());
    let change = first.change_status(OrderStatus::Cancelled, "customer asked", &admin, Utc::now()).unwrap();
    let write = OrderWrite::update(first, original.version, vec![change], vec![]);
    store.save_order(write).await.unwrap();

    let change = second.change_status(OrderStatus::Backordered, "stale writer", &admin, Utc::now()).unwrap();
    let stale = OrderWrite::update(second, original.version, vec![change], vec![]);
    assert!(matches!(store.save_order(stale).await, Err(StoreError::Conflict(ConflictOn::Version))));

    let stored = store.get_order(&tenant, &id).await.unwrap().unwrap();
    assert_eq!((stored.status, stored.version), (OrderStatus::Cancelled, original.version + 1));
    let history = store.order_history(&tenant, &id).await.unwrap();
    assert_eq!(history.last().unwrap().reason, "customer asked");
    assert_eq!(history.len(), 3, "the losing write added no history");
}

#[tokio::test]
async fn one_tenant_cannot_read_another_tenants_order_by_id() {
    let store = store().await;
    let (mine, theirs) = (fresh_tenant(), fresh_tenant());
    sku(&store, &mine, "PP", Decimal::ONE, Currency::Vnd).await;
    let id = new_order(&store, &mine, "PP", "1").await;
    assert!(store.get_order(&theirs, &id).await.unwrap().is_none());
    let intruder = actor(&theirs, Role::Admin);
    assert!(matches!(get_order(&store, &intruder, &id).await, Err(AppError::NotFound("order"))));
    assert!(get_order(&store, &actor(&mine, Role::Admin), &id).await.is_ok());
}

#[tokio::test]
async fn an_idempotency_key_makes_one_order_even_when_requests_race() {
    let store = Arc::new(store().await);
    let tenant = fresh_tenant();
    sku(&store, &tenant, "PP", Decimal::ONE, Currency::Vnd).await;
    let body = order_body("PP", "2", true);
    let key = || Some(IdempotencyKey::new("checkout-42", "POST /v1/orders", &body).unwrap());

    let attempts = (0..8).map(|_| {
        let (store, tenant, body, key) = (store.clone(), tenant.clone(), body.clone(), key());
        tokio::spawn(async move {
            create_order(&*store, &actor(&tenant, Role::Sales), request(&body), key, Utc::now()).await
        })
    });
    let results: Vec<_> = join_all(attempts).await.into_iter().map(|r| r.unwrap().unwrap()).collect();
    let first = &results[0].order.order_id;
    assert!(results.iter().all(|r| &r.order.order_id == first), "every racer got the same order");
    assert_eq!(results.iter().filter(|r| !r.replayed).count(), 1);
    assert_eq!(count_orders(&tenant).await, 1);

    let mut changed = body.clone();
    changed["lines"][0]["quantity"] = "3".into();
    let reused = IdempotencyKey::new("checkout-42", "POST /v1/orders", &changed).unwrap();
    let err = create_order(&*store, &actor(&tenant, Role::Sales), request(&changed), Some(reused), Utc::now())
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Unprocessable { code: "idempotency_key_reused", .. }));
    assert_eq!(count_orders(&tenant).await, 1);
}

#[tokio::test]
async fn a_duplicate_channel_order_id_is_refused() {
    let store = store().await;
    let tenant = fresh_tenant();
    sku(&store, &tenant, "PP", Decimal::ONE, Currency::Vnd).await;
    let mut body = order_body("PP", "1", false);
    body["channel"] = "shopee".into();
    body["channel_order_id"] = "SHP-1#2".into();
    let sales = actor(&tenant, Role::Sales);
    create_order(&store, &sales, request(&body), None, Utc::now()).await.unwrap();
    let again = create_order(&store, &sales, request(&body), None, Utc::now()).await.unwrap_err();
    assert!(matches!(again, AppError::Conflict { code: "duplicate_channel_order", .. }));
    assert_eq!(count_orders(&tenant).await, 1);
}

/// Runs placement the way the workflow does: plan, reserve, and plan again when the plan went
/// stale.
async fn place(store: &DynamoStore, tenant: &TenantId, order_id: &OrderId) -> OrderStatus {
    let request = PlacementRequest { tenant_id: tenant.clone(), order_id: order_id.clone() };
    for _ in 0..50 {
        let plan = plan(store, &request, RoutingWeights::default()).await.unwrap();
        match reserve(store, &plan, Utc::now()).await {
            Ok(result) => return result.status,
            Err(AppError::Conflict { code: "plan_stale", .. }) => continue,
            Err(other) => panic!("placement failed: {other:?}"),
        }
    }
    panic!("placement never settled")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_placements_never_oversell_the_last_units() {
    let store = Arc::new(store().await);
    let tenant = fresh_tenant();
    let pp = sku(&store, &tenant, "PP", Decimal::ONE, Currency::Vnd).await;
    let (a, b) =
        (hub(&store, &tenant, "A", Decimal::new(9, 1)).await, hub(&store, &tenant, "B", Decimal::new(5, 1)).await);
    stock(&store, &tenant, &a, &pp, Decimal::new(6, 0)).await;
    stock(&store, &tenant, &b, &pp, Decimal::new(4, 0)).await;

    let mut ids = Vec::new();
    for _ in 0..25 {
        ids.push(new_order(&store, &tenant, "PP", "1").await);
    }
    let placements = ids.iter().cloned().map(|id| {
        let (store, tenant) = (store.clone(), tenant.clone());
        tokio::spawn(async move { place(&store, &tenant, &id).await })
    });
    let outcomes: Vec<OrderStatus> = join_all(placements).await.into_iter().map(Result::unwrap).collect();
    assert_eq!(outcomes.iter().filter(|s| **s == OrderStatus::Allocated).count(), 10);
    assert_eq!(outcomes.iter().filter(|s| **s == OrderStatus::Backordered).count(), 15);

    let levels = store.list_stock(&tenant, &StockFilter { sku: Some(pp.clone()), hub_id: None }).await.unwrap();
    let reserved: Decimal = levels.iter().map(|l| l.reserved).sum();
    assert_eq!(reserved, Decimal::new(10, 0));
    assert!(levels.iter().all(|l| l.reserved <= l.on_hand && l.available().is_zero()));
    let mut allocated = Decimal::ZERO;
    for id in &ids {
        allocated += store.get_order(&tenant, id).await.unwrap().unwrap().lines[0].allocated;
    }
    assert_eq!(allocated, reserved, "the allocations account for every reserved unit");
}

#[tokio::test]
async fn stock_never_goes_below_what_is_reserved() {
    let store = store().await;
    let tenant = fresh_tenant();
    let pp = sku(&store, &tenant, "PP", Decimal::ONE, Currency::Vnd).await;
    let a = hub(&store, &tenant, "A", Decimal::ONE).await;
    stock(&store, &tenant, &a, &pp, Decimal::new(10, 0)).await;
    let id = new_order(&store, &tenant, "PP", "7").await;
    assert_eq!(place(&store, &tenant, &id).await, OrderStatus::Allocated);

    let below = store.change_stock(&tenant, &a, &pp, StockChange::Set(Decimal::new(6, 0))).await;
    assert!(matches!(below, Err(StoreError::Conflict(ConflictOn::Stock { .. }))));
    let too_much = store.change_stock(&tenant, &a, &pp, StockChange::Delta(Decimal::new(-4, 0))).await;
    assert!(matches!(too_much, Err(StoreError::Conflict(ConflictOn::Stock { .. }))));
    let level = store.change_stock(&tenant, &a, &pp, StockChange::Delta(Decimal::new(-3, 0))).await.unwrap();
    assert_eq!(
        (level.on_hand, level.reserved, level.available()),
        (Decimal::new(7, 0), Decimal::new(7, 0), Decimal::ZERO)
    );
    let level = store.change_stock(&tenant, &a, &pp, StockChange::Set(Decimal::new(125, 1))).await.unwrap();
    assert_eq!(level.available(), Decimal::new(55, 1));
}

#[tokio::test]
async fn order_numbers_count_up_per_tenant_and_day() {
    let store = store().await;
    let (t1, t2) = (fresh_tenant(), fresh_tenant());
    let day = Utc::now().date_naive();
    assert_eq!(store.next_order_sequence(&t1, day).await.unwrap(), 1);
    assert_eq!(store.next_order_sequence(&t1, day).await.unwrap(), 2);
    assert_eq!(store.next_order_sequence(&t2, day).await.unwrap(), 1);
    assert_eq!(store.next_order_sequence(&t1, day.succ_opt().unwrap()).await.unwrap(), 1);
}
