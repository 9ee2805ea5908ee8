//! The DynamoDB adapter against DynamoDB Local, beyond the port contract suite every adapter
//! passes (`port_contract.rs`): the use cases' races (idempotency, reservations, on sharded
//! stock too), sharded stock counts, listing steps that read past a page, reservation timeouts,
//! changes bigger than one transaction (chunks, faults), placement.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::Utc;
use futures_util::future::join_all;
use oms_aws::DynamoStore;
use oms_aws::dynamo::keys;
use oms_domain::events::OutboxMessage;
use oms_domain::ports::{OrderStore, OrderWrite, StockStore};
use oms_domain::routing::RoutingWeights;
use oms_domain::stock::{StockChange, StockFilter};
use oms_domain::usecases::placement::{PlacementRequest, plan, reserve};
use oms_domain::usecases::{CreateOrderRequest, IdempotencyKey, create_order};
use oms_domain::{
    AppError, ConflictCode, ConflictOn, Currency, HubId, OrderId, OrderStatus, Role, StoreError, TenantId,
    UnprocessableCode,
};
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
    let version = order.version();
    let history = order.submit(&sales, Utc::now()).unwrap().history;
    let id = order.order_id().clone();
    store.save_order(OrderWrite::update(order, version, history, vec![])).await.unwrap();
    id
}

async fn count_orders(tenant: &TenantId) -> usize {
    let client = client().await;
    let shards = keys::every_shard(keys::BY_DATE_SHARDS, |n| keys::orders_by_date_pk(tenant, n));
    let mut count = 0;
    for pk in shards {
        let out = client
            .query()
            .table_name(table())
            .index_name("GSI1")
            .key_condition_expression("GSI1PK = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(pk))
            .send()
            .await
            .unwrap();
        count += out.items.unwrap_or_default().len();
    }
    count
}

async fn new_order(store: &DynamoStore, tenant: &TenantId, sku_code: &str, quantity: &str) -> OrderId {
    let sales = actor(tenant, Role::Sales);
    create_order(store, &sales, request(&order_body(sku_code, quantity, true)), None, Utc::now())
        .await
        .unwrap()
        .order
        .order_id()
        .clone()
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
    let first = results[0].order.order_id();
    assert!(results.iter().all(|r| r.order.order_id() == first), "every racer got the same order");
    assert_eq!(results.iter().filter(|r| !r.replayed).count(), 1);
    assert_eq!(count_orders(&tenant).await, 1);

    let mut changed = body.clone();
    changed["lines"][0]["quantity"] = "3".into();
    let reused = IdempotencyKey::new("checkout-42", "POST /v1/orders", &changed).unwrap();
    let err = create_order(&*store, &actor(&tenant, Role::Sales), request(&changed), Some(reused), Utc::now())
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Unprocessable { code: UnprocessableCode::IdempotencyKeyReused, .. }));
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
            Err(AppError::Conflict { code: ConflictCode::PlanStale, .. }) => continue,
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
        allocated += store.get_order(&tenant, id).await.unwrap().unwrap().lines()[0].allocated;
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
async fn a_tenants_stock_past_one_batch_read_is_listed_whole_in_hub_and_sku_order() {
    // 130 SKUs at two hubs: 260 stock items, read by three BatchGetItem requests at once.
    let store = store().await;
    let tenant = fresh_tenant();
    let hubs = [hub(&store, &tenant, "B", Decimal::ONE).await, hub(&store, &tenant, "A", Decimal::ONE).await];
    let mut expected = Vec::new();
    for n in 0..130 {
        let sku = sku(&store, &tenant, &format!("SKU-{n:03}"), Decimal::ONE, Currency::Vnd).await;
        for (h, hub) in hubs.iter().enumerate() {
            let on_hand = Decimal::from(n * 2 + h);
            stock(&store, &tenant, hub, &sku, on_hand).await;
            expected.push((hub.clone(), sku.clone(), on_hand));
        }
    }
    expected.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    let listed = store.list_stock(&tenant, &StockFilter::default()).await.unwrap();
    let listed: Vec<_> = listed.into_iter().map(|l| (l.hub_id, l.sku, l.on_hand)).collect();
    assert_eq!(listed, expected);
}

mod listing {
    use oms_aws::dynamo::CustomerInStatus;
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
            ids.push(created.order.order_id().clone());
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
    async fn a_cursor_serves_only_the_listing_it_came_from() {
        let (store, tenant, _) = tenant_with_orders().await;
        let by_customer = OrderQuery { customer_id: Some("C1".into()), ..query(1) };
        let cursor = store.list_orders(&tenant, &by_customer).await.unwrap().next_cursor;
        assert!(cursor.is_some());
        for other in [query(1), OrderQuery { customer_id: Some("C2".into()), ..query(1) }] {
            let reused = OrderQuery { cursor: cursor.clone(), ..other };
            assert!(matches!(store.list_orders(&tenant, &reused).await, Err(StoreError::BadCursor)));
        }
        let garbage = OrderQuery { cursor: Some("not-a-cursor".into()), ..query(1) };
        assert!(matches!(store.list_orders(&tenant, &garbage).await, Err(StoreError::BadCursor)));
    }

    /// Every page of `query`, the cursors followed, read `way`.
    async fn every_page(
        store: &DynamoStore,
        tenant: &TenantId,
        query: &OrderQuery,
        way: CustomerInStatus,
    ) -> Vec<OrderId> {
        let mut seen = Vec::new();
        let mut query = query.clone();
        loop {
            let page = store.list_orders_one_way(tenant, &query, way).await.unwrap();
            assert!(page.items.len() <= query.limit);
            seen.extend(ids(&page));
            match page.next_cursor {
                Some(cursor) => query.cursor = Some(cursor),
                None => return seen,
            }
        }
    }

    #[tokio::test]
    async fn a_customers_orders_in_a_status_are_the_same_pages_whichever_list_is_read() {
        let store = store().await;
        let tenant = fresh_tenant();
        sku(&store, &tenant, "PP", Decimal::ONE, Currency::Vnd).await;
        // C1 has 104 of the 130 orders: more than one read of its list (a BatchGetItem's worth)
        // before a page of its drafts (a third) fills.
        let mut created = Vec::new();
        for i in 0..130 {
            let mut body = order_body("PP", "1", i % 3 != 0);
            body["customer"]["id"] = if i % 5 == 0 { "C2" } else { "C1" }.into();
            let who = oms_domain::Actor { sub: format!("rep-{}", i % 4), ..actor(&tenant, Role::Sales) };
            let order = create_order(&store, &who, request(&body), None, Utc::now()).await.unwrap().order;
            created.push((order.order_id().clone(), order.status(), order.customer().id.clone(), i % 4));
        }
        let (draft, submitted) = (created[0].1, created[1].1);
        assert_ne!(draft, submitted);
        for (status, limit, rep) in [(submitted, 3, None), (submitted, 1, Some(2)), (draft, 50, None), (draft, 7, None)]
        {
            let query = OrderQuery {
                status: Some(status),
                customer_id: Some("C1".into()),
                created_by: rep.map(|rep| format!("rep-{rep}")),
                ..query(limit)
            };
            let expected: Vec<OrderId> = created
                .iter()
                .rev()
                .filter(|(_, s, c, r)| *s == status && c == "C1" && rep.is_none_or(|rep| rep == *r))
                .map(|(id, ..)| id.clone())
                .collect();
            assert!(!expected.is_empty());
            for way in [CustomerInStatus::StatusList, CustomerInStatus::CustomerList, CustomerInStatus::CustomerFirst] {
                let pages = every_page(&store, &tenant, &query, way).await;
                assert_eq!(pages, expected, "{way:?}, {status:?}, {limit} a page, rep {rep:?}");
            }
            // A cursor is the same whichever way made it.
            let first = async |way| store.list_orders_one_way(&tenant, &query, way).await.unwrap().next_cursor;
            assert_eq!(first(CustomerInStatus::StatusList).await, first(CustomerInStatus::CustomerList).await);
        }
    }

    #[tokio::test]
    async fn q_with_another_filter_reads_further_until_the_page_is_full() {
        let (store, tenant, created) = tenant_with_orders().await;
        // Every order's name starts "Công ty"; the newest with customer C2 is the fourth newest,
        // past the one match per index a page of one reads first.
        let c2 = OrderQuery { q: Some("CÔNG TY".into()), customer_id: Some("C2".into()), ..query(1) };
        assert_eq!(ids(&store.list_orders(&tenant, &c2).await.unwrap()), [created[1].clone()]);
        let none = OrderQuery { q: Some("công ty".into()), customer_id: Some("C9".into()), ..query(1) };
        assert!(store.list_orders(&tenant, &none).await.unwrap().items.is_empty());
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
            created.push(
                create_order(&store, &who, request(&body), None, Utc::now()).await.unwrap().order.order_id().clone(),
            );
        }
        let newest = OrderQuery { q: Some("nhựa bình".into()), ..query(5) };
        let expected: Vec<_> = created.iter().rev().take(5).cloned().collect();
        assert_eq!(ids(&store.list_orders(&tenant, &newest).await.unwrap()), expected);
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
    let item = client()
        .await
        .get_item()
        .table_name(table())
        .key("PK", AttributeValue::S(keys::order_pk(&tenant, &id)))
        .key("SK", AttributeValue::S(keys::ORDER_SK.into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    // The list summary's amount is stored as an exact string, as every amount is.
    assert_eq!(item["grand_total"].as_s().unwrap(), &released.order.totals().grand_total.to_string());
    let messages = oms_aws::dynamo::order_item::messages_of(item["outbox"].as_b().unwrap().as_ref()).unwrap();
    let start = format!("{id}-v{}", released.order.version());
    assert!(
        messages
            .iter()
            .any(|m| matches!(m, OutboxMessage::StartWorkflow { execution_name, .. } if *execution_name == start)),
        "releasing the hold starts placement again: {messages:?}"
    );
}

mod big_orders {
    use std::collections::BTreeMap;
    use std::str::FromStr;

    use oms_aws::dynamo::{Faults, LEFTOVER_GRACE, RecordKind, Repair};
    use oms_domain::Sku;
    use oms_domain::usecases::orders::{CancelRequest, cancel_order};

    use super::*;

    /// The reconciler tests move its clock past the grace period, which makes every record in
    /// the table look left over, a running big order's included: big-order tests take turns.
    static TURNS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

    /// An order of `lines` lines, one unit each of its own SKU, each with `on_hand` at hub A
    /// (unsharded: one stock item per SKU).
    async fn big_order(store: &DynamoStore, tenant: &TenantId, lines: usize, on_hand: Decimal) -> OrderId {
        let a = hub(store, tenant, "A", Decimal::ONE).await;
        let mut body = order_body("S000", "1", true);
        let mut requested = Vec::new();
        for n in 0..lines {
            let code = sku(store, tenant, &format!("S{n:03}"), Decimal::ONE, Currency::Vnd).await;
            stock(store, tenant, &a, &code, on_hand).await;
            requested.push(json!({"sku": code, "quantity": "1"}));
        }
        body["lines"] = requested.into();
        create_order(store, &actor(tenant, Role::Sales), request(&body), None, Utc::now())
            .await
            .unwrap()
            .order
            .order_id()
            .clone()
    }

    async fn reserved_total(store: &DynamoStore, tenant: &TenantId) -> Decimal {
        store.list_stock(tenant, &StockFilter::default()).await.unwrap().iter().map(|l| l.reserved).sum()
    }

    /// A reservation-chunk or pending-release record of an order, as stored.
    #[derive(Debug, Clone, PartialEq)]
    struct Record {
        sk: String,
        entity: String,
        /// (hub, SKU, quantity) of each shard move.
        moves: Vec<(String, String, Decimal)>,
    }

    async fn records(tenant: &TenantId, id: &OrderId) -> Vec<Record> {
        let mut found = Vec::new();
        for prefix in [keys::RESERVATION_PREFIX, keys::PENDING_RELEASE_PREFIX] {
            let out = client()
                .await
                .query()
                .table_name(table())
                .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
                .expression_attribute_values(":pk", AttributeValue::S(keys::order_pk(tenant, id)))
                .expression_attribute_values(":prefix", AttributeValue::S(prefix.into()))
                .consistent_read(true)
                .send()
                .await
                .unwrap();
            for item in out.items.unwrap_or_default() {
                let text = |name: &str| item[name].as_s().unwrap().clone();
                let moves: Vec<serde_json::Value> = serde_json::from_str(&text("moves")).unwrap();
                let moves = moves
                    .iter()
                    .map(|m| {
                        let quantity = Decimal::from_str(m["quantity"].as_str().unwrap()).unwrap();
                        (m["hub_id"].as_str().unwrap().to_owned(), m["sku"].as_str().unwrap().to_owned(), quantity)
                    })
                    .collect();
                found.push(Record { sk: text("SK"), entity: text("entity"), moves });
            }
        }
        found
    }

    /// Every unit reserved at every stock item is accounted for: what the orders hold
    /// (allocations), plus what reservation chunks took ahead of a change that never committed,
    /// plus what pending releases still owe. (Each SKU here has one stock item per hub, so a
    /// hub and SKU is one shard.)
    async fn assert_stock_accounted(store: &DynamoStore, tenant: &TenantId, orders: &[&OrderId]) {
        let mut expected: BTreeMap<(String, String), Decimal> = BTreeMap::new();
        for id in orders {
            let order = store.get_order(tenant, id).await.unwrap().unwrap();
            for line in order.lines() {
                for allocation in &line.allocations {
                    *expected.entry((allocation.hub_id.to_string(), line.sku.to_string())).or_default() +=
                        allocation.quantity;
                }
            }
            for record in records(tenant, id).await {
                // A chunk's moves were applied; a pending release's are still owed.
                let sign = if record.entity == "PENDING_RELEASE" { -Decimal::ONE } else { Decimal::ONE };
                for (hub, sku, quantity) in record.moves {
                    *expected.entry((hub, sku)).or_default() += sign * quantity;
                }
            }
        }
        expected.retain(|_, q| !q.is_zero());
        let actual: BTreeMap<(String, String), Decimal> = store
            .list_stock(tenant, &StockFilter::default())
            .await
            .unwrap()
            .into_iter()
            .filter(|l| !l.reserved.is_zero())
            .map(|l| ((l.hub_id.to_string(), l.sku.to_string()), l.reserved))
            .collect();
        assert_eq!(actual, expected, "reserved stock vs allocations and records");
    }

    /// The reconciler's repairs of these orders' records (other tests' are in the table too).
    fn repairs_of(repairs: &[Repair], tenant: &TenantId, orders: &[&OrderId]) -> Vec<Repair> {
        let pks: Vec<String> = orders.iter().map(|id| keys::order_pk(tenant, id)).collect();
        repairs.iter().filter(|r| pks.contains(&r.order_pk)).cloned().collect()
    }

    fn failing(numbers: impl IntoIterator<Item = usize>) -> Arc<Faults> {
        Arc::new(Faults::failing(numbers))
    }

    #[tokio::test]
    async fn an_order_reserving_more_items_than_one_transaction_holds_is_reserved_whole() {
        let _turn = TURNS.lock().await;
        let store = store().await;
        let tenant = fresh_tenant();
        let id = big_order(&store, &tenant, 120, Decimal::ONE).await;
        assert_eq!(place(&store, &tenant, &id).await, OrderStatus::Allocated);
        assert_eq!(reserved_total(&store, &tenant).await, Decimal::new(120, 0));
        assert!(records(&tenant, &id).await.is_empty(), "the chunk records went with the order's change");
    }

    #[tokio::test]
    async fn a_failure_after_a_partial_reservation_gives_everything_back() {
        let _turn = TURNS.lock().await;
        let store = store().await;
        let tenant = fresh_tenant();
        let id = big_order(&store, &tenant, 120, Decimal::ONE).await;
        let request = PlacementRequest { tenant_id: tenant.clone(), order_id: id.clone() };
        let plan = plan(&store, &request, RoutingWeights::default()).await.unwrap();
        assert_eq!(plan.reservations.len(), 120);
        // Inject the failure: the last SKU (reserved in the final transaction, after the first
        // chunk committed) loses its stock between planning and reserving.
        let a = HubId::parse("A").unwrap();
        let last = Sku::parse("S119").unwrap();
        store.change_stock(&tenant, &a, &last, StockChange::Set(Decimal::ZERO)).await.unwrap();

        let failed = reserve(&store, &plan, Utc::now()).await;
        assert!(matches!(failed, Err(AppError::Conflict { code: ConflictCode::PlanStale, .. })), "{failed:?}");
        assert_eq!(reserved_total(&store, &tenant).await, Decimal::ZERO, "the first chunk was moved back");
        assert!(records(&tenant, &id).await.is_empty());
        let order = store.get_order(&tenant, &id).await.unwrap().unwrap();
        assert_eq!(order.status(), OrderStatus::PendingAllocation);

        // The workflow plans again from fresh stock; the history says what happened.
        assert_eq!(place(&store, &tenant, &id).await, OrderStatus::Allocated);
        assert_eq!(reserved_total(&store, &tenant).await, Decimal::new(119, 0));
        let history = store.order_history(&tenant, &id).await.unwrap();
        assert_eq!(history.last().unwrap().reason, "reserved what is available; the rest is backordered");
    }

    #[tokio::test]
    async fn when_the_order_and_then_the_undo_fail_the_records_account_for_the_stock_and_a_retry_leaves_them_alone() {
        let _turn = TURNS.lock().await;
        let store = store().await;
        let tenant = fresh_tenant();
        let id = big_order(&store, &tenant, 120, Decimal::new(2, 0)).await;
        let request = PlacementRequest { tenant_id: tenant.clone(), order_id: id.clone() };
        let plan = plan(&store, &request, RoutingWeights::default()).await.unwrap();

        // Transaction 1 reserves a chunk ahead of the order; 2 is the order's; 3 moves the chunk back.
        let faults = failing([2, 3]);
        let failed = reserve(&store.clone().with_faults(faults.clone()), &plan, Utc::now()).await;
        assert!(matches!(failed, Err(AppError::Unavailable(_))), "{failed:?}");
        assert_eq!(faults.transactions(), 3);
        let left = records(&tenant, &id).await;
        assert_eq!(left.len(), 1, "{left:?}");
        assert_eq!(left[0].entity, "RESERVATION_CHUNK");
        assert!(!left[0].moves.is_empty());
        let order = store.get_order(&tenant, &id).await.unwrap().unwrap();
        assert_eq!(order.status(), OrderStatus::PendingAllocation);
        assert_stock_accounted(&store, &tenant, &[&id]).await;

        // The same change again, from the same version: a run of its own, with records of its own.
        let retried = reserve(&store, &plan, Utc::now()).await.unwrap();
        assert_eq!(retried.status, OrderStatus::Allocated);
        assert_eq!(records(&tenant, &id).await, left, "the first run's record is untouched");
        assert_stock_accounted(&store, &tenant, &[&id]).await;
        let held = Decimal::from(120 + left[0].moves.len());
        assert_eq!(reserved_total(&store, &tenant).await, held);

        // The reconciler, once the first run is surely dead, moves its chunk back.
        let repairs = store.reconcile_reservations(Utc::now() + LEFTOVER_GRACE, chrono::Duration::zero()).await;
        let ours = repairs_of(&repairs.unwrap(), &tenant, &[&id]);
        assert_eq!(ours.len(), 1, "{ours:?}");
        assert!(records(&tenant, &id).await.is_empty());
        assert_stock_accounted(&store, &tenant, &[&id]).await;
        assert_eq!(reserved_total(&store, &tenant).await, Decimal::new(120, 0));
    }

    #[tokio::test]
    async fn the_reconciler_settles_old_leftovers_once_and_leaves_fresh_ones_alone() {
        let _turn = TURNS.lock().await;
        let store = store().await;
        // A reservation that failed halfway: its chunk is left reserved.
        let reserving = fresh_tenant();
        let a = big_order(&store, &reserving, 120, Decimal::ONE).await;
        let request = PlacementRequest { tenant_id: reserving.clone(), order_id: a.clone() };
        let plan = plan(&store, &request, RoutingWeights::default()).await.unwrap();
        assert!(reserve(&store.clone().with_faults(failing([2, 3])), &plan, Utc::now()).await.is_err());
        // A cancel that committed, then could not apply the releases it owes.
        let cancelling = fresh_tenant();
        let b = big_order(&store, &cancelling, 120, Decimal::ONE).await;
        assert_eq!(place(&store, &cancelling, &b).await, OrderStatus::Allocated);
        let admin = actor(&cancelling, Role::Admin);
        let cancel = CancelRequest { reason: "customer withdrew".into() };
        let faulty = store.clone().with_faults(failing([2]));
        cancel_order(&faulty, &admin, &b, cancel, None, Utc::now()).await.unwrap();
        assert_eq!(store.get_order(&cancelling, &b).await.unwrap().unwrap().status(), OrderStatus::Cancelled);
        let (left_a, left_b) = (records(&reserving, &a).await, records(&cancelling, &b).await);
        assert_eq!((left_a.len(), left_b.len()), (1, 1));
        assert_eq!(left_b[0].entity, "PENDING_RELEASE");
        let owed = Decimal::from(left_b[0].moves.len());
        assert_eq!(reserved_total(&store, &cancelling).await, owed, "the releases that fit went with the order");
        assert_stock_accounted(&store, &reserving, &[&a]).await;
        assert_stock_accounted(&store, &cancelling, &[&b]).await;

        let now = Utc::now();
        let fresh = store.reconcile_reservations(now, LEFTOVER_GRACE).await.unwrap();
        assert!(repairs_of(&fresh, &reserving, &[&a]).is_empty() && repairs_of(&fresh, &cancelling, &[&b]).is_empty());
        assert_eq!((records(&reserving, &a).await, records(&cancelling, &b).await), (left_a, left_b));

        let later = now + LEFTOVER_GRACE + chrono::Duration::minutes(1);
        let repairs = store.reconcile_reservations(later, LEFTOVER_GRACE).await.unwrap();
        let (ours_a, ours_b) = (repairs_of(&repairs, &reserving, &[&a]), repairs_of(&repairs, &cancelling, &[&b]));
        assert_eq!((ours_a.len(), ours_b.len()), (1, 1), "{repairs:?}");
        assert_eq!((ours_a[0].kind, ours_b[0].kind), (Some(RecordKind::Reservation), Some(RecordKind::PendingRelease)));
        assert_eq!((&ours_a[0].failure, &ours_b[0].failure), (&None, &None));
        assert!(records(&reserving, &a).await.is_empty() && records(&cancelling, &b).await.is_empty());
        assert_eq!(reserved_total(&store, &reserving).await, Decimal::ZERO, "the chunk was moved back");
        assert_eq!(reserved_total(&store, &cancelling).await, Decimal::ZERO, "the owed releases were applied");

        let again = store.reconcile_reservations(later, LEFTOVER_GRACE).await.unwrap();
        assert!(repairs_of(&again, &reserving, &[&a]).is_empty() && repairs_of(&again, &cancelling, &[&b]).is_empty());
        assert_eq!(reserved_total(&store, &reserving).await + reserved_total(&store, &cancelling).await, Decimal::ZERO);
    }

    /// Moves a SKU's stock at a hub from shard 0 to a new shard 1, totals unchanged: what other
    /// orders' reservations and releases do to pooled shards between a change and its owed
    /// releases.
    async fn drift_to_second_shard(tenant: &TenantId, hub: &str, sku: &str) {
        let (hub_id, sku_code) = (HubId::parse(hub).unwrap(), Sku::parse(sku).unwrap());
        let key = |shard: u16| {
            HashMap::from([
                ("PK".to_owned(), AttributeValue::S(keys::stock_pk(tenant, &sku_code))),
                ("SK".to_owned(), AttributeValue::S(keys::stock_shard_sk(&hub_id, shard))),
            ])
        };
        let db = client().await;
        let old = db.get_item().table_name(table()).set_key(Some(key(0))).consistent_read(true).send().await;
        let mut moved = old.unwrap().item.unwrap();
        let mut emptied = moved.clone();
        for name in ["on_hand", "reserved", "available"] {
            emptied.insert(name.into(), AttributeValue::N("0".into()));
        }
        db.put_item().table_name(table()).set_item(Some(emptied)).send().await.unwrap();
        moved.extend(key(1));
        moved.insert("shard".into(), AttributeValue::N("1".into()));
        moved.insert("GSI1SK".into(), AttributeValue::S(keys::stock_by_hub_sk(&hub_id, &sku_code, 1)));
        db.put_item().table_name(table()).set_item(Some(moved)).send().await.unwrap();
    }

    #[tokio::test]
    async fn owed_releases_whose_shard_was_emptied_meanwhile_are_applied_where_the_stock_is() {
        let _turn = TURNS.lock().await;
        let store = store().await;
        let tenant = fresh_tenant();
        let id = big_order(&store, &tenant, 120, Decimal::ONE).await;
        assert_eq!(place(&store, &tenant, &id).await, OrderStatus::Allocated);
        let admin = actor(&tenant, Role::Admin);
        let cancel = CancelRequest { reason: "customer withdrew".into() };
        cancel_order(&store.clone().with_faults(failing([2])), &admin, &id, cancel, None, Utc::now()).await.unwrap();
        let owed = records(&tenant, &id).await;
        assert_eq!(owed.len(), 1);
        let (hub, sku, _) = owed[0].moves[0].clone();
        drift_to_second_shard(&tenant, &hub, &sku).await;

        let later = Utc::now() + LEFTOVER_GRACE + chrono::Duration::minutes(1);
        let repairs = repairs_of(&store.reconcile_reservations(later, LEFTOVER_GRACE).await.unwrap(), &tenant, &[&id]);
        assert_eq!(repairs.len(), 1, "{repairs:?}");
        assert_eq!(repairs[0].failure, None, "the owed release went to the shard that holds the stock");
        assert!(records(&tenant, &id).await.is_empty());
        assert_eq!(reserved_total(&store, &tenant).await, Decimal::ZERO);
    }

    #[tokio::test]
    async fn a_big_cancel_releases_nothing_before_the_order_commits() {
        let _turn = TURNS.lock().await;
        let store = store().await;
        let tenant = fresh_tenant();
        let id = big_order(&store, &tenant, 120, Decimal::ONE).await;
        assert_eq!(place(&store, &tenant, &id).await, OrderStatus::Allocated);
        let admin = actor(&tenant, Role::Admin);
        let cancel = || CancelRequest { reason: "customer withdrew".into() };

        // The process dies at the order's transaction: whatever ran before it stays applied.
        let faults = Arc::new(Faults::crash_at_order_write());
        let failed =
            cancel_order(&store.clone().with_faults(faults.clone()), &admin, &id, cancel(), None, Utc::now()).await;
        assert!(failed.is_err());
        assert_eq!(faults.transactions(), 1, "the order's transaction came first: nothing ran ahead of it");
        assert_eq!(reserved_total(&store, &tenant).await, Decimal::new(120, 0), "nothing was released");
        assert!(records(&tenant, &id).await.is_empty());
        assert_eq!(store.get_order(&tenant, &id).await.unwrap().unwrap().status(), OrderStatus::Allocated);
        assert_stock_accounted(&store, &tenant, &[&id]).await;

        cancel_order(&store, &admin, &id, cancel(), None, Utc::now()).await.unwrap();
        assert_eq!(store.get_order(&tenant, &id).await.unwrap().unwrap().status(), OrderStatus::Cancelled);
        assert_eq!(reserved_total(&store, &tenant).await, Decimal::ZERO);
        assert!(records(&tenant, &id).await.is_empty());
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
    assert_eq!((order.lines()[0].allocated, order.lines()[0].backordered), (Decimal::ZERO, Decimal::new(2, 0)));
    let last = store.order_history(&tenant, &id).await.unwrap().pop().unwrap();
    assert_eq!(last.reason, "placement failed (TooManyReplans): stock kept changing under every plan");
    assert_eq!(
        record_failure(&store, &failure, Utc::now()).await.unwrap(),
        OrderStatus::Backordered,
        "a repeat changes nothing"
    );
    assert_eq!(store.order_history(&tenant, &id).await.unwrap().len(), 3);
}
