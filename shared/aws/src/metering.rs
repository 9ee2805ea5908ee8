//! What one invocation costs, measured in the process: handler time, the AWS requests it made
//! and how long they took, the DynamoDB capacity they consumed, the events it put, and the
//! process's peak memory.
//!
//! Off unless `OMS_METRICS=emf`. When on, the SDK clients carry [`Meter`] (it asks DynamoDB for
//! `ReturnConsumedCapacity::Total` and tallies every request), and [`MeterLayer`] writes one line
//! per invocation in CloudWatch's Embedded Metric Format: on AWS those lines become metrics in the
//! `OMS` namespace per function, and locally `./dev bench` reads them from the functions' log.
//!
//! The tally is one per process: a Lambda process runs one invocation at a time, so an
//! invocation's requests are the ones made between its start and its end.
//!
//! DynamoDB Local's `ConsumedCapacity` is not what AWS bills (inside one `TransactWriteItems` it
//! counts items of the same rounded size once, and it doubles index units), so the line also
//! carries what the bench needs to apply AWS's rules itself (tools/bench/pybench/dynamo_units.py):
//! for each successful write request, the items it named and whether it was a transaction (the
//! before and after images come from the table's stream), and for each successful read, the
//! sizes of the items it returned, measured by AWS's item size rules ([`item_size`]).

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

use aws_sdk_dynamodb::config::ConfigBag;
use aws_sdk_dynamodb::types::{AttributeValue, ConsumedCapacity, ReturnConsumedCapacity};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextMut, BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef,
    Input,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{Storable, StoreReplace};
use lambda_runtime::LambdaInvocation;
use lambda_runtime::tower::{Layer, Service};
use serde::Serialize;

use crate::dynamo::keys::{PK, SK};

/// The namespace the metrics land in on CloudWatch.
const NAMESPACE: &str = "OMS";

/// Whether this process meters (`OMS_METRICS=emf`), read once.
pub fn enabled() -> bool {
    static ENABLED: OnceLock<bool> = OnceLock::new();
    *ENABLED.get_or_init(|| std::env::var("OMS_METRICS").is_ok_and(|v| v.eq_ignore_ascii_case("emf")))
}

/// What the current invocation has done so far.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Tally {
    /// Requests per `Service.Operation` (e.g. `DynamoDB.TransactWriteItems`), retries included.
    pub calls: BTreeMap<String, u32>,
    /// Time spent in those requests, per `Service.Operation`, in microseconds (retries and
    /// their back-off included): where the handler time goes.
    pub call_micros: BTreeMap<String, u64>,
    /// DynamoDB read capacity units consumed (GetItem, Query, BatchGetItem, TransactGetItems).
    pub read_units: f64,
    /// DynamoDB write capacity units consumed (PutItem, UpdateItem, DeleteItem, TransactWriteItems,
    /// BatchWriteItem), the condition checks of a transaction included.
    pub write_units: f64,
    /// EventBridge entries put (each is one billed event up to 64 KB).
    pub events_put: u32,
    /// Events the outbox relay left off the bus (template parameter `UnpublishedEvents`): emitted
    /// by the domain, not billed.
    pub events_skipped: u32,
    /// DynamoDB write requests, refused ones included (a refused condition is billed), in the
    /// order they completed.
    pub writes: Vec<WriteRequest>,
    /// Successful DynamoDB read requests, in the order they completed.
    pub reads: Vec<ReadRequest>,
}

/// One DynamoDB write request: which items it named. The bench pairs each item with the change
/// the table's stream recorded for it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WriteRequest {
    /// `PutItem`, `UpdateItem`, `DeleteItem`, `BatchWriteItem` or `TransactWriteItems`.
    pub op: String,
    /// When it completed, microseconds since the Unix epoch: orders requests of concurrent
    /// invocations that touched the same item.
    pub at: u128,
    /// Whether it succeeded (a refused one changed nothing).
    pub ok: bool,
    /// The items, in request order.
    pub items: Vec<WrittenItem>,
}

/// One item a write request named.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WrittenItem {
    /// `Put`, `Update`, `Delete` or `ConditionCheck` (a transaction's check: billed, not written).
    pub action: &'static str,
    /// The table.
    pub table: String,
    /// The item's partition key.
    pub pk: String,
    /// The item's sort key.
    pub sk: String,
}

/// One successful DynamoDB read request: the sizes of the items it returned.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReadRequest {
    /// `GetItem`, `Query`, `Scan`, `BatchGetItem` or `TransactGetItems`.
    pub op: String,
    /// Strongly consistent (`ConsistentRead`); transactions are neither (billed 2×).
    pub consistent: bool,
    /// Each returned item's size in bytes ([`item_size`]). A filter's discarded items are not
    /// among them, though AWS bills them: the read figures undercount filtered queries.
    pub sizes: Vec<u64>,
}

static TALLY: Mutex<Option<Tally>> = Mutex::new(None);

fn with_tally(record: impl FnOnce(&mut Tally)) {
    let mut tally = TALLY.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    record(tally.get_or_insert_with(Tally::default));
}

/// The tally so far, and a fresh one from now on.
pub fn take() -> Tally {
    TALLY.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take().unwrap_or_default()
}

/// The SDK interceptor that tallies requests. Attach it with [`crate::edge::runtime`]'s client builders.
#[derive(Debug, Clone, Copy, Default)]
pub struct Meter;

/// Sets `ReturnConsumedCapacity::Total` on each DynamoDB input type that takes it.
macro_rules! ask_for_capacity {
    ($input:expr, $($operation:ident :: $kind:ident),+ $(,)?) => {
        $(if let Some(input) = $input.downcast_mut::<aws_sdk_dynamodb::operation::$operation::$kind>() {
            input.return_consumed_capacity = Some(ReturnConsumedCapacity::Total);
            return;
        })+
    };
}

/// The capacity an output reports, for each DynamoDB output type (one or a list).
macro_rules! reported_capacity {
    ($output:expr, one: [$($one:ident :: $one_kind:ident),+], many: [$($many:ident :: $many_kind:ident),+] $(,)?) => {{
        let mut units = None;
        $(if let Some(out) = $output.downcast_ref::<aws_sdk_dynamodb::operation::$one::$one_kind>() {
            units = Some(capacity_units(out.consumed_capacity.iter()));
        })+
        $(if let Some(out) = $output.downcast_ref::<aws_sdk_dynamodb::operation::$many::$many_kind>() {
            units = Some(capacity_units(out.consumed_capacity.iter().flatten()));
        })+
        units
    }};
}

fn capacity_units<'a>(reports: impl Iterator<Item = &'a ConsumedCapacity>) -> f64 {
    reports.filter_map(ConsumedCapacity::capacity_units).sum()
}

fn is_read(operation: &str) -> bool {
    matches!(operation, "GetItem" | "Query" | "Scan" | "BatchGetItem" | "TransactGetItems")
}

impl Meter {
    fn ask_for_capacity(input: &mut Input) {
        ask_for_capacity!(
            input,
            get_item::GetItemInput,
            put_item::PutItemInput,
            update_item::UpdateItemInput,
            delete_item::DeleteItemInput,
            query::QueryInput,
            scan::ScanInput,
            batch_get_item::BatchGetItemInput,
            batch_write_item::BatchWriteItemInput,
            transact_get_items::TransactGetItemsInput,
            transact_write_items::TransactWriteItemsInput,
        );
    }

    /// The items a write request names and whether a read is consistent, read off the input
    /// (gone once serialized) and kept in the request's state until it succeeds.
    fn note_request(input: &Input, cfg: &mut ConfigBag) {
        use aws_sdk_dynamodb::operation as op;
        let key = |key: Option<&HashMap<String, AttributeValue>>| {
            let s = |name: &str| key.and_then(|k| k.get(name)).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            (s(PK), s(SK))
        };
        let item = |action, table: Option<&String>, k: Option<&HashMap<String, AttributeValue>>| {
            let (pk, sk) = key(k);
            WrittenItem { action, table: table.cloned().unwrap_or_default(), pk, sk }
        };
        let mut items = Vec::new();
        let mut consistent = false;
        if let Some(put) = input.downcast_ref::<op::put_item::PutItemInput>() {
            items.push(item("Put", put.table_name.as_ref(), put.item.as_ref()));
        } else if let Some(update) = input.downcast_ref::<op::update_item::UpdateItemInput>() {
            items.push(item("Update", update.table_name.as_ref(), update.key.as_ref()));
        } else if let Some(delete) = input.downcast_ref::<op::delete_item::DeleteItemInput>() {
            items.push(item("Delete", delete.table_name.as_ref(), delete.key.as_ref()));
        } else if let Some(batch) = input.downcast_ref::<op::batch_write_item::BatchWriteItemInput>() {
            for (table, requests) in batch.request_items.iter().flatten() {
                for request in requests {
                    if let Some(put) = &request.put_request {
                        items.push(item("Put", Some(table), Some(&put.item)));
                    }
                    if let Some(delete) = &request.delete_request {
                        items.push(item("Delete", Some(table), Some(&delete.key)));
                    }
                }
            }
        } else if let Some(transaction) = input.downcast_ref::<op::transact_write_items::TransactWriteItemsInput>() {
            for entry in transaction.transact_items.iter().flatten() {
                if let Some(put) = &entry.put {
                    items.push(item("Put", Some(&put.table_name), Some(&put.item)));
                } else if let Some(update) = &entry.update {
                    items.push(item("Update", Some(&update.table_name), Some(&update.key)));
                } else if let Some(delete) = &entry.delete {
                    items.push(item("Delete", Some(&delete.table_name), Some(&delete.key)));
                } else if let Some(check) = &entry.condition_check {
                    items.push(item("ConditionCheck", Some(&check.table_name), Some(&check.key)));
                }
            }
        } else if let Some(get) = input.downcast_ref::<op::get_item::GetItemInput>() {
            consistent = get.consistent_read == Some(true);
        } else if let Some(query) = input.downcast_ref::<op::query::QueryInput>() {
            consistent = query.consistent_read == Some(true);
        } else if let Some(scan) = input.downcast_ref::<op::scan::ScanInput>() {
            consistent = scan.consistent_read == Some(true);
        } else if let Some(batch) = input.downcast_ref::<op::batch_get_item::BatchGetItemInput>() {
            // One flag for the request: the tables' flags agree in this code base.
            consistent = batch.request_items.iter().flatten().any(|(_, keys)| keys.consistent_read == Some(true));
        }
        cfg.interceptor_state().store_put(Noted { items, consistent });
    }

    fn count_events(input: &Input) {
        if let Some(put) = input.downcast_ref::<aws_sdk_eventbridge::operation::put_events::PutEventsInput>() {
            let entries = put.entries.as_ref().map_or(0, Vec::len) as u32;
            with_tally(|tally| tally.events_put += entries);
        }
    }
}

/// Counts `count` events the outbox relay left off the bus in the current invocation's tally
/// (nothing when metering is off: no line would carry it).
pub fn count_skipped_events(count: usize) {
    if enabled() {
        let count = u32::try_from(count).unwrap_or(u32::MAX);
        with_tally(|tally| tally.events_skipped = tally.events_skipped.saturating_add(count));
    }
}

/// When the current request started, kept in the request's own state.
#[derive(Debug, Clone, Copy)]
struct Started(Instant);

impl Storable for Started {
    type Storer = StoreReplace<Self>;
}

/// What [`Meter::note_request`] read off a DynamoDB request's input.
#[derive(Debug, Clone)]
struct Noted {
    items: Vec<WrittenItem>,
    consistent: bool,
}

impl Storable for Noted {
    type Storer = StoreReplace<Self>;
}

/// The sizes of the items a successful read returned, for each DynamoDB read output type.
fn returned_sizes(output: &aws_smithy_runtime_api::client::interceptors::context::Output) -> Option<Vec<u64>> {
    use aws_sdk_dynamodb::operation as op;
    if let Some(out) = output.downcast_ref::<op::get_item::GetItemOutput>() {
        // A miss still costs the minimum read: a size of 0 rounds up to one unit.
        return Some(vec![out.item.as_ref().map_or(0, item_size)]);
    }
    if let Some(out) = output.downcast_ref::<op::query::QueryOutput>() {
        return Some(out.items.iter().flatten().map(item_size).collect());
    }
    if let Some(out) = output.downcast_ref::<op::scan::ScanOutput>() {
        return Some(out.items.iter().flatten().map(item_size).collect());
    }
    if let Some(out) = output.downcast_ref::<op::batch_get_item::BatchGetItemOutput>() {
        return Some(out.responses.iter().flatten().flat_map(|(_, items)| items.iter().map(item_size)).collect());
    }
    if let Some(out) = output.downcast_ref::<op::transact_get_items::TransactGetItemsOutput>() {
        return Some(out.responses.iter().flatten().map(|r| r.item.as_ref().map_or(0, item_size)).collect());
    }
    None
}

/// An item's size as DynamoDB bills it: each attribute's name (UTF-8 bytes) plus its value.
/// Source: <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html>;
/// tools/bench/pybench/dynamo_units.py applies the same rules to the stream's images.
pub fn item_size(item: &HashMap<String, AttributeValue>) -> u64 {
    item.iter().map(|(name, value)| name.len() as u64 + value_size(value)).sum()
}

fn value_size(value: &AttributeValue) -> u64 {
    match value {
        AttributeValue::S(s) => s.len() as u64,
        AttributeValue::N(n) => number_size(n),
        AttributeValue::B(b) => b.as_ref().len() as u64,
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::Ss(set) => set.iter().map(|s| s.len() as u64).sum(),
        AttributeValue::Ns(set) => set.iter().map(|n| number_size(n)).sum(),
        AttributeValue::Bs(set) => set.iter().map(|b| b.as_ref().len() as u64).sum(),
        // 3 bytes per list or map, 1 per element, plus the elements (and a map's names).
        AttributeValue::L(list) => 3 + list.iter().map(|v| 1 + value_size(v)).sum::<u64>(),
        AttributeValue::M(map) => 3 + map.iter().map(|(k, v)| 1 + k.len() as u64 + value_size(v)).sum::<u64>(),
        _ => 0,
    }
}

/// 1 byte per two significant digits (leading and trailing zeros trimmed), plus 1; a negative
/// number 1 more.
fn number_size(number: &str) -> u64 {
    let mantissa = number.split(['e', 'E']).next().unwrap_or_default();
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len() as u64;
    significant.div_ceil(2) + 1 + u64::from(mantissa.starts_with('-'))
}

impl Intercept for Meter {
    fn name(&self) -> &'static str {
        "OmsMeter"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().store_put(Started(Instant::now()));
        Ok(())
    }

    fn modify_before_serialization(
        &self,
        context: &mut BeforeSerializationInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // The input is gone once serialized: what it says is read here.
        Self::count_events(context.input());
        Self::note_request(context.input(), cfg);
        Self::ask_for_capacity(context.input_mut());
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(metadata) = cfg.load::<Metadata>() else { return Ok(()) };
        let (service, operation) = (metadata.service().to_owned(), metadata.name().to_owned());
        let micros = cfg.load::<Started>().map_or(0, |started| started.0.elapsed().as_micros() as u64);
        // A refused request (a failed condition, a cancelled transaction) reports no capacity:
        // the figures undercount those.
        let units = match context.output_or_error() {
            Some(Ok(output)) => {
                reported_capacity!(
                    output,
                    one: [
                        get_item::GetItemOutput,
                        put_item::PutItemOutput,
                        update_item::UpdateItemOutput,
                        delete_item::DeleteItemOutput,
                        query::QueryOutput,
                        scan::ScanOutput
                    ],
                    many: [
                        batch_get_item::BatchGetItemOutput,
                        batch_write_item::BatchWriteItemOutput,
                        transact_get_items::TransactGetItemsOutput,
                        transact_write_items::TransactWriteItemsOutput
                    ],
                )
            }
            _ => None,
        };
        let noted = cfg.load::<Noted>().cloned();
        let sizes = match context.output_or_error() {
            Some(Ok(output)) => returned_sizes(output),
            _ => None,
        };
        let succeeded = matches!(context.output_or_error(), Some(Ok(_)));
        with_tally(|tally| {
            if let (Some(sizes), Some(noted)) = (sizes, &noted) {
                tally.reads.push(ReadRequest { op: operation.clone(), consistent: noted.consistent, sizes });
            } else if let Some(noted) = noted.filter(|noted| !noted.items.is_empty()) {
                let at =
                    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_micros());
                tally.writes.push(WriteRequest { op: operation.clone(), at, ok: succeeded, items: noted.items });
            }
            let call = format!("{service}.{operation}");
            *tally.call_micros.entry(call.clone()).or_default() += micros;
            *tally.calls.entry(call).or_default() += 1;
            match units {
                Some(units) if is_read(&operation) => tally.read_units += units,
                Some(units) => tally.write_units += units,
                None => {}
            }
        });
        Ok(())
    }
}

/// The process's peak resident memory so far (`VmHWM`), in KiB; `None` off Linux.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// One invocation's Embedded Metric Format line.
pub fn emf_line(function: &str, request_id: &str, ok: bool, handler_micros: u128, tally: &Tally) -> String {
    let timestamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
    serde_json::json!({
        "_aws": {
            "Timestamp": timestamp,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["FunctionName"]],
                "Metrics": [
                    {"Name": "HandlerTime", "Unit": "Microseconds"},
                    {"Name": "ReadUnits", "Unit": "Count"},
                    {"Name": "WriteUnits", "Unit": "Count"},
                    {"Name": "EventsPut", "Unit": "Count"},
                    {"Name": "EventsSkipped", "Unit": "Count"},
                    {"Name": "PeakRss", "Unit": "Kilobytes"},
                ],
            }],
        },
        "FunctionName": function,
        "RequestId": request_id,
        "Ok": ok,
        "HandlerTime": handler_micros,
        "ReadUnits": tally.read_units,
        "WriteUnits": tally.write_units,
        "EventsPut": tally.events_put,
        "EventsSkipped": tally.events_skipped,
        "PeakRss": peak_rss_kib(),
        "Calls": tally.calls,
        "CallTime": tally.call_micros,
        "Writes": tally.writes,
        "Reads": tally.reads,
    })
    .to_string()
}

/// The EMF line of an operational count that an alarm watches (`ParkedEvents`,
/// `LeftoverReservations`, ...): namespace `OMS`, no dimensions, so one alarm per metric covers
/// every function that reports it.
pub fn alarm_metric_line(metric: &str, count: u64) -> String {
    let timestamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
    let mut line = serde_json::json!({
        "_aws": {
            "Timestamp": timestamp,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [[]],
                "Metrics": [{"Name": metric, "Unit": "Count"}],
            }],
        },
        "FunctionName": std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "unknown".into()),
    });
    line[metric] = count.into();
    line.to_string()
}

/// Writes [`alarm_metric_line`] to stdout (the function's log, which CloudWatch turns into the
/// metric). Always on, unlike the per-invocation metering: an alarm must not depend on a
/// benchmarking switch.
pub fn report_alarm_metric(metric: &str, count: u64) {
    println!("{}", alarm_metric_line(metric, count));
}

/// Writes `line` and its newline to stdout in one write: `println!` writes a line longer than
/// stdout's buffer and its newline separately, and another process sharing the pipe (locally,
/// `cargo lambda watch`'s log) can slip its own line in between.
fn write_line(line: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(format!("{line}\n").as_bytes());
}

/// Wraps the runtime's invocation service: times each invocation from the event's arrival to
/// the response posted, and writes its EMF line when metering is on.
#[derive(Debug, Clone)]
pub struct MeterLayer {
    function: Option<String>,
}

impl MeterLayer {
    /// Meters when [`enabled`], as the function Lambda names (`AWS_LAMBDA_FUNCTION_NAME`).
    pub fn from_env() -> Self {
        let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "unknown".into());
        Self { function: enabled().then_some(function) }
    }
}

impl<S> Layer<S> for MeterLayer {
    type Service = Metered<S>;

    fn layer(&self, inner: S) -> Metered<S> {
        Metered { inner, function: self.function.clone() }
    }
}

/// The metered invocation service (see [`MeterLayer`]).
#[derive(Debug)]
pub struct Metered<S> {
    inner: S,
    function: Option<String>,
}

impl<S> Service<LambdaInvocation> for Metered<S>
where
    S: Service<LambdaInvocation, Response = (), Error = lambda_runtime::Error>,
{
    type Response = ();
    type Error = lambda_runtime::Error;
    type Future = MeteredFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, invocation: LambdaInvocation) -> Self::Future {
        let watch = self.function.clone().map(|function| {
            drop(take()); // what happened between invocations (init, a late retry) is not this one's
            Stopwatch { function, request_id: invocation.context.request_id.clone(), started: Instant::now() }
        });
        MeteredFuture { inner: self.inner.call(invocation), watch }
    }
}

#[derive(Debug)]
struct Stopwatch {
    function: String,
    request_id: String,
    started: Instant,
}

pin_project_lite::pin_project! {
    /// An invocation in flight; writes its line when it ends.
    pub struct MeteredFuture<F> {
        #[pin]
        inner: F,
        watch: Option<Stopwatch>,
    }
}

impl<F> Future for MeteredFuture<F>
where
    F: Future<Output = Result<(), lambda_runtime::Error>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let outcome = std::task::ready!(this.inner.poll(cx));
        if let Some(watch) = this.watch.take() {
            let micros = watch.started.elapsed().as_micros();
            write_line(&emf_line(&watch.function, &watch.request_id, outcome.is_ok(), micros, &take()));
        }
        Poll::Ready(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alarm_metric_line_declares_one_dimensionless_count() {
        let line: serde_json::Value = serde_json::from_str(&alarm_metric_line("ParkedEvents", 2)).unwrap();
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "OMS");
        assert_eq!(directive["Dimensions"], serde_json::json!([[]]));
        assert_eq!(directive["Metrics"][0]["Name"], "ParkedEvents");
        assert_eq!(line["ParkedEvents"], 2);
    }

    #[test]
    fn an_emf_line_declares_its_metrics_and_carries_the_tally() {
        let tally = Tally {
            calls: BTreeMap::from([("DynamoDB.GetItem".to_owned(), 2)]),
            call_micros: BTreeMap::from([("DynamoDB.GetItem".to_owned(), 900)]),
            read_units: 1.5,
            write_units: 4.0,
            events_put: 3,
            events_skipped: 2,
            writes: vec![WriteRequest {
                op: "TransactWriteItems".into(),
                at: 7,
                ok: true,
                items: vec![WrittenItem { action: "Put", table: "t".into(), pk: "P".into(), sk: "S".into() }],
            }],
            reads: vec![ReadRequest { op: "Query".into(), consistent: false, sizes: vec![10, 20] }],
        };
        let line: serde_json::Value =
            serde_json::from_str(&emf_line("create-order", "req-1", true, 1234, &tally)).unwrap();
        let declared: Vec<&str> = line["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Name"].as_str().unwrap())
            .collect();
        for name in &declared {
            assert!(line.get(*name).is_some(), "{name} is declared but has no value");
        }
        assert_eq!(line["FunctionName"], "create-order");
        assert_eq!(line["HandlerTime"], 1234);
        assert_eq!((line["ReadUnits"].as_f64(), line["WriteUnits"].as_f64()), (Some(1.5), Some(4.0)));
        assert_eq!(line["EventsPut"], 3);
        assert_eq!(line["EventsSkipped"], 2);
        assert_eq!(line["Calls"]["DynamoDB.GetItem"], 2);
        assert_eq!(line["CallTime"]["DynamoDB.GetItem"], 900);
        assert_eq!(
            line["Writes"][0]["items"][0],
            serde_json::json!({"action": "Put", "table": "t", "pk": "P", "sk": "S"})
        );
        assert_eq!(line["Reads"][0], serde_json::json!({"op": "Query", "consistent": false, "sizes": [10, 20]}));
    }

    #[test]
    fn item_sizes_follow_aws_rules() {
        use aws_sdk_dynamodb::primitives::Blob;
        let s = |v: &str| AttributeValue::S(v.into());
        let n = |v: &str| AttributeValue::N(v.into());
        // Names and strings by their UTF-8 bytes: "shirt-color" (11) + "R" (1) + "shirt-size" (10) + "M" (1).
        assert_eq!(item_size(&HashMap::from([("shirt-color".into(), s("R")), ("shirt-size".into(), s("M"))])), 23);
        // Numbers: 1 byte per two significant digits, plus 1 (negative: 1 more).
        assert_eq!(number_size("32000"), 2);
        assert_eq!(number_size("123.45"), 4);
        assert_eq!(number_size("0.001"), 2);
        assert_eq!(number_size("-7"), 3);
        assert_eq!(number_size("1.5E+3"), 2);
        // Bool and null 1 byte, binary its bytes, sets the sum of their elements.
        assert_eq!(value_size(&AttributeValue::Bool(true)), 1);
        assert_eq!(value_size(&AttributeValue::Null(true)), 1);
        assert_eq!(value_size(&AttributeValue::B(Blob::new(vec![1, 2, 3]))), 3);
        assert_eq!(value_size(&AttributeValue::Ss(vec!["ab".into(), "cde".into()])), 5);
        // Lists and maps: 3 bytes, 1 per element, plus the elements (and the map's names).
        assert_eq!(value_size(&AttributeValue::L(vec![])), 3);
        assert_eq!(value_size(&AttributeValue::L(vec![s("ab"), n("12")])), 3 + (1 + 2) + (1 + 2));
        assert_eq!(value_size(&AttributeValue::M(HashMap::from([("k".into(), s("vv"))]))), 3 + 1 + 1 + 2);
    }

    #[test]
    fn reads_and_writes_are_told_apart_by_operation() {
        assert!(is_read("Query") && is_read("BatchGetItem") && is_read("GetItem"));
        assert!(!is_read("TransactWriteItems") && !is_read("PutItem") && !is_read("UpdateItem"));
    }

    #[test]
    fn taking_the_tally_starts_a_new_one() {
        with_tally(|tally| tally.events_put += 2);
        assert_eq!(take().events_put, 2);
        assert_eq!(take(), Tally::default());
    }
}
