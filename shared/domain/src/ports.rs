//! The narrow ports functions need from storage. Implemented for DynamoDB in `oms-aws` and in
//! memory in `crate::memory` (feature `memory`) (unit tests only).
//!
//! [`Publisher`] is where the outbox relay delivers what committed changes announced (EventBridge
//! and Step Functions in `oms-aws`).
//!
//! Every state change is a single atomic write carrying the new state, its history entries and
//! its outbox messages, conditional on the version the change was computed from.

#[cfg(feature = "contract")]
pub mod contract;

use std::future::Future;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::catalog::{Hub, SkuRecord};
use crate::events::{EventEnvelope, OutboxMessage, Workflow};
use crate::integrations::{Integration, IntegrationKind, Principal};
use crate::kernel::error::{StoreError, TooLarge};
use crate::kernel::ids::{HubId, OrderId, Sku, TenantId};
use crate::kernel::limits::{MAX_EVENT_BYTES, MAX_ORDER_BYTES};
use crate::kernel::money::Currency;
use crate::order::status::OrderStatus;
use crate::order::{Order, StatusChange};
use crate::stock::{StockChange, StockFilter, StockLevel, StockMove};

/// A state change of one order, written atomically.
#[derive(Debug, Clone)]
pub struct OrderWrite {
    /// The order as it is after the change.
    pub order: Order,
    /// The version the change was computed from; `None` when the order is new.
    pub expected_version: Option<u64>,
    /// History entries to append.
    pub history: Vec<StatusChange>,
    /// Events and workflow starts to relay once committed.
    pub outbox: Vec<OutboxMessage>,
    /// The `Idempotency-Key` record of the request that made the change, written with it.
    pub idempotency: Option<IdempotencyRecord>,
    /// Documents this change created that are looked up by their own id (a carrier's callback
    /// names only the shipment; a return is addressed as `/returns/{id}`), written with it.
    pub lookups: Vec<Lookup>,
}

/// A document found by its own id rather than its order's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// A shipment id (unique across tenants).
    Shipment(String),
    /// A return id (unique per tenant).
    Return(String),
}

impl OrderWrite {
    /// Refuses a write that could not be stored or announced whole: the order document over
    /// [`MAX_ORDER_BYTES`] (the item limit is 400 KB) or an event over one `PutEvents` entry.
    /// Every adapter checks it before writing, so the change that would have made an order too
    /// big is refused and the order stays writable.
    pub fn check_limits(&self) -> Result<(), StoreError> {
        let order_bytes = serde_json::to_vec(&self.order).map_err(|e| StoreError::Unexpected(e.into()))?.len();
        if order_bytes > MAX_ORDER_BYTES {
            return Err(StoreError::TooLarge {
                what: TooLarge::Order,
                message: format!(
                    "the change would make the order {order_bytes} bytes, over the {MAX_ORDER_BYTES}-byte limit; \
                     nothing was changed"
                ),
            });
        }
        for message in &self.outbox {
            if let OutboxMessage::Event(event) = message {
                let size = event.entry_size();
                if size > MAX_EVENT_BYTES {
                    return Err(StoreError::TooLarge {
                        what: TooLarge::Event,
                        message: format!(
                            "the change's {} event would be {size} bytes, over EventBridge's {MAX_EVENT_BYTES}; \
                             nothing was changed",
                            event.event.detail_type()
                        ),
                    });
                }
            }
        }
        Ok(())
    }

    /// A change of an existing order computed from `expected_version`.
    pub fn update(order: Order, expected_version: u64, history: Vec<StatusChange>, outbox: Vec<OutboxMessage>) -> Self {
        Self {
            order,
            expected_version: Some(expected_version),
            history,
            outbox,
            idempotency: None,
            lookups: Vec::new(),
        }
    }
}

/// A daily document counter. Order and return numbers count per tenant; shipment numbers count
/// across tenants, so a shipment id alone names one shipment (carriers call back with it).
#[derive(Debug, Clone, Copy)]
pub enum Counter<'a> {
    /// `ORD-YYYYMMDD-NNNN`.
    Orders(&'a TenantId),
    /// `SHP-YYYYMMDD-NNNN`.
    Shipments,
    /// `RMA-YYYYMMDD-NNNN`.
    Returns(&'a TenantId),
}

impl Counter<'_> {
    /// The document prefix.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Orders(_) => "ORD",
            Self::Shipments => "SHP",
            Self::Returns(_) => "RMA",
        }
    }

    /// The `n`th number of `day`: at least four digits, more past 9,999.
    pub fn number(self, day: NaiveDate, n: u64) -> String {
        format!("{}-{}-{n:04}", self.prefix(), day.format("%Y%m%d"))
    }
}

/// Where a shipment lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipmentRef {
    /// Owner.
    pub tenant_id: TenantId,
    /// The order it ships.
    pub order_id: OrderId,
}

/// The memory of an `Idempotency-Key`: which request body it was first used with and what that
/// request produced. A key belongs to its caller: tenant and user (`sub`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    /// Owner.
    pub tenant_id: TenantId,
    /// The user (`sub`) who sent it.
    pub user: String,
    /// The client's key.
    pub key: String,
    /// SHA-256 of the request (route and body).
    pub request_hash: String,
    /// The order the request created.
    pub order_id: OrderId,
    /// When it was used.
    pub created_at: DateTime<Utc>,
}

/// What `GET /orders` asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderQuery {
    /// Only this status.
    pub status: Option<OrderStatus>,
    /// Only this customer.
    pub customer_id: Option<String>,
    /// Created at or after.
    pub from: Option<DateTime<Utc>>,
    /// Created at or before.
    pub to: Option<DateTime<Utc>>,
    /// Prefix of the order number, customer name or external reference (case-insensitive).
    pub q: Option<String>,
    /// Page size.
    pub limit: usize,
    /// Where the previous page ended (opaque to clients).
    pub cursor: Option<String>,
    /// Only orders this user created (what sales see).
    pub created_by: Option<String>,
}

/// Default and largest page sizes of `GET /orders`.
pub const DEFAULT_PAGE: usize = 25;
/// See [`DEFAULT_PAGE`].
pub const MAX_PAGE: usize = 100;

/// An order as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderSummary {
    /// Id.
    pub order_id: OrderId,
    /// Number.
    pub order_number: String,
    /// Status.
    pub status: OrderStatus,
    /// Customer id.
    pub customer_id: String,
    /// Customer name.
    pub customer_name: String,
    /// Currency.
    pub currency: Currency,
    /// What the customer pays.
    pub grand_total: Decimal,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// On hold.
    pub on_hold: bool,
    /// Creator.
    pub created_by: String,
}

impl OrderSummary {
    /// The summary of an order.
    pub fn of(order: &Order) -> Self {
        Self {
            order_id: order.order_id.clone(),
            order_number: order.order_number.clone(),
            status: order.status,
            customer_id: order.customer.id.clone(),
            customer_name: order.customer.name.clone(),
            currency: order.currency,
            grand_total: order.totals.grand_total,
            created_at: order.created_at,
            on_hold: order.on_hold,
            created_by: order.created_by.clone(),
        }
    }
}

/// One page of orders, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderPage {
    /// The orders.
    pub items: Vec<OrderSummary>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// Orders, their history and their idempotency records.
pub trait OrderStore: Send + Sync {
    /// One order, or `None` (also for another tenant's id).
    fn get_order(
        &self,
        tenant: &TenantId,
        id: &OrderId,
    ) -> impl Future<Output = Result<Option<Order>, StoreError>> + Send;

    /// A page of orders matching the query, newest first (never a table scan).
    fn list_orders(
        &self,
        tenant: &TenantId,
        query: &OrderQuery,
    ) -> impl Future<Output = Result<OrderPage, StoreError>> + Send;

    /// `BACKORDERED` orders with a line of this SKU, oldest first (at most `limit`).
    fn backordered_orders(
        &self,
        tenant: &TenantId,
        sku: &Sku,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<OrderId>, StoreError>> + Send;

    /// The status history, oldest first.
    fn order_history(
        &self,
        tenant: &TenantId,
        id: &OrderId,
    ) -> impl Future<Output = Result<Vec<StatusChange>, StoreError>> + Send;

    /// The next document number of a counter for a day (`ORD-20261122-0001`, then `-0002`...).
    fn next_number(
        &self,
        counter: Counter<'_>,
        day: NaiveDate,
    ) -> impl Future<Output = Result<String, StoreError>> + Send;

    /// The order a return belongs to.
    fn find_return(
        &self,
        tenant: &TenantId,
        return_id: &str,
    ) -> impl Future<Output = Result<Option<OrderId>, StoreError>> + Send;

    /// The order a shipment belongs to, whatever the tenant (the caller checks it).
    fn find_shipment(&self, shipment_id: &str) -> impl Future<Output = Result<Option<ShipmentRef>, StoreError>> + Send;

    /// Creates an order (`expected_version` is `None`). Fails with `Conflict(IdempotencyKey)` if
    /// the write's key was taken meanwhile, `Conflict(ChannelOrder)` if the channel order id
    /// exists, and writes nothing then.
    fn create_order(&self, write: OrderWrite) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Saves a change of an existing order. Fails with `Conflict(Version)` if the stored version
    /// is not `expected_version`, `Conflict(IdempotencyKey)` as above, `Conflict(AlreadyExists)`
    /// if a new lookup's id is taken.
    fn save_order(&self, write: OrderWrite) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The idempotency record of a user's key, if they used it.
    fn find_idempotency(
        &self,
        tenant: &TenantId,
        user: &str,
        key: &str,
    ) -> impl Future<Output = Result<Option<IdempotencyRecord>, StoreError>> + Send;
}

/// Hubs and SKUs.
pub trait CatalogStore: Send + Sync {
    /// Creates or replaces a hub.
    fn put_hub(&self, tenant: &TenantId, hub: &Hub) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Every hub of the tenant, by id.
    fn list_hubs(&self, tenant: &TenantId) -> impl Future<Output = Result<Vec<Hub>, StoreError>> + Send;
    /// One hub.
    fn get_hub(
        &self,
        tenant: &TenantId,
        hub_id: &HubId,
    ) -> impl Future<Output = Result<Option<Hub>, StoreError>> + Send;
    /// How many orders each hub has been sent on `day`.
    fn hub_loads(
        &self,
        tenant: &TenantId,
        day: NaiveDate,
    ) -> impl Future<Output = Result<crate::routing::HubLoads, StoreError>> + Send;
    /// Counts one more order sent to each of `hubs` on `day`.
    fn count_dispatches(
        &self,
        tenant: &TenantId,
        day: NaiveDate,
        hubs: &[HubId],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Creates or replaces a SKU.
    fn put_sku(&self, tenant: &TenantId, sku: &SkuRecord) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Every SKU of the tenant, by code.
    fn list_skus(&self, tenant: &TenantId) -> impl Future<Output = Result<Vec<SkuRecord>, StoreError>> + Send;
    /// The SKUs a channel's item ids map to (ids with no mapping are absent).
    fn skus_for_channel_items(
        &self,
        tenant: &TenantId,
        channel: &str,
        item_ids: &[String],
    ) -> impl Future<Output = Result<std::collections::HashMap<String, Sku>, StoreError>> + Send;
    /// The SKUs among `skus` that exist.
    fn get_skus(
        &self,
        tenant: &TenantId,
        skus: &[Sku],
    ) -> impl Future<Output = Result<Vec<SkuRecord>, StoreError>> + Send;
}

/// Stock levels and reservations.
pub trait StockStore: Send + Sync {
    /// Stock of the given SKUs at every hub that has a record.
    fn stock_for_skus(
        &self,
        tenant: &TenantId,
        skus: &[Sku],
    ) -> impl Future<Output = Result<Vec<StockLevel>, StoreError>> + Send;

    /// Stock matching the filter.
    fn list_stock(
        &self,
        tenant: &TenantId,
        filter: &StockFilter,
    ) -> impl Future<Output = Result<Vec<StockLevel>, StoreError>> + Send;

    /// Applies a change atomically; `Conflict(Stock)` when it would take `on_hand` below
    /// `reserved`. Returns the new level.
    fn change_stock(
        &self,
        tenant: &TenantId,
        hub_id: &HubId,
        sku: &Sku,
        change: StockChange,
    ) -> impl Future<Output = Result<StockLevel, StoreError>> + Send;

    /// Saves the order change together with its stock moves, all or nothing:
    /// `Conflict(Stock{..})` if a reservation no longer fits what is available,
    /// `Conflict(Version)` if the order moved on.
    fn save_with_stock(
        &self,
        write: OrderWrite,
        moves: &[StockMove],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The registry of integrations: which principals may act for a tenant (see
/// [`crate::integrations`]).
pub trait IntegrationStore: Send + Sync {
    /// The tenant's registration of this principal as this kind, if any.
    fn get_integration(
        &self,
        tenant: &TenantId,
        kind: IntegrationKind,
        principal: &Principal,
    ) -> impl Future<Output = Result<Option<Integration>, StoreError>> + Send;
    /// Creates or replaces a registration.
    fn put_integration(&self, integration: &Integration) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Removes a registration; `false` when there was none.
    fn delete_integration(
        &self,
        tenant: &TenantId,
        kind: IntegrationKind,
        principal: &Principal,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Every registration of the tenant, by kind name (`channel` before `wms`), then principal.
    fn list_integrations(&self, tenant: &TenantId)
    -> impl Future<Output = Result<Vec<Integration>, StoreError>> + Send;
}

/// One `PutEvents` entry, the envelope serialized once: its size is counted on the bytes the
/// publisher sends.
#[derive(Debug, Clone, PartialEq)]
pub struct EventEntry {
    /// The envelope's `event_id` (for logs).
    pub event_id: String,
    /// The entry's `DetailType`.
    pub detail_type: &'static str,
    /// The entry's `Detail`: the serialized [`EventEnvelope`].
    pub detail: String,
    /// The entry's `Time`.
    pub time: DateTime<Utc>,
}

impl EventEntry {
    /// The entry of an event.
    pub fn new(envelope: &EventEnvelope) -> Result<Self, serde_json::Error> {
        Ok(Self {
            event_id: envelope.event_id.clone(),
            detail_type: envelope.event.detail_type(),
            detail: serde_json::to_string(envelope)?,
            time: envelope.occurred_at,
        })
    }

    /// Its size as EventBridge counts it.
    pub fn size(&self) -> usize {
        EventEnvelope::entry_size_of(self.detail_type, &self.detail)
    }
}

/// What became of one entry or one workflow start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Delivered.
    Accepted,
    /// Not delivered, for a reason that passes: try again later.
    Retry(String),
    /// Refused for what it is: it will be refused every time.
    Rejected(String),
}

/// Where outbox messages go.
pub trait Publisher: Sync {
    /// Puts one request's entries (at most 10 entries, within [`MAX_EVENT_BYTES`] in all);
    /// one outcome per entry, in order. A request that fails as a whole is a `Retry` of each.
    fn publish(&self, entries: &[EventEntry]) -> impl Future<Output = Vec<Outcome>> + Send;
    /// Starts a workflow execution; an execution of that name existing already counts as
    /// accepted.
    fn start(&self, workflow: Workflow, name: &str, input: &serde_json::Value) -> impl Future<Output = Outcome> + Send;
}

/// Every port at once: what functions wire and most use cases need.
pub trait Store: OrderStore + CatalogStore + StockStore + IntegrationStore {}

impl<T: OrderStore + CatalogStore + StockStore + IntegrationStore> Store for T {}
