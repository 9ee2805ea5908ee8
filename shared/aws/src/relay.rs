//! The outbox relay: publishes outbox messages, which the table stream delivers in commit order,
//! to EventBridge (events) and Step Functions (workflow starts).
//!
//! Delivery is at least once: a batch stops at the first message that cannot be published and
//! reports it, so the stream retries from there. Consumers deduplicate events on `event_id`; a
//! repeated workflow start (Express starts are at least once) finds the order already placed and
//! ends without doing anything.

use std::collections::HashMap;
use std::future::Future;
use std::str::FromStr;

use aws_lambda_events::dynamodb::Event as StreamEvent;
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use chrono::{DateTime, Utc};
use oms_domain::events::{EventEnvelope, OutboxMessage, Workflow};
use oms_domain::inventory::{StockFilter, StockLevel, stock_signals};
use oms_domain::ports::{CatalogStore, StockStore};
use oms_domain::{HubId, Sku, TenantId};
use rust_decimal::Decimal;

/// The `source` of every event the OMS emits.
pub const EVENT_SOURCE: &str = "oms";
/// EventBridge's limit of entries per PutEvents call.
const PUT_EVENTS_BATCH: usize = 10;

/// Where outbox messages go.
pub trait Publisher: Sync {
    /// Publishes events in order; returns how many, from the start, were accepted.
    fn publish(&self, events: &[EventEnvelope]) -> impl Future<Output = Result<usize, String>> + Send;
    /// Starts a workflow execution; an execution of that name existing already counts as success.
    fn start(
        &self,
        workflow: Workflow,
        name: &str,
        input: &serde_json::Value,
    ) -> impl Future<Output = Result<(), String>> + Send;
}

/// A decoded stream record: its sequence number and the outbox message it carries.
pub type OutboxRecord = (String, OutboxMessage);

/// A record of the table stream the relay cares about.
#[derive(Debug, Clone, PartialEq)]
// Items live for one batch; boxing the message would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum StreamItem {
    /// An outbox item: publish its message.
    Outbox(OutboxMessage),
    /// A stock item changed: tell the world what the change means (see
    /// [`oms_domain::inventory::stock_signals`]).
    Stock {
        /// The stream record's id: derived events take their ids from it, so a redelivered
        /// record publishes the same event ids.
        record_id: String,
        /// Owner.
        tenant_id: TenantId,
        /// When the change happened.
        at: DateTime<Utc>,
        /// The level before (none for a new item).
        before: Option<StockLevel>,
        /// The level after.
        after: StockLevel,
    },
}

type Image = HashMap<String, serde_dynamo::AttributeValue>;

fn text(image: &Image, name: &str) -> Option<String> {
    match image.get(name) {
        Some(serde_dynamo::AttributeValue::S(text)) => Some(text.clone()),
        _ => None,
    }
}

fn number(image: &Image, name: &str) -> Option<Decimal> {
    match image.get(name) {
        Some(serde_dynamo::AttributeValue::N(n)) => Decimal::from_str(n).or_else(|_| Decimal::from_scientific(n)).ok(),
        _ => None,
    }
}

fn stock_level(image: &Image) -> Option<StockLevel> {
    Some(StockLevel {
        hub_id: HubId::parse(text(image, "hub_id")?).ok()?,
        sku: Sku::parse(text(image, "sku")?).ok()?,
        on_hand: number(image, "on_hand")?,
        reserved: number(image, "reserved").unwrap_or_default(),
    })
}

/// The records of a stream batch the relay acts on, with their sequence numbers. Other records
/// (the event source mapping filters them out in AWS) are skipped; an undecodable item is a bug
/// that would block the shard forever, so it is logged and skipped too.
pub fn stream_items(event: StreamEvent) -> Vec<(String, StreamItem)> {
    event
        .records
        .into_iter()
        .filter_map(|record| {
            let sequence = record.change.sequence_number.clone().unwrap_or_default();
            let new: Image = record.change.new_image.into();
            let item = match text(&new, "entity").as_deref() {
                Some("OUTBOX") => match serde_json::from_str::<OutboxMessage>(&text(&new, "message")?) {
                    Ok(message) => StreamItem::Outbox(message),
                    Err(err) => {
                        tracing::error!(%sequence, %err, "undecodable outbox item skipped");
                        return None;
                    }
                },
                Some("STOCK") => {
                    let old: Image = record.change.old_image.into();
                    let tenant_id = TenantId::parse(text(&new, "tenant_id")?).ok()?;
                    let at = DateTime::from_timestamp(record.change.approximate_creation_date_time.timestamp(), 0)
                        .unwrap_or_else(Utc::now);
                    StreamItem::Stock {
                        record_id: record.event_id.clone(),
                        tenant_id,
                        at,
                        before: stock_level(&old),
                        after: stock_level(&new)?,
                    }
                }
                _ => return None,
            };
            Some((sequence, item))
        })
        .collect()
}

/// The outbox messages in a stream batch (what the outbox relay publishes of it).
pub fn outbox_records(event: StreamEvent) -> Vec<OutboxRecord> {
    stream_items(event)
        .into_iter()
        .filter_map(|(sequence, item)| match item {
            StreamItem::Outbox(message) => Some((sequence, message)),
            StreamItem::Stock { .. } => None,
        })
        .collect()
}

/// Turns stream items into the messages to publish, in order. A stock record is one shard of
/// a hub's stock: what it means is judged on the hub's total (read now; the shard's own change
/// gives the total before), against the SKU's low-stock threshold. If a read fails, the items
/// from there on are left for the stream to redeliver (the sequence number is returned).
pub async fn messages<C: CatalogStore + StockStore>(
    store: &C,
    items: Vec<(String, StreamItem)>,
) -> (Vec<OutboxRecord>, Option<String>) {
    let mut out = Vec::new();
    for (sequence, item) in items {
        match item {
            StreamItem::Outbox(message) => out.push((sequence, message)),
            StreamItem::Stock { record_id, tenant_id, at, before, after } => {
                let signals = match stock_meaning(store, &tenant_id, before.as_ref(), &after).await {
                    Ok(signals) => signals,
                    Err(err) => {
                        tracing::warn!(%sequence, %err, "stock lookup failed; the stream will retry");
                        return (out, Some(sequence));
                    }
                };
                for (n, event) in signals.into_iter().enumerate() {
                    let envelope = EventEnvelope {
                        event_id: format!("{record_id}-{n}"),
                        tenant_id: tenant_id.clone(),
                        occurred_at: at,
                        event,
                    };
                    out.push((sequence.clone(), OutboxMessage::Event(envelope)));
                }
            }
        }
    }
    (out, None)
}

/// The signals of one shard's change, judged on the hub's totals.
async fn stock_meaning<C: CatalogStore + StockStore>(
    store: &C,
    tenant: &TenantId,
    before: Option<&StockLevel>,
    after: &StockLevel,
) -> Result<Vec<oms_domain::events::DomainEvent>, oms_domain::StoreError> {
    let filter = StockFilter { sku: Some(after.sku.clone()), hub_id: Some(after.hub_id.clone()) };
    let total_after = store.list_stock(tenant, &filter).await?.into_iter().next().unwrap_or_else(|| after.clone());
    let (was_on_hand, was_reserved) = before.map_or((Decimal::ZERO, Decimal::ZERO), |b| (b.on_hand, b.reserved));
    let total_before = StockLevel {
        on_hand: total_after.on_hand - (after.on_hand - was_on_hand),
        reserved: total_after.reserved - (after.reserved - was_reserved),
        ..total_after.clone()
    };
    let fell = total_after.available() < total_before.available();
    let threshold = if fell {
        store
            .get_skus(tenant, std::slice::from_ref(&after.sku))
            .await?
            .first()
            .map(|s| s.low_stock_threshold)
            .unwrap_or_default()
    } else {
        Decimal::ZERO
    };
    let existed = before.is_some() || total_before.on_hand > Decimal::ZERO;
    Ok(stock_signals(existed.then_some(&total_before), &total_after, threshold))
}

/// The failure response for a record the relay could not get to.
pub fn failure(sequence: String) -> DynamoDbEventResponse {
    let mut failure = DynamoDbBatchItemFailure::default();
    failure.item_identifier = Some(sequence);
    let mut response = DynamoDbEventResponse::default();
    response.batch_item_failures.push(failure);
    response
}

/// Publishes the records in order, stopping at the first failure, which is reported so the
/// stream redelivers from it.
pub async fn relay<P: Publisher>(publisher: &P, records: Vec<OutboxRecord>) -> DynamoDbEventResponse {
    let response = DynamoDbEventResponse::default();
    let mut i = 0;
    while i < records.len() {
        let failed_at = match &records[i].1 {
            OutboxMessage::StartWorkflow { workflow, execution_name, input, .. } => {
                let result = publisher.start(*workflow, execution_name, input).await;
                i += 1;
                result.err().map(|err| (i - 1, err))
            }
            OutboxMessage::Event(_) => {
                let run: Vec<EventEnvelope> = records[i..]
                    .iter()
                    .map_while(|(_, m)| match m {
                        OutboxMessage::Event(e) => Some(e.clone()),
                        OutboxMessage::StartWorkflow { .. } => None,
                    })
                    .take(PUT_EVENTS_BATCH)
                    .collect();
                let result = publisher.publish(&run).await;
                let start = i;
                i += run.len();
                match result {
                    Ok(accepted) if accepted == run.len() => None,
                    Ok(accepted) => Some((start + accepted, "EventBridge rejected an entry".to_owned())),
                    Err(err) => Some((start, err)),
                }
            }
        };
        if let Some((index, err)) = failed_at {
            tracing::warn!(sequence = %records[index].0, %err, "relay stopped; the stream will retry");
            return failure(records[index].0.clone());
        }
    }
    response
}

/// Handles a stream batch: derives the messages and publishes them in order.
pub async fn handle<C: CatalogStore + StockStore, P: Publisher>(
    store: &C,
    publisher: &P,
    event: StreamEvent,
) -> DynamoDbEventResponse {
    let (records, stopped_at) = messages(store, stream_items(event)).await;
    let response = relay(publisher, records).await;
    match stopped_at {
        Some(sequence) if response.batch_item_failures.is_empty() => failure(sequence),
        _ => response,
    }
}

/// Publishes to the OMS bus and starts workflows in Step Functions.
pub struct AwsPublisher {
    events: aws_sdk_eventbridge::Client,
    bus: String,
    sfn: aws_sdk_sfn::Client,
    order_placement_arn: String,
}

impl AwsPublisher {
    /// A publisher to `bus` that starts order placement at `order_placement_arn`.
    pub fn new(config: &aws_config::SdkConfig, bus: String, order_placement_arn: String) -> Self {
        Self {
            events: crate::runtime::eventbridge_client(config),
            bus,
            sfn: crate::runtime::sfn_client(config),
            order_placement_arn,
        }
    }
}

impl Publisher for AwsPublisher {
    async fn publish(&self, events: &[EventEnvelope]) -> Result<usize, String> {
        let mut entries = Vec::with_capacity(events.len());
        for event in events {
            let detail = serde_json::to_string(event).map_err(|e| e.to_string())?;
            entries.push(
                PutEventsRequestEntry::builder()
                    .event_bus_name(&self.bus)
                    .source(EVENT_SOURCE)
                    .detail_type(event.event.detail_type())
                    .detail(detail)
                    .time(aws_sdk_eventbridge::primitives::DateTime::from_millis(event.occurred_at.timestamp_millis()))
                    .build(),
            );
        }
        let out = self
            .events
            .put_events()
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| aws_sdk_eventbridge::error::DisplayErrorContext(&e).to_string())?;
        // Entries come back in request order; an entry with an error code was not accepted.
        Ok(out.entries().iter().take_while(|e| e.error_code().is_none()).count().min(events.len()))
    }

    async fn start(&self, workflow: Workflow, name: &str, input: &serde_json::Value) -> Result<(), String> {
        let arn = match workflow {
            Workflow::OrderPlacement => &self.order_placement_arn,
        };
        let result = self.sfn.start_execution().state_machine_arn(arn).name(name).input(input.to_string()).send().await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_execution_already_exists()) => Ok(()),
            Err(err) => Err(aws_sdk_sfn::error::DisplayErrorContext(&err).to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use chrono::Utc;
    use oms_domain::events::DomainEvent;
    use oms_domain::{OrderId, OrderStatus, TenantId};

    use super::*;

    #[derive(Default)]
    struct Recorder {
        published: Mutex<Vec<String>>,
        started: Mutex<Vec<String>>,
        reject_event_number: Option<usize>,
    }

    impl Publisher for Recorder {
        async fn publish(&self, events: &[EventEnvelope]) -> Result<usize, String> {
            let mut published = self.published.lock().unwrap();
            for (i, e) in events.iter().enumerate() {
                if Some(published.len()) == self.reject_event_number {
                    return Ok(i);
                }
                published.push(e.event_id.clone());
            }
            Ok(events.len())
        }
        async fn start(&self, _: Workflow, name: &str, _: &serde_json::Value) -> Result<(), String> {
            self.started.lock().unwrap().push(name.to_owned());
            Ok(())
        }
    }

    fn event(n: usize) -> OutboxRecord {
        let envelope = EventEnvelope::new(
            TenantId::parse("t1").unwrap(),
            Utc::now(),
            DomainEvent::OrderSubmitted {
                order_id: OrderId::parse("O1").unwrap(),
                order_number: "N".into(),
                status: OrderStatus::PendingAllocation,
            },
        );
        (format!("seq-{n}"), OutboxMessage::Event(envelope))
    }

    fn start(n: usize) -> OutboxRecord {
        (
            format!("seq-{n}"),
            OutboxMessage::StartWorkflow {
                tenant_id: TenantId::parse("t1").unwrap(),
                workflow: Workflow::OrderPlacement,
                execution_name: format!("exec-{n}"),
                input: serde_json::json!({}),
            },
        )
    }

    #[tokio::test]
    async fn publishes_everything_in_order_in_batches_of_ten() {
        let recorder = Recorder::default();
        let mut records: Vec<_> = (0..12).map(event).collect();
        records.insert(5, start(99));
        let response = relay(&recorder, records).await;
        assert!(response.batch_item_failures.is_empty());
        assert_eq!(recorder.published.lock().unwrap().len(), 12);
        assert_eq!(*recorder.started.lock().unwrap(), vec!["exec-99".to_owned()]);
    }

    #[tokio::test]
    async fn stops_at_the_first_rejected_event_and_reports_it() {
        let recorder = Recorder { reject_event_number: Some(3), ..Default::default() };
        let records: Vec<_> = (0..6).map(event).collect();
        let response = relay(&recorder, records).await;
        let failed: Vec<_> = response.batch_item_failures.iter().map(|f| f.item_identifier.clone().unwrap()).collect();
        assert_eq!(failed, vec!["seq-3".to_owned()]);
        assert_eq!(recorder.published.lock().unwrap().len(), 3);
    }
}
