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

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

use aws_sdk_dynamodb::config::ConfigBag;
use aws_sdk_dynamodb::types::{ConsumedCapacity, ReturnConsumedCapacity};
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

    fn count_events(input: &Input) {
        if let Some(put) = input.downcast_ref::<aws_sdk_eventbridge::operation::put_events::PutEventsInput>() {
            let entries = put.entries.as_ref().map_or(0, Vec::len) as u32;
            with_tally(|tally| tally.events_put += entries);
        }
    }
}

/// When the current request started, kept in the request's own state.
#[derive(Debug, Clone, Copy)]
struct Started(Instant);

impl Storable for Started {
    type Storer = StoreReplace<Self>;
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
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // The input is gone once serialized: what it says is read here.
        Self::count_events(context.input());
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
        with_tally(|tally| {
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
        "PeakRss": peak_rss_kib(),
        "Calls": tally.calls,
        "CallTime": tally.call_micros,
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
            println!("{}", emf_line(&watch.function, &watch.request_id, outcome.is_ok(), micros, &take()));
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
        assert_eq!(line["Calls"]["DynamoDB.GetItem"], 2);
        assert_eq!(line["CallTime"]["DynamoDB.GetItem"], 900);
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
