//! The outbox relay: publishes outbox messages, which the table stream delivers in commit order,
//! to EventBridge (events) and Step Functions (workflow starts).
//!
//! Nothing is dropped unasked. Every message ends one of four ways:
//! - delivered;
//! - left unpublished, when it is an event of a kind the deployment chose not to publish
//!   ([`Unpublished`], template parameter `UnpublishedEvents`): taken out before anything is
//!   planned, done like a delivered one, and counted as skipped; never one the OMS's own rules
//!   consume ([`CONSUMED_BY_THE_OMS`]);
//! - parked, when it can never be delivered as it is (an event whose entry alone is over
//!   EventBridge's 256 KB, an entry or start refused for its content, an outbox item that cannot
//!   be read): written whole as its own item with the reason ([`Parking`]) and counted in the
//!   `ParkedEvents` alarm metric, and the relay goes on with the records after it;
//! - left to the stream, when it failed for a reason that passes (throttling, an outage, a
//!   parking write that failed): the batch stops at that record and reports it, so the stream
//!   redelivers from there and nothing after it is skipped.
//!
//! `PutEvents` requests are built within EventBridge's limits as EventBridge counts them
//! ([`entry_size`], [`MAX_REQUEST_ENTRIES`], [`MAX_REQUEST_BYTES`]), on the very bytes sent
//! ([`EventEntry`]), so a burst of big events cannot fail a whole request over and over.
//!
//! A batch goes out concurrently, in rounds: one order's events (one stock item's signals) in
//! commit order, each round taking every order's next events that fit one request, packed with
//! the other orders' into as few requests as the limits allow; a workflow start waits only for
//! an earlier start of its order, never for events. After a round in which something failed for
//! a reason that passes, nothing more is sent, and the batch is reported from the first record
//! in commit order not done (failed, or held back behind its order's), as one failure.
//! Ordering is that of one batch: across outbox items the stream promises none (each is its own
//! partition key), and consumers take events in any order.
//!
//! Delivery is at least once: records before a stop may be published again. Consumers
//! deduplicate events on `event_id`; a repeated workflow start (Express starts are at least once)
//! finds the order already placed and ends without doing anything.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_lambda_events::dynamodb::Event as StreamEvent;
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use base64::Engine;
use chrono::{DateTime, Utc};
use futures_util::{StreamExt, stream};
use oms_domain::events::{DomainEvent, EventEnvelope, OutboxMessage, Workflow};
use oms_domain::ports::{CatalogStore, StockStore};
use oms_domain::stock::StockLevel;
use oms_domain::usecases::catalog::stock_change_signals;
use oms_domain::{HubId, Sku, StoreError, TenantId};
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::dynamo::{self, keys};
use crate::metering;

pub use oms_domain::events::EVENT_SOURCE;
/// EventBridge's limit of entries per `PutEvents` request.
pub const MAX_REQUEST_ENTRIES: usize = 10;
/// EventBridge's limit of a `PutEvents` request's total size (so of one entry too), counted by
/// [`entry_size`]; the same limit every change's events were checked against when it committed.
pub const MAX_REQUEST_BYTES: usize = oms_domain::kernel::limits::MAX_EVENT_BYTES;
/// The alarm metric of messages parked.
pub const PARKED_METRIC: &str = "ParkedEvents";

/// The size EventBridge counts for a `PutEvents` entry of the OMS (`Time` set, source `oms`, no
/// `Resources`): one statement of the rule, in the domain, where commits check their events.
pub fn entry_size(detail_type: &str, detail: &str) -> usize {
    EventEnvelope::entry_size_of(detail_type, detail)
}

pub use oms_domain::ports::{EventEntry, Outcome, Publisher};

/// A message the relay could never deliver, as it is kept.
#[derive(Debug, Clone, PartialEq)]
pub struct ParkedMessage {
    /// Owner, when known (an unreadable item's key may not name one).
    pub tenant_id: Option<TenantId>,
    /// The event id or execution name; the stream sequence number of an unreadable item.
    pub message_id: String,
    /// The outbox message as JSON (put it back in the outbox to re-drive it), or an unreadable
    /// item's raw text.
    pub message: String,
    /// Why it could not be delivered.
    pub reason: String,
    /// The stream record it came in.
    pub sequence_number: String,
    /// When it was parked.
    pub parked_at: DateTime<Utc>,
}

/// Where undeliverable messages are kept.
pub trait Parking: Sync {
    /// Keeps the message; writing it again (a redelivered record) replaces it.
    fn park(&self, parked: &ParkedMessage) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// A decoded stream record: its sequence number and the outbox message it carries.
pub type OutboxRecord = (String, OutboxMessage);

/// An outbox item that could not be read: it is parked as it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Unreadable {
    /// The tenant its key names, if it names one.
    pub tenant_id: Option<TenantId>,
    /// Its `message` attribute, or the whole item as DynamoDB JSON when that is missing.
    pub raw: String,
    /// What is wrong with it.
    pub error: String,
}

/// What the relay is to send for one stream record, in order.
#[derive(Debug, Clone, PartialEq)]
// Items live for one batch; boxing the message would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum Outgoing {
    /// A message to deliver.
    Message(OutboxMessage),
    /// An outbox item to park.
    Unreadable(Unreadable),
}

/// A record of the table stream the relay cares about.
#[derive(Debug, Clone, PartialEq)]
// Items live for one batch; boxing the message would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum StreamItem {
    /// An outbox item: publish its message.
    Outbox(OutboxMessage),
    /// An outbox item that cannot be read: park it.
    Unreadable(Unreadable),
    /// A stock item changed: tell the world what the change means (see
    /// [`oms_domain::usecases::catalog::stock_change_signals`]).
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

/// An outbox item's message, or the item as it is when the message cannot be read.
fn outbox_item(image: &Image) -> StreamItem {
    let unreadable = |raw: String, error: String| {
        let tenant_id = text(image, keys::PK).as_deref().and_then(keys::tenant_of);
        StreamItem::Unreadable(Unreadable { tenant_id, raw, error })
    };
    match text(image, "message") {
        Some(raw) => match serde_json::from_str::<OutboxMessage>(&raw) {
            Ok(message) => StreamItem::Outbox(message),
            Err(err) => unreadable(raw, format!("undecodable outbox message: {err}")),
        },
        None => {
            unreadable(serde_json::to_string(image).unwrap_or_default(), "outbox item without a message".to_owned())
        }
    }
}

/// The messages an order item's change carries (`order_item`: its `outbox` attribute, absent
/// when the change made none), or the attribute as it is when they cannot be read.
fn order_messages(image: &Image) -> Vec<StreamItem> {
    let Some(serde_dynamo::AttributeValue::B(packed)) = image.get("outbox") else { return Vec::new() };
    match dynamo::order_item::messages_of(packed) {
        Ok(messages) => messages.into_iter().map(StreamItem::Outbox).collect(),
        Err(error) => {
            let tenant_id = text(image, keys::PK).as_deref().and_then(keys::tenant_of);
            let raw = base64::engine::general_purpose::STANDARD.encode(packed);
            vec![StreamItem::Unreadable(Unreadable { tenant_id, raw, error })]
        }
    }
}

/// The records of a stream batch the relay acts on, with their sequence numbers (an order's
/// change gives one item per message it carries, all with its record's number). Other records
/// (the event source mapping filters them out in AWS) are skipped.
pub fn stream_items(event: StreamEvent) -> Vec<(String, StreamItem)> {
    let mut items = Vec::new();
    for record in event.records {
        let sequence = record.change.sequence_number.clone().unwrap_or_default();
        let new: Image = record.change.new_image.into();
        let found = match text(&new, "entity").as_deref() {
            Some("ORDER") => order_messages(&new),
            Some("OUTBOX") => vec![outbox_item(&new)],
            Some("STOCK") => {
                let old: Image = record.change.old_image.into();
                let (Some(tenant_id), Some(after)) =
                    (text(&new, "tenant_id").and_then(|t| TenantId::parse(t).ok()), stock_level(&new))
                else {
                    continue;
                };
                let at = DateTime::from_timestamp(record.change.approximate_creation_date_time.timestamp(), 0)
                    .unwrap_or_else(Utc::now);
                vec![StreamItem::Stock {
                    record_id: record.event_id.clone(),
                    tenant_id,
                    at,
                    before: stock_level(&old),
                    after,
                }]
            }
            _ => continue,
        };
        items.extend(found.into_iter().map(|item| (sequence.clone(), item)));
    }
    items
}

/// The outbox messages in a stream batch that can be read (what the outbox relay publishes of
/// it).
pub fn outbox_records(event: StreamEvent) -> Vec<OutboxRecord> {
    stream_items(event)
        .into_iter()
        .filter_map(|(sequence, item)| match item {
            StreamItem::Outbox(message) => Some((sequence, message)),
            StreamItem::Unreadable(_) | StreamItem::Stock { .. } => None,
        })
        .collect()
}

/// Turns stream items into what to send, in order. A stock record is one shard of a hub's
/// stock: the domain says what its change means ([`stock_change_signals`]). If a read fails, the
/// items from there on are left for the stream to redeliver (the sequence number is returned).
pub async fn messages<C: CatalogStore + StockStore>(
    store: &C,
    items: Vec<(String, StreamItem)>,
) -> (Vec<(String, Outgoing)>, Option<String>) {
    let mut out = Vec::new();
    for (sequence, item) in items {
        match item {
            StreamItem::Outbox(message) => out.push((sequence, Outgoing::Message(message))),
            StreamItem::Unreadable(unreadable) => out.push((sequence, Outgoing::Unreadable(unreadable))),
            StreamItem::Stock { record_id, tenant_id, at, before, after } => {
                let signals = match stock_change_signals(store, &tenant_id, before.as_ref(), &after).await {
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
                    out.push((sequence.clone(), Outgoing::Message(OutboxMessage::Event(envelope))));
                }
            }
        }
    }
    (out, None)
}

/// The failure response for a record the relay could not get to.
pub fn failure(sequence: String) -> DynamoDbEventResponse {
    let mut failure = DynamoDbBatchItemFailure::default();
    failure.item_identifier = Some(sequence);
    let mut response = DynamoDbEventResponse::default();
    response.batch_item_failures.push(failure);
    response
}

/// The detail-types the OMS's own rules consume (`infra/template.yaml`, the rules of source
/// `oms`: backorders, accounting): the OMS breaks without them, so they are always published,
/// whatever [`Unpublished`] names. A test holds this list to the template's rules.
pub const CONSUMED_BY_THE_OMS: [&str; 3] = ["StockReplenished", "OrderCompleted", "RefundRequested"];

/// The environment variable that names the events left unpublished (template parameter
/// `UnpublishedEvents`): detail-types, comma-separated.
pub const UNPUBLISHED_EVENTS_VAR: &str = "OMS_UNPUBLISHED_EVENTS";

/// The events the relay does not put on the bus: the domain emits every event of the contract,
/// and a deployment chooses which it pays EventBridge for (by default not `OrderStatusChanged`,
/// which says again what the specific event of each change says). Such an event counts as
/// delivered: it is neither reported to the stream nor parked, only counted as skipped.
///
/// Only names the domain knows are kept, and never one of [`CONSUMED_BY_THE_OMS`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Unpublished(Vec<&'static str>);

impl Unpublished {
    /// The events named in `list` (comma-separated detail-types; empty: none), and a warning for
    /// each name ignored: one the domain does not know, or one the OMS's own rules consume.
    pub fn parse(list: &str) -> (Self, Vec<String>) {
        let mut kept = Vec::new();
        let mut warnings = Vec::new();
        for name in list.split(',').map(str::trim).filter(|name| !name.is_empty()) {
            match DomainEvent::DETAIL_TYPES.iter().find(|known| **known == name) {
                None => warnings.push(format!("{UNPUBLISHED_EVENTS_VAR}: {name:?} is no event of the OMS; ignored")),
                Some(_) if CONSUMED_BY_THE_OMS.contains(&name) => warnings.push(format!(
                    "{UNPUBLISHED_EVENTS_VAR}: {name} is consumed by the OMS's own rules; published anyway"
                )),
                Some(known) if !kept.contains(known) => kept.push(*known),
                Some(_) => {}
            }
        }
        (Self(kept), warnings)
    }

    /// [`UNPUBLISHED_EVENTS_VAR`], read once at start-up, each ignored name logged as a warning.
    /// Unset: every event is published (nothing is left out that was not asked for).
    pub fn from_env() -> Self {
        let (unpublished, warnings) = Self::parse(&std::env::var(UNPUBLISHED_EVENTS_VAR).unwrap_or_default());
        for warning in warnings {
            tracing::warn!("{warning}");
        }
        unpublished
    }

    /// Whether events of `detail_type` stay off the bus.
    pub fn contains(&self, detail_type: &str) -> bool {
        self.0.contains(&detail_type)
    }

    /// The records to send: `records` without the events left unpublished, and how many those
    /// were. The others keep their order and their sequence numbers, so a failure is still
    /// reported at the right record; a skipped one is done.
    pub fn sift(&self, mut records: Vec<(String, Outgoing)>) -> (Vec<(String, Outgoing)>, usize) {
        let before = records.len();
        records.retain(|(_, outgoing)| match outgoing {
            Outgoing::Message(OutboxMessage::Event(envelope)) => !self.contains(envelope.event.detail_type()),
            Outgoing::Message(OutboxMessage::StartWorkflow { .. }) | Outgoing::Unreadable(_) => true,
        });
        let skipped = before - records.len();
        (records, skipped)
    }
}

/// One record's share of the work, prepared before anything is sent.
enum Step<'a> {
    /// An event to put.
    Put(EventEntry),
    /// A workflow to start.
    Start(Workflow, &'a str, &'a serde_json::Value),
    /// Undeliverable as it is: park it, for this reason.
    Park(String),
}

/// Parks undeliverable messages and counts them.
struct Parker<'a, K> {
    parking: &'a K,
    parked: AtomicU64,
}

impl<K: Parking> Parker<'_, K> {
    /// Parks a record's message whole; a write that fails stops the batch there.
    async fn park(&self, record: &(String, Outgoing), reason: String) -> Result<(), String> {
        let (sequence, outgoing) = record;
        let (tenant_id, message_id, message) = match outgoing {
            Outgoing::Message(message) => {
                let id = match message {
                    OutboxMessage::Event(e) => e.event_id.clone(),
                    OutboxMessage::StartWorkflow { execution_name, .. } => execution_name.clone(),
                };
                let json = serde_json::to_string(message).map_err(|e| format!("parking: {e}"))?;
                (Some(message.tenant_id().clone()), id, json)
            }
            Outgoing::Unreadable(u) => (u.tenant_id.clone(), sequence.clone(), u.raw.clone()),
        };
        let parked = ParkedMessage {
            tenant_id,
            message_id,
            message,
            reason,
            sequence_number: sequence.clone(),
            parked_at: Utc::now(),
        };
        self.parking.park(&parked).await.map_err(|e| format!("parking failed: {e}"))?;
        tracing::error!(
            %sequence,
            tenant = %parked.tenant_id.as_ref().map(ToString::to_string).unwrap_or_default(),
            message_id = %parked.message_id,
            reason = %parked.reason,
            "undeliverable message parked"
        );
        self.parked.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// What an event is about, as far as ordering goes (the fields of its detail that name it).
#[derive(Deserialize)]
struct Subject {
    order_id: Option<String>,
    hub_id: Option<String>,
    sku: Option<String>,
}

/// What a record keeps commit order with: the other events of its order (or of its stock item),
/// or the other starts of its order. Starts and events keep no order between them: a workflow
/// reads the order from the table, and what it changes is committed, so relayed, after. `None`:
/// nothing (an unreadable item, parked on its own).
fn ordering_key(outgoing: &Outgoing, step: &Step<'_>) -> Option<String> {
    match (outgoing, step) {
        (Outgoing::Message(OutboxMessage::StartWorkflow { tenant_id, input, execution_name, .. }), _) => {
            let order = input.get("order_id").and_then(serde_json::Value::as_str).unwrap_or(execution_name);
            Some(format!("start {tenant_id} {order}"))
        }
        (Outgoing::Message(OutboxMessage::Event(envelope)), step) => {
            let subject = match step {
                Step::Put(entry) => serde_json::from_str::<Subject>(&entry.detail).ok(),
                _ => serde_json::to_value(&envelope.event).ok().and_then(|v| serde_json::from_value(v).ok()),
            }?;
            let tenant = &envelope.tenant_id;
            match subject {
                Subject { order_id: Some(order), .. } => Some(format!("order {tenant} {order}")),
                Subject { sku: Some(sku), hub_id, .. } => {
                    Some(format!("stock {tenant} {} {sku}", hub_id.unwrap_or_default()))
                }
                _ => None,
            }
        }
        (Outgoing::Unreadable(_), _) => None,
    }
}

/// What to do with each record, and what it keeps commit order with.
fn plan(records: &[(String, Outgoing)]) -> Vec<(Step<'_>, Option<String>)> {
    records
        .iter()
        .map(|(_, outgoing)| {
            let step = match outgoing {
                Outgoing::Unreadable(u) => Step::Park(u.error.clone()),
                Outgoing::Message(OutboxMessage::StartWorkflow { workflow, execution_name, input, .. }) => {
                    Step::Start(*workflow, execution_name, input)
                }
                Outgoing::Message(OutboxMessage::Event(envelope)) => match EventEntry::new(envelope) {
                    Ok(entry) if entry.size() > MAX_REQUEST_BYTES => Step::Park(format!(
                        "the event's PutEvents entry is {} bytes, over EventBridge's {MAX_REQUEST_BYTES}",
                        entry.size()
                    )),
                    Ok(entry) => Step::Put(entry),
                    Err(err) => Step::Park(format!("the event cannot be serialized: {err}")),
                },
            };
            let key = ordering_key(outgoing, &step);
            (step, key)
        })
        .collect()
}

/// Whether `count` entries of `bytes` in all make one request within EventBridge's limits.
fn fits(count: usize, bytes: usize) -> bool {
    count <= MAX_REQUEST_ENTRIES && bytes <= MAX_REQUEST_BYTES
}

/// Requests, workflow starts and parking writes in flight at once for one batch.
const MAX_IN_FLIGHT: usize = 16;

/// A piece of work sent as one call: the records it covers are the indexes.
enum Job<'a> {
    /// One `PutEvents` request: the records' indexes and their entries, in the same order.
    Request(Vec<usize>, Vec<EventEntry>),
    /// One workflow start.
    Start(usize, Workflow, &'a str, &'a serde_json::Value),
    /// One parking write.
    Park(usize, String),
}

/// Splits the records into rounds that keep every key's commit order: a round takes the next
/// run of each key's records, its consecutive events that fit one request together, or else its
/// one next start or park. The events of a round are packed into as few requests as the limits
/// allow (a key's run never split), then everything of the round goes at once.
fn rounds(plan: Vec<(Step<'_>, Option<String>)>) -> Vec<Vec<Job<'_>>> {
    // Each key's records in commit order; a record without a key is a queue of its own.
    let mut queues: Vec<VecDeque<(usize, Step<'_>)>> = Vec::new();
    let mut queue_of: HashMap<String, usize> = HashMap::new();
    for (i, (step, key)) in plan.into_iter().enumerate() {
        let q = match key {
            Some(key) => *queue_of.entry(key).or_insert_with(|| {
                queues.push(VecDeque::new());
                queues.len() - 1
            }),
            None => {
                queues.push(VecDeque::new());
                queues.len() - 1
            }
        };
        queues[q].push_back((i, step));
    }
    let mut rounds = Vec::new();
    loop {
        let mut runs: Vec<(Vec<usize>, Vec<EventEntry>)> = Vec::new();
        let mut jobs = Vec::new();
        for queue in &mut queues {
            let Some((i, step)) = queue.pop_front() else { continue };
            let entry = match step {
                Step::Put(entry) => entry,
                Step::Start(workflow, name, input) => {
                    jobs.push(Job::Start(i, workflow, name, input));
                    continue;
                }
                Step::Park(reason) => {
                    jobs.push(Job::Park(i, reason));
                    continue;
                }
            };
            let (mut indexes, mut bytes) = (vec![i], entry.size());
            let mut entries = vec![entry];
            while let Some((_, Step::Put(next))) = queue.front() {
                if !fits(entries.len() + 1, bytes + next.size()) {
                    break;
                }
                let Some((i, Step::Put(next))) = queue.pop_front() else { unreachable!("the front is an event") };
                bytes += next.size();
                indexes.push(i);
                entries.push(next);
            }
            runs.push((indexes, entries));
        }
        if runs.is_empty() && jobs.is_empty() {
            return rounds;
        }
        // Packed in commit order of each run's first record, so requests follow the batch.
        runs.sort_by_key(|(indexes, _)| indexes[0]);
        let (mut request, mut bytes): ((Vec<usize>, Vec<EventEntry>), usize) = Default::default();
        for (indexes, entries) in runs {
            let run_bytes: usize = entries.iter().map(EventEntry::size).sum();
            if !request.1.is_empty() && !fits(request.1.len() + entries.len(), bytes + run_bytes) {
                jobs.push(Job::Request(std::mem::take(&mut request.0), std::mem::take(&mut request.1)));
                bytes = 0;
            }
            request.0.extend(indexes);
            request.1.extend(entries);
            bytes += run_bytes;
        }
        if !request.1.is_empty() {
            jobs.push(Job::Request(request.0, request.1));
        }
        rounds.push(jobs);
    }
}

/// Sends one job; the outcome of each record it covers (an error: it failed for a reason that
/// passes, or its parking write failed).
async fn run<P: Publisher, K: Parking>(
    publisher: &P,
    parker: &Parker<'_, K>,
    records: &[(String, Outgoing)],
    job: Job<'_>,
) -> Vec<(usize, Result<(), String>)> {
    let settle = |i: usize, outcome: Outcome| async move {
        match outcome {
            Outcome::Accepted => Ok(()),
            Outcome::Rejected(reason) => parker.park(&records[i], reason).await,
            Outcome::Retry(reason) => Err(reason),
        }
    };
    match job {
        Job::Park(i, reason) => vec![(i, parker.park(&records[i], reason).await)],
        Job::Start(i, workflow, name, input) => {
            vec![(i, settle(i, publisher.start(workflow, name, input).await).await)]
        }
        Job::Request(indexes, entries) => {
            let outcomes = publisher.publish(&entries).await;
            let missing = std::iter::repeat(Outcome::Retry("EventBridge returned no result".to_owned()));
            let mut out = Vec::with_capacity(indexes.len());
            for (i, outcome) in indexes.into_iter().zip(outcomes.into_iter().chain(missing)) {
                out.push((i, settle(i, outcome).await));
            }
            out
        }
    }
}

/// Sends the records round by round, each round's calls at once; after a round in which a record
/// failed for a reason that passes, sends no more and returns the first record (in commit order)
/// not done, failed or held back, with the reason.
async fn send<P: Publisher, K: Parking>(
    publisher: &P,
    parker: &Parker<'_, K>,
    records: &[(String, Outgoing)],
) -> Result<(), (usize, String)> {
    let mut rounds = rounds(plan(records)).into_iter();
    while let Some(jobs) = rounds.next() {
        let done: Vec<_> = stream::iter(jobs)
            .map(|job| run(publisher, parker, records, job))
            .buffer_unordered(MAX_IN_FLIGHT)
            .collect()
            .await;
        let failed = done.into_iter().flatten().filter_map(|(i, r)| r.err().map(|e| (i, e))).min_by_key(|(i, _)| *i);
        let Some((first, reason)) = failed else { continue };
        let held_back = rounds.flatten().flat_map(|job| match job {
            Job::Request(indexes, _) => indexes,
            Job::Start(i, ..) | Job::Park(i, _) => vec![i],
        });
        return Err(match held_back.min() {
            Some(i) if i < first => (i, format!("held back behind its order; record {first} failed: {reason}")),
            _ => (first, reason),
        });
    }
    Ok(())
}

/// Delivers the records, parking what can never be delivered, each order's (and stock item's)
/// in commit order and the rest at once; stops at a failure that passes and reports the first
/// record not done, so the stream redelivers from it.
pub async fn relay<P: Publisher, K: Parking>(
    publisher: &P,
    parking: &K,
    records: Vec<(String, Outgoing)>,
) -> DynamoDbEventResponse {
    let parker = Parker { parking, parked: AtomicU64::new(0) };
    let result = send(publisher, &parker, &records).await;
    let parked = parker.parked.into_inner();
    if parked > 0 {
        metering::report_alarm_metric(PARKED_METRIC, parked);
    }
    match result {
        Ok(()) => DynamoDbEventResponse::default(),
        Err((index, err)) => {
            let sequence = records[index].0.clone();
            tracing::warn!(%sequence, %err, "relay stopped; the stream will retry");
            failure(sequence)
        }
    }
}

/// Handles a stream batch: derives the messages (reading stock and thresholds from `store`),
/// leaves out the events `unpublished` names (counted as skipped) and delivers the rest in
/// order, parking what can never be delivered in `parking`.
pub async fn handle<C: CatalogStore + StockStore, K: Parking, P: Publisher>(
    store: &C,
    parking: &K,
    publisher: &P,
    unpublished: &Unpublished,
    event: StreamEvent,
) -> DynamoDbEventResponse {
    let (records, stopped_at) = messages(store, stream_items(event)).await;
    let (records, skipped) = unpublished.sift(records);
    if skipped > 0 {
        metering::count_skipped_events(skipped);
        tracing::debug!(skipped, "events left unpublished");
    }
    let response = relay(publisher, parking, records).await;
    match stopped_at {
        Some(sequence) if response.batch_item_failures.is_empty() => failure(sequence),
        _ => response,
    }
}

/// EventBridge's per-entry error codes that say the entry itself is wrong: it will be refused
/// every time. Any other code (throttling, an internal failure, a permission or key being fixed)
/// is tried again, so a configuration slip does not park every event.
const REFUSED_ENTRY_CODES: &[&str] = &["MalformedDetail", "InvalidArgument", "ValidationException"];

/// The outcome of one `PutEvents` result entry.
fn entry_outcome(error_code: Option<&str>, error_message: Option<&str>) -> Outcome {
    match error_code {
        None => Outcome::Accepted,
        Some(code) => {
            let reason = format!("EventBridge: {code}: {}", error_message.unwrap_or_default());
            if REFUSED_ENTRY_CODES.contains(&code) { Outcome::Rejected(reason) } else { Outcome::Retry(reason) }
        }
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
            events: crate::edge::runtime::eventbridge_client(config),
            bus,
            sfn: crate::edge::runtime::sfn_client(config),
            order_placement_arn,
        }
    }
}

impl Publisher for AwsPublisher {
    async fn publish(&self, entries: &[EventEntry]) -> Vec<Outcome> {
        let request = entries
            .iter()
            .map(|entry| {
                PutEventsRequestEntry::builder()
                    .event_bus_name(&self.bus)
                    .source(EVENT_SOURCE)
                    .detail_type(entry.detail_type)
                    .detail(&entry.detail)
                    .time(aws_sdk_eventbridge::primitives::DateTime::from_millis(entry.time.timestamp_millis()))
                    .build()
            })
            .collect();
        match self.events.put_events().set_entries(Some(request)).send().await {
            // Entries come back in request order.
            Ok(out) => out.entries().iter().map(|e| entry_outcome(e.error_code(), e.error_message())).collect(),
            // The request is within the limits, so a failed call is an outage, throttling or a
            // configuration being fixed: all of it passes.
            Err(err) => {
                let reason = aws_sdk_eventbridge::error::DisplayErrorContext(&err).to_string();
                vec![Outcome::Retry(reason); entries.len()]
            }
        }
    }

    async fn start(&self, workflow: Workflow, name: &str, input: &serde_json::Value) -> Outcome {
        let arn = match workflow {
            Workflow::OrderPlacement => &self.order_placement_arn,
        };
        let result = self.sfn.start_execution().state_machine_arn(arn).name(name).input(input.to_string()).send().await;
        let Err(err) = result else { return Outcome::Accepted };
        let reason = aws_sdk_sfn::error::DisplayErrorContext(&err).to_string();
        match err.as_service_error() {
            Some(e) if e.is_execution_already_exists() => Outcome::Accepted,
            // The input or the name is wrong: the same start is refused every time.
            Some(e) if e.is_invalid_execution_input() || e.is_invalid_name() => Outcome::Rejected(reason),
            _ => Outcome::Retry(reason),
        }
    }
}

/// Stand-ins for EventBridge, Step Functions and the parking store, for tests of the relay and
/// of the function that runs it (feature `fakes`).
#[cfg(any(test, feature = "fakes"))]
pub mod fakes {
    use std::collections::HashSet;
    use std::sync::Mutex;

    use oms_domain::StoreError;
    use oms_domain::events::{EventEnvelope, Workflow};

    use super::{EventEntry, Outcome, ParkedMessage, Parking, Publisher};

    /// EventBridge as far as limits go: a request over 10 entries or 256 KB (counted here on
    /// its own, the way AWS documents it, not with [`entry_size`]) fails as a whole, as AWS
    /// fails it. Entries it is told to refuse or to throttle come back with that outcome.
    #[derive(Default)]
    pub struct Bus {
        /// The `event_id`s accepted, in order.
        pub published: Mutex<Vec<String>>,
        /// Each `PutEvents` request: its entries and bytes.
        pub requests: Mutex<Vec<(usize, usize)>>,
        /// The execution names started, in order.
        pub started: Mutex<Vec<String>>,
        /// `event_id`s it refuses for their content.
        pub refuse: HashSet<String>,
        /// `event_id`s it throttles.
        pub throttle: HashSet<String>,
        /// Whether it refuses every workflow start.
        pub refuse_starts: bool,
    }

    impl Bus {
        /// The `event_id`s accepted, in order.
        pub fn published(&self) -> Vec<String> {
            self.published.lock().unwrap().clone()
        }
    }

    impl Publisher for Bus {
        async fn publish(&self, entries: &[EventEntry]) -> Vec<Outcome> {
            let bytes: usize = entries.iter().map(|e| 14 + "oms".len() + e.detail_type.len() + e.detail.len()).sum();
            self.requests.lock().unwrap().push((entries.len(), bytes));
            if entries.len() > 10 || bytes > 262_144 {
                let reason = "ValidationException: Total size of the entries in the request is over the limit.";
                return vec![Outcome::Retry(reason.to_owned()); entries.len()];
            }
            let mut published = self.published.lock().unwrap();
            entries
                .iter()
                .map(|entry| {
                    let envelope: EventEnvelope =
                        serde_json::from_str(&entry.detail).expect("the detail is an envelope");
                    let id = envelope.event_id;
                    if self.refuse.contains(&id) {
                        Outcome::Rejected("MalformedDetail: Detail is malformed.".to_owned())
                    } else if self.throttle.contains(&id) {
                        Outcome::Retry("ThrottlingException: Rate exceeded".to_owned())
                    } else {
                        published.push(id);
                        Outcome::Accepted
                    }
                })
                .collect()
        }

        async fn start(&self, _: Workflow, name: &str, _: &serde_json::Value) -> Outcome {
            if self.refuse_starts {
                return Outcome::Rejected("InvalidExecutionInput".to_owned());
            }
            self.started.lock().unwrap().push(name.to_owned());
            Outcome::Accepted
        }
    }

    /// A parking store that records what it is given, or fails every write.
    #[derive(Default)]
    pub struct Lot {
        /// What was parked, in order.
        pub parked: Mutex<Vec<ParkedMessage>>,
        /// Whether every write fails (DynamoDB down).
        pub broken: bool,
    }

    impl Parking for Lot {
        async fn park(&self, parked: &ParkedMessage) -> Result<(), StoreError> {
            if self.broken {
                return Err(StoreError::Unavailable("DynamoDB is down".into()));
            }
            self.parked.lock().unwrap().push(parked.clone());
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use chrono::Utc;
    use oms_domain::events::DomainEvent;
    use oms_domain::{OrderId, OrderStatus, TenantId};

    use super::fakes::{Bus, Lot};
    use super::*;

    /// An event of order O1 whose serialized envelope is about `size` bytes.
    fn event(n: usize, size: usize) -> (String, Outgoing) {
        order_event(n, "O1", size)
    }

    /// An event of `order` whose serialized envelope is about `size` bytes.
    fn order_event(n: usize, order: &str, size: usize) -> (String, Outgoing) {
        let mut envelope = EventEnvelope::new(
            TenantId::parse("t1").unwrap(),
            Utc::now(),
            DomainEvent::OrderSubmitted {
                order_id: OrderId::parse(order).unwrap(),
                order_number: "N".repeat(size.saturating_sub(200)),
                status: OrderStatus::PendingAllocation,
            },
        );
        envelope.event_id = format!("e{n}");
        (format!("seq-{n}"), Outgoing::Message(OutboxMessage::Event(envelope)))
    }

    fn start(n: usize) -> (String, Outgoing) {
        (
            format!("seq-{n}"),
            Outgoing::Message(OutboxMessage::StartWorkflow {
                tenant_id: TenantId::parse("t1").unwrap(),
                workflow: Workflow::OrderPlacement,
                execution_name: format!("exec-{n}"),
                input: serde_json::json!({}),
            }),
        )
    }

    fn ids(range: impl IntoIterator<Item = usize>) -> Vec<String> {
        range.into_iter().map(|n| format!("e{n}")).collect()
    }

    fn failed(response: &DynamoDbEventResponse) -> Vec<String> {
        response.batch_item_failures.iter().map(|f| f.item_identifier.clone().unwrap()).collect()
    }

    #[test]
    fn an_entry_is_counted_as_eventbridge_counts_it() {
        assert_eq!(entry_size("OrderCreated", "{}"), 14 + 3 + 12 + 2);
        // UTF-8 bytes, not characters.
        assert_eq!(entry_size("X", "\"đơn\""), 14 + 3 + 1 + 7);
        let entry = EventEntry::new(match &event(1, 1_000).1 {
            Outgoing::Message(OutboxMessage::Event(e)) => e,
            _ => unreachable!(),
        })
        .unwrap();
        assert_eq!(entry.size(), 14 + 3 + "OrderSubmitted".len() + entry.detail.len());
    }

    #[test]
    fn requests_take_entries_while_they_fit_one_orders_in_turn_unrelated_ones_together() {
        let entry = |size: usize| EventEntry {
            event_id: String::new(),
            detail_type: "X",
            detail: "d".repeat(size - 18),
            time: Utc::now(),
        };
        // Per round, the entries of each request.
        let requests = |sizes: &[usize], one_order: bool| -> Vec<Vec<usize>> {
            let plan = sizes
                .iter()
                .enumerate()
                .map(|(n, &size)| {
                    (Step::Put(entry(size)), Some(if one_order { "A".to_owned() } else { n.to_string() }))
                })
                .collect();
            rounds(plan)
                .into_iter()
                .map(|jobs| {
                    jobs.into_iter()
                        .map(|job| match job {
                            Job::Request(indexes, entries) => {
                                assert_eq!(indexes.len(), entries.len());
                                entries.len()
                            }
                            Job::Start(..) | Job::Park(..) => unreachable!("only events here"),
                        })
                        .collect()
                })
                .collect()
        };
        assert_eq!(requests(&[100; 12], true), [vec![10], vec![2]]);
        assert_eq!(requests(&[100; 12], false), [vec![10, 2]]);
        assert_eq!(requests(&[131_072, 131_072, 100], true), [vec![2], vec![1]]);
        assert_eq!(requests(&[131_072, 131_073], false), [vec![1, 1]]);
        assert_eq!(requests(&[MAX_REQUEST_BYTES], true), [vec![1]]);
    }

    #[test]
    fn eventbridge_entry_errors_about_the_entry_are_refusals_the_rest_pass() {
        assert_eq!(entry_outcome(None, None), Outcome::Accepted);
        assert!(
            matches!(entry_outcome(Some("MalformedDetail"), Some("bad")), Outcome::Rejected(r) if r.contains("bad"))
        );
        assert!(matches!(entry_outcome(Some("InvalidArgument"), None), Outcome::Rejected(_)));
        assert!(matches!(entry_outcome(Some("ThrottlingException"), None), Outcome::Retry(_)));
        assert!(matches!(entry_outcome(Some("InternalFailure"), None), Outcome::Retry(_)));
    }

    #[tokio::test]
    async fn a_burst_of_big_events_goes_out_in_order_in_requests_within_the_limits() {
        let bus = Bus::default();
        let lot = Lot::default();
        let mut records: Vec<_> = (0..30).map(|n| event(n, 100_000)).collect();
        records.insert(15, start(99));
        records.extend((30..34).map(|n| event(n, 300)));
        let response = relay(&bus, &lot, records).await;
        assert!(response.batch_item_failures.is_empty(), "{:?}", failed(&response));
        assert_eq!(bus.published(), ids(0..34));
        assert_eq!(*bus.started.lock().unwrap(), vec!["exec-99".to_owned()]);
        let requests = bus.requests.lock().unwrap();
        assert!(requests.iter().all(|&(n, bytes)| n <= 10 && bytes <= 262_144), "{requests:?}");
        // Two 100 KB events per request, the start beside them, not between: 15 requests, the
        // small ones riding with the last big ones.
        assert_eq!(requests.len(), 15, "{requests:?}");
        assert!(lot.parked.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn an_event_over_the_limit_is_parked_and_the_rest_go_out() {
        let bus = Bus::default();
        let lot = Lot::default();
        let records = vec![event(0, 500), event(1, 270_000), event(2, 500), start(3)];
        let response = relay(&bus, &lot, records).await;
        assert!(response.batch_item_failures.is_empty());
        assert_eq!(bus.published(), ids([0, 2]));
        assert_eq!(*bus.started.lock().unwrap(), vec!["exec-3".to_owned()]);
        let parked = lot.parked.lock().unwrap();
        assert_eq!(parked.len(), 1);
        assert_eq!((parked[0].message_id.as_str(), parked[0].sequence_number.as_str()), ("e1", "seq-1"));
        assert!(parked[0].reason.contains("over EventBridge's 262144"), "{}", parked[0].reason);
        assert_eq!(parked[0].tenant_id, Some(TenantId::parse("t1").unwrap()));
        // Whole: the message can go back in the outbox as it is.
        match serde_json::from_str(&parked[0].message).unwrap() {
            OutboxMessage::Event(e) => {
                assert!(e.event_id == "e1" && serde_json::to_string(&e).unwrap().len() > MAX_REQUEST_BYTES)
            }
            OutboxMessage::StartWorkflow { .. } => panic!("parked the wrong message"),
        }
    }

    #[tokio::test]
    async fn an_entry_eventbridge_refuses_is_parked_and_the_rest_go_out() {
        let bus = Bus { refuse: HashSet::from(["e1".to_owned()]), ..Default::default() };
        let lot = Lot::default();
        let response = relay(&bus, &lot, (0..4).map(|n| event(n, 500)).collect()).await;
        assert!(response.batch_item_failures.is_empty());
        assert_eq!(bus.published(), ids([0, 2, 3]));
        let parked = lot.parked.lock().unwrap();
        assert_eq!(parked.iter().map(|p| p.message_id.as_str()).collect::<Vec<_>>(), ["e1"]);
        assert!(parked[0].reason.contains("MalformedDetail"));
    }

    #[tokio::test]
    async fn a_start_step_functions_refuses_is_parked_and_the_rest_go_out() {
        let bus = Bus { refuse_starts: true, ..Default::default() };
        let lot = Lot::default();
        let response = relay(&bus, &lot, vec![start(0), event(1, 500)]).await;
        assert!(response.batch_item_failures.is_empty());
        assert_eq!(bus.published(), ids([1]));
        assert_eq!(lot.parked.lock().unwrap()[0].message_id, "exec-0");
    }

    #[tokio::test]
    async fn a_failure_that_passes_stops_the_batch_there_and_reports_that_record() {
        let bus = Bus { throttle: HashSet::from(["e3".to_owned()]), ..Default::default() };
        let lot = Lot::default();
        let mut records: Vec<_> = (0..6).map(|n| event(n, 500)).collect();
        records.push(start(6));
        let response = relay(&bus, &lot, records).await;
        assert_eq!(failed(&response), ["seq-3"]);
        // The request's later entries may have gone out; they are sent again on redelivery. The
        // start keeps no order with events: it went out beside them, and a repeat changes nothing.
        assert!(bus.published().starts_with(&ids(0..3)));
        assert_eq!(*bus.started.lock().unwrap(), ["exec-6"]);
        assert!(lot.parked.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_parking_write_that_fails_stops_the_batch_at_that_record() {
        let bus = Bus::default();
        let lot = Lot { broken: true, ..Default::default() };
        let records = vec![event(0, 500), event(1, 270_000), event(2, 500)];
        let response = relay(&bus, &lot, records).await;
        assert_eq!(failed(&response), ["seq-1"]);
        assert_eq!(bus.published(), ids([0]));
    }

    /// A bus whose requests wait, yielding, for a workflow start before they answer: a start
    /// sent after them would never come, and the requests would answer without having seen it.
    #[derive(Default)]
    struct StartsFirst {
        bus: Bus,
        saw_a_start: std::sync::atomic::AtomicBool,
    }

    impl Publisher for StartsFirst {
        async fn publish(&self, entries: &[EventEntry]) -> Vec<Outcome> {
            for _ in 0..1_000 {
                if !self.bus.started.lock().unwrap().is_empty() {
                    self.saw_a_start.store(true, Ordering::Relaxed);
                    break;
                }
                tokio::task::yield_now().await;
            }
            self.bus.publish(entries).await
        }

        async fn start(&self, workflow: Workflow, name: &str, input: &serde_json::Value) -> Outcome {
            self.bus.start(workflow, name, input).await
        }
    }

    #[tokio::test]
    async fn unrelated_orders_share_requests_and_starts_go_out_beside_them() {
        let publisher = StartsFirst::default();
        let lot = Lot::default();
        // As order creation commits them: each order's event, then its placement start.
        let records: Vec<_> =
            (0..10).flat_map(|n| [order_event(2 * n, &format!("O{n}"), 500), start(2 * n + 1)]).collect();
        let response = relay(&publisher, &lot, records).await;
        assert!(response.batch_item_failures.is_empty(), "{:?}", failed(&response));
        assert_eq!(publisher.bus.published(), ids((0..10).map(|n| 2 * n)));
        assert_eq!(publisher.bus.started.lock().unwrap().len(), 10);
        assert_eq!(publisher.bus.requests.lock().unwrap().iter().map(|r| r.0).collect::<Vec<_>>(), [10]);
        assert!(publisher.saw_a_start.load(Ordering::Relaxed), "the starts waited for the events");
    }

    #[tokio::test]
    async fn one_orders_events_go_out_in_commit_order_whatever_else_the_batch_holds() {
        let bus = Bus::default();
        let lot = Lot::default();
        let records = vec![
            order_event(0, "A", 500),
            order_event(1, "B", 500),
            order_event(2, "A", 270_000), // parked: A's next event waits for it
            start(3),
            order_event(4, "A", 500),
            order_event(5, "B", 500),
            order_event(6, "A", 500),
        ];
        let response = relay(&bus, &lot, records).await;
        assert!(response.batch_item_failures.is_empty(), "{:?}", failed(&response));
        let published = bus.published();
        let of = |wanted: Vec<String>| published.iter().filter(|id| wanted.contains(id)).cloned().collect::<Vec<_>>();
        assert_eq!(of(ids([0, 4, 6])), ids([0, 4, 6]));
        assert_eq!(of(ids([1, 5])), ids([1, 5]));
        assert_eq!(lot.parked.lock().unwrap()[0].message_id, "e2");
        // A's first event with B's two; A's last two after the parking.
        assert_eq!(bus.requests.lock().unwrap().iter().map(|r| r.0).collect::<Vec<_>>(), [3, 2]);
    }

    #[tokio::test]
    async fn a_failure_is_reported_at_the_first_record_not_done_even_one_held_back_behind_its_order() {
        let bus = Bus { throttle: HashSet::from(["e2".to_owned()]), ..Default::default() };
        let lot = Lot::default();
        let records = vec![
            order_event(0, "A", 500),
            order_event(1, "A", 270_000),
            order_event(2, "B", 500),
            order_event(3, "A", 500),
        ];
        let response = relay(&bus, &lot, records).await;
        // e2 failed beside e0; A's oversized e1 was still waiting for e0: the stream brings it back.
        assert_eq!(failed(&response), ["seq-1"]);
        assert_eq!(bus.published(), ids([0]));
        assert!(lot.parked.lock().unwrap().is_empty());
    }

    /// A stream record of the item `image` (its `PK` and `SK` are the record's keys).
    fn stream_record(sequence: &str, event_name: &str, image: serde_json::Value) -> serde_json::Value {
        serde_json::json!({
            "eventID": format!("ev-{sequence}"),
            "eventName": event_name,
            "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1",
            "dynamodb": {
                "ApproximateCreationDateTime": 1_700_000_000,
                "SequenceNumber": sequence,
                "SizeBytes": 100,
                "StreamViewType": "NEW_AND_OLD_IMAGES",
                "Keys": {"PK": image["PK"], "SK": image["SK"]},
                "NewImage": image,
            },
        })
    }

    fn outbox_record(sequence: &str, message: &str) -> serde_json::Value {
        let image = serde_json::json!({
            "PK": {"S": "T#t1#OUTBOX#x"},
            "SK": {"S": "OUTBOX#x"},
            "entity": {"S": "OUTBOX"},
            "message": {"S": message},
        });
        stream_record(sequence, "INSERT", image)
    }

    #[tokio::test]
    async fn an_outbox_item_that_cannot_be_read_is_parked_raw_and_the_rest_go_out() {
        let message = |n: usize| match event(n, 500).1 {
            Outgoing::Message(m) => serde_json::to_string(&m).unwrap(),
            Outgoing::Unreadable(_) => unreachable!(),
        };
        let stream: StreamEvent = serde_json::from_value(serde_json::json!({"Records": [
            outbox_record("100", &message(0)),
            outbox_record("101", "{\"kind\":\"event\",\"broken"),
            outbox_record("102", &message(2)),
        ]}))
        .unwrap();
        let records: Vec<_> = stream_items(stream)
            .into_iter()
            .map(|(sequence, item)| match item {
                StreamItem::Outbox(message) => (sequence, Outgoing::Message(message)),
                StreamItem::Unreadable(unreadable) => (sequence, Outgoing::Unreadable(unreadable)),
                StreamItem::Stock { .. } => unreachable!("no stock records here"),
            })
            .collect();
        let bus = Bus::default();
        let lot = Lot::default();
        let response = relay(&bus, &lot, records).await;
        assert!(response.batch_item_failures.is_empty());
        assert_eq!(bus.published(), ids([0, 2]));
        let parked = lot.parked.lock().unwrap();
        assert_eq!(parked.len(), 1);
        assert_eq!(parked[0].message, "{\"kind\":\"event\",\"broken");
        assert_eq!((parked[0].message_id.as_str(), parked[0].sequence_number.as_str()), ("101", "101"));
        assert_eq!(parked[0].tenant_id, Some(TenantId::parse("t1").unwrap()));
        assert!(parked[0].reason.contains("undecodable"), "{}", parked[0].reason);
    }

    fn order_record(sequence: &str, event_name: &str, outbox: Option<&[u8]>) -> serde_json::Value {
        let mut image = serde_json::json!({
            "PK": {"S": "T#t1#ORDER#A"},
            "SK": {"S": "ORDER"},
            "entity": {"S": "ORDER"},
        });
        if let Some(packed) = outbox {
            image["outbox"] = serde_json::json!({"B": base64::engine::general_purpose::STANDARD.encode(packed)});
        }
        stream_record(sequence, event_name, image)
    }

    #[test]
    fn an_order_change_gives_the_messages_it_carries_in_order_under_its_record() {
        let message = |n: usize| match order_event(n, "A", 300).1 {
            Outgoing::Message(m) => m,
            Outgoing::Unreadable(_) => unreachable!(),
        };
        let packed =
            |messages: &[OutboxMessage]| crate::dynamo::order_item::compress(&serde_json::to_vec(messages).unwrap());
        let stream: StreamEvent = serde_json::from_value(serde_json::json!({"Records": [
            order_record("100", "INSERT", Some(&packed(&[message(0), message(1)]))),
            // A change with no messages (the event source mapping filters it out in AWS).
            order_record("101", "MODIFY", None),
            order_record("102", "MODIFY", Some(b"not zlib")),
            order_record("103", "MODIFY", Some(&packed(&[message(2)]))),
        ]}))
        .unwrap();
        let items = stream_items(stream);
        let seen: Vec<(&str, &str)> = items
            .iter()
            .map(|(sequence, item)| match item {
                StreamItem::Outbox(OutboxMessage::Event(e)) => (sequence.as_str(), e.event_id.as_str()),
                StreamItem::Unreadable(u) => {
                    assert_eq!(u.tenant_id, Some(TenantId::parse("t1").unwrap()));
                    assert!(u.error.contains("undecodable outbox"), "{}", u.error);
                    (sequence.as_str(), "unreadable")
                }
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(seen, [("100", "e0"), ("100", "e1"), ("102", "unreadable"), ("103", "e2")]);
    }

    const TEMPLATE: &str = include_str!("../../../../infra/template.yaml");

    /// The template's default of `UnpublishedEvents`: what a deployment leaves off the bus.
    fn template_default() -> String {
        let lines: Vec<&str> = TEMPLATE.lines().collect();
        let start = lines.iter().position(|l| l.trim() == "UnpublishedEvents:").expect("the parameter is declared");
        let default = lines[start..].iter().find_map(|l| l.trim().strip_prefix("Default:")).expect("it has a default");
        default.trim().trim_matches('"').to_owned()
    }

    /// An event of order O1 with id `e{n}`: its cancellation, said twice (`OrderStatusChanged`,
    /// then `OrderCancelled`, as the domain emits them).
    fn status_change(n: usize, specific: bool) -> (String, Outgoing) {
        let order_id = OrderId::parse("O1").unwrap();
        let event = if specific {
            DomainEvent::OrderCancelled {
                order_id,
                order_number: "ORD-1".into(),
                reason: "asked".into(),
                released: Vec::new(),
            }
        } else {
            DomainEvent::OrderStatusChanged {
                order_id,
                order_number: "ORD-1".into(),
                from: Some(OrderStatus::Draft),
                to: OrderStatus::Cancelled,
                reason: "asked".into(),
                actor: "u1".into(),
            }
        };
        let mut envelope = EventEnvelope::new(TenantId::parse("t1").unwrap(), Utc::now(), event);
        envelope.event_id = format!("e{n}");
        (format!("seq-{n}"), Outgoing::Message(OutboxMessage::Event(envelope)))
    }

    /// `OrderSubmitted`, `OrderStatusChanged`, `OrderCancelled`, then two more of the order's
    /// events and a start: one order's batch with a restatement in the middle.
    fn a_cancellation_and_more() -> Vec<(String, Outgoing)> {
        vec![event(0, 500), status_change(1, false), status_change(2, true), event(3, 500), event(4, 500), start(5)]
    }

    #[tokio::test]
    async fn by_default_order_status_changed_stays_off_the_bus_and_the_specific_event_goes_out() {
        let (unpublished, warnings) = Unpublished::parse(&template_default());
        assert!(warnings.is_empty(), "{warnings:?}");
        assert!(unpublished.contains("OrderStatusChanged"));
        let (bus, lot) = (Bus::default(), Lot::default());
        let (records, skipped) = unpublished.sift(a_cancellation_and_more());
        assert_eq!(skipped, 1);
        let response = relay(&bus, &lot, records).await;
        // Skipped is delivered: no failure, nothing parked, the order's other events in order.
        assert!(response.batch_item_failures.is_empty(), "{:?}", failed(&response));
        assert_eq!(bus.published(), ids([0, 2, 3, 4]));
        assert_eq!(*bus.started.lock().unwrap(), ["exec-5"]);
        assert!(lot.parked.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn an_empty_list_publishes_every_event() {
        let (unpublished, warnings) = Unpublished::parse("");
        assert!(warnings.is_empty());
        assert_eq!(unpublished, Unpublished::default());
        let (bus, lot) = (Bus::default(), Lot::default());
        let (records, skipped) = unpublished.sift(a_cancellation_and_more());
        assert_eq!(skipped, 0);
        assert!(relay(&bus, &lot, records).await.batch_item_failures.is_empty());
        assert_eq!(bus.published(), ids(0..5));
    }

    #[tokio::test]
    async fn a_failure_after_a_skipped_event_is_reported_at_its_own_record() {
        let (unpublished, _) = Unpublished::parse("OrderStatusChanged");
        let bus = Bus { throttle: HashSet::from(["e3".to_owned()]), ..Default::default() };
        let lot = Lot::default();
        let (records, _) = unpublished.sift(a_cancellation_and_more());
        let response = relay(&bus, &lot, records).await;
        // At e3's own record: the skipped e1 before it is done, and not sent on redelivery either.
        assert_eq!(failed(&response), ["seq-3"]);
        assert!(bus.published().starts_with(&ids([0, 2])), "{:?}", bus.published());
    }

    #[test]
    fn names_the_domain_does_not_know_are_ignored_with_a_warning() {
        let (unpublished, warnings) = Unpublished::parse(" OrderStatusChanged, OrderShipped,,ShipmentStatusChanged ");
        assert!(unpublished.contains("OrderStatusChanged") && unpublished.contains("ShipmentStatusChanged"));
        assert!(!unpublished.contains("OrderShipped"));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("\"OrderShipped\" is no event of the OMS"), "{}", warnings[0]);
    }

    #[test]
    fn the_events_the_oms_own_rules_consume_are_always_published() {
        // Every rule on the OMS bus that names detail-types (the event tap takes them all and
        // names none).
        let lines: Vec<&str> = TEMPLATE.lines().collect();
        let mut consumed = std::collections::BTreeSet::new();
        for (n, line) in lines.iter().enumerate() {
            if line.trim() != "source: [oms]" {
                continue;
            }
            if let Some(types) = lines[n + 1].trim().strip_prefix("detail-type: [") {
                consumed.extend(types.trim_end_matches(']').split(',').map(str::trim));
            }
        }
        assert_eq!(consumed, CONSUMED_BY_THE_OMS.into_iter().collect(), "relay::CONSUMED_BY_THE_OMS");

        let list: Vec<&str> = std::iter::once("OrderStatusChanged").chain(consumed.iter().copied()).collect();
        let (unpublished, warnings) = Unpublished::parse(&list.join(","));
        assert_eq!(unpublished, Unpublished::parse("OrderStatusChanged").0);
        assert_eq!(warnings.len(), consumed.len(), "{warnings:?}");
        assert!(warnings.iter().all(|w| w.contains("consumed by the OMS's own rules")), "{warnings:?}");
    }
}
