//! Orders made the way production makes them: `POST /orders` bodies through the `create_order`
//! use case (with an `Idempotency-Key`, as a client sends it) on the DynamoDB store, so every
//! item, index key and projection is exactly what the functions write.
//!
//! Order `i` of a tenant is a pure function of `i`, so any two tenants seeded with the same
//! count hold the same mix, and the filters always have the same share of orders to match:
//!
//! - customer `i % 10` (of [`CUSTOMERS`]), each with a name prefix of its own, but for the
//!   first [`FEW_ORDERS`] orders, which are [`FEW`]'s: a customer whose list does not grow
//!   with the tenant;
//! - status by `i % 3`: `DRAFT` (not submitted), `PENDING_ALLOCATION` (submitted),
//!   `PENDING_PRICE_APPROVAL` (submitted with a quote under list price);
//! - created by sales rep `i % 8` (of [`SALES_REPS`]);
//! - 1 to 4 lines; an external reference on every other order.
//!
//! Allocation is `manual`: should the table be one a running stack relays, no placement
//! workflow starts for benchmark orders.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use oms_aws::DynamoStore;
use oms_domain::usecases::catalog::put_sku;
use oms_domain::usecases::{CreateOrderRequest, IdempotencyKey, create_order};
use oms_domain::{Actor, Order, Role, Sku, TenantId};
use serde_json::{Value, json};

use crate::Error;

/// Customers: id and name. The names start differently, so a `q` on a name's first word
/// matches one customer's orders.
pub const CUSTOMERS: [(&str, &str); 10] = [
    ("CUST-01", "An Phát Plastics JSC"),
    ("CUST-02", "Bình Minh Packaging"),
    ("CUST-03", "Cường Thịnh Trading"),
    ("CUST-04", "Duy Tân Nhựa Co."),
    ("CUST-05", "Đại Đồng Tiến Corp"),
    ("CUST-06", "Hòa Bình Household"),
    ("CUST-07", "Long Thành Industrial"),
    ("CUST-08", "Minh Phú Foods"),
    ("CUST-09", "Rạng Đông Lighting"),
    ("CUST-10", "Tân Tiến Films"),
];

/// A customer with [`FEW_ORDERS`] orders in all, the tenant's first (a regular buyer among
/// many, where the others are big accounts).
pub const FEW: (&str, &str) = ("CUST-FEW", "Ít Đơn Retail");
/// See [`FEW`].
pub const FEW_ORDERS: usize = 30;

/// How many sales reps create the orders (`sales-1` ...).
pub const SALES_REPS: usize = 8;

/// The catalog: SKU and list price in VND.
const SKUS: [(&str, i64); 6] = [
    ("PP-H1", 32_000),
    ("PE-LD2", 29_500),
    ("PVC-S65", 24_800),
    ("ABS-750", 51_000),
    ("PET-B1", 27_300),
    ("HDPE-5502", 30_900),
];

/// The sales rep who creates order `i`.
pub fn sales_rep(tenant: &TenantId, i: usize) -> Actor {
    Actor { sub: format!("sales-{}", i % SALES_REPS + 1), tenant_id: tenant.clone(), role: Role::Sales }
}

/// An admin of the tenant (sees every order).
pub fn admin(tenant: &TenantId) -> Actor {
    Actor { sub: "bench-admin".into(), tenant_id: tenant.clone(), role: Role::Admin }
}

/// The `POST /orders` body of order `i`.
pub fn order_body(i: usize) -> Value {
    let (customer_id, customer_name) = if i < FEW_ORDERS { FEW } else { CUSTOMERS[i % CUSTOMERS.len()] };
    let under_list = i % 3 == 2;
    let lines: Vec<Value> = (0..1 + i % 4)
        .map(|n| {
            let (sku, price) = SKUS[(i + n) % SKUS.len()];
            let mut line = json!({"sku": sku, "quantity": format!("{}.{}", 10 + (i * 7 + n * 13) % 490, i % 10)});
            if under_list && n == 0 {
                line["quoted_unit_price"] = json!((price * 95 / 100).to_string());
            }
            line
        })
        .collect();
    json!({
        "customer": {
            "id": customer_id,
            "name": customer_name,
            "delivery_address": {"line1": format!("{} Nguyễn Huệ", 1 + i % 200), "city": "Hồ Chí Minh", "country": "VN", "lat": 10.77, "lon": 106.70},
            "contact": {"name": "Nguyễn Văn A", "phone": "+84 28 3822 1234"}
        },
        "allocation": "manual",
        "external_reference": i.is_multiple_of(2).then(|| format!("PO-{i:06}")),
        "lines": lines,
        "submit": !i.is_multiple_of(3)
    })
}

/// Puts the catalog the orders need, through the inventory use case.
pub async fn catalog(store: &DynamoStore, tenant: &TenantId) -> Result<(), Error> {
    for (code, price) in SKUS {
        let input = serde_json::from_value(json!({"name": code, "unit": "KG", "list_price": price.to_string()}))?;
        put_sku(store, &admin(tenant), Sku::parse(code)?, input, Utc::now()).await?;
    }
    Ok(())
}

/// Creates order `i` of `tenant` the way `create-order` does.
pub async fn create(store: &DynamoStore, tenant: &TenantId, i: usize) -> Result<Order, Error> {
    let body = order_body(i);
    let key = IdempotencyKey::new(&format!("bench-{i}"), "POST /v1/orders", &body)?;
    let request: CreateOrderRequest = serde_json::from_value(body)?;
    Ok(create_order(store, &sales_rep(tenant, i), request, Some(key), Utc::now()).await?.order)
}

/// What a seeding made.
#[derive(Debug, Default)]
pub struct Seeded {
    /// Orders created.
    pub orders: usize,
    /// How long it took.
    pub elapsed: Duration,
    /// Orders by status, per tenant.
    pub statuses: BTreeMap<String, BTreeMap<String, usize>>,
}

/// Creates the orders `jobs` name (tenant and index), `concurrency` at a time, reporting
/// progress on stderr.
pub async fn seed(store: &DynamoStore, jobs: Vec<(TenantId, usize)>, concurrency: usize) -> Result<Seeded, Error> {
    let started = Instant::now();
    let total = jobs.len();
    let jobs = Arc::new(jobs);
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (store, jobs, next) = (store.clone(), jobs.clone(), next.clone());
        workers.spawn(async move {
            let mut statuses: Vec<(TenantId, String)> = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let Some((tenant, i)) = jobs.get(n) else { return Ok::<_, Error>(statuses) };
                let order = create(&store, tenant, *i).await?;
                statuses.push((tenant.clone(), order.status().as_str().to_owned()));
                if (n + 1).is_multiple_of(2000) {
                    let rate = (n + 1) as f64 / started.elapsed().as_secs_f64();
                    eprintln!("  seeded {}/{total} orders ({rate:.0}/s)", n + 1);
                }
            }
        });
    }
    let mut seeded = Seeded { orders: total, ..Seeded::default() };
    while let Some(done) = workers.join_next().await {
        for (tenant, status) in done?? {
            *seeded.statuses.entry(tenant.to_string()).or_default().entry(status).or_default() += 1;
        }
    }
    seeded.elapsed = started.elapsed();
    Ok(seeded)
}
