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
use oms_domain::ports::{Counter, OrderStore, OrderWrite, StockStore};
use oms_domain::usecases::orders::get_order;
use oms_domain::usecases::placement::{PlacementRequest, plan, reserve};
use oms_domain::usecases::{CreateOrderRequest, IdempotencyKey, create_order};
use oms_domain::{AppError, ConflictOn, Currency, HubId, OrderId, OrderStatus, Role, StoreError, TenantId};
use oms_tests::{actor, client, fresh_tenant, hub, sku, stock, store, table};
use rust_decimal::Decimal;
use serde_json::json;

fn request(body: &serde_json::Value) -> CreateOrderRequest {
    serde_json::from_value(body.clone()).unwrap()
}

/// An order body. `manual` allocation: these tests run the placement use cases themselves, and
/// the running stack's relay would otherwise start real placement workflows for the same orders.
fn order_body(sku: &str, quantity: &str, submit: bool) -> serde_json::Value {
    json!({
        "customer": {"id": "C1", "name": "Nhựa ABC", "delivery_address": {"line1": "1 Lê Lợi", "city": "HCM", "country": "VN", "lat": 10.77, "lon": 106.7}},
        "allocation": "manual",
        "lines": [{"sku": sku, "quantity": quantity}],
        "submit": submit
    })
}

/// An automatically allocated order awaiting placement, submitted without starting the
/// placement workflow (the test plays the workflow).
async fn auto_order_without_workflow(
    store: &DynamoStore,
    tenant: &TenantId,
    sku_code: &str,
    quantity: &str,
) -> OrderId {
    let sales = actor(tenant, Role::Sales);
    let mut body = order_body(sku_code, quantity, false);
    body["allocation"] = "auto".into();
    let mut order = create_order(store, &sales, request(&body), None, Utc::now()).await.unwrap().order;
    let version = order.version;
    let change = order.submit(&sales, Utc::now()).unwrap();
    let id = order.order_id.clone();
    store.save_order(OrderWrite::update(order, version, vec![change], vec![])).await.unwrap();
    id
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

/// One round: 50 orders of 1 unit race for 10 units spread over two hubs (and, with `shards`
/// above 1, over that many items at each hub).
async fn race_for_ten_units(store: Arc<DynamoStore>, tenant: TenantId, round: usize, shards: u16) {
    let pp =
        oms_tests::sku_with_shards(&store, &tenant, &format!("PP{round}"), Decimal::ONE, Currency::Vnd, shards).await;
    let (a, b) = (HubId::parse("A").unwrap(), HubId::parse("B").unwrap());
    stock(&store, &tenant, &a, &pp, Decimal::new(6, 0)).await;
    stock(&store, &tenant, &b, &pp, Decimal::new(4, 0)).await;

    let creates = (0..50).map(|_| {
        let (store, tenant, pp) = (store.clone(), tenant.clone(), pp.clone());
        tokio::spawn(async move { new_order(&store, &tenant, pp.as_str(), "1").await })
    });
    let ids: Vec<OrderId> = join_all(creates).await.into_iter().map(Result::unwrap).collect();

    // Watch the invariant while the placements race.
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (store, tenant, pp, done) = (store.clone(), tenant.clone(), pp.clone(), done.clone());
        tokio::spawn(async move {
            let filter = StockFilter { sku: Some(pp), hub_id: None };
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                for level in store.list_stock(&tenant, &filter).await.unwrap() {
                    assert!(level.reserved <= level.on_hand && level.available() >= Decimal::ZERO, "{level:?}");
                }
            }
        })
    };
    let placements = ids.iter().cloned().map(|id| {
        let (store, tenant) = (store.clone(), tenant.clone());
        tokio::spawn(async move { place(&store, &tenant, &id).await })
    });
    let outcomes: Vec<OrderStatus> = join_all(placements).await.into_iter().map(Result::unwrap).collect();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    watcher.await.unwrap();
    assert_eq!(outcomes.iter().filter(|s| **s == OrderStatus::Allocated).count(), 10, "round {round}");
    assert_eq!(outcomes.iter().filter(|s| **s == OrderStatus::Backordered).count(), 40, "round {round}");

    let levels = store.list_stock(&tenant, &StockFilter { sku: Some(pp.clone()), hub_id: None }).await.unwrap();
    let reserved: Decimal = levels.iter().map(|l| l.reserved).sum();
    assert_eq!(reserved, Decimal::new(10, 0), "round {round}");
    assert!(levels.iter().all(|l| l.reserved <= l.on_hand && l.available().is_zero()));
    let mut allocated = Decimal::ZERO;
    for id in &ids {
        allocated += store.get_order(&tenant, id).await.unwrap().unwrap().lines[0].allocated;
    }
    assert_eq!(allocated, reserved, "round {round}: the allocations account for every reserved unit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_reservations_for_ten_units_never_oversell_round_after_round() {
    let store = Arc::new(store().await);
    let tenant = fresh_tenant();
    hub(&store, &tenant, "A", Decimal::new(9, 1)).await;
    hub(&store, &tenant, "B", Decimal::new(5, 1)).await;
    let rounds: usize = std::env::var("OMS_TEST_RACE_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(20);
    for round in 0..rounds {
        race_for_ten_units(store.clone(), tenant.clone(), round, 1).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_race_with_a_hot_skus_stock_spread_over_four_items_per_hub() {
    let store = Arc::new(store().await);
    let tenant = fresh_tenant();
    hub(&store, &tenant, "A", Decimal::new(9, 1)).await;
    hub(&store, &tenant, "B", Decimal::new(5, 1)).await;
    let rounds: usize = std::env::var("OMS_TEST_RACE_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(20);
    for round in 0..rounds {
        race_for_ten_units(store.clone(), tenant.clone(), round, 4).await;
    }
    // Each hub's stock really is four items, and reads see their sum.
    let items = client()
        .await
        .query()
        .table_name(table())
        .key_condition_expression("PK = :pk")
        .expression_attribute_values(
            ":pk",
            AttributeValue::S(keys::stock_pk(&tenant, &oms_domain::Sku::parse("PP0").unwrap())),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(items.items.unwrap_or_default().len(), 8);
}

#[tokio::test]
async fn a_count_on_sharded_stock_keeps_what_is_reserved_and_spreads_the_rest() {
    let store = store().await;
    let tenant = fresh_tenant();
    let hot = oms_tests::sku_with_shards(&store, &tenant, "HOT", Decimal::ONE, Currency::Vnd, 3).await;
    let a = hub(&store, &tenant, "A", Decimal::ONE).await;
    stock(&store, &tenant, &a, &hot, Decimal::new(9, 0)).await;
    let id = new_order(&store, &tenant, "HOT", "7").await;
    assert_eq!(place(&store, &tenant, &id).await, OrderStatus::Allocated, "7 of 9 taken across shards");
    let level = store.change_stock(&tenant, &a, &hot, StockChange::Delta(Decimal::new(11, 0))).await.unwrap();
    assert_eq!(
        (level.on_hand, level.reserved, level.available()),
        (Decimal::new(20, 0), Decimal::new(7, 0), Decimal::new(13, 0))
    );
    let below = store.change_stock(&tenant, &a, &hot, StockChange::Set(Decimal::new(6, 0))).await;
    assert!(matches!(below, Err(StoreError::Conflict(ConflictOn::Stock { .. }))));
    let listed = &store.list_stock(&tenant, &StockFilter { sku: Some(hot), hub_id: Some(a) }).await.unwrap()[0];
    assert_eq!((listed.on_hand, listed.reserved), (Decimal::new(20, 0), Decimal::new(7, 0)));
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
async fn document_numbers_count_up_per_tenant_and_day_and_shipments_across_tenants() {
    let store = store().await;
    let (t1, t2) = (fresh_tenant(), fresh_tenant());
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    let next = |counter| store.next_number(counter, day);
    assert_eq!(next(Counter::Orders(&t1)).await.unwrap(), "ORD-20261122-0001");
    assert_eq!(next(Counter::Orders(&t1)).await.unwrap(), "ORD-20261122-0002");
    assert_eq!(next(Counter::Orders(&t2)).await.unwrap(), "ORD-20261122-0001");
    assert_eq!(next(Counter::Returns(&t1)).await.unwrap(), "RMA-20261122-0001");
    assert_eq!(store.next_number(Counter::Orders(&t1), day.succ_opt().unwrap()).await.unwrap(), "ORD-20261123-0001");
    // One shipment sequence for every tenant: ids never repeat, whoever asks.
    let a = next(Counter::Shipments).await.unwrap();
    let b = next(Counter::Shipments).await.unwrap();
    let number = |id: &str| id.rsplit('-').next().unwrap().parse::<u64>().unwrap();
    assert!(a.starts_with("SHP-20261122-") && number(&b) == number(&a) + 1, "{a} then {b}");
}

mod listing {
    use oms_domain::ports::{OrderQuery, OrderStore};
    use oms_domain::usecases::orders::list_orders;

    use super::*;

    async fn tenant_with_orders() -> (DynamoStore, TenantId, Vec<OrderId>) {
        let store = store().await;
        let tenant = fresh_tenant();
        sku(&store, &tenant, "PP", Decimal::ONE, Currency::Vnd).await;
        let mut ids = Vec::new();
        for (i, (customer, reference, submit)) in [
            ("C1", "PO-100", true),
            ("C2", "PO-101", false),
            ("C1", "X-1", true),
            ("C3", "PO-200", true),
            ("C1", "PO-102", false),
        ]
        .into_iter()
        .enumerate()
        {
            let mut body = order_body("PP", "1", submit);
            body["customer"]["id"] = customer.into();
            body["customer"]["name"] = format!("Công ty {customer}").into();
            body["external_reference"] = reference.into();
            let who = actor(&tenant, Role::Sales);
            let who = if i == 3 { oms_domain::Actor { sub: "colleague".into(), ..who } } else { who };
            let created = create_order(&store, &who, request(&body), None, Utc::now()).await.unwrap();
            ids.push(created.order.order_id);
        }
        (store, tenant, ids)
    }

    fn query(limit: usize) -> OrderQuery {
        OrderQuery { limit, ..OrderQuery::default() }
    }

    fn ids(page: &oms_domain::ports::OrderPage) -> Vec<OrderId> {
        page.items.iter().map(|s| s.order_id.clone()).collect()
    }

    #[tokio::test]
    async fn pages_walk_every_order_newest_first_and_only_the_tenants() {
        let (store, tenant, created) = tenant_with_orders().await;
        let (_, other, _) = tenant_with_orders().await;
        let mut seen = Vec::new();
        let mut q = query(2);
        loop {
            let page = store.list_orders(&tenant, &q).await.unwrap();
            assert!(page.items.len() <= 2);
            seen.extend(ids(&page));
            match page.next_cursor {
                Some(cursor) => q.cursor = Some(cursor),
                None => break,
            }
        }
        let newest_first: Vec<_> = created.iter().rev().cloned().collect();
        assert_eq!(seen, newest_first);

        let mut foreign = query(2);
        foreign.cursor = store.list_orders(&other, &query(1)).await.unwrap().next_cursor;
        assert!(matches!(store.list_orders(&tenant, &foreign).await, Err(StoreError::BadCursor)));
    }

    #[tokio::test]
    async fn filters_use_their_index_and_combine() {
        let (store, tenant, created) = tenant_with_orders().await;
        let by_status = OrderQuery { status: Some(OrderStatus::PendingAllocation), ..query(10) };
        assert_eq!(
            ids(&store.list_orders(&tenant, &by_status).await.unwrap()),
            [&created[3], &created[2], &created[0]].map(Clone::clone)
        );
        let by_customer = OrderQuery { customer_id: Some("C1".into()), ..query(10) };
        assert_eq!(ids(&store.list_orders(&tenant, &by_customer).await.unwrap()).len(), 3);
        let both = OrderQuery { status: Some(OrderStatus::Draft), customer_id: Some("C1".into()), ..query(10) };
        assert_eq!(ids(&store.list_orders(&tenant, &both).await.unwrap()), vec![created[4].clone()]);
        let future = OrderQuery { from: Some(Utc::now() + chrono::Duration::hours(1)), ..query(10) };
        assert!(store.list_orders(&tenant, &future).await.unwrap().items.is_empty());
        let until_now = OrderQuery { to: Some(Utc::now()), ..query(10) };
        assert_eq!(store.list_orders(&tenant, &until_now).await.unwrap().items.len(), 5);
        let sales = actor(&tenant, Role::Sales);
        let own = list_orders(&store, &sales, query(10)).await.unwrap();
        assert_eq!(own.items.len(), 4, "the colleague's order is not listed to sales");
    }

    #[tokio::test]
    async fn a_filtered_listing_pages_through_every_match_once_though_a_step_reads_past_the_page() {
        let (store, tenant, created) = tenant_with_orders().await;
        let sales = actor(&tenant, Role::Sales);
        let mut seen = Vec::new();
        let mut q = query(1);
        loop {
            let page = list_orders(&store, &sales, q.clone()).await.unwrap();
            seen.extend(ids(&page));
            match page.next_cursor {
                Some(cursor) => q.cursor = Some(cursor),
                None => break,
            }
        }
        // The colleague's order (the fourth) is filtered out; one step reads all five entries.
        assert_eq!(seen, [&created[4], &created[2], &created[1], &created[0]].map(Clone::clone));
    }

    #[tokio::test]
    async fn q_finds_the_newest_matches_when_more_match_than_a_search_reads() {
        let store = store().await;
        let tenant = fresh_tenant();
        sku(&store, &tenant, "PP", Decimal::ONE, Currency::Vnd).await;
        let who = actor(&tenant, Role::Sales);
        let mut created = Vec::new();
        for _ in 0..205 {
            let mut body = order_body("PP", "1", false);
            body["customer"]["name"] = "Nhựa Bình Minh".into();
            created.push(create_order(&store, &who, request(&body), None, Utc::now()).await.unwrap().order.order_id);
        }
        let newest = OrderQuery { q: Some("nhựa bình".into()), ..query(5) };
        let expected: Vec<_> = created.iter().rev().take(5).cloned().collect();
        assert_eq!(ids(&store.list_orders(&tenant, &newest).await.unwrap()), expected);
    }

    #[tokio::test]
    async fn q_matches_number_customer_name_and_reference_prefixes() {
        let (store, tenant, created) = tenant_with_orders().await;
        let search = |q: &str| OrderQuery { q: Some(q.into()), ..query(10) };
        assert_eq!(store.list_orders(&tenant, &search("po-10")).await.unwrap().items.len(), 3);
        assert_eq!(ids(&store.list_orders(&tenant, &search("x-")).await.unwrap()), vec![created[2].clone()]);
        assert_eq!(store.list_orders(&tenant, &search("CÔNG TY C1")).await.unwrap().items.len(), 3);
        let number = store.get_order(&tenant, &created[1]).await.unwrap().unwrap().order_number;
        assert_eq!(
            ids(&store.list_orders(&tenant, &search(&number.to_lowercase())).await.unwrap()),
            vec![created[1].clone()]
        );
        assert!(store.list_orders(&tenant, &search("nothing")).await.unwrap().items.is_empty());
    }
}

#[tokio::test]
async fn a_reservation_held_past_the_timeout_is_given_back_and_placed_again_on_release() {
    use oms_domain::usecases::orders::{HoldRequest, place_hold, release_hold};
    use oms_domain::usecases::placement::expire;

    let store = store().await;
    let tenant = fresh_tenant();
    let pp = sku(&store, &tenant, "PP", Decimal::ONE, Currency::Vnd).await;
    let a = hub(&store, &tenant, "A", Decimal::ONE).await;
    stock(&store, &tenant, &a, &pp, Decimal::new(10, 0)).await;
    let id = auto_order_without_workflow(&store, &tenant, "PP", "4").await;
    assert_eq!(place(&store, &tenant, &id).await, OrderStatus::Allocated);
    let admin = actor(&tenant, Role::Admin);
    let hold = HoldRequest { code: "payment_hold".into(), reason: "deposit".into() };
    place_hold(&store, &admin, &id, hold, None, Utc::now()).await.unwrap();

    let request = PlacementRequest { tenant_id: tenant.clone(), order_id: id.clone() };
    let timeout = chrono::Duration::minutes(15);
    let early = expire(&store, &request, timeout, Utc::now() + chrono::Duration::minutes(10)).await.unwrap();
    assert!(!early.expired);
    // Drive the clock past the timeout instead of waiting for it.
    let late = expire(&store, &request, timeout, Utc::now() + chrono::Duration::minutes(16)).await.unwrap();
    assert_eq!((late.expired, late.status), (true, OrderStatus::PendingAllocation));
    let level = &store.list_stock(&tenant, &StockFilter { sku: Some(pp), hub_id: Some(a) }).await.unwrap()[0];
    assert_eq!(level.reserved, Decimal::ZERO);
    let history = store.order_history(&tenant, &id).await.unwrap();
    assert!(history.last().unwrap().reason.contains("reservation released"), "{:?}", history.last());

    let released = release_hold(&store, &admin, &id, "H1", None, Utc::now()).await.unwrap();
    let start = keys::outbox_pk(&tenant, &format!("{id}-v{}", released.order.version));
    let item = client()
        .await
        .get_item()
        .table_name(table())
        .key("PK", AttributeValue::S(start))
        .key("SK", AttributeValue::S("OUTBOX".into()))
        .send()
        .await
        .unwrap();
    assert!(item.item.is_some(), "releasing the hold starts placement again");
}

mod large_orders {
    use super::*;

    /// An order of `lines` lines, one unit each of its own SKU, each in stock once at hub A.
    async fn big_order(store: &DynamoStore, tenant: &TenantId, lines: usize) -> OrderId {
        let a = hub(store, tenant, "A", Decimal::ONE).await;
        let mut body = order_body("S000", "1", true);
        let mut requested = Vec::new();
        for n in 0..lines {
            let code = sku(store, tenant, &format!("S{n:03}"), Decimal::ONE, Currency::Vnd).await;
            stock(store, tenant, &a, &code, Decimal::ONE).await;
            requested.push(json!({"sku": code, "quantity": "1"}));
        }
        body["lines"] = requested.into();
        create_order(store, &actor(tenant, Role::Sales), request(&body), None, Utc::now()).await.unwrap().order.order_id
    }

    async fn reserved_total(store: &DynamoStore, tenant: &TenantId) -> Decimal {
        store.list_stock(tenant, &StockFilter::default()).await.unwrap().iter().map(|l| l.reserved).sum()
    }

    async fn chunk_records(tenant: &TenantId, id: &OrderId) -> usize {
        let out = client()
            .await
            .query()
            .table_name(table())
            .key_condition_expression("PK = :pk AND begins_with(SK, :resv)")
            .expression_attribute_values(":pk", AttributeValue::S(keys::order_pk(tenant, id)))
            .expression_attribute_values(":resv", AttributeValue::S(keys::RESERVATION_PREFIX.into()))
            .send()
            .await
            .unwrap();
        out.items.unwrap_or_default().len()
    }

    #[tokio::test]
    async fn an_order_reserving_more_items_than_one_transaction_holds_is_reserved_whole() {
        let store = store().await;
        let tenant = fresh_tenant();
        let id = big_order(&store, &tenant, 120).await;
        assert_eq!(place(&store, &tenant, &id).await, OrderStatus::Allocated);
        assert_eq!(reserved_total(&store, &tenant).await, Decimal::new(120, 0));
        assert_eq!(chunk_records(&tenant, &id).await, 0, "the chunk records went with the order's change");
    }

    #[tokio::test]
    async fn a_failure_after_a_partial_reservation_gives_everything_back() {
        let store = store().await;
        let tenant = fresh_tenant();
        let id = big_order(&store, &tenant, 120).await;
        let request = PlacementRequest { tenant_id: tenant.clone(), order_id: id.clone() };
        let plan = plan(&store, &request, RoutingWeights::default()).await.unwrap();
        assert_eq!(plan.reservations.len(), 120);
        // Inject the failure: the last SKU (reserved in the final transaction, after the first
        // chunk committed) loses its stock between planning and reserving.
        let a = HubId::parse("A").unwrap();
        let last = oms_domain::Sku::parse("S119").unwrap();
        store.change_stock(&tenant, &a, &last, StockChange::Set(Decimal::ZERO)).await.unwrap();

        let failed = reserve(&store, &plan, Utc::now()).await;
        assert!(matches!(failed, Err(AppError::Conflict { code: "plan_stale", .. })), "{failed:?}");
        assert_eq!(reserved_total(&store, &tenant).await, Decimal::ZERO, "the first chunk was moved back");
        assert_eq!(chunk_records(&tenant, &id).await, 0);
        let order = store.get_order(&tenant, &id).await.unwrap().unwrap();
        assert_eq!(order.status, OrderStatus::PendingAllocation);

        // The workflow plans again from fresh stock; the history says what happened.
        assert_eq!(place(&store, &tenant, &id).await, OrderStatus::Allocated);
        assert_eq!(reserved_total(&store, &tenant).await, Decimal::new(119, 0));
        let history = store.order_history(&tenant, &id).await.unwrap();
        assert_eq!(history.last().unwrap().reason, "reserved what is available; the rest is backordered");
    }
}

#[tokio::test]
async fn when_placement_gives_up_the_order_is_backordered_with_the_reason() {
    use oms_domain::usecases::placement::{PlacementFailure, record_failure};

    let store = store().await;
    let tenant = fresh_tenant();
    sku(&store, &tenant, "PP", Decimal::ONE, Currency::Vnd).await;
    let id = new_order(&store, &tenant, "PP", "2").await;
    let failure = PlacementFailure {
        tenant_id: tenant.clone(),
        order_id: id.clone(),
        error: json!({"Error": "TooManyReplans", "Cause": "stock kept changing under every plan"}),
    };
    assert_eq!(record_failure(&store, &failure, Utc::now()).await.unwrap(), OrderStatus::Backordered);
    let order = store.get_order(&tenant, &id).await.unwrap().unwrap();
    assert_eq!((order.lines[0].allocated, order.lines[0].backordered), (Decimal::ZERO, Decimal::new(2, 0)));
    let last = store.order_history(&tenant, &id).await.unwrap().pop().unwrap();
    assert_eq!(last.reason, "placement failed (TooManyReplans): stock kept changing under every plan");
    assert_eq!(
        record_failure(&store, &failure, Utc::now()).await.unwrap(),
        OrderStatus::Backordered,
        "a repeat changes nothing"
    );
    assert_eq!(store.order_history(&tenant, &id).await.unwrap().len(), 3);
}
