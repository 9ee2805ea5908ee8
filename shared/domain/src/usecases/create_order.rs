//! `POST /orders`: validate, price, persist, and (with `"submit": true`) submit in the same
//! write. Honours `Idempotency-Key`: the same key and body replays the first result; the same
//! key with another body is refused (422); a concurrent duplicate loses the conditional write
//! and replays the winner's order, so a key never makes two orders.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::access::{Action, Actor};
use crate::error::AppError;
use crate::events::{DomainEvent, EventEnvelope, OutboxMessage};
use crate::ids::{LineId, OrderId, Sku};
use crate::inventory::{SkuRecord, non_empty_text, parse_unit};
use crate::money::Currency;
use crate::order::{AllocationMode, Customer, FulfillmentPolicy, Order, OrderLine};
use crate::ports::{CatalogStore, OrderStore, OrderWrite, StockStore};
use crate::pricing::LineTotals;
use crate::quantity::positive_quantity;
use crate::status::OrderStatus;
use crate::usecases::effects;
use crate::usecases::idempotency::{Changed, IdempotencyKey, commit, replay_if_seen};

/// Most lines an order may have: keeps the order (one item) well under DynamoDB's 400 KB and its
/// `OrderCreated` event under EventBridge's 256 KB.
pub const MAX_LINES: usize = 250;

/// Most decimal places of a unit price (finer than the currency's minor unit, e.g. per-KG
/// prices; line totals are rounded).
const MAX_PRICE_SCALE: u32 = 6;

/// The body of `POST /orders`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateOrderRequest {
    /// Customer snapshot.
    pub customer: Customer,
    /// Defaults to VND.
    #[serde(default)]
    pub currency: Currency,
    /// Defaults to `ship_partial`.
    #[serde(default)]
    pub fulfillment_policy: FulfillmentPolicy,
    /// Defaults to `auto`.
    #[serde(default)]
    pub allocation: AllocationMode,
    /// The customer's reference.
    pub external_reference: Option<String>,
    /// Sales channel.
    pub channel: Option<String>,
    /// The channel's order id (with `channel`).
    pub channel_order_id: Option<String>,
    /// Free text.
    pub notes: Option<String>,
    /// Order-level discount amount.
    #[serde(default)]
    pub discount: Decimal,
    /// Product lines.
    pub lines: Vec<LineRequest>,
    /// Submit right away.
    #[serde(default)]
    pub submit: bool,
}

/// One line of `POST /orders`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineRequest {
    /// The product.
    pub sku: Sku,
    /// Quantity (> 0, at most 3 decimals).
    pub quantity: Decimal,
    /// Must match the SKU's unit when given.
    pub unit: Option<String>,
    /// Defaults to the list price.
    pub quoted_unit_price: Option<Decimal>,
    /// Defaults to 0.
    pub shipping_unit_cost: Option<Decimal>,
}

/// Creates (and optionally submits) an order.
pub async fn create_order<S>(
    store: &S,
    actor: &Actor,
    request: CreateOrderRequest,
    idempotency: Option<IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Changed, AppError>
where
    S: OrderStore + CatalogStore + StockStore,
{
    actor.authorize(Action::CreateOrder)?;
    if let Some(done) = replay_if_seen(store, actor, idempotency.as_ref()).await? {
        return Ok(done);
    }
    let tenant = &actor.tenant_id;
    let request = request.validated()?;
    let skus: Vec<Sku> = request.lines.iter().map(|l| l.sku.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    let catalog: HashMap<Sku, SkuRecord> =
        store.get_skus(tenant, &skus).await?.into_iter().map(|s| (s.sku.clone(), s)).collect();
    let submit = request.submit;
    let mut order = request.into_order(actor, &catalog, now)?;
    let sequence = store.next_order_sequence(tenant, now.date_naive()).await?;
    order.order_number = format!("ORD-{}-{sequence:04}", now.format("%Y%m%d"));

    let created = EventEnvelope::new(tenant.clone(), now, DomainEvent::OrderCreated { order: Box::new(order.clone()) });
    let mut write = OrderWrite {
        history: vec![order.creation_record(actor)],
        outbox: vec![OutboxMessage::Event(created)],
        order,
        expected_version: None,
        idempotency: None,
    };
    if submit {
        let change = write.order.submit(actor, now)?;
        write.outbox.extend(effects::after_submit(&write.order, &change, now));
        write.history.push(change);
    }
    commit(store, actor, idempotency.as_ref(), write, &[], now).await
}

fn optional_text(field: &str, value: Option<String>, max: usize) -> Result<Option<String>, AppError> {
    value.map(|v| non_empty_text(field, v, max)).transpose()
}

fn price(field: &str, value: Decimal) -> Result<Decimal, AppError> {
    if value < Decimal::ZERO || value.normalize().scale() > MAX_PRICE_SCALE {
        return Err(AppError::invalid(field, format!("{field} must be >= 0 with at most {MAX_PRICE_SCALE} decimals")));
    }
    Ok(value.normalize())
}

impl CreateOrderRequest {
    /// Checks everything that needs no lookup; text fields come back trimmed.
    fn validated(mut self) -> Result<Self, AppError> {
        let c = &mut self.customer;
        c.id = non_empty_text("customer.id", std::mem::take(&mut c.id), 64)?;
        c.name = non_empty_text("customer.name", std::mem::take(&mut c.name), 200)?;
        let a = &mut c.delivery_address;
        a.line1 = non_empty_text("customer.delivery_address.line1", std::mem::take(&mut a.line1), 200)?;
        a.city = non_empty_text("customer.delivery_address.city", std::mem::take(&mut a.city), 100)?;
        a.country = a.country.trim().to_ascii_uppercase();
        if a.country.len() != 2 || !a.country.chars().all(|ch| ch.is_ascii_alphabetic()) {
            return Err(AppError::invalid(
                "customer.delivery_address.country",
                "country must be an ISO 3166-1 alpha-2 code, e.g. VN",
            ));
        }
        match (a.lat, a.lon) {
            (Some(lat), Some(lon)) => {
                crate::inventory::Location { lat, lon }.validate("customer.delivery_address")?;
            }
            (None, None) => {}
            _ => return Err(AppError::invalid("customer.delivery_address.lat", "give both lat and lon, or neither")),
        }
        self.external_reference = optional_text("external_reference", self.external_reference, 100)?;
        self.notes = optional_text("notes", self.notes, 2000)?;
        self.channel = optional_text("channel", self.channel, 64)?;
        self.channel_order_id = optional_text("channel_order_id", self.channel_order_id, 128)?;
        if self.channel.is_some() != self.channel_order_id.is_some() {
            return Err(AppError::invalid("channel_order_id", "channel and channel_order_id go together"));
        }
        if self.lines.is_empty() || self.lines.len() > MAX_LINES {
            return Err(AppError::invalid("lines", format!("an order needs 1 to {MAX_LINES} lines")));
        }
        for (i, line) in self.lines.iter_mut().enumerate() {
            let at = |e: AppError| e.within(&format!("lines[{i}]"));
            line.quantity = positive_quantity("quantity", line.quantity).map_err(at)?;
            line.quoted_unit_price =
                line.quoted_unit_price.map(|p| price("quoted_unit_price", p)).transpose().map_err(at)?;
            line.shipping_unit_cost =
                line.shipping_unit_cost.map(|p| price("shipping_unit_cost", p)).transpose().map_err(at)?;
            line.unit = line.unit.as_deref().map(|u| parse_unit("unit", u)).transpose().map_err(at)?;
        }
        self.discount = price("discount", self.discount)?;
        if self.discount.normalize().scale() > self.currency.minor_units() {
            return Err(AppError::invalid(
                "discount",
                format!("discount has more decimals than {} allows", self.currency),
            ));
        }
        Ok(self)
    }

    /// Builds the priced DRAFT order, checking each line against the catalog.
    fn into_order(
        self,
        actor: &Actor,
        catalog: &HashMap<Sku, SkuRecord>,
        now: DateTime<Utc>,
    ) -> Result<Order, AppError> {
        let mut lines = Vec::with_capacity(self.lines.len());
        for (i, line) in self.lines.into_iter().enumerate() {
            let at = |e: AppError| e.within(&format!("lines[{i}]"));
            let sku = catalog
                .get(&line.sku)
                .ok_or_else(|| AppError::invalid_with_code("unknown_sku", "sku", format!("unknown SKU {}", line.sku)))
                .map_err(at)?;
            if sku.currency != self.currency {
                return Err(at(AppError::invalid_with_code(
                    "currency_mismatch",
                    "sku",
                    format!("SKU {} is priced in {}, the order is in {}", sku.sku, sku.currency, self.currency),
                )));
            }
            if let Some(unit) = &line.unit
                && unit != &sku.unit
            {
                return Err(at(AppError::invalid(
                    "unit",
                    format!("SKU {} is sold in {}, not {unit}", sku.sku, sku.unit),
                )));
            }
            lines.push(OrderLine {
                line_id: LineId::for_position(i),
                sku: sku.sku.clone(),
                name: sku.name.clone(),
                quantity: line.quantity,
                unit: sku.unit.clone(),
                quoted_unit_price: line.quoted_unit_price.unwrap_or(sku.list_price),
                list_unit_price: sku.list_price,
                approved_unit_price: None,
                shipping_unit_cost: line.shipping_unit_cost.unwrap_or_default(),
                tax_rate: sku.tax_rate,
                allocations: Vec::new(),
                allocated: Decimal::ZERO,
                backordered: Decimal::ZERO,
                picked: Decimal::ZERO,
                packed: Decimal::ZERO,
                shipped: Decimal::ZERO,
                delivered: Decimal::ZERO,
                returned: Decimal::ZERO,
                cancelled: Decimal::ZERO,
                totals: LineTotals::default(),
            });
        }
        let mut order = Order {
            tenant_id: actor.tenant_id.clone(),
            order_id: OrderId::generate(),
            order_number: String::new(),
            status: OrderStatus::Draft,
            version: 1,
            customer: self.customer,
            currency: self.currency,
            fulfillment_policy: self.fulfillment_policy,
            allocation: self.allocation,
            external_reference: self.external_reference,
            channel: self.channel,
            channel_order_id: self.channel_order_id,
            notes: self.notes,
            discount: self.discount,
            lines,
            on_hold: false,
            holds: vec![],
            price_approval: None,
            totals: Default::default(),
            created_by: actor.sub.clone(),
            created_at: now,
            updated_at: now,
        };
        order.reprice();
        if order.totals.grand_total < Decimal::ZERO {
            return Err(AppError::invalid("discount", "discount is larger than the order total"));
        }
        Ok(order)
    }
}
