//! The port contract suite: what every adapter of [`OrderStore`](super::OrderStore),
//! [`CatalogStore`](super::CatalogStore), [`StockStore`](super::StockStore) and
//! [`IntegrationStore`](super::IntegrationStore) promises, written once against the traits. Each check
//! is a `pub async fn` taking a store and panicking with what broke; it works in tenants of its
//! own ([`fresh_tenant`]), so checks can share a store (a DynamoDB table) and run concurrently.
//!
//! [`port_contract_tests!`](crate::port_contract_tests) makes one `#[tokio::test]` per check for
//! an adapter, so a failure names the check and the adapter: the memory adapter runs it in this
//! crate's tests, the DynamoDB adapter against DynamoDB Local in `oms-tests`.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use futures_util::future::join_all;
use rust_decimal::Decimal;
use serde_json::json;

use super::{Counter, IdempotencyRecord, Lookup, OrderQuery, OrderWrite, ShipmentRef, Store};
use crate::catalog::{Hub, HubType, Location, SkuRecord};
use crate::integrations::{Integration, IntegrationKind, Principal};
use crate::kernel::access::{Actor, Role};
use crate::kernel::error::{ConflictOn, StoreError, TooLarge};
use crate::kernel::ids::{HubId, OrderId, Sku, TenantId};
use crate::kernel::limits::MAX_ORDER_BYTES;
use crate::order::status::OrderStatus;
use crate::order::{Order, StatusChange};
use crate::stock::{StockChange, StockFilter, StockLevel, StockMove};
use crate::usecases::CreateOrderRequest;

/// Expands to one `#[tokio::test]` per check of the suite, each running it on the store `$store`
/// evaluates to (an expression, evaluated in an async test, so it may `.await`).
#[macro_export]
macro_rules! port_contract_tests {
    ($store:expr) => {
        $crate::port_contract_tests!(@checks $store;
            an_order_reads_back_whole_with_its_history,
            an_order_is_created_once,
            a_save_from_a_stale_version_conflicts_and_writes_nothing,
            a_save_of_an_order_never_created_conflicts,
            the_history_keeps_the_creation_and_the_latest_versions,
            a_channel_order_id_makes_one_order_per_tenant,
            an_idempotency_record_is_written_with_its_change_and_taken_once,
            lookups_find_shipments_across_tenants_and_returns_per_tenant,
            orders_list_newest_first_page_by_page_and_only_the_tenants,
            order_listing_filters_combine,
            every_page_size_walks_the_same_sequence,
            backordered_orders_of_a_sku_come_oldest_first,
            document_numbers_are_unique_per_tenant_and_day_and_shipments_across_tenants,
            an_order_over_the_size_limit_is_refused_and_the_stored_one_stays,
            hubs_and_skus_are_kept_per_tenant,
            a_channel_item_maps_to_one_sku,
            dispatches_count_per_hub_and_day,
            stock_is_set_and_adjusted_but_never_below_reserved,
            a_stale_count_changes_nothing,
            reservation_moves_follow_the_stock_rules,
            an_oversold_reservation_is_refused_and_nothing_is_written,
            the_moves_of_one_change_are_netted,
            concurrent_reservations_of_the_last_unit_have_one_winner,
            stock_lists_by_hub_and_sku_per_tenant,
            integrations_are_registered_per_tenant,
        );
    };
    (@checks $store:expr; $($check:ident),+ $(,)?) => {
        $(
            #[tokio::test]
            async fn $check() {
                let store = $store;
                $crate::ports::contract::$check(&store).await;
            }
        )+
    };
}

/// A tenant no other check uses: every key starts with the tenant, so it is an empty store.
pub fn fresh_tenant() -> TenantId {
    TenantId::parse(format!("contract-{}", ulid::Ulid::new().to_string().to_lowercase())).expect("a valid tenant id")
}

fn actor(tenant: &TenantId, sub: &str) -> Actor {
    Actor { sub: sub.into(), tenant_id: tenant.clone(), role: Role::Admin }
}

fn sku_record(code: &str) -> SkuRecord {
    SkuRecord {
        sku: Sku::parse(code).expect("a SKU"),
        name: code.into(),
        unit: "KG".into(),
        list_price: Decimal::new(32_000, 0),
        currency: Default::default(),
        tax_rate: Decimal::new(10, 2),
        low_stock_threshold: Decimal::ZERO,
        channel_items: BTreeMap::new(),
        stock_shards: 1,
        updated_at: Utc::now(),
    }
}

fn hub_record(id: &str) -> Hub {
    Hub {
        hub_id: HubId::parse(id).expect("a hub id"),
        name: id.into(),
        hub_type: HubType::Warehouse,
        location: Location { lat: 10.8, lon: 106.6 },
        daily_capacity: 100,
        performance_score: Decimal::ONE,
        active: true,
        updated_at: Utc::now(),
    }
}

/// Hub `hub` and SKU `sku` with `on_hand` of it there.
async fn stocked<S: Store>(store: &S, tenant: &TenantId, hub: &str, sku: &str, on_hand: Decimal) -> (HubId, Sku) {
    store.put_hub(tenant, &hub_record(hub)).await.expect("put hub");
    store.put_sku(tenant, &sku_record(sku)).await.expect("put SKU");
    let (hub, sku) = (HubId::parse(hub).expect("a hub id"), Sku::parse(sku).expect("a SKU"));
    store.change_stock(tenant, &hub, &sku, StockChange::Set(on_hand)).await.expect("set stock");
    (hub, sku)
}

/// A DRAFT order of one line of `sku` for `customer`, created by `sub` at `at`, not stored.
fn order(tenant: &TenantId, sku: &str, customer: &str, sub: &str, at: DateTime<Utc>) -> Order {
    let request: CreateOrderRequest = serde_json::from_value(json!({
        "customer": {"id": customer, "name": format!("Cong ty {customer}"),
                     "delivery_address": {"line1": "1 Le Loi", "city": "HCM", "country": "VN"}},
        "external_reference": format!("PO-{customer}"),
        "lines": [{"sku": sku, "quantity": "1"}]
    }))
    .expect("a valid order body");
    let record = sku_record(sku);
    let catalog = HashMap::from([(record.sku.clone(), record)]);
    let mut order = request.validated().expect("valid").into_order(&actor(tenant, sub), &catalog, at).expect("priced");
    order.order_number = format!("ORD-{}", order.order_id);
    order
}

fn creation(order: &Order) -> OrderWrite {
    let actor = actor(&order.tenant_id, &order.created_by);
    let (write, _) =
        crate::usecases::unit_of_work::order_write(order.clone(), None, order.created(&actor), order.created_at);
    write
}

/// Stores a new order of one `sku` line.
async fn created<S: Store>(store: &S, tenant: &TenantId, sku: &str) -> Order {
    let order = order(tenant, sku, "C1", "sales-1", Utc::now());
    store.create_order(creation(&order)).await.expect("created");
    order
}

/// The stored order, which must exist.
async fn stored<S: Store>(store: &S, order: &Order) -> Order {
    store.get_order(&order.tenant_id, &order.order_id).await.expect("read").expect("the order is stored")
}

/// A change of the stored `order` (its version bumped) with no history.
async fn next_change<S: Store>(store: &S, order: &Order) -> OrderWrite {
    let mut changed = stored(store, order).await;
    let expected = changed.version;
    changed.touch(Utc::now());
    OrderWrite::update(changed, expected, vec![], vec![])
}

async fn level<S: Store>(store: &S, tenant: &TenantId, hub: &HubId, sku: &Sku) -> (Decimal, Decimal) {
    let filter = StockFilter { sku: Some(sku.clone()), hub_id: Some(hub.clone()) };
    let levels = store.list_stock(tenant, &filter).await.expect("stock read");
    levels.first().map_or((Decimal::ZERO, Decimal::ZERO), |l| (l.on_hand.normalize(), l.reserved.normalize()))
}

fn is_conflict(result: &Result<impl std::fmt::Debug, StoreError>, on: &ConflictOn) -> bool {
    matches!(result, Err(StoreError::Conflict(c)) if c == on)
}

fn is_stock_conflict(result: &Result<impl std::fmt::Debug, StoreError>) -> bool {
    matches!(result, Err(StoreError::Conflict(ConflictOn::Stock { .. })))
}

/// A created order reads back as written, with its history; another tenant sees neither.
pub async fn an_order_reads_back_whole_with_its_history<S: Store>(store: &S) {
    let (tenant, other) = (fresh_tenant(), fresh_tenant());
    let order = created(store, &tenant, "PP").await;
    assert_eq!(stored(store, &order).await, order);
    let history = store.order_history(&tenant, &order.order_id).await.expect("history");
    assert_eq!(history, creation(&order).history);
    assert!(store.get_order(&other, &order.order_id).await.expect("read").is_none(), "another tenant's order");
    assert!(store.order_history(&other, &order.order_id).await.expect("history").is_empty());
}

/// Creating an order that exists is `Conflict(AlreadyExists)` and changes nothing.
pub async fn an_order_is_created_once<S: Store>(store: &S) {
    let tenant = fresh_tenant();
    let order = created(store, &tenant, "PP").await;
    let mut again = creation(&order);
    again.order.notes = Some("second".into());
    assert!(is_conflict(&store.create_order(again).await, &ConflictOn::AlreadyExists));
    assert_eq!(stored(store, &order).await, order);
    assert_eq!(store.order_history(&tenant, &order.order_id).await.expect("history").len(), 1);
}

/// A change computed from a version that moved on is `Conflict(Version)` and writes nothing,
/// not its history either.
pub async fn a_save_from_a_stale_version_conflicts_and_writes_nothing<S: Store>(store: &S) {
    let tenant = fresh_tenant();
    let order = created(store, &tenant, "PP").await;
    let admin = actor(&tenant, "admin");
    let (mut first, mut second) = (order.clone(), order.clone());
    let change = first.change_status(OrderStatus::Cancelled, "customer asked", &admin, Utc::now()).expect("allowed");
    store.save_order(OrderWrite::update(first.clone(), order.version, vec![change], vec![])).await.expect("saved");
    let change = second.change_status(OrderStatus::PendingAllocation, "stale", &admin, Utc::now()).expect("allowed");
    let stale = OrderWrite::update(second, order.version, vec![change], vec![]);
    assert!(is_conflict(&store.save_order(stale.clone()).await, &ConflictOn::Version));
    assert!(is_conflict(&store.save_with_stock(stale, &[]).await, &ConflictOn::Version));
    assert_eq!(stored(store, &order).await, first);
    let history = store.order_history(&tenant, &order.order_id).await.expect("history");
    assert_eq!(history.iter().map(|h| h.reason.as_str()).collect::<Vec<_>>(), ["order created", "customer asked"]);
}

/// An order's history keeps the creation's entries and those of its last
/// [`StatusChange::KEPT_VERSIONS`] versions, whatever changed in between.
pub async fn the_history_keeps_the_creation_and_the_latest_versions<S: Store>(store: &S) {
    let tenant = fresh_tenant();
    let order = created(store, &tenant, "PP").await;
    let mut written = creation(&order).history;
    for n in 0..StatusChange::KEPT_VERSIONS + 8 {
        let mut write = next_change(store, &order).await;
        // Every other change changes the status (the entry is what matters here), and one
        // records two.
        if n % 2 == 0 {
            let status = write.order.status;
            let entry = |reason: String| StatusChange {
                order_id: order.order_id.clone(),
                from: Some(status),
                to: status,
                reason,
                actor: "admin".into(),
                role: Role::Admin,
                at: Utc::now(),
                version: write.order.version,
            };
            write.history.push(entry(format!("change {n}")));
            if n == 10 {
                write.history.push(entry(format!("change {n}, again")));
            }
        }
        written.extend(write.history.clone());
        store.save_order(write).await.expect("saved");
    }
    let version = stored(store, &order).await.version;
    let kept: Vec<_> = written.iter().filter(|change| change.kept_at(version)).cloned().collect();
    assert!(kept.len() < written.len() && kept.len() > 1, "some were dropped, some kept");
    assert_eq!(kept[0].version, 1, "the creation stays");
    assert_eq!(store.order_history(&tenant, &order.order_id).await.expect("history"), kept);
}

/// Saving a change of an order that was never created is `Conflict(Version)` and creates nothing.
pub async fn a_save_of_an_order_never_created_conflicts<S: Store>(store: &S) {
    let tenant = fresh_tenant();
    let order = order(&tenant, "PP", "C1", "sales-1", Utc::now());
    assert!(is_conflict(
        &store.save_order(OrderWrite::update(order.clone(), 1, vec![], vec![])).await,
        &ConflictOn::Version
    ));
    assert!(store.get_order(&tenant, &order.order_id).await.expect("read").is_none());
}

/// A channel's order id makes one order per tenant: a second is `Conflict(ChannelOrder)`.
pub async fn a_channel_order_id_makes_one_order_per_tenant<S: Store>(store: &S) {
    let (tenant, other) = (fresh_tenant(), fresh_tenant());
    let from_channel = |tenant: &TenantId| {
        let mut order = order(tenant, "PP", "C1", "channel", Utc::now());
        (order.channel, order.channel_order_id) = (Some("shopee".into()), Some("SHP-1#2".into()));
        order
    };
    store.create_order(creation(&from_channel(&tenant))).await.expect("the first");
    let again = from_channel(&tenant);
    assert!(is_conflict(&store.create_order(creation(&again)).await, &ConflictOn::ChannelOrder));
    assert!(store.get_order(&tenant, &again.order_id).await.expect("read").is_none());
    store.create_order(creation(&from_channel(&other))).await.expect("another tenant's channel order");
}

/// An `Idempotency-Key` record is written with the change that used it and found by tenant, user
/// and key; a change carrying a key taken meanwhile is `Conflict(IdempotencyKey)` and writes
/// nothing.
pub async fn an_idempotency_record_is_written_with_its_change_and_taken_once<S: Store>(store: &S) {
    let (tenant, other) = (fresh_tenant(), fresh_tenant());
    let order = order(&tenant, "PP", "C1", "sales-1", Utc::now());
    let record = IdempotencyRecord {
        tenant_id: tenant.clone(),
        user: "sales-1".into(),
        key: "checkout-42".into(),
        request_hash: "ab".repeat(32),
        order_id: order.order_id.clone(),
        created_at: Utc::now(),
    };
    assert!(store.find_idempotency(&tenant, "sales-1", "checkout-42").await.expect("read").is_none());
    store.create_order(OrderWrite { idempotency: Some(record.clone()), ..creation(&order) }).await.expect("created");
    assert_eq!(store.find_idempotency(&tenant, "sales-1", "checkout-42").await.expect("read"), Some(record.clone()));
    assert!(store.find_idempotency(&tenant, "sales-2", "checkout-42").await.expect("read").is_none(), "another user");
    assert!(store.find_idempotency(&other, "sales-1", "checkout-42").await.expect("read").is_none(), "another tenant");

    let racer = self::order(&tenant, "PP", "C1", "sales-1", Utc::now());
    let taken = OrderWrite { idempotency: Some(record.clone()), ..creation(&racer) };
    assert!(is_conflict(&store.create_order(taken).await, &ConflictOn::IdempotencyKey));
    assert!(store.get_order(&tenant, &racer.order_id).await.expect("read").is_none());
    let change = OrderWrite { idempotency: Some(record), ..next_change(store, &order).await };
    assert!(is_conflict(&store.save_order(change).await, &ConflictOn::IdempotencyKey));
    assert_eq!(stored(store, &order).await, order, "the change with the taken key wrote nothing");
}

/// A change's lookups are found: a shipment id by itself whatever the tenant asks, a return id
/// within its tenant. An id taken is `Conflict(AlreadyExists)` and the change writes nothing.
pub async fn lookups_find_shipments_across_tenants_and_returns_per_tenant<S: Store>(store: &S) {
    let (tenant, other) = (fresh_tenant(), fresh_tenant());
    let order = created(store, &tenant, "PP").await;
    let (shipment, rma) = (format!("SHP-{}", ulid::Ulid::new()), "RMA-20261122-0001".to_owned());
    assert!(store.find_shipment(&shipment).await.expect("read").is_none());
    let lookups = vec![Lookup::Shipment(shipment.clone()), Lookup::Return(rma.clone())];
    store.save_order(OrderWrite { lookups, ..next_change(store, &order).await }).await.expect("saved");
    let at = ShipmentRef { tenant_id: tenant.clone(), order_id: order.order_id.clone() };
    assert_eq!(store.find_shipment(&shipment).await.expect("read"), Some(at));
    assert_eq!(store.find_return(&tenant, &rma).await.expect("read"), Some(order.order_id.clone()));
    assert!(store.find_return(&other, &rma).await.expect("read").is_none(), "another tenant's return");

    let before = stored(store, &order).await;
    let again = OrderWrite { lookups: vec![Lookup::Shipment(shipment)], ..next_change(store, &order).await };
    assert!(is_conflict(&store.save_order(again).await, &ConflictOn::AlreadyExists));
    assert_eq!(stored(store, &order).await, before);
    let elsewhere = created(store, &other, "PP").await;
    let same_rma = OrderWrite { lookups: vec![Lookup::Return(rma.clone())], ..next_change(store, &elsewhere).await };
    store.save_order(same_rma).await.expect("return ids are per tenant");
    assert_eq!(store.find_return(&other, &rma).await.expect("read"), Some(elsewhere.order_id));
}

/// Five orders created a second apart (`C1`, `C2`, `C1`, `C3`, `C1`; the fourth by another user;
/// the first, third and fourth submitted), oldest first.
async fn five_orders<S: Store>(store: &S, tenant: &TenantId) -> Vec<Order> {
    let start = Utc::now() - Duration::minutes(10);
    let mut orders = Vec::new();
    for (i, customer) in ["C1", "C2", "C1", "C3", "C1"].into_iter().enumerate() {
        let sub = if i == 3 { "colleague" } else { "sales-1" };
        let at = start + Duration::seconds(i64::try_from(i).expect("small"));
        let mut order = order(tenant, "PP", customer, sub, at);
        if matches!(i, 0 | 2 | 3) {
            order.status = OrderStatus::PendingAllocation;
        }
        store.create_order(creation(&order)).await.expect("created");
        orders.push(order);
    }
    orders
}

fn ids(page: &super::OrderPage) -> Vec<OrderId> {
    page.items.iter().map(|s| s.order_id.clone()).collect()
}

/// Listing walks every order of the tenant once, newest first, a page at a time; a cursor
/// handed out for another tenant is refused.
pub async fn orders_list_newest_first_page_by_page_and_only_the_tenants<S: Store>(store: &S) {
    let (tenant, other) = (fresh_tenant(), fresh_tenant());
    let orders = five_orders(store, &tenant).await;
    five_orders(store, &other).await;
    let mut query = OrderQuery { limit: 2, ..OrderQuery::default() };
    let mut seen = Vec::new();
    loop {
        let page = store.list_orders(&tenant, &query).await.expect("a page");
        assert!(page.items.len() <= 2);
        seen.extend(ids(&page));
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => break,
        }
    }
    assert_eq!(seen, orders.iter().rev().map(|o| o.order_id.clone()).collect::<Vec<_>>());
    let first = store.list_orders(&tenant, &OrderQuery { limit: 1, ..OrderQuery::default() }).await.expect("a page");
    assert_eq!(first.items[0], super::OrderSummary::of(&orders[4]));
    let foreign = store.list_orders(&other, &OrderQuery { limit: 1, ..OrderQuery::default() }).await.expect("a page");
    let query = OrderQuery { limit: 2, cursor: foreign.next_cursor, ..OrderQuery::default() };
    assert!(matches!(store.list_orders(&tenant, &query).await, Err(StoreError::BadCursor)));
}

/// Listing filters (status, customer, creator, dates, a prefix of number, customer name or
/// reference) each narrow the list and combine.
pub async fn order_listing_filters_combine<S: Store>(store: &S) {
    let tenant = fresh_tenant();
    let o = five_orders(store, &tenant).await;
    let tenant = &tenant;
    let list = |query: OrderQuery| async move {
        ids(&store.list_orders(tenant, &OrderQuery { limit: 10, ..query }).await.expect("a page"))
    };
    let id = |i: usize| o[i].order_id.clone();
    let pending = Some(OrderStatus::PendingAllocation);
    assert_eq!(list(OrderQuery { status: pending, ..Default::default() }).await, [id(3), id(2), id(0)]);
    assert_eq!(list(OrderQuery { customer_id: Some("C1".into()), ..Default::default() }).await, [id(4), id(2), id(0)]);
    let both = OrderQuery { status: Some(OrderStatus::Draft), customer_id: Some("C1".into()), ..Default::default() };
    assert_eq!(list(both).await, [id(4)]);
    assert_eq!(list(OrderQuery { created_by: Some("colleague".into()), ..Default::default() }).await, [id(3)]);
    let window = OrderQuery { from: Some(o[1].created_at), to: Some(o[3].created_at), ..Default::default() };
    assert_eq!(list(window).await, [id(3), id(2), id(1)]);
    let q = |text: &str| OrderQuery { q: Some(text.into()), ..Default::default() };
    assert_eq!(list(q("cong ty c1")).await, [id(4), id(2), id(0)], "a customer name prefix, any case");
    assert_eq!(list(q("po-c3")).await, [id(3)], "a reference prefix");
    assert_eq!(list(q(&o[1].order_number.to_lowercase())).await, [id(1)], "an order number");
    assert!(list(q("nothing")).await.is_empty());
}

/// Which orders a listing query should find.
type Matching = Box<dyn Fn(&Order) -> bool>;

/// Paging walks the same sequence, newest first, whatever the page size: every matching order
/// once, each page but the last full (a sharded store's pages cross shards), with and without
/// filters.
pub async fn every_page_size_walks_the_same_sequence<S: Store>(store: &S) {
    let tenant = fresh_tenant();
    let start = Utc::now() - Duration::minutes(30);
    let orders: Vec<Order> = (0..40)
        .map(|i| {
            let customer = if i % 3 == 0 { "C1" } else { "C2" };
            let mut order = order(&tenant, "PP", customer, "sales-1", start + Duration::seconds(i));
            if i % 2 == 0 {
                order.status = OrderStatus::PendingAllocation;
            }
            order
        })
        .collect();
    for result in join_all(orders.iter().map(|o| store.create_order(creation(o)))).await {
        result.expect("created");
    }
    let pending = Some(OrderStatus::PendingAllocation);
    let (from, to) = (orders[5].created_at, orders[30].created_at);
    let queries: [(OrderQuery, Matching); 5] = [
        (OrderQuery::default(), Box::new(|_| true)),
        (
            OrderQuery { status: pending, ..Default::default() },
            Box::new(|o| o.status == OrderStatus::PendingAllocation),
        ),
        (OrderQuery { customer_id: Some("C1".into()), ..Default::default() }, Box::new(|o| o.customer.id == "C1")),
        (
            OrderQuery { from: Some(from), to: Some(to), ..Default::default() },
            Box::new(move |o| (from..=to).contains(&o.created_at)),
        ),
        (
            OrderQuery { status: pending, customer_id: Some("C2".into()), from: Some(from), ..Default::default() },
            Box::new(move |o| {
                o.status == OrderStatus::PendingAllocation && o.customer.id == "C2" && o.created_at >= from
            }),
        ),
    ];
    for (query, matching) in queries {
        let expected: Vec<OrderId> = orders.iter().rev().filter(|o| matching(o)).map(|o| o.order_id.clone()).collect();
        for limit in [1, 3, 7, 50] {
            let mut query = OrderQuery { limit, ..query.clone() };
            let mut pages = Vec::new();
            loop {
                let page = store.list_orders(&tenant, &query).await.expect("a page");
                pages.push(ids(&page));
                match page.next_cursor {
                    Some(cursor) => query.cursor = Some(cursor),
                    None => break,
                }
            }
            let (last, full) = pages.split_last().expect("a page");
            assert!(last.len() <= limit && full.iter().all(|p| p.len() == limit), "{query:?}: {pages:?}");
            assert_eq!(pages.concat(), expected, "{query:?}");
        }
    }
}

/// `BACKORDERED` orders with a line of a SKU are found oldest first, at most as many as asked.
pub async fn backordered_orders_of_a_sku_come_oldest_first<S: Store>(store: &S) {
    let tenant = fresh_tenant();
    let start = Utc::now() - Duration::minutes(5);
    let mut backordered = Vec::new();
    for (i, (sku, status)) in [
        ("PP", OrderStatus::Backordered),
        ("PE", OrderStatus::Backordered),
        ("PP", OrderStatus::Draft),
        ("PP", OrderStatus::Backordered),
    ]
    .into_iter()
    .enumerate()
    {
        let mut order =
            order(&tenant, sku, "C1", "sales-1", start + Duration::seconds(i64::try_from(i).expect("small")));
        order.status = status;
        store.create_order(creation(&order)).await.expect("created");
        if sku == "PP" && status == OrderStatus::Backordered {
            backordered.push(order.order_id);
        }
    }
    let pp = Sku::parse("PP").expect("a SKU");
    assert_eq!(store.backordered_orders(&tenant, &pp, 10).await.expect("read"), backordered);
    assert_eq!(store.backordered_orders(&tenant, &pp, 1).await.expect("read"), backordered[..1]);
    assert!(store.backordered_orders(&fresh_tenant(), &pp, 10).await.expect("read").is_empty());
}

/// `count` numbers of `counter` on `day`, drawn concurrently.
async fn numbers<S: Store>(store: &S, counter: Counter<'_>, day: NaiveDate, count: usize) -> Vec<String> {
    join_all((0..count).map(|_| async move { store.next_number(counter, day).await.expect("a number") })).await
}

/// Order and return numbers are unique per tenant and day, `ORD-YYYYMMDD-NNNN` (four digits at
/// least); shipment numbers are unique across tenants. Numbers need not be dense nor follow
/// creation order (a sharded counter interleaves its shards' numbers).
pub async fn document_numbers_are_unique_per_tenant_and_day_and_shipments_across_tenants<S: Store>(store: &S) {
    let (t1, t2) = (fresh_tenant(), fresh_tenant());
    let day = NaiveDate::from_ymd_opt(2026, 11, 22).expect("a date");
    let numbers = |counter, day, count| numbers(store, counter, day, count);
    let well_formed = |number: &str, prefix: &str| {
        let n = number.strip_prefix(prefix).unwrap_or_else(|| panic!("{number} starts with {prefix}"));
        assert!(n.len() >= 4 && n.bytes().all(|b| b.is_ascii_digit()), "{number}: four digits at least");
    };
    let unique = |numbers: &[String]| numbers.iter().collect::<std::collections::BTreeSet<_>>().len() == numbers.len();
    let first = numbers(Counter::Orders(&t1), day, 30).await;
    first.iter().for_each(|n| well_formed(n, "ORD-20261122-"));
    assert!(unique(&first), "{first:?}");
    numbers(Counter::Orders(&t2), day, 3).await.iter().for_each(|n| well_formed(n, "ORD-20261122-"));
    numbers(Counter::Returns(&t1), day, 3).await.iter().for_each(|n| well_formed(n, "RMA-20261122-"));
    let next_day = day.succ_opt().expect("a date");
    numbers(Counter::Orders(&t1), next_day, 3).await.iter().for_each(|n| well_formed(n, "ORD-20261123-"));
    let shipments = numbers(Counter::Shipments, day, 30).await;
    shipments.iter().for_each(|n| well_formed(n, "SHP-20261122-"));
    assert!(unique(&shipments), "{shipments:?}");
}

/// A change that would make the order too big to store is refused before anything is written
/// (`TooLarge::Order`), through every write path, and the stored order stays writable.
pub async fn an_order_over_the_size_limit_is_refused_and_the_stored_one_stays<S: Store>(store: &S) {
    let tenant = fresh_tenant();
    let huge = Some("x".repeat(MAX_ORDER_BYTES));
    let mut too_big = order(&tenant, "PP", "C1", "sales-1", Utc::now());
    too_big.notes = huge.clone();
    let too_large =
        |result: Result<(), StoreError>| matches!(result, Err(StoreError::TooLarge { what: TooLarge::Order, .. }));
    assert!(too_large(store.create_order(creation(&too_big)).await));
    assert!(store.get_order(&tenant, &too_big.order_id).await.expect("read").is_none());

    let order = created(store, &tenant, "PP").await;
    let mut change = next_change(store, &order).await;
    change.order.notes = huge;
    assert!(too_large(store.save_order(change.clone()).await));
    assert!(too_large(store.save_with_stock(change, &[]).await));
    assert_eq!(stored(store, &order).await, order);
    store.save_order(next_change(store, &order).await).await.expect("still writable");
}

/// Hubs and SKUs are created, replaced and read per tenant.
pub async fn hubs_and_skus_are_kept_per_tenant<S: Store>(store: &S) {
    let (tenant, other) = (fresh_tenant(), fresh_tenant());
    let (b, a) = (hub_record("HUB-B"), hub_record("HUB-A"));
    store.put_hub(&tenant, &b).await.expect("put");
    store.put_hub(&tenant, &a).await.expect("put");
    let renamed = Hub { name: "Hub A, renamed".into(), active: false, ..a.clone() };
    store.put_hub(&tenant, &renamed).await.expect("replaced");
    assert_eq!(store.list_hubs(&tenant).await.expect("read"), [renamed.clone(), b]);
    assert_eq!(store.get_hub(&tenant, &a.hub_id).await.expect("read"), Some(renamed));
    assert!(store.get_hub(&other, &a.hub_id).await.expect("read").is_none());
    assert!(store.list_hubs(&other).await.expect("read").is_empty());

    let (pe, pp) = (sku_record("PE"), sku_record("PP"));
    store.put_sku(&tenant, &pp).await.expect("put");
    store.put_sku(&tenant, &pe).await.expect("put");
    let repriced = SkuRecord { list_price: Decimal::new(35_000, 0), ..pp.clone() };
    store.put_sku(&tenant, &repriced).await.expect("replaced");
    assert_eq!(store.list_skus(&tenant).await.expect("read"), [pe.clone(), repriced.clone()]);
    let missing = Sku::parse("NONE").expect("a SKU");
    let found = store.get_skus(&tenant, &[pp.sku.clone(), missing]).await.expect("read");
    assert_eq!(found, [repriced]);
    assert!(store.get_skus(&other, &[pp.sku]).await.expect("read").is_empty());
    assert!(store.list_skus(&other).await.expect("read").is_empty());
}

/// A channel's item id maps to one SKU of the tenant: another SKU claiming it is
/// `Conflict(ChannelItem)`; a mapping the SKU drops is free again.
pub async fn a_channel_item_maps_to_one_sku<S: Store>(store: &S) {
    let (tenant, other) = (fresh_tenant(), fresh_tenant());
    let mapped = |code: &str| {
        let mut record = sku_record(code);
        record.channel_items.insert("shopee".into(), "ITEM-1".into());
        record
    };
    store.put_sku(&tenant, &mapped("PP")).await.expect("put");
    let items = ["ITEM-1".to_owned(), "ITEM-9".to_owned()];
    let found = store.skus_for_channel_items(&tenant, "shopee", &items).await.expect("read");
    assert_eq!(found, HashMap::from([("ITEM-1".to_owned(), Sku::parse("PP").expect("a SKU"))]));
    assert!(store.skus_for_channel_items(&tenant, "lazada", &items).await.expect("read").is_empty());
    let conflict = ConflictOn::ChannelItem { channel: "shopee".into(), item_id: "ITEM-1".into() };
    assert!(is_conflict(&store.put_sku(&tenant, &mapped("PE")).await, &conflict));
    assert_eq!(store.list_skus(&tenant).await.expect("read").len(), 1, "the refused SKU was not written");
    store.put_sku(&other, &mapped("PE")).await.expect("another tenant's mapping");

    store.put_sku(&tenant, &sku_record("PP")).await.expect("mapping dropped");
    assert!(store.skus_for_channel_items(&tenant, "shopee", &items).await.expect("read").is_empty());
    store.put_sku(&tenant, &mapped("PE")).await.expect("the item is free again");
}

/// Dispatches count per tenant, hub and day.
pub async fn dispatches_count_per_hub_and_day<S: Store>(store: &S) {
    let (tenant, other) = (fresh_tenant(), fresh_tenant());
    let day = NaiveDate::from_ymd_opt(2026, 11, 22).expect("a date");
    let (a, b) = (HubId::parse("A").expect("a hub"), HubId::parse("B").expect("a hub"));
    store.count_dispatches(&tenant, day, &[a.clone(), b.clone()]).await.expect("counted");
    store.count_dispatches(&tenant, day, std::slice::from_ref(&a)).await.expect("counted");
    store.count_dispatches(&tenant, day.succ_opt().expect("a date"), std::slice::from_ref(&b)).await.expect("counted");
    let loads = store.hub_loads(&tenant, day).await.expect("read");
    assert_eq!((loads.get(&a), loads.get(&b), loads.len()), (Some(&2), Some(&1), 2));
    assert!(store.hub_loads(&other, day).await.expect("read").is_empty());
}

/// Reserves `quantity` for a new order: what holds stock in the checks below.
async fn reserve<S: Store>(store: &S, tenant: &TenantId, hub: &HubId, sku: &Sku, quantity: Decimal) -> Order {
    let order = created(store, tenant, sku.as_str()).await;
    let moves = [StockMove::reserve(hub.clone(), sku.clone(), quantity)];
    store.save_with_stock(next_change(store, &order).await, &moves).await.expect("reserved");
    order
}

/// A set or a delta changes on-hand and keeps what is reserved; one that would take on-hand
/// below it is `Conflict(Stock)` and changes nothing. The level returned is the one stored.
pub async fn stock_is_set_and_adjusted_but_never_below_reserved<S: Store>(store: &S) {
    let tenant = fresh_tenant();
    let (hub, sku) = stocked(store, &tenant, "A", "PP", Decimal::new(10, 0)).await;
    reserve(store, &tenant, &hub, &sku, Decimal::new(7, 0)).await;
    let change = |change| store.change_stock(&tenant, &hub, &sku, change);
    assert!(is_stock_conflict(&change(StockChange::Set(Decimal::new(6, 0))).await));
    assert!(is_stock_conflict(&change(StockChange::Delta(Decimal::new(-4, 0))).await));
    assert_eq!(level(store, &tenant, &hub, &sku).await, (Decimal::new(10, 0), Decimal::new(7, 0)));
    let after = change(StockChange::Delta(Decimal::new(-3, 0))).await.expect("down to what is reserved");
    assert_eq!(
        (after.on_hand, after.reserved, after.available()),
        (Decimal::new(7, 0), Decimal::new(7, 0), Decimal::ZERO)
    );
    let after = change(StockChange::Set(Decimal::new(125, 1))).await.expect("set");
    assert_eq!(after.available(), Decimal::new(55, 1));
    let after = change(StockChange::Delta(Decimal::new(25, 1))).await.expect("received");
    assert_eq!(level(store, &tenant, &hub, &sku).await, (after.on_hand.normalize(), after.reserved.normalize()));
    assert_eq!(after.on_hand, Decimal::new(15, 0));
    let new = Sku::parse("PE").expect("a SKU");
    assert!(is_stock_conflict(&store.change_stock(&tenant, &hub, &new, StockChange::Delta(-Decimal::ONE)).await));
    let first =
        store.change_stock(&tenant, &hub, &new, StockChange::Delta(Decimal::new(4, 0))).await.expect("new stock");
    assert_eq!((first.on_hand, first.reserved), (Decimal::new(4, 0), Decimal::ZERO));
}

/// A count no newer than the last count applied is `Conflict(Stale)` and changes nothing; sets
/// and deltas in between do not make a count stale.
pub async fn a_stale_count_changes_nothing<S: Store>(store: &S) {
    let tenant = fresh_tenant();
    let (hub, sku) = stocked(store, &tenant, "A", "PP", Decimal::new(10, 0)).await;
    let t0 = Utc::now() - Duration::hours(1);
    let count = |on_hand: i64, minutes: i64| StockChange::Counted {
        on_hand: Decimal::new(on_hand, 0),
        at: t0 + Duration::minutes(minutes),
    };
    store.change_stock(&tenant, &hub, &sku, count(8, 10)).await.expect("the first count");
    let stale = store.change_stock(&tenant, &hub, &sku, count(3, 5)).await;
    assert!(is_conflict(&stale, &ConflictOn::Stale), "{stale:?}");
    assert!(is_conflict(&store.change_stock(&tenant, &hub, &sku, count(3, 10)).await, &ConflictOn::Stale));
    assert_eq!(level(store, &tenant, &hub, &sku).await.0, Decimal::new(8, 0));
    store.change_stock(&tenant, &hub, &sku, StockChange::Set(Decimal::new(20, 0))).await.expect("a set");
    assert!(is_conflict(&store.change_stock(&tenant, &hub, &sku, count(3, 9)).await, &ConflictOn::Stale));
    let newer = store.change_stock(&tenant, &hub, &sku, count(6, 11)).await.expect("a newer count");
    assert_eq!(newer.on_hand, Decimal::new(6, 0));
}

/// Reserve, release, ship, unship and receive change the level as the stock rules say, each
/// with the order change it belongs to.
pub async fn reservation_moves_follow_the_stock_rules<S: Store>(store: &S) {
    let tenant = fresh_tenant();
    let (hub, sku) = stocked(store, &tenant, "A", "PP", Decimal::new(10, 0)).await;
    let order = created(store, &tenant, "PP").await;
    let steps = [
        (StockMove::reserve(hub.clone(), sku.clone(), Decimal::new(6, 0)), (10, 6)),
        (StockMove::release(hub.clone(), sku.clone(), Decimal::new(2, 0)), (10, 4)),
        (StockMove::ship(hub.clone(), sku.clone(), Decimal::new(3, 0)), (7, 1)),
        (StockMove::unship(hub.clone(), sku.clone(), Decimal::new(1, 0)), (8, 2)),
        (StockMove::receive(hub.clone(), sku.clone(), Decimal::new(5, 0)), (13, 2)),
        (StockMove::receive(hub.clone(), sku.clone(), Decimal::new(-11, 0)), (2, 2)),
    ];
    for (m, (on_hand, reserved)) in steps {
        let change = next_change(store, &order).await;
        let version = change.order.version;
        store.save_with_stock(change, std::slice::from_ref(&m)).await.unwrap_or_else(|e| panic!("{m:?}: {e}"));
        assert_eq!(
            level(store, &tenant, &hub, &sku).await,
            (Decimal::new(on_hand, 0), Decimal::new(reserved, 0)),
            "{m:?}"
        );
        assert_eq!(stored(store, &order).await.version, version, "the order change went with it");
    }
}

/// A move the stock cannot cover (a reservation over what is available, a release or shipment
/// over what is reserved, a write-off over what is free, any move where the hub holds no stock of
/// the SKU) is `Conflict(Stock)`: neither the order change nor any of its moves is written.
pub async fn an_oversold_reservation_is_refused_and_nothing_is_written<S: Store>(store: &S) {
    let tenant = fresh_tenant();
    let (hub, sku) = stocked(store, &tenant, "A", "PP", Decimal::new(5, 0)).await;
    let (other_hub, _) = stocked(store, &tenant, "B", "PP", Decimal::new(5, 0)).await;
    reserve(store, &tenant, &hub, &sku, Decimal::new(2, 0)).await;
    let order = created(store, &tenant, "PP").await;
    let nowhere = HubId::parse("NOWHERE").expect("a hub");
    let refused = [
        vec![StockMove::reserve(hub.clone(), sku.clone(), Decimal::new(3001, 3))],
        vec![StockMove::release(hub.clone(), sku.clone(), Decimal::new(3, 0))],
        vec![StockMove::ship(hub.clone(), sku.clone(), Decimal::new(3, 0))],
        vec![StockMove::receive(hub.clone(), sku.clone(), Decimal::new(-4, 0))],
        vec![StockMove::reserve(nowhere.clone(), sku.clone(), Decimal::ONE)],
        vec![StockMove::receive(nowhere, sku.clone(), Decimal::ONE)],
        vec![
            StockMove::reserve(other_hub.clone(), sku.clone(), Decimal::new(5, 0)),
            StockMove::reserve(hub.clone(), sku.clone(), Decimal::new(4, 0)),
        ],
    ];
    for moves in refused {
        let result = store.save_with_stock(next_change(store, &order).await, &moves).await;
        assert!(is_stock_conflict(&result), "{moves:?}: {result:?}");
        assert_eq!(stored(store, &order).await, order, "{moves:?}");
        assert_eq!(level(store, &tenant, &hub, &sku).await, (Decimal::new(5, 0), Decimal::new(2, 0)), "{moves:?}");
        assert_eq!(level(store, &tenant, &other_hub, &sku).await, (Decimal::new(5, 0), Decimal::ZERO), "{moves:?}");
    }
    let exact = [StockMove::reserve(hub.clone(), sku.clone(), Decimal::new(3, 0))];
    store.save_with_stock(next_change(store, &order).await, &exact).await.expect("exactly what is available");
    assert_eq!(level(store, &tenant, &hub, &sku).await, (Decimal::new(5, 0), Decimal::new(5, 0)));
}

/// The moves of one change are netted per hub, SKU and kind before they are checked: a release
/// and a reservation that cancel out need nothing; two reservations need their sum.
pub async fn the_moves_of_one_change_are_netted<S: Store>(store: &S) {
    let tenant = fresh_tenant();
    let (hub, sku) = stocked(store, &tenant, "A", "PP", Decimal::new(6, 0)).await;
    let order = reserve(store, &tenant, &hub, &sku, Decimal::new(6, 0)).await;
    let cancel_out = [
        StockMove::reserve(hub.clone(), sku.clone(), Decimal::new(4, 0)),
        StockMove::release(hub.clone(), sku.clone(), Decimal::new(4, 0)),
    ];
    store.save_with_stock(next_change(store, &order).await, &cancel_out).await.expect("nothing moves");
    store
        .save_with_stock(
            next_change(store, &order).await,
            &[StockMove::release(hub.clone(), sku.clone(), Decimal::new(6, 0))],
        )
        .await
        .expect("released");
    let twice = [
        StockMove::reserve(hub.clone(), sku.clone(), Decimal::new(4, 0)),
        StockMove::reserve(hub.clone(), sku.clone(), Decimal::new(4, 0)),
    ];
    assert!(is_stock_conflict(&store.save_with_stock(next_change(store, &order).await, &twice).await), "8 of 6");
    assert_eq!(level(store, &tenant, &hub, &sku).await, (Decimal::new(6, 0), Decimal::ZERO));
}

/// Orders racing for the last unit: exactly one reserves it, the others get `Conflict(Stock)`.
pub async fn concurrent_reservations_of_the_last_unit_have_one_winner<S: Store>(store: &S) {
    let tenant = fresh_tenant();
    let (hub, sku) = stocked(store, &tenant, "A", "PP", Decimal::ONE).await;
    let mut changes = Vec::new();
    for _ in 0..8 {
        let order = created(store, &tenant, "PP").await;
        changes.push(next_change(store, &order).await);
    }
    let racers = changes.into_iter().map(|change| {
        let moves = [StockMove::reserve(hub.clone(), sku.clone(), Decimal::ONE)];
        async move { store.save_with_stock(change, &moves).await }
    });
    let results = join_all(racers).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
    assert!(results.iter().filter(|r| r.is_err()).all(is_stock_conflict), "{results:?}");
    assert_eq!(level(store, &tenant, &hub, &sku).await, (Decimal::ONE, Decimal::ONE));
}

/// Stock lists by hub, by SKU, by both or all of it, and only the tenant's.
pub async fn stock_lists_by_hub_and_sku_per_tenant<S: Store>(store: &S) {
    let (tenant, other) = (fresh_tenant(), fresh_tenant());
    for (hub, sku, on_hand) in [("A", "PP", 1), ("A", "PE", 2), ("B", "PP", 3)] {
        stocked(store, &tenant, hub, sku, Decimal::new(on_hand, 0)).await;
    }
    stocked(store, &other, "A", "PP", Decimal::new(9, 0)).await;
    let listed = |levels: Vec<StockLevel>| {
        let mut found: Vec<(String, String, Decimal)> =
            levels.into_iter().map(|l| (l.hub_id.to_string(), l.sku.to_string(), l.on_hand.normalize())).collect();
        found.sort();
        found
    };
    let row = |hub: &str, sku: &str, on_hand: i64| (hub.to_owned(), sku.to_owned(), Decimal::new(on_hand, 0));
    let filter = |hub: Option<&str>, sku: Option<&str>| StockFilter {
        hub_id: hub.map(|h| HubId::parse(h).expect("a hub")),
        sku: sku.map(|s| Sku::parse(s).expect("a SKU")),
    };
    let tenant = &tenant;
    let list = |f: StockFilter| async move { listed(store.list_stock(tenant, &f).await.expect("read")) };
    assert_eq!(list(filter(None, None)).await, [row("A", "PE", 2), row("A", "PP", 1), row("B", "PP", 3)]);
    assert_eq!(list(filter(Some("A"), None)).await, [row("A", "PE", 2), row("A", "PP", 1)]);
    assert_eq!(list(filter(None, Some("PP"))).await, [row("A", "PP", 1), row("B", "PP", 3)]);
    assert_eq!(list(filter(Some("B"), Some("PP"))).await, [row("B", "PP", 3)]);
    assert!(list(filter(Some("B"), Some("PE"))).await.is_empty());
    let skus = [Sku::parse("PE").expect("a SKU"), Sku::parse("XX").expect("a SKU")];
    assert_eq!(listed(store.stock_for_skus(tenant, &skus).await.expect("read")), [row("A", "PE", 2)]);
    assert_eq!(listed(store.list_stock(&other, &filter(None, None)).await.expect("read")), [row("A", "PP", 9)]);
}

/// Integrations are registered, replaced, listed and removed per tenant.
pub async fn integrations_are_registered_per_tenant<S: Store>(store: &S) {
    let (tenant, other) = (fresh_tenant(), fresh_tenant());
    let principal = |p: &str| Principal::parse(p).expect("a principal");
    let registration = |kind, p: &str, name: &str| Integration {
        tenant_id: tenant.clone(),
        kind,
        principal: principal(p),
        name: name.into(),
        registered_at: Utc::now(),
        registered_by: "admin".into(),
    };
    let wms = registration(IntegrationKind::Wms, "111122223333", "HP WMS");
    let channel = registration(IntegrationKind::Channel, "AIDALOCALCHANNEL0001", "Shopee");
    store.put_integration(&wms).await.expect("put");
    store.put_integration(&channel).await.expect("put");
    let renamed = Integration { name: "HP WMS 2".into(), ..wms.clone() };
    store.put_integration(&renamed).await.expect("replaced");
    let get = |tenant: &TenantId, kind| {
        let tenant = tenant.clone();
        let principal = wms.principal.clone();
        async move { store.get_integration(&tenant, kind, &principal).await }
    };
    assert_eq!(get(&tenant, IntegrationKind::Wms).await.expect("read"), Some(renamed.clone()));
    assert!(get(&tenant, IntegrationKind::Channel).await.expect("read").is_none(), "registered as a WMS only");
    assert!(get(&other, IntegrationKind::Wms).await.expect("read").is_none(), "another tenant");
    assert_eq!(
        store.list_integrations(&tenant).await.expect("read"),
        [channel, renamed],
        "by kind name, then principal"
    );
    assert!(store.list_integrations(&other).await.expect("read").is_empty());
    assert!(!store.delete_integration(&other, IntegrationKind::Wms, &wms.principal).await.expect("delete"));
    assert!(store.delete_integration(&tenant, IntegrationKind::Wms, &wms.principal).await.expect("delete"));
    assert!(!store.delete_integration(&tenant, IntegrationKind::Wms, &wms.principal).await.expect("delete"));
    assert!(get(&tenant, IntegrationKind::Wms).await.expect("read").is_none());
    assert_eq!(store.list_integrations(&tenant).await.expect("read").len(), 1);
}
