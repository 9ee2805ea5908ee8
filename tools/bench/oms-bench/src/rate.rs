//! `dynamo-rate`: how many requests a second the endpoint answers for the requests an order
//! needs, at several concurrencies.
//!
//! Each task repeats one order's requests, shaped as the store sends them, on items the store
//! wrote (an order made by `create_order` and a stock item set through the stock port, read
//! back raw and copied), so sizes, index entries and conditions are production's:
//!
//! - `get_item`: the order, strongly consistent (every order route reads the order first);
//! - `put_item`: a new order item, conditional on its key being free (the order of
//!   `create-order`, with its six index entries; ~2 KB);
//! - `query`: the stock shards of a SKU at a hub, eventually consistent (reserve-stock's read);
//! - `transact_write_items`: reserve-stock's commit: the order (with its history and messages
//!   inside, see `dynamo::order_item`) conditional on its version, and the stock reservation
//!   conditional on `available >= q`.
//!
//! Every task has its own order and stock item, so no condition fails and no transaction
//! conflicts: this measures the endpoint, not contention. One client serves every task, as
//! one function's client serves its concurrent requests; its connection pool grows with them.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use oms_aws::DynamoStore;
use oms_aws::dynamo::keys;
use oms_domain::ports::StockStore;
use oms_domain::stock::StockChange;
use oms_domain::{HubId, OrderId, Sku, TenantId};
use serde::Serialize;

use crate::dynamo::{Target, ensure_table, sdk_error};
use crate::stats::{Latency, ratio};
use crate::{Error, seed};

/// An item as the SDK sees it.
type Item = std::collections::HashMap<String, AttributeValue>;

/// What to run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Concurrent tasks, one run each.
    pub concurrency: Vec<usize>,
    /// Length of each timed run.
    pub seconds: u64,
    /// Untimed run first, at the same concurrency.
    pub warmup_seconds: u64,
}

/// The kinds of request, in the order a task sends them.
const OPERATIONS: [&str; 4] = ["get_item", "put_item", "query", "transact_write_items"];

/// The SKU every task reserves (each at a hub of its own).
const SKU: &str = "PP-H1";

/// The items the requests are made of, as the store wrote them.
#[derive(Debug, Clone)]
struct Templates {
    tenant: TenantId,
    order: Item,
}

/// One task's own order and stock.
struct Task {
    client: Client,
    table: String,
    templates: Arc<Templates>,
    order_pk: String,
    version: u64,
    hub: HubId,
    puts: u64,
    name: String,
}

/// One kind of request in one run.
#[derive(Debug, Serialize)]
pub struct OperationReport {
    /// Requests answered.
    pub count: u64,
    /// Requests that failed.
    pub errors: u64,
    /// Requests per second.
    pub per_second: f64,
    /// Latency of one request.
    #[serde(flatten)]
    pub latency: Latency,
}

/// One concurrency.
#[derive(Debug, Serialize)]
pub struct RunReport {
    /// Tasks.
    pub concurrency: usize,
    /// Seconds measured (until the last task finished its last request).
    pub seconds: f64,
    /// Requests per second, every kind together.
    pub per_second: f64,
    /// Per kind of request.
    pub operations: BTreeMap<&'static str, OperationReport>,
    /// The first error, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
}

/// The whole result (stdout).
#[derive(Debug, Serialize)]
pub struct Report {
    /// Endpoint measured.
    pub endpoint: String,
    /// Table.
    pub table: String,
    /// Size of the order item put and read, bytes (attribute names and values).
    pub order_item_bytes: usize,
    /// Per concurrency.
    pub runs: Vec<RunReport>,
}

/// DynamoDB's item size: attribute names plus values (numbers counted as their text).
fn item_bytes(item: &Item) -> usize {
    fn value(v: &AttributeValue) -> usize {
        match v {
            AttributeValue::S(s) | AttributeValue::N(s) => s.len(),
            AttributeValue::B(b) => b.as_ref().len(),
            AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
            AttributeValue::L(list) => 3 + list.iter().map(|v| 1 + value(v)).sum::<usize>(),
            AttributeValue::M(map) => 3 + map.iter().map(|(k, v)| 1 + k.len() + value(v)).sum::<usize>(),
            AttributeValue::Ss(set) | AttributeValue::Ns(set) => set.iter().map(String::len).sum(),
            _ => 0,
        }
    }
    item.iter().map(|(k, v)| k.len() + value(v)).sum()
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// Makes one order with the real create path and reads it back raw.
async fn templates(store: &DynamoStore, client: &Client, table: &str, tenant: &TenantId) -> Result<Templates, Error> {
    seed::catalog(store, tenant).await?;
    // Order 3 of the seed mix has four lines: an order item of about 2 KB.
    let order = seed::create(store, tenant, 3).await?;
    let pk = keys::order_pk(tenant, order.order_id());
    let item = client
        .get_item()
        .table_name(table)
        .key(keys::PK, s(&pk))
        .key(keys::SK, s(keys::ORDER_SK))
        .send()
        .await
        .map_err(sdk_error)?
        .item
        .ok_or("the order just created is not there")?;
    Ok(Templates { tenant: tenant.clone(), order: item })
}

impl Task {
    /// Writes the task's own order (a copy of the template) and stock.
    async fn new(store: &DynamoStore, client: &Client, templates: Arc<Templates>, name: String) -> Result<Self, Error> {
        let id = OrderId::parse(format!("{}-{name}", order_id(&templates.order)?))?;
        let order_pk = keys::order_pk(&templates.tenant, &id);
        let version = 1;
        let mut item = templates.order.clone();
        item.insert(keys::PK.into(), s(&order_pk));
        item.insert("version".into(), AttributeValue::N(version.to_string()));
        client.put_item().table_name(store.table()).set_item(Some(item)).send().await.map_err(sdk_error)?;
        let hub = HubId::parse(format!("HUB-{name}"))?;
        // Enough stock to reserve one unit per transaction for as long as any run lasts.
        let on_hand = StockChange::Set(1_000_000_000.into());
        store.change_stock(&templates.tenant, &hub, &Sku::parse(SKU)?, on_hand).await?;
        Ok(Self {
            client: client.clone(),
            table: store.table().to_owned(),
            templates,
            order_pk,
            version,
            hub,
            puts: 0,
            name,
        })
    }

    async fn get_item(&mut self) -> Result<(), Error> {
        let request = self.client.get_item().table_name(&self.table);
        let request = request.key(keys::PK, s(&self.order_pk)).key(keys::SK, s(keys::ORDER_SK)).consistent_read(true);
        request.send().await.map_err(sdk_error)?.item.ok_or("the task's order is gone")?;
        Ok(())
    }

    async fn put_item(&mut self) -> Result<(), Error> {
        self.puts += 1;
        let id = OrderId::parse(format!("{}-{}-{}", order_id(&self.templates.order)?, self.name, self.puts))?;
        let mut item = self.templates.order.clone();
        item.insert(keys::PK.into(), s(keys::order_pk(&self.templates.tenant, &id)));
        let request = self.client.put_item().table_name(&self.table).set_item(Some(item));
        request.condition_expression("attribute_not_exists(PK)").send().await.map_err(sdk_error)?;
        Ok(())
    }

    async fn query(&mut self) -> Result<(), Error> {
        let request = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
            .expression_attribute_values(":pk", s(keys::stock_pk(&self.templates.tenant, &Sku::parse(SKU)?)))
            .expression_attribute_values(":prefix", s(keys::stock_shards_prefix(&self.hub)));
        let found = request.send().await.map_err(sdk_error)?;
        if found.count() != 1 {
            return Err("the task's stock shard is not there".into());
        }
        Ok(())
    }

    async fn transact_write_items(&mut self) -> Result<(), Error> {
        let next = self.version + 1;
        let mut order = self.templates.order.clone();
        order.insert(keys::PK.into(), s(&self.order_pk));
        order.insert("version".into(), AttributeValue::N(next.to_string()));
        let order = Put::builder()
            .table_name(&self.table)
            .set_item(Some(order))
            .condition_expression("version = :expected")
            .expression_attribute_values(":expected", AttributeValue::N(self.version.to_string()))
            .build()?;
        let reserve = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(keys::stock_pk(&self.templates.tenant, &Sku::parse(SKU)?)))
            .key(keys::SK, s(keys::stock_shard_sk(&self.hub, 0)))
            .update_expression("SET reserved = reserved + :q, available = available - :q")
            .condition_expression("available >= :q")
            .expression_attribute_values(":q", AttributeValue::N("1".into()))
            .build()?;
        self.client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(order).build())
            .transact_items(TransactWriteItem::builder().update(reserve).build())
            .send()
            .await
            .map_err(sdk_error)?;
        self.version = next;
        Ok(())
    }

    /// Sends request `op` (an index into [`OPERATIONS`]).
    async fn send(&mut self, op: usize) -> Result<(), Error> {
        match op {
            0 => self.get_item().await,
            1 => self.put_item().await,
            2 => self.query().await,
            _ => self.transact_write_items().await,
        }
    }
}

fn order_id(item: &Item) -> Result<&str, Error> {
    Ok(item.get("order_id").and_then(|v| v.as_s().ok()).ok_or("an order item without order_id")?)
}

/// What one task saw in a run: per operation, latencies and errors; the first error message.
#[derive(Default)]
struct Tally {
    latencies: [Vec<Duration>; 4],
    errors: [u64; 4],
    first_error: Option<String>,
}

/// Runs `tasks` until `deadline`, each cycling through the operations.
async fn drive(tasks: Vec<Task>, deadline: Instant) -> Result<(Vec<Task>, Tally), Error> {
    let mut running = tokio::task::JoinSet::new();
    for mut task in tasks {
        running.spawn(async move {
            let mut tally = Tally::default();
            let mut op = 0;
            while Instant::now() < deadline {
                let started = Instant::now();
                match task.send(op).await {
                    Ok(()) => tally.latencies[op].push(started.elapsed()),
                    Err(err) => {
                        tally.errors[op] += 1;
                        tally.first_error.get_or_insert_with(|| format!("{}: {err}", OPERATIONS[op]));
                    }
                }
                op = (op + 1) % OPERATIONS.len();
            }
            (task, tally)
        });
    }
    let mut tasks = Vec::new();
    let mut total = Tally::default();
    while let Some(done) = running.join_next().await {
        let (task, tally) = done?;
        tasks.push(task);
        for op in 0..OPERATIONS.len() {
            total.latencies[op].extend(&tally.latencies[op]);
            total.errors[op] += tally.errors[op];
        }
        total.first_error = total.first_error.or(tally.first_error);
    }
    Ok((tasks, total))
}

/// One timed run at `concurrency` (after an untimed one as long as `warmup`).
async fn run_at(
    store: &DynamoStore,
    client: &Client,
    templates: &Arc<Templates>,
    concurrency: usize,
    settings: &Settings,
) -> Result<RunReport, Error> {
    let mut tasks = Vec::with_capacity(concurrency);
    for n in 0..concurrency {
        tasks.push(Task::new(store, client, templates.clone(), format!("c{concurrency}t{n}")).await?);
    }
    let (tasks, _) = drive(tasks, Instant::now() + Duration::from_secs(settings.warmup_seconds)).await?;
    let started = Instant::now();
    let (_, tally) = drive(tasks, started + Duration::from_secs(settings.seconds)).await?;
    let seconds = started.elapsed().as_secs_f64();
    let mut operations = BTreeMap::new();
    let mut total = 0;
    for (op, name) in OPERATIONS.iter().enumerate() {
        let count = tally.latencies[op].len() as u64;
        total += count;
        operations.insert(
            *name,
            OperationReport {
                count,
                errors: tally.errors[op],
                per_second: ratio(count as f64, seconds).unwrap_or(0.0),
                latency: Latency::of(&tally.latencies[op]),
            },
        );
    }
    Ok(RunReport {
        concurrency,
        seconds: (seconds * 100.0).round() / 100.0,
        per_second: ratio(total as f64, seconds).unwrap_or(0.0),
        operations,
        first_error: tally.first_error,
    })
}

/// Every run, one concurrency after the other (a summary on stderr).
pub async fn run(target: &Target, settings: &Settings) -> Result<Report, Error> {
    let client = target.client(None).await?;
    if ensure_table(&client, &target.table).await? {
        eprintln!("dynamo-rate: created table {} at {}", target.table, target.endpoint);
    }
    let store = DynamoStore::new(client.clone(), &target.table);
    let tenant = TenantId::parse(format!("rate-{}", chrono::Utc::now().format("%Y%m%d%H%M%S")))?;
    let templates = Arc::new(templates(&store, &client, &target.table, &tenant).await?);
    let mut runs = Vec::new();
    for &concurrency in &settings.concurrency {
        eprintln!("dynamo-rate: {concurrency} task(s) for {} s", settings.seconds);
        runs.push(run_at(&store, &client, &templates, concurrency, settings).await?);
    }
    let report = Report {
        endpoint: target.endpoint.clone(),
        table: target.table.clone(),
        order_item_bytes: item_bytes(&templates.order),
        runs,
    };
    eprint!("{}", summary(&report));
    Ok(report)
}

fn summary(report: &Report) -> String {
    let mut out = format!(
        "\ndynamo-rate: requests/s at {} (order item {} B)\n{:>11} {:>9}",
        report.endpoint, report.order_item_bytes, "concurrency", "all"
    );
    for op in OPERATIONS {
        out.push_str(&format!(" {op:>22}"));
    }
    out.push('\n');
    for run in &report.runs {
        out.push_str(&format!("{:>11} {:>9.0}", run.concurrency, run.per_second));
        for op in OPERATIONS {
            let o = &run.operations[op];
            let cell = format!("{:.0} (p50 {:.1} ms)", o.per_second, o.latency.p50_us as f64 / 1000.0);
            out.push_str(&format!(" {cell:>22}"));
        }
        if let Some(error) = &run.first_error {
            out.push_str(&format!("  errors, first: {error}"));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_size_counts_names_and_values() {
        let item = Item::from([("PK".into(), s("abc")), ("n".into(), AttributeValue::N("12".into()))]);
        assert_eq!(item_bytes(&item), 2 + 3 + 1 + 2);
    }
}
