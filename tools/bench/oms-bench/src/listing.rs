//! `list-latency`: does listing orders slow down as a tenant and the table grow?
//!
//! 1. One tenant gets `small` orders ([`crate::seed`]); every query below is timed.
//! 2. The table grows to `large` orders: the measured tenant to `large / 2`, and the rest go to
//!    peer tenants of `small` orders each, built exactly like the first. The queries are timed
//!    again on the grown tenant, and on a peer: a tenant as big as the first one was, in the
//!    big table. So the report separates the two effects: a tenant's own size (small vs large)
//!    and the table's size around it (small vs peer).
//!
//! Queries go through the listing use case (`GET /orders`' code), one at a time (latency, not
//! throughput), in rounds that take each query in turn so a drift of the emulator (garbage
//! collection) spreads over all of them. Untimed calls go first: DynamoDB Local runs on a JVM
//! whose JIT is still compiling the read path after seeding, and without them the first round
//! looks slower than the later ones (in a trial, a peer tenant of the same size, timed last,
//! came out up to 45% faster with 20 warm-up calls per query; within noise with 100). Each
//! call's requests and items read are counted by a [`Probe`] on the client.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use oms_aws::DynamoStore;
use oms_domain::ports::{OrderPage, OrderQuery};
use oms_domain::usecases::orders::list_orders;
use oms_domain::{Actor, OrderId, OrderStatus, Role, TenantId};
use serde::Serialize;

use crate::Error;
use crate::dynamo::{Target, ensure_table, item_count};
use crate::probe::Probe;
use crate::seed::{self, CUSTOMERS, SALES_REPS, Seeded, admin};
use crate::stats::{Latency, ratio};

/// Page size of every listing (the API allows 1 to 100).
pub const PAGE: usize = 50;

/// What to run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Orders of the measured tenant (and of the table) in the first round.
    pub small: usize,
    /// Orders in the table in the second round.
    pub large: usize,
    /// Timed calls per query and round.
    pub calls: usize,
    /// Untimed calls per query first.
    pub warmup: usize,
    /// Orders created at once while seeding.
    pub seed_concurrency: usize,
}

/// One listing as a client asks for it.
struct Case {
    name: &'static str,
    about: &'static str,
    actor: Actor,
    query: OrderQuery,
}

/// The customer the filters and the name search look for, and the status.
const CUSTOMER: (&str, &str) = CUSTOMERS[3];
const NAME_QUERY: &str = "Duy Tân";
const STATUS: OrderStatus = OrderStatus::PendingAllocation;

fn cases(tenant: &TenantId, order_number: &str) -> Vec<Case> {
    let page = |query: OrderQuery| OrderQuery { limit: PAGE, ..query };
    let admin = admin(tenant);
    let customer = || Some(CUSTOMER.0.to_owned());
    vec![
        Case {
            name: "newest",
            about: "first page, newest first, no filter (GSI1)",
            actor: admin.clone(),
            query: page(OrderQuery::default()),
        },
        Case {
            name: "status",
            about: "status=PENDING_ALLOCATION, a third of the orders (GSI2)",
            actor: admin.clone(),
            query: page(OrderQuery { status: Some(STATUS), ..OrderQuery::default() }),
        },
        Case {
            name: "customer",
            about: "customer_id, a tenth of the orders (GSI3)",
            actor: admin.clone(),
            query: page(OrderQuery { customer_id: customer(), ..OrderQuery::default() }),
        },
        Case {
            name: "status_and_customer",
            about: "status and customer_id, a thirtieth (a step of GSI3 and its orders' summaries, then raced with GSI2 filtered by customer)",
            actor: admin.clone(),
            query: page(OrderQuery { status: Some(STATUS), customer_id: customer(), ..OrderQuery::default() }),
        },
        Case {
            name: "status_and_few",
            about: "status and a customer with 30 orders in all, 10 in the status (the same way: the first step answers)",
            actor: admin.clone(),
            query: page(OrderQuery {
                status: Some(STATUS),
                customer_id: Some(seed::FEW.0.into()),
                ..OrderQuery::default()
            }),
        },
        Case {
            name: "sales_own",
            about: "what a sales rep sees: their own orders, an eighth (GSI1, created_by as a filter expression)",
            actor: Actor { sub: "sales-3".into(), tenant_id: tenant.clone(), role: Role::Sales },
            query: page(OrderQuery::default()),
        },
        Case {
            name: "q_name",
            about: "q=a customer name's first words, a tenth of the orders (GSI4-6 keys, then BatchGetItem)",
            actor: admin.clone(),
            query: page(OrderQuery { q: Some(NAME_QUERY.into()), ..OrderQuery::default() }),
        },
        Case {
            name: "q_number",
            about: "q=one order number (GSI4-6 keys, then BatchGetItem)",
            actor: admin,
            query: page(OrderQuery { q: Some(order_number.into()), ..OrderQuery::default() }),
        },
    ]
}

/// One query's figures in one round.
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    /// Latency of one call.
    #[serde(flatten)]
    pub latency: Latency,
    /// DynamoDB requests per call.
    pub requests: f64,
    /// Items read per call (Query ScannedCount + items a BatchGetItem returned).
    pub items_read: f64,
    /// Orders on the page.
    pub returned: usize,
    /// For `q_name` only: whether the page is the customer's newest orders, as `customer`
    /// lists them (they must be: the name is that customer's alone).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub newest_page: Option<bool>,
}

/// One query across the rounds.
#[derive(Debug, Serialize)]
pub struct QueryReport {
    /// What it asks.
    pub about: &'static str,
    /// The tenant with `small` orders, alone in the table.
    pub small: Sample,
    /// The same tenant grown, in the table grown to `large` orders.
    pub large: Sample,
    /// A tenant of `small` orders in the grown table (absent when no peer is that big).
    pub peer: Option<Sample>,
    /// large p50 / small p50.
    pub ratio_p50: Option<f64>,
    /// large p99 / small p99.
    pub ratio_p99: Option<f64>,
    /// peer p50 / small p50: what the table's size alone does.
    pub peer_ratio_p50: Option<f64>,
}

/// Sizes in one round.
#[derive(Debug, Serialize)]
pub struct Round {
    /// Orders this run put in the table.
    pub table_orders: usize,
    /// Orders of the measured tenant.
    pub tenant_orders: usize,
    /// Every item in the table as DynamoDB counts it (orders, history, outbox, idempotency
    /// records, counters, and whatever earlier runs left).
    pub table_items: i64,
}

/// The whole result (stdout).
#[derive(Debug, Serialize)]
pub struct Report {
    /// Endpoint measured.
    pub endpoint: String,
    /// Table.
    pub table: String,
    /// Timed calls per query and round.
    pub calls: usize,
    /// Untimed calls per query first.
    pub warmup: usize,
    /// Page size asked for.
    pub page_size: usize,
    /// The first round.
    pub small: Round,
    /// The second round.
    pub large: Round,
    /// Orders of the peer tenant measured in the second round.
    pub peer_tenant_orders: Option<usize>,
    /// The measured tenant's orders by status in the first round.
    pub statuses: BTreeMap<String, usize>,
    /// Customers and sales reps each tenant's orders are spread over.
    pub customers: usize,
    /// See `customers`.
    pub sales_reps: usize,
    /// How fast the create path seeded (both rounds).
    pub seeding: Seeding,
    /// Per query.
    pub queries: BTreeMap<&'static str, QueryReport>,
}

/// Seeding throughput through `create_order`.
#[derive(Debug, Serialize)]
pub struct Seeding {
    /// Orders created.
    pub orders: usize,
    /// Seconds spent.
    pub seconds: f64,
    /// Orders per second.
    pub orders_per_second: f64,
    /// Orders created at once.
    pub concurrency: usize,
}

/// Times every case: `warmup` untimed calls each, then `calls` rounds taking each in turn.
async fn measure(
    store: &DynamoStore,
    probe: &Probe,
    cases: &[Case],
    calls: usize,
    warmup: usize,
) -> Result<Vec<Sample>, Error> {
    for case in cases {
        for _ in 0..warmup {
            list_orders(store, &case.actor, case.query.clone()).await?;
        }
    }
    let mut timings: Vec<Vec<Duration>> = vec![Vec::with_capacity(calls); cases.len()];
    let mut counted = vec![(0u64, 0u64); cases.len()];
    let mut last: Vec<Option<OrderPage>> = vec![None; cases.len()];
    for _ in 0..calls {
        for (n, case) in cases.iter().enumerate() {
            let before = probe.read();
            let started = Instant::now();
            let page = list_orders(store, &case.actor, case.query.clone()).await?;
            timings[n].push(started.elapsed());
            let read = probe.since(before);
            counted[n].0 += read.requests;
            counted[n].1 += read.items_read;
            last[n] = Some(page);
        }
    }
    let ids = |name: &str| -> Vec<OrderId> {
        let n = cases.iter().position(|c| c.name == name).expect("a known case");
        last[n].iter().flat_map(|p| p.items.iter().map(|o| o.order_id.clone())).collect()
    };
    let newest_for_customer = ids("customer");
    Ok(cases
        .iter()
        .enumerate()
        .map(|(n, case)| Sample {
            latency: Latency::of(&timings[n]),
            requests: per_call(counted[n].0, calls),
            items_read: per_call(counted[n].1, calls),
            returned: last[n].as_ref().map_or(0, |p| p.items.len()),
            newest_page: (case.name == "q_name").then(|| ids(case.name) == newest_for_customer),
        })
        .collect())
}

fn per_call(total: u64, calls: usize) -> f64 {
    (total as f64 / calls as f64 * 10.0).round() / 10.0
}

/// An order number to look up: one from the middle of the tenant's newest page.
async fn an_order_number(store: &DynamoStore, tenant: &TenantId) -> Result<String, Error> {
    let newest = list_orders(store, &admin(tenant), OrderQuery { limit: PAGE, ..OrderQuery::default() }).await?;
    let middle = newest.items.get(newest.items.len() / 2).ok_or("the tenant has no orders")?;
    Ok(middle.order_number.clone())
}

/// Jobs that create orders `from..to` of each tenant, taking the tenants in turn so that the
/// table grows everywhere at once, as it does when tenants work side by side.
fn interleaved(ranges: &[(TenantId, usize, usize)]) -> Vec<(TenantId, usize)> {
    let longest = ranges.iter().map(|(_, from, to)| to - from).max().unwrap_or(0);
    (0..longest)
        .flat_map(|k| {
            ranges.iter().filter(move |(_, from, to)| from + k < *to).map(move |(t, from, _)| (t.clone(), from + k))
        })
        .collect()
}

/// Who holds the orders: the measured tenant, and the peers that fill the table in the second
/// round. Tenants belong to this run only, so a rerun on the same table measures fresh ones.
struct Population {
    tenant: TenantId,
    /// The measured tenant's orders in the second round.
    tenant_large: usize,
    peers: Vec<(TenantId, usize)>,
}

impl Population {
    fn plan(settings: &Settings) -> Result<Self, Error> {
        if settings.large <= settings.small {
            return Err("--large must be more than --small".into());
        }
        let run = chrono::Utc::now().format("%Y%m%d%H%M%S");
        let tenant_large = settings.small.max(settings.large / 2);
        let mut peers = Vec::new();
        let mut others = settings.large - tenant_large;
        while others > 0 {
            let orders = others.min(settings.small);
            peers.push((TenantId::parse(format!("bench-{run}-peer-{:02}", peers.len() + 1))?, orders));
            others -= orders;
        }
        Ok(Self { tenant: TenantId::parse(format!("bench-{run}-main"))?, tenant_large, peers })
    }

    /// A peer as big as the measured tenant was in the first round.
    fn peer(&self, small: usize) -> Option<&TenantId> {
        self.peers.iter().find(|(_, orders)| *orders == small).map(|(tenant, _)| tenant)
    }
}

/// Runs both rounds and reports them (progress and a summary on stderr).
pub async fn run(target: &Target, settings: &Settings) -> Result<Report, Error> {
    let population = Population::plan(settings)?;
    let tenant = &population.tenant;
    let probe = Probe::default();
    let store = DynamoStore::new(target.client(Some(&probe)).await?, &target.table);
    let client = target.client(None).await?;
    if ensure_table(&client, &target.table).await? {
        eprintln!("list-latency: created table {} at {}", target.table, target.endpoint);
    }
    let timed = |tenant: TenantId, number: String| {
        let (store, probe) = (&store, &probe);
        async move { measure(store, probe, &cases(&tenant, &number), settings.calls, settings.warmup).await }
    };

    eprintln!("list-latency: seeding {} orders in tenant {tenant}", settings.small);
    seed::catalog(&store, tenant).await?;
    let jobs = interleaved(&[(tenant.clone(), 0, settings.small)]);
    let first = seed::seed(&store, jobs, settings.seed_concurrency).await?;
    let small = Round {
        table_orders: settings.small,
        tenant_orders: settings.small,
        table_items: item_count(&client, &target.table).await?,
    };
    let number = an_order_number(&store, tenant).await?;
    eprintln!("list-latency: timing {} calls per query", settings.calls);
    let small_samples = timed(tenant.clone(), number.clone()).await?;

    eprintln!(
        "list-latency: growing the table to {} orders: tenant {tenant} to {}, {} more in {} peer tenants",
        settings.large,
        population.tenant_large,
        settings.large - population.tenant_large,
        population.peers.len()
    );
    let mut ranges = vec![(tenant.clone(), settings.small, population.tenant_large)];
    for (peer, orders) in &population.peers {
        seed::catalog(&store, peer).await?;
        ranges.push((peer.clone(), 0, *orders));
    }
    let second = seed::seed(&store, interleaved(&ranges), settings.seed_concurrency).await?;
    let large = Round {
        table_orders: settings.large,
        tenant_orders: population.tenant_large,
        table_items: item_count(&client, &target.table).await?,
    };
    eprintln!("list-latency: timing again");
    let large_samples = timed(tenant.clone(), number.clone()).await?;
    let peer_samples = match population.peer(settings.small) {
        Some(peer) => Some(timed(peer.clone(), an_order_number(&store, peer).await?).await?),
        None => None,
    };

    let names: Vec<&'static str> = cases(tenant, &number).iter().map(|c| c.name).collect();
    let mut queries = BTreeMap::new();
    for (n, case) in cases(tenant, &number).into_iter().enumerate() {
        let (small, large) = (small_samples[n].clone(), large_samples[n].clone());
        let peer = peer_samples.as_ref().map(|samples| samples[n].clone());
        let p50 = |sample: &Sample| sample.latency.p50_us as f64;
        queries.insert(
            case.name,
            QueryReport {
                about: case.about,
                ratio_p50: ratio(p50(&large), p50(&small)),
                ratio_p99: ratio(large.latency.p99_us as f64, small.latency.p99_us as f64),
                peer_ratio_p50: peer.as_ref().and_then(|peer| ratio(p50(peer), p50(&small))),
                small,
                large,
                peer,
            },
        );
    }
    let report = Report {
        endpoint: target.endpoint.clone(),
        table: target.table.clone(),
        calls: settings.calls,
        warmup: settings.warmup,
        page_size: PAGE,
        small,
        large,
        peer_tenant_orders: population.peer(settings.small).map(|_| settings.small),
        statuses: first.statuses.get(tenant.as_str()).cloned().unwrap_or_default(),
        customers: CUSTOMERS.len(),
        sales_reps: SALES_REPS,
        seeding: seeding(&first, &second, settings.seed_concurrency),
        queries,
    };
    eprint!("{}", summary(&report, &names));
    Ok(report)
}

fn seeding(first: &Seeded, second: &Seeded, concurrency: usize) -> Seeding {
    let orders = first.orders + second.orders;
    let seconds = (first.elapsed + second.elapsed).as_secs_f64();
    Seeding {
        orders,
        seconds: (seconds * 10.0).round() / 10.0,
        orders_per_second: (orders as f64 / seconds).round(),
        concurrency,
    }
}

/// The human summary: one line per query.
fn summary(report: &Report, order: &[&str]) -> String {
    let ms = |us: u64| us as f64 / 1000.0;
    let mut out = format!(
        "\nlist-latency: tenant {} -> {} orders, table {} -> {} orders ({} calls per query; seeding {:.0} orders/s)\n",
        report.small.tenant_orders,
        report.large.tenant_orders,
        report.small.table_orders,
        report.large.table_orders,
        report.calls,
        report.seeding.orders_per_second,
    );
    out.push_str(&format!(
        "{:<20} {:>16} {:>16} {:>16} {:>11} {:>11} {:>13}\n",
        "query", "small p50/p99 ms", "large p50/p99 ms", "peer p50/p99 ms", "large/small", "requests", "items read"
    ));
    for name in order {
        let q = &report.queries[name];
        let pair = |s: &Sample| format!("{:.1}/{:.1}", ms(s.latency.p50_us), ms(s.latency.p99_us));
        out.push_str(&format!(
            "{:<20} {:>16} {:>16} {:>16} {:>11} {:>11} {:>13}{}\n",
            name,
            pair(&q.small),
            pair(&q.large),
            q.peer.as_ref().map_or("-".into(), pair),
            q.ratio_p50.map_or("-".into(), |r| format!("{r:.2}")),
            format!("{}->{}", q.small.requests, q.large.requests),
            format!("{}->{}", q.small.items_read, q.large.items_read),
            match (q.small.newest_page, q.large.newest_page) {
                (Some(true), Some(false)) => "  (large: NOT the newest page)",
                (Some(false), _) => "  (NOT the newest page)",
                _ => "",
            }
        ));
    }
    out
}
