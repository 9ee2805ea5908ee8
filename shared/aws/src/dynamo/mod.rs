//! The single-table DynamoDB store: every port of `oms_domain::ports`.
//!
//! - Orders are one item each, carrying the compressed document, the recent history and the
//!   change's messages (`order_item`: the shape and why), plus top-level copies of the fields
//!   the list indexes project.
//! - Every order change is one atomic write conditional on `version` (`DynamoStore::commit`):
//!   the order item alone with its plain request, or a `TransactWriteItems` when stock moves,
//!   an idempotency record or a lookup must commit with it. A failed condition is mapped to the
//!   typed [`ConflictOn`] of the item that failed.
//!   A change moving more stock items than one transaction holds runs as several, with records
//!   of what moved outside the order's own (see `chunks`: they never leak stock).
//! - Stock items keep `available` beside `on_hand` and `reserved` because a condition cannot do
//!   arithmetic: a reservation is `available >= :q` then `available -= q, reserved += q`.
//!
//! The table itself is declared once, in `infra/template.yaml`.

mod chunks;
#[cfg(any(test, feature = "faults"))]
mod faults;
mod integrations;
pub mod keys;
mod listing;
pub mod order_item;
mod parked;
mod stock;

pub use chunks::{LEFTOVER_GRACE, RecordKind, Repair};
#[cfg(any(test, feature = "faults"))]
pub use faults::Faults;
pub use listing::CustomerInStatus;

use std::collections::HashMap;
use std::fmt::Debug;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, Put, TransactWriteItem};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use futures_util::future::{join_all, try_join_all};
use oms_domain::catalog::{Hub, SkuRecord};
use oms_domain::events::OutboxMessage;
use oms_domain::order::{Order, StatusChange};
use oms_domain::ports::{
    CatalogStore, Counter, IdempotencyRecord, Lookup, OrderPage, OrderQuery, OrderStore, OrderWrite, ShipmentRef,
};
use oms_domain::{ConflictOn, HubId, OrderId, Sku, StoreError, TenantId, TooLarge};
use rust_decimal::Decimal;
use serde::Serialize;
use serde::de::DeserializeOwned;

use keys::{PK, SK};

/// An item as the SDK sees it.
pub type Item = HashMap<String, AttributeValue>;

/// How long idempotency keys are remembered.
const IDEMPOTENCY_TTL: Duration = Duration::hours(24);
/// How long relayed outbox items stay (the stream holds records for 24 h; the items are only
/// kept for inspection).
const OUTBOX_TTL: Duration = Duration::hours(24);
/// Day counters are only needed during their day.
const SEQUENCE_TTL: Duration = Duration::days(3);
/// DynamoDB's limit of items in one transaction.
pub const MAX_TRANSACTION_ITEMS: usize = 100;

/// The DynamoDB implementation of the storage ports.
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
    #[cfg(any(test, feature = "faults"))]
    faults: Option<std::sync::Arc<Faults>>,
}

impl DynamoStore {
    /// A store over `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            #[cfg(any(test, feature = "faults"))]
            faults: None,
        }
    }

    /// The same store, failing the transactions `faults` lists (tests only: the `faults` feature).
    #[cfg(any(test, feature = "faults"))]
    pub fn with_faults(self, faults: std::sync::Arc<Faults>) -> Self {
        Self { faults: Some(faults), ..self }
    }

    /// `list_orders` with a status and a customer read only one way (tests only: each way must
    /// give the same pages as what production runs, [`CustomerInStatus::CustomerFirst`]).
    #[cfg(any(test, feature = "faults"))]
    pub async fn list_orders_one_way(
        &self,
        tenant: &TenantId,
        query: &OrderQuery,
        way: CustomerInStatus,
    ) -> Result<OrderPage, StoreError> {
        self.list(tenant, query, way).await
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    async fn get(&self, pk: String, sk: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(pk))
            .key(SK, s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(store_error)?;
        Ok(out.item)
    }

    /// Every item of a query, following pages.
    async fn query_all(
        &self,
        index: Option<&str>,
        pk_attr: &str,
        pk: String,
        sk: Option<(&str, String)>,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(index.map(str::to_owned))
                .expression_attribute_names("#pk", pk_attr)
                .expression_attribute_values(":pk", s(pk.clone()))
                .set_exclusive_start_key(start);
            query = match &sk {
                Some((sk_attr, prefix)) => query
                    .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                    .expression_attribute_names("#sk", *sk_attr)
                    .expression_attribute_values(":prefix", s(prefix.clone())),
                None => query.key_condition_expression("#pk = :pk"),
            };
            let out = query.send().await.map_err(store_error)?;
            items.extend(out.items.unwrap_or_default());
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(items);
            }
        }
    }

    /// The items at `keys` that exist, in the order of `keys`: BatchGetItem 100 keys a request,
    /// the requests at once, asking again for what DynamoDB leaves unprocessed (throttling).
    /// `attributes` limits what comes back (all of them when empty): DynamoDB bills the whole
    /// item either way, but a list page needs a summary, not documents and history.
    async fn batch_get(
        &self,
        keys: Vec<(String, String)>,
        consistent: bool,
        attributes: &[&str],
    ) -> Result<Vec<Item>, StoreError> {
        // The keys come back too: they say which result is which.
        let projection = (!attributes.is_empty()).then(|| {
            let names: HashMap<String, String> =
                [PK, SK].iter().chain(attributes).map(|a| (format!("#{a}"), (*a).to_owned())).collect();
            (names.keys().cloned().collect::<Vec<_>>().join(", "), names)
        });
        // 100 keys a request (BatchGetItem's limit), the requests at once.
        let reads = keys.chunks(100).map(|chunk| {
            let wanted = chunk.iter().map(|(pk, sk)| HashMap::from([(PK.to_owned(), s(pk)), (SK.to_owned(), s(sk))]));
            let request = KeysAndAttributes::builder()
                .set_keys(Some(wanted.collect()))
                .consistent_read(consistent)
                .set_projection_expression(projection.as_ref().map(|(expression, _)| expression.clone()))
                .set_expression_attribute_names(projection.as_ref().map(|(_, names)| names.clone()))
                .build()
                .map_err(unexpected);
            async move {
                let mut request = Some(request?);
                let mut items = Vec::new();
                for attempt in 0..5 {
                    let Some(pending) = request.take() else { break };
                    if attempt > 0 {
                        // What DynamoDB left unprocessed (throttling), asked again after a
                        // growing pause, as AWS advises for BatchGetItem: 20, 40, 80, 160 ms.
                        tokio::time::sleep(std::time::Duration::from_millis(10 << attempt)).await;
                    }
                    let out = self.client.batch_get_item().request_items(&self.table, pending).send();
                    let out = out.await.map_err(store_error)?;
                    items.extend(out.responses.and_then(|mut r| r.remove(&self.table)).unwrap_or_default());
                    request =
                        out.unprocessed_keys.and_then(|mut u| u.remove(&self.table)).filter(|k| !k.keys().is_empty());
                }
                match request {
                    Some(_) => Err(StoreError::Unavailable("reads kept being throttled".into())),
                    None => Ok(items),
                }
            }
        });
        let mut found: HashMap<(String, String), Item> = try_join_all(reads)
            .await?
            .into_iter()
            .flatten()
            .filter_map(|item| Some((item_key(&item)?, item)))
            .collect();
        Ok(keys.iter().filter_map(|key| found.remove(key)).collect())
    }

    /// Writes `items` atomically: one item with its plain request (a transaction bills every
    /// item twice), more in a transaction. A refused write reports the [`ConflictOn`] of the first
    /// item whose condition failed (`on[i]` describes item `i`).
    async fn commit(&self, mut items: Vec<TransactWriteItem>, on: Vec<ConflictOn>) -> Result<(), StoreError> {
        if items.len() > MAX_TRANSACTION_ITEMS {
            return Err(StoreError::TooLarge {
                what: TooLarge::Change,
                message: format!(
                    "the change writes {} items, over DynamoDB's {MAX_TRANSACTION_ITEMS} per transaction; nothing was changed",
                    items.len()
                ),
            });
        }
        #[cfg(any(test, feature = "faults"))]
        if let Some(injected) = self.faults.as_ref().and_then(|f| f.next(&items)) {
            return Err(injected);
        }
        if items.len() == 1 {
            let conflict = on.into_iter().next().unwrap_or(ConflictOn::Version);
            return self.write_one(items.remove(0), conflict).await;
        }
        self.transact(items, on).await
    }

    async fn transact(&self, items: Vec<TransactWriteItem>, on: Vec<ConflictOn>) -> Result<(), StoreError> {
        // A token per call: when a request times out after DynamoDB applied it, the SDK's retry
        // of that call carries the same token and DynamoDB answers success without applying it a
        // second time (for 10 minutes after the first; the SDK retries within seconds). Our own
        // retries are new logical transactions, re-read and re-conditioned, so they get a new one.
        let token = ulid::Ulid::new().to_string();
        let request = self.client.transact_write_items().client_request_token(token);
        let err = match request.set_transact_items(Some(items)).send().await {
            Ok(_) => return Ok(()),
            Err(err) => err,
        };
        if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) = err.as_service_error() {
            let failed = cancelled
                .cancellation_reasons()
                .iter()
                .position(|r| matches!(r.code(), Some("ConditionalCheckFailed" | "TransactionConflict")));
            if let Some(conflict) = failed.and_then(|i| on.get(i)) {
                return Err(StoreError::Conflict(conflict.clone()));
            }
            // An item over 400 KB (or otherwise invalid) cancels the transaction with a
            // `ValidationError` reason rather than failing the call.
            if let Some(reason) = cancelled.cancellation_reasons().iter().find(|r| r.code() == Some("ValidationError"))
            {
                return Err(validation_error(reason.message().unwrap_or_default()));
            }
        }
        Err(store_error(err))
    }

    /// One item's write as its plain request. When a retried request finds its condition
    /// failing because its own first attempt applied (the response was lost on the way),
    /// DynamoDB hands back the item as it is: an order item holding exactly the document this
    /// write carries was written by it (`order_item::document`), so that is a success, as a
    /// transaction's client token would have made it.
    async fn write_one(&self, item: TransactWriteItem, conflict: ConflictOn) -> Result<(), StoreError> {
        use aws_sdk_dynamodb::operation::put_item::PutItemError;
        use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
        use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld;
        let document = order_item::document(&item);
        let found = match item {
            TransactWriteItem { put: Some(put), .. } => {
                let request = self
                    .client
                    .put_item()
                    .table_name(put.table_name)
                    .set_item(Some(put.item))
                    .set_condition_expression(put.condition_expression)
                    .set_expression_attribute_names(put.expression_attribute_names)
                    .set_expression_attribute_values(put.expression_attribute_values)
                    .return_values_on_condition_check_failure(AllOld);
                let Err(err) = request.send().await else { return Ok(()) };
                refused(err, |e| match e {
                    PutItemError::ConditionalCheckFailedException(refused) => Some(refused.item.clone()),
                    _ => None,
                })?
            }
            TransactWriteItem { update: Some(update), .. } => {
                let request = self
                    .client
                    .update_item()
                    .table_name(update.table_name)
                    .set_key(Some(update.key))
                    .update_expression(update.update_expression)
                    .set_condition_expression(update.condition_expression)
                    .set_expression_attribute_names(update.expression_attribute_names)
                    .set_expression_attribute_values(update.expression_attribute_values)
                    .return_values_on_condition_check_failure(AllOld);
                let Err(err) = request.send().await else { return Ok(()) };
                refused(err, |e| match e {
                    UpdateItemError::ConditionalCheckFailedException(refused) => Some(refused.item.clone()),
                    _ => None,
                })?
            }
            // Deletes and condition checks alone are not written this way.
            other => return self.transact(vec![other], vec![conflict]).await,
        };
        let applied = document.is_some() && found.as_ref().and_then(|item| item.get("doc")) == document.as_ref();
        if applied { Ok(()) } else { Err(StoreError::Conflict(conflict)) }
    }

    fn put(&self, item: Item, condition: Option<&str>) -> TransactWriteItem {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .set_condition_expression(condition.map(str::to_owned));
        TransactWriteItem::builder().put(put.build().expect("table and item are set")).build()
    }

    /// A lookup item: which tenant and order a document belongs to.
    async fn get_lookup(&self, pk: String, sk: &str) -> Result<Option<ShipmentRef>, StoreError> {
        let out = self.client.get_item().table_name(&self.table).key(PK, s(pk)).key(SK, s(sk)).send();
        out.await.map_err(store_error)?.item.map(from_item).transpose()
    }

    /// The writes of an order change, the order item's first, with the conflict each can raise.
    /// Usually that is the order item alone (see `order_item`), written with one plain request.
    fn order_write_items(
        &self,
        write: OrderWrite,
        now: DateTime<Utc>,
    ) -> Result<(Vec<TransactWriteItem>, Vec<ConflictOn>), StoreError> {
        write.check_limits()?;
        let order = order_item::order_item_write(&self.table, &write)?;
        let mut items = vec![order.write];
        let mut on =
            vec![if write.expected_version.is_none() { ConflictOn::AlreadyExists } else { ConflictOn::Version }];
        let order_pk = keys::order_pk(write.order.tenant_id(), write.order.order_id());
        for message in &order.spilled {
            items.push(self.put(outbox_item(&order_pk, message, now)?, None));
            on.push(ConflictOn::AlreadyExists);
        }
        let at = ShipmentRef { tenant_id: write.order.tenant_id().clone(), order_id: write.order.order_id().clone() };
        for lookup in &write.lookups {
            let (pk, sk, entity) = match lookup {
                Lookup::Shipment(id) => (keys::shipment_ref_pk(id), keys::SHIPMENT_REF_SK, "SHIPMENT_REF"),
                Lookup::Return(id) => (keys::return_ref_pk(&at.tenant_id, id), keys::RETURN_REF_SK, "RETURN_REF"),
            };
            items.push(self.put(with_keys(to_item(&at)?, pk, sk, entity), Some("attribute_not_exists(PK)")));
            on.push(ConflictOn::AlreadyExists);
        }
        if let Some(record) = &write.idempotency {
            let pk = keys::idempotency_pk(&record.tenant_id, &record.user, &record.key);
            let mut item = with_keys(to_item(record)?, pk, keys::IDEMPOTENCY_SK, "IDEMPOTENCY");
            item.insert("expires_at".into(), epoch(now + IDEMPOTENCY_TTL));
            items.push(self.put(item, Some("attribute_not_exists(PK)")));
            on.push(ConflictOn::IdempotencyKey);
        }
        Ok((items, on))
    }
}

/// A shard below `shards`, at random: counters spread their bumps evenly.
fn random_shard(shards: u32) -> u32 {
    u32::try_from(ulid::Ulid::new().random() % u128::from(shards)).expect("below a u32")
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn decimal(value: Decimal) -> AttributeValue {
    AttributeValue::N(value.normalize().to_string())
}

fn epoch(at: DateTime<Utc>) -> AttributeValue {
    n(at.timestamp())
}

/// A failure no caller can act on: data the store did not write that way, or a bug.
fn unexpected(err: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> StoreError {
    StoreError::Unexpected(err.into())
}

fn to_item(value: &impl Serialize) -> Result<Item, StoreError> {
    serde_dynamo::to_item(value).map_err(unexpected)
}

fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(unexpected)
}

/// What a refused write found (`ReturnValuesOnConditionCheckFailure`: `refused` picks it out of
/// the condition failure), or the error any other failure maps to.
fn refused<E, R>(
    err: SdkError<E, R>,
    refused: impl FnOnce(&E) -> Option<Option<Item>>,
) -> Result<Option<Item>, StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: Debug + Send + Sync + 'static,
{
    match err.as_service_error().and_then(refused) {
        Some(found) => Ok(found),
        None => Err(store_error(err)),
    }
}

/// An item's (or index entry's) table key: index entries carry their item's `PK` and `SK`.
fn item_key(item: &Item) -> Option<(String, String)> {
    let key = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    Some((key(PK)?, key(SK)?))
}

fn with_keys(mut item: Item, pk: String, sk: impl Into<String>, entity: &str) -> Item {
    item.insert(PK.into(), s(pk));
    item.insert(SK.into(), s(sk));
    item.insert("entity".into(), s(entity));
    item
}

/// An outbox item of a message too big to ride on its order item. It shares the order's
/// partition key, so the stream (and Lambda reading it in parallel) keeps it in commit order with
/// the order's other messages.
fn outbox_item(order_pk: &str, message: &OutboxMessage, now: DateTime<Utc>) -> Result<Item, StoreError> {
    let id = match message {
        OutboxMessage::Event(e) => &e.event_id,
        OutboxMessage::StartWorkflow { execution_name, .. } => execution_name,
    };
    let body = serde_json::to_string(message).map_err(unexpected)?;
    let mut item = with_keys(Item::new(), order_pk.to_owned(), keys::outbox_sk(id), "OUTBOX");
    item.insert("message".into(), s(body));
    item.insert("expires_at".into(), epoch(now + OUTBOX_TTL));
    Ok(item)
}

/// A DynamoDB validation failure: a size limit (item over 400 KB, ...) is the client's change
/// being too large; anything else a write the store refused. Never a 500: nothing was written.
fn validation_error(message: &str) -> StoreError {
    if message.to_ascii_lowercase().contains("size") {
        StoreError::TooLarge { what: TooLarge::Order, message: format!("{message}; nothing was changed") }
    } else {
        StoreError::Rejected(message.to_owned())
    }
}

/// Maps an SDK failure to how the caller should react.
pub fn store_error<E, R>(err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: Debug + Send + Sync + 'static,
{
    if matches!(err, SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_)) {
        return StoreError::Unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(&err).to_string());
    }
    match err.code() {
        Some("ConditionalCheckFailedException") => StoreError::Conflict(ConflictOn::Version),
        Some("ValidationException") => validation_error(err.message().unwrap_or_default()),
        Some(
            "ProvisionedThroughputExceededException"
            | "ThrottlingException"
            | "RequestLimitExceeded"
            | "InternalServerError"
            | "ServiceUnavailable"
            | "TransactionInProgressException",
        ) => StoreError::Unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(&err).to_string()),
        _ => unexpected(err),
    }
}

impl OrderStore for DynamoStore {
    async fn get_order(&self, tenant: &TenantId, id: &OrderId) -> Result<Option<Order>, StoreError> {
        self.get(keys::order_pk(tenant, id), keys::ORDER_SK).await?.as_ref().map(order_item::order_of).transpose()
    }

    async fn list_orders(&self, tenant: &TenantId, query: &OrderQuery) -> Result<OrderPage, StoreError> {
        self.list(tenant, query, CustomerInStatus::CustomerFirst).await
    }

    async fn backordered_orders(&self, tenant: &TenantId, sku: &Sku, limit: usize) -> Result<Vec<OrderId>, StoreError> {
        self.backordered(tenant, sku, limit).await
    }

    async fn order_history(&self, tenant: &TenantId, id: &OrderId) -> Result<Vec<StatusChange>, StoreError> {
        let item = self.get(keys::order_pk(tenant, id), keys::ORDER_SK).await?;
        item.as_ref().map_or(Ok(Vec::new()), |item| order_item::history_of(item, id))
    }

    /// A day's counter is [`keys::COUNTER_SHARDS`] items, so no tenant's order rate queues on
    /// one: a number takes a random shard `s`, and its `k`th bump there is number
    /// `(k - 1) × shards + s + 1`. Shards never give the same number, so numbers stay unique and
    /// short (the first of a day is at most the shard count); they are not dense, and their
    /// order follows creation only roughly.
    async fn next_number(&self, counter: Counter<'_>, day: NaiveDate) -> Result<String, StoreError> {
        let expires = day.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc() + SEQUENCE_TTL;
        let shard = random_shard(keys::COUNTER_SHARDS);
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(keys::sequence_pk(counter, day, shard)))
            .key(SK, s(keys::SEQUENCE_SK))
            .update_expression("ADD seq :one SET expires_at = :expires, entity = :entity")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":expires", epoch(expires))
            .expression_attribute_values(":entity", s("SEQUENCE"))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(store_error)?;
        out.attributes
            .as_ref()
            .and_then(|a| a.get("seq"))
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .map(|k| counter.number(day, (k - 1) * u64::from(keys::COUNTER_SHARDS) + u64::from(shard) + 1))
            .ok_or_else(|| unexpected("a document counter returned no number"))
    }

    async fn find_return(&self, tenant: &TenantId, return_id: &str) -> Result<Option<OrderId>, StoreError> {
        let found = self.get_lookup(keys::return_ref_pk(tenant, return_id), keys::RETURN_REF_SK).await?;
        Ok(found.filter(|f| &f.tenant_id == tenant).map(|f| f.order_id))
    }

    async fn find_shipment(&self, shipment_id: &str) -> Result<Option<ShipmentRef>, StoreError> {
        self.get_lookup(keys::shipment_ref_pk(shipment_id), keys::SHIPMENT_REF_SK).await
    }

    async fn create_order(&self, write: OrderWrite) -> Result<(), StoreError> {
        let now = write.order.created_at();
        let channel_ref =
            write.order.channel().as_ref().zip(write.order.channel_order_id().as_ref()).map(|(channel, id)| {
                let mut item = with_keys(
                    Item::new(),
                    keys::channel_ref_pk(write.order.tenant_id(), channel, id),
                    keys::CHANNEL_REF_SK,
                    "CHANNEL_REF",
                );
                item.insert("order_id".into(), s(write.order.order_id().to_string()));
                item
            });
        let (mut items, mut on) = self.order_write_items(write, now)?;
        if let Some(item) = channel_ref {
            items.push(self.put(item, Some("attribute_not_exists(PK)")));
            on.push(ConflictOn::ChannelOrder);
        }
        self.commit(items, on).await
    }

    async fn save_order(&self, write: OrderWrite) -> Result<(), StoreError> {
        let now = write.order.updated_at();
        let (items, on) = self.order_write_items(write, now)?;
        self.commit(items, on).await
    }

    async fn find_idempotency(
        &self,
        tenant: &TenantId,
        user: &str,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        let item = self.get(keys::idempotency_pk(tenant, user, key), keys::IDEMPOTENCY_SK).await?;
        // TTL deletion lags by up to days; an expired record is treated as gone.
        let live = item.filter(|i| {
            i.get("expires_at")
                .and_then(|v| v.as_n().ok())
                .and_then(|v| v.parse::<i64>().ok())
                .is_none_or(|t| t > Utc::now().timestamp())
        });
        live.map(from_item).transpose()
    }
}

impl CatalogStore for DynamoStore {
    async fn put_hub(&self, tenant: &TenantId, hub: &Hub) -> Result<(), StoreError> {
        let item = with_keys(to_item(hub)?, keys::hubs_pk(tenant), keys::hub_sk(&hub.hub_id), "HUB");
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(store_error)?;
        Ok(())
    }

    async fn list_hubs(&self, tenant: &TenantId) -> Result<Vec<Hub>, StoreError> {
        let items = self.query_all(None, PK, keys::hubs_pk(tenant), None).await?;
        items.into_iter().map(from_item).collect()
    }

    async fn get_hub(&self, tenant: &TenantId, hub_id: &HubId) -> Result<Option<Hub>, StoreError> {
        self.get(keys::hubs_pk(tenant), &keys::hub_sk(hub_id)).await?.map(from_item).transpose()
    }

    async fn hub_loads(&self, tenant: &TenantId, day: NaiveDate) -> Result<oms_domain::routing::HubLoads, StoreError> {
        let shards = keys::every_shard(keys::HUB_LOAD_SHARDS, |n| keys::hub_loads_pk(tenant, day, n));
        let reads = join_all(shards.into_iter().map(|pk| self.query_all(None, PK, pk, None))).await;
        let mut loads = oms_domain::routing::HubLoads::new();
        for item in reads.into_iter().collect::<Result<Vec<_>, _>>()?.iter().flatten() {
            let load = || {
                let hub = item.get(SK)?.as_s().ok()?.strip_prefix("HUB#")?;
                let count: u32 = item.get("count")?.as_n().ok()?.parse().ok()?;
                Some((HubId::parse(hub).ok()?, count))
            };
            if let Some((hub, count)) = load() {
                *loads.entry(hub).or_default() += count;
            }
        }
        Ok(loads)
    }

    async fn count_dispatches(&self, tenant: &TenantId, day: NaiveDate, hubs: &[HubId]) -> Result<(), StoreError> {
        let expires = day.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc() + SEQUENCE_TTL;
        let shard = random_shard(keys::HUB_LOAD_SHARDS);
        for hub in hubs {
            self.client
                .update_item()
                .table_name(&self.table)
                .key(PK, s(keys::hub_loads_pk(tenant, day, shard)))
                .key(SK, s(keys::hub_sk(hub)))
                .update_expression("ADD #count :one SET expires_at = :expires, entity = :entity")
                .expression_attribute_names("#count", "count")
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":expires", epoch(expires))
                .expression_attribute_values(":entity", s("HUB_LOAD"))
                .send()
                .await
                .map_err(store_error)?;
        }
        Ok(())
    }

    async fn put_sku(&self, tenant: &TenantId, sku: &SkuRecord) -> Result<(), StoreError> {
        // The SKU and its channel item mappings change together; a mapping another SKU holds is
        // refused, and mappings the SKU no longer has are removed.
        let previous: Option<SkuRecord> =
            self.get(keys::skus_pk(tenant), &keys::sku_sk(&sku.sku)).await?.map(from_item).transpose()?;
        let mut items =
            vec![self.put(with_keys(to_item(sku)?, keys::skus_pk(tenant), keys::sku_sk(&sku.sku), "SKU"), None)];
        let mut on = vec![ConflictOn::AlreadyExists];
        for (channel, item_id) in &sku.channel_items {
            let mut item = with_keys(
                Item::new(),
                keys::channel_item_pk(tenant, channel, item_id),
                keys::CHANNEL_ITEM_SK,
                "CHANNEL_ITEM",
            );
            item.insert("sku".into(), s(sku.sku.to_string()));
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(PK) OR sku = :sku")
                .expression_attribute_values(":sku", s(sku.sku.to_string()))
                .build()
                .map_err(unexpected)?;
            items.push(TransactWriteItem::builder().put(put).build());
            on.push(ConflictOn::ChannelItem { channel: channel.clone(), item_id: item_id.clone() });
        }
        for (channel, item_id) in previous.map(|p| p.channel_items).unwrap_or_default() {
            if sku.channel_items.get(&channel) != Some(&item_id) {
                let delete = aws_sdk_dynamodb::types::Delete::builder()
                    .table_name(&self.table)
                    .key(PK, s(keys::channel_item_pk(tenant, &channel, &item_id)))
                    .key(SK, s(keys::CHANNEL_ITEM_SK))
                    .build()
                    .map_err(unexpected)?;
                items.push(TransactWriteItem::builder().delete(delete).build());
                on.push(ConflictOn::AlreadyExists);
            }
        }
        self.commit(items, on).await
    }

    async fn skus_for_channel_items(
        &self,
        tenant: &TenantId,
        channel: &str,
        item_ids: &[String],
    ) -> Result<HashMap<String, Sku>, StoreError> {
        let mut found = HashMap::new();
        for item_id in item_ids.iter().collect::<std::collections::BTreeSet<_>>() {
            let item = self.get(keys::channel_item_pk(tenant, channel, item_id), keys::CHANNEL_ITEM_SK).await?;
            if let Some(sku) = item.as_ref().and_then(|i| i.get("sku")).and_then(|v| v.as_s().ok()) {
                let sku = Sku::parse(sku.clone()).map_err(|e| unexpected(e.to_string()))?;
                found.insert(item_id.clone(), sku);
            }
        }
        Ok(found)
    }

    async fn list_skus(&self, tenant: &TenantId) -> Result<Vec<SkuRecord>, StoreError> {
        let items = self.query_all(None, PK, keys::skus_pk(tenant), None).await?;
        items.into_iter().map(from_item).collect()
    }

    async fn get_skus(&self, tenant: &TenantId, skus: &[Sku]) -> Result<Vec<SkuRecord>, StoreError> {
        let keys = skus.iter().map(|sku| (keys::skus_pk(tenant), keys::sku_sk(sku))).collect();
        self.batch_get(keys, true, &[]).await?.into_iter().map(from_item).collect()
    }
}
