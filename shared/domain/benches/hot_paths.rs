//! Criterion benchmarks of the domain's hot paths (how to run them, and the figures: README.md
//! beside this file).
//!
//! Every input is built once, outside the timed closure, from a fixed seed, so runs compare.
//! Paths that consume or change their input (`record_warehouse_report`, the create path) get a
//! fresh copy per iteration from `iter_batched`, whose setup is not timed.

use std::collections::{BTreeMap, HashMap};
use std::hint::black_box;

use chrono::{DateTime, TimeZone, Utc};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use rust_decimal::Decimal;

use oms_domain::catalog::{Hub, HubType, Location, SkuRecord};
use oms_domain::order::fulfillment::{ReportedLine, WarehouseReport};
use oms_domain::order::shipment::Package;
use oms_domain::order::{Address, AllocationMode, Contact, Customer, FulfillmentPolicy};
use oms_domain::routing::{HubLoads, PlannedReservation, RoutingWeights, plan_reservations, rank_hubs};
use oms_domain::stock::StockLevel;
use oms_domain::usecases::orders::{CreateOrderRequest, LineRequest};
use oms_domain::{Actor, Currency, HubId, Order, OrderStatus, Role, Sku, TenantId};

/// SplitMix64: a small seeded generator, so the inputs are random-looking but the same each run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..hi`.
    fn float(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next() >> 11) as f64 / (1u64 << 53) as f64)
    }

    /// Uniform in `lo..=hi`.
    fn int(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }

    /// True with probability `p`.
    fn chance(&mut self, p: f64) -> bool {
        self.float(0.0, 1.0) < p
    }

    /// A decimal `lo..=hi` in units of 10^-scale, e.g. `decimal(1_000, 99_999, 3)` is 1.000..99.999.
    fn decimal(&mut self, lo: i64, hi: i64, scale: u32) -> Decimal {
        Decimal::new(self.int(lo, hi), scale)
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 4, 9, 30, 0).unwrap()
}

fn tenant() -> TenantId {
    TenantId::parse("acme").unwrap()
}

fn sku(i: usize) -> Sku {
    Sku::parse(format!("SKU-{i:04}")).unwrap()
}

/// Delivery in Ho Chi Minh City.
fn customer() -> Customer {
    Customer {
        id: "CUST-00042".into(),
        name: "Công ty TNHH Thực phẩm Sài Gòn".into(),
        delivery_address: Address {
            line1: "12 Nguyễn Huệ".into(),
            line2: Some("Tầng 3".into()),
            city: "Hồ Chí Minh".into(),
            region: Some("Quận 1".into()),
            postal_code: Some("700000".into()),
            country: "VN".into(),
            lat: Some(10.7769),
            lon: Some(106.7009),
        },
        contact: Contact {
            name: Some("Nguyễn Văn A".into()),
            phone: Some("+84 28 3822 1234".into()),
            email: Some("mua-hang@example.vn".into()),
        },
    }
}

/// A catalog record (list price and tax rate, sold by the KG).
fn product(sku: Sku, list_price: Decimal, currency: Currency, tax_rate: Decimal) -> SkuRecord {
    SkuRecord {
        name: format!("Gạo ST25 {sku}"),
        sku,
        unit: "KG".into(),
        list_price,
        currency,
        tax_rate,
        low_stock_threshold: Decimal::new(100, 0),
        channel_items: BTreeMap::new(),
        stock_shards: 1,
        updated_at: now(),
    }
}

/// What a requested line says (`LineRequest` is not `Clone`: each use builds its own).
struct LineSpec {
    sku: Sku,
    quantity: Decimal,
    unit: Option<String>,
    quote: Option<Decimal>,
    shipping: Option<Decimal>,
}

impl LineSpec {
    fn new(sku: Sku, quantity: Decimal) -> Self {
        Self { sku, quantity, unit: None, quote: None, shipping: None }
    }
}

fn create_request(lines: &[LineSpec], currency: Currency, discount: Decimal) -> CreateOrderRequest {
    CreateOrderRequest {
        customer: customer(),
        currency,
        fulfillment_policy: FulfillmentPolicy::ShipPartial,
        allocation: AllocationMode::Auto,
        external_reference: Some("  PO-2026-0815 ".into()),
        channel: None,
        channel_order_id: None,
        notes: Some("Giao trước 10 giờ sáng; gọi trước khi đến.".into()),
        discount,
        lines: lines
            .iter()
            .map(|l| LineRequest {
                sku: l.sku.clone(),
                quantity: l.quantity,
                unit: l.unit.clone(),
                quoted_unit_price: l.quote,
                shipping_unit_cost: l.shipping,
            })
            .collect(),
        submit: true,
    }
}

fn sales() -> Actor {
    Actor { sub: "sales-7".into(), tenant_id: tenant(), role: Role::Sales }
}

/// A priced DRAFT order, made the way `create-order` makes one (so the benches need no change
/// when the order gains a field).
fn new_order(lines: &[LineSpec], catalog: &HashMap<Sku, SkuRecord>, currency: Currency, discount: Decimal) -> Order {
    create_request(lines, currency, discount)
        .validated()
        .and_then(|request| request.into_order(&sales(), catalog, now()))
        .expect("a valid order")
}

fn catalog(products: impl IntoIterator<Item = SkuRecord>) -> HashMap<Sku, SkuRecord> {
    products.into_iter().map(|p| (p.sku.clone(), p)).collect()
}

const TAX_RATES: [Decimal; 4] = [
    Decimal::from_parts(10, 0, 0, false, 2),
    Decimal::from_parts(8, 0, 0, false, 2),
    Decimal::from_parts(5, 0, 0, false, 2),
    Decimal::ZERO,
];

// ---------------------------------------------------------------------------------------------
// pricing/order_100_lines: `Order::reprice` (price_line per line, then order_totals).

/// 100 lines: quantities with up to 3 decimals, shipping on most lines, mixed tax rates, an
/// approved (below-list) price on every seventh line, an order discount.
fn order_100_lines(currency: Currency, rng: &mut Rng) -> Order {
    let mut products = Vec::new();
    let mut lines = Vec::new();
    for i in 0..100 {
        let (price, shipping) = match currency {
            // Whole dong, 5 000..2 000 000 a unit; 0..5 000 shipping.
            Currency::Vnd => (rng.decimal(5_000, 2_000_000, 0), rng.decimal(0, 5_000, 0)),
            // Per-unit prices finer than a cent (e.g. per KG), 0.50..999.9999; 0..2.50 shipping.
            _ => (rng.decimal(5_000, 9_999_999, 4), rng.decimal(0, 250, 2)),
        };
        let mut line = LineSpec::new(sku(i), rng.decimal(1, 250_000, 3));
        line.shipping = Some(shipping);
        if i % 7 == 0 {
            line.quote = Some((price * Decimal::new(95, 2)).round_dp(4));
        }
        lines.push(line);
        products.push(product(sku(i), price, currency, TAX_RATES[i % TAX_RATES.len()]));
    }
    let discount = match currency {
        Currency::Vnd => Decimal::new(50_000, 0),
        _ => Decimal::new(2_500, 2),
    };
    let mut order = new_order(&lines, &catalog(products), currency, discount);
    // The quotes under list price, approved (by a manager, as the four-eyes rule asks).
    let _submitted = order.submit(&sales(), now()).expect("a draft submits");
    let manager = Actor { sub: "manager-1".into(), tenant_id: tenant(), role: Role::SalesManager };
    let _approved = order.decide_price(true, None, &manager, now()).expect("a manager approves");
    order
}

fn pricing(c: &mut Criterion) {
    let mut rng = Rng(0x5EED_0001);
    let mut group = c.benchmark_group("pricing/order_100_lines");
    group.throughput(Throughput::Elements(100));
    for currency in [Currency::Vnd, Currency::Usd] {
        let mut order = order_100_lines(currency, &mut rng);
        // Repricing is idempotent, so the same order is repriced in place: no clone in the loop.
        group.bench_function(currency.code(), |b| {
            b.iter(|| {
                let order = black_box(&mut order);
                order.reprice().expect("a benchmark order prices");
                black_box(&order.totals());
            })
        });
    }
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// routing/rank_200_hubs: `plan_reservations`, which `assign-hub` (usecases::placement::plan)
// calls on the order, hubs, today's loads and the stock of the order's SKUs; it ranks the hubs
// (`rank_hubs`: filter active and under capacity, score, sort) and takes stock line by line.

struct Routing {
    order: Order,
    hubs: Vec<Hub>,
    loads: HubLoads,
    stock: Vec<StockLevel>,
}

/// 200 hubs over Vietnam (lat 8.6..23.0, lon 102.2..109.4), performance 0.50..1.00, capacity
/// 50..500 orders a day; 5% inactive, about 10% at today's capacity. Five SKUs, each stocked at
/// 60% of the hubs (0..400 on hand, part reserved). An order of 5 lines of 50..400 units, which
/// most single hubs cannot serve whole, so lines split over a few hubs (ship_partial).
fn routing_input() -> Routing {
    let mut rng = Rng(0x5EED_0002);
    let hubs: Vec<Hub> = (0..200)
        .map(|i| Hub {
            hub_id: HubId::parse(format!("HUB-{i:03}")).unwrap(),
            name: format!("Hub {i}"),
            hub_type: if i % 10 == 0 { HubType::Port } else { HubType::Warehouse },
            location: Location { lat: rng.float(8.6, 23.0), lon: rng.float(102.2, 109.4) },
            daily_capacity: rng.int(50, 500) as u32,
            performance_score: rng.decimal(50, 100, 2),
            active: !rng.chance(0.05),
            updated_at: now(),
        })
        .collect();
    let loads: HubLoads = hubs
        .iter()
        .map(|h| {
            let load =
                if rng.chance(0.1) { h.daily_capacity } else { rng.int(0, i64::from(h.daily_capacity) - 1) as u32 };
            (h.hub_id.clone(), load)
        })
        .collect();
    let skus: Vec<Sku> = (0..5).map(sku).collect();
    let mut stock = Vec::new();
    for hub in &hubs {
        for sku in &skus {
            if rng.chance(0.6) {
                let on_hand = rng.decimal(0, 400, 0);
                let reserved = (on_hand * Decimal::new(rng.int(0, 50), 2)).round();
                stock.push(StockLevel { hub_id: hub.hub_id.clone(), sku: sku.clone(), on_hand, reserved });
            }
        }
    }
    let lines: Vec<LineSpec> = skus.iter().map(|s| LineSpec::new(s.clone(), rng.decimal(50, 400, 0))).collect();
    let products = skus.iter().map(|s| product(s.clone(), Decimal::new(32_000, 0), Currency::Vnd, TAX_RATES[0]));
    let mut order = new_order(&lines, &catalog(products), Currency::Vnd, Decimal::ZERO);
    // At list price, so submitting takes it straight to allocation.
    let _submitted = order.submit(&sales(), now()).expect("a draft submits");
    Routing { order, hubs, loads, stock }
}

fn routing(c: &mut Criterion) {
    let Routing { order, hubs, loads, stock } = routing_input();
    let weights = RoutingWeights::default();
    let plan = plan_reservations(&order, &hubs, &loads, &stock, weights);
    assert!(plan.len() > order.lines().len(), "the input should split lines over hubs: {plan:?}");
    let destination = Some(Location { lat: 10.7769, lon: 106.7009 });

    let mut group = c.benchmark_group("routing");
    group.throughput(Throughput::Elements(hubs.len() as u64));
    group.bench_function("rank_200_hubs", |b| {
        b.iter(|| plan_reservations(black_box(&order), black_box(&hubs), black_box(&loads), black_box(&stock), weights))
    });
    // The ranking alone (score and sort), to see how much of the plan it is.
    group.bench_function("rank_200_hubs/rank_only", |b| {
        b.iter(|| rank_hubs(black_box(&hubs), black_box(&loads), black_box(destination), weights).len())
    });
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// wms/apply_event: `Order::record_warehouse_report`, what `wms-events` applies to the order for
// a PickCompleted / ShipCompleted (usecases::shipments::warehouse_report; the use case calls it
// once more on a trial copy before a ShipCompleted, to refuse before taking a shipment number).

/// An IN_FULFILLMENT order of 10 lines sent to two hubs: lines 1-6 all at HUB-A, lines 7-10
/// split between HUB-A and HUB-B. Returns the order, the id of HUB-A's request and the lines
/// (quantities) it asks for.
fn in_fulfillment() -> (Order, String, Vec<ReportedLine>) {
    let mut rng = Rng(0x5EED_0003);
    let (a, b) = (HubId::parse("HUB-A").unwrap(), HubId::parse("HUB-B").unwrap());
    let lines: Vec<LineSpec> = (0..10).map(|i| LineSpec::new(sku(i), rng.decimal(10, 120, 0))).collect();
    let products = (0..10).map(|i| product(sku(i), rng.decimal(5_000, 500_000, 0), Currency::Vnd, TAX_RATES[0]));
    let mut order = new_order(&lines, &catalog(products), Currency::Vnd, Decimal::ZERO);
    let _submitted = order.submit(&sales(), now()).unwrap();
    // Placed through the domain, as reserve-stock places it.
    let reservations: Vec<PlannedReservation> = order
        .lines()
        .iter()
        .enumerate()
        .flat_map(|(i, line)| {
            let half = (line.quantity / Decimal::TWO).floor();
            let split = if i < 6 { vec![(&a, line.quantity)] } else { vec![(&a, half), (&b, line.quantity - half)] };
            split.into_iter().map(|(hub, quantity)| PlannedReservation {
                line_id: line.line_id.clone(),
                sku: line.sku.clone(),
                hub_id: hub.clone(),
                quantity,
            })
        })
        .collect();
    let placement = Actor::system(tenant(), "order-placement");
    let _placed = order.reserve(&reservations, &placement, now()).unwrap();
    assert_eq!(order.status(), OrderStatus::Allocated);
    assert!(!order.request_fulfillment(&placement, now()).unwrap().is_empty(), "not on hold");
    assert_eq!(order.status(), OrderStatus::InFulfillment);
    let request = order.fulfillment_requests().iter().find(|r| r.hub_id == a).unwrap();
    let reported = request
        .lines
        .iter()
        .map(|l| ReportedLine { order_line_id: l.order_line_id.clone(), quantity: l.quantity })
        .collect();
    (order.clone(), request.fulfillment_request_id.clone(), reported)
}

fn wms(c: &mut Criterion) {
    let (order, request_id, reported) = in_fulfillment();
    let wms = Actor::system(tenant(), "wms");
    let package = |n: u32| Package {
        package_number: format!("PKG-{n}"),
        weight_kg: Some(Decimal::new(12_500 * i64::from(n), 3)),
        dimensions_cm: None,
        tracking_number: None,
        label_url: None,
    };
    let pick = WarehouseReport::Picked { lines: reported.clone() };
    let ship = WarehouseReport::Shipped {
        lines: reported,
        packages: vec![package(1), package(2)],
        carrier: "GHN".into(),
        tracking_number: "GHN-8812345678".into(),
    };
    let shipment_id = Some("SHP-20260504-0001".to_owned());

    // Each report once on a copy, outside the loop: it must apply, not be refused.
    for (report, shipment) in [(&pick, None), (&ship, shipment_id.clone())] {
        let mut o = order.clone();
        let done = o.record_warehouse_report(&request_id, "evt-check", report.clone(), shipment, &wms, now());
        assert!(done.is_ok() && o.version() > order.version(), "{done:?}");
    }

    let mut group = c.benchmark_group("wms/apply_event");
    for (name, report, shipment) in [("pick_completed", &pick, None), ("ship_completed", &ship, shipment_id)] {
        group.bench_function(name, |b| {
            b.iter_batched(
                || (order.clone(), report.clone()),
                |(mut order, report)| {
                    let done = black_box(&mut order).record_warehouse_report(
                        black_box(&request_id),
                        black_box("evt-7f3a"),
                        report,
                        shipment.clone(),
                        &wms,
                        now(),
                    );
                    // Returned, so both are dropped outside the timing.
                    (order, done)
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// create/validate_request: the pure part of `create_order` (POST /orders). The use case is async
// and needs a store (idempotency replay, the catalog read, the order number, the commit); between
// those it calls `CreateOrderRequest::validated` (shape and text checks) and
// `CreateOrderRequest::into_order` (lines checked against the catalog, then priced), which are
// what is measured here. The catalog is what the use case reads: the records of the SKUs the
// lines name.

struct CreateInput {
    lines: Vec<LineSpec>,
    catalog: HashMap<Sku, SkuRecord>,
}

/// 20 lines of distinct SKUs: units in lower case (normalised by validation) on half of them,
/// a quote on a third (some below list), shipping on a quarter.
fn create_input() -> CreateInput {
    let mut rng = Rng(0x5EED_0004);
    let mut products = Vec::new();
    let mut lines = Vec::new();
    for i in 0..20 {
        let mut record = product(sku(100 + i), rng.decimal(5_000, 500_000, 0), Currency::Vnd, TAX_RATES[i % 4]);
        record.channel_items.insert("shopee".to_owned(), format!("22199{i:02}"));
        let mut line = LineSpec::new(record.sku.clone(), rng.decimal(1, 500_000, 3));
        line.quote = (i % 3 == 0).then(|| record.list_price - Decimal::new(rng.int(0, 1_000), 0));
        line.shipping = (i % 4 == 0).then(|| Decimal::new(rng.int(0, 3_000), 0));
        line.unit = (i % 2 == 0).then(|| "kg".to_owned());
        lines.push(line);
        products.push(record);
    }
    CreateInput { lines, catalog: catalog(products) }
}

fn create(c: &mut Criterion) {
    let input = create_input();
    let sales = sales();
    let request = || create_request(&input.lines, Currency::Vnd, Decimal::new(20_000, 0));
    let built = request().validated().and_then(|r| r.into_order(&sales, &input.catalog, now()));
    assert!(matches!(&built, Ok(o) if o.lines().len() == 20), "{built:?}");

    let mut group = c.benchmark_group("create");
    group.throughput(Throughput::Elements(20));
    group.bench_function("validate_request", |b| {
        b.iter_batched(
            request,
            |request| {
                black_box(request).validated().and_then(|r| r.into_order(&sales, black_box(&input.catalog), now()))
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, pricing, routing, wms, create);
criterion_main!(benches);
