//! `POST /v1/orders`: validate, price, persist, and (with `"submit": true`) submit in the same
//! write. The validation pieces here are shared with `PATCH /orders/{id}`.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::catalog::{Location, SkuRecord};
use crate::kernel::access::{Action, Actor};
use crate::kernel::error::{AppError, InvalidCode};
use crate::kernel::ids::{LineId, OrderId, Sku, TenantId};
use crate::kernel::money::Currency;
use crate::kernel::quantity::positive_quantity;
use crate::kernel::text::{non_empty_text, parse_unit};
use crate::order::pricing::LineTotals;
use crate::order::status::OrderStatus;
use crate::order::{Address, AllocationMode, Contact, Customer, FulfillmentPolicy, Order, OrderLine};
use crate::ports::{CatalogStore, Counter, OrderStore, StockStore};
use crate::usecases::unit_of_work::{Changed, IdempotencyKey, commit, replay_if_seen};

pub use crate::kernel::limits::MAX_LINES;
use crate::kernel::limits::{MAX_DISCOUNT, MAX_UNIT_PRICE};

/// Most decimal places of a unit price (finer than the currency's minor unit, e.g. per-KG
/// prices; line totals are rounded).
const MAX_PRICE_SCALE: u32 = 6;

/// The body of `POST /orders`.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// One line of `POST /orders` (and of `PATCH`'s `lines`).
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
pub async fn create_order<S: OrderStore + CatalogStore + StockStore>(
    store: &S,
    actor: &Actor,
    request: CreateOrderRequest,
    idempotency: Option<IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Changed, AppError> {
    actor.authorize(Action::CreateOrder)?;
    if let Some(done) = replay_if_seen(store, actor, idempotency.as_ref()).await? {
        return Ok(done);
    }
    let tenant = &actor.tenant_id;
    let request = request.validated()?;
    let catalog = catalog_for(store, tenant, &request.lines).await?;
    let submit = request.submit;
    let mut order = request.into_order(actor, &catalog, now)?;
    order.order_number = store.next_number(Counter::Orders(tenant), now.date_naive()).await?;

    let mut change = order.created(actor);
    if submit {
        change = change.and(order.submit(actor, now)?);
    }
    commit(store, actor, idempotency.as_ref(), order, None, change, now).await
}

/// The catalog entries of the SKUs the lines name.
pub(crate) async fn catalog_for<S: CatalogStore>(
    store: &S,
    tenant: &TenantId,
    lines: &[LineRequest],
) -> Result<HashMap<Sku, SkuRecord>, AppError> {
    let skus: Vec<Sku> = lines.iter().map(|l| l.sku.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    Ok(store.get_skus(tenant, &skus).await?.into_iter().map(|s| (s.sku.clone(), s)).collect())
}

/// Trimmed text, or none.
pub(crate) fn optional_text(field: &str, value: Option<String>, max: usize) -> Result<Option<String>, AppError> {
    value.map(|v| non_empty_text(field, v, max)).transpose()
}

/// A unit price or cost: not negative, at most [`MAX_UNIT_PRICE`], at most six decimals.
pub(crate) fn price(field: &str, value: Decimal) -> Result<Decimal, AppError> {
    amount(field, value, MAX_UNIT_PRICE)
}

fn amount(field: &str, value: Decimal, max: Decimal) -> Result<Decimal, AppError> {
    if value < Decimal::ZERO || value > max || value.normalize().scale() > MAX_PRICE_SCALE {
        return Err(AppError::invalid(
            field,
            format!("{field} must be 0 to {max} with at most {MAX_PRICE_SCALE} decimals"),
        ));
    }
    Ok(value.normalize())
}

/// An order-level discount in the order's currency.
pub(crate) fn discount(value: Decimal, currency: Currency) -> Result<Decimal, AppError> {
    let value = amount("discount", value, MAX_DISCOUNT)?;
    if value.scale() > currency.minor_units() {
        return Err(AppError::invalid("discount", format!("discount has more decimals than {currency} allows")));
    }
    Ok(value)
}

/// A delivery address, trimmed and checked (`field` is its JSON path).
pub(crate) fn validated_address(mut a: Address, field: &str) -> Result<Address, AppError> {
    a.line1 = non_empty_text(&format!("{field}.line1"), a.line1, 200)?;
    a.city = non_empty_text(&format!("{field}.city"), a.city, 100)?;
    a.line2 = optional_text(&format!("{field}.line2"), a.line2, 200)?;
    a.region = optional_text(&format!("{field}.region"), a.region, 100)?;
    a.postal_code = optional_text(&format!("{field}.postal_code"), a.postal_code, 20)?;
    a.country = a.country.trim().to_ascii_uppercase();
    if a.country.len() != 2 || !a.country.chars().all(|ch| ch.is_ascii_alphabetic()) {
        return Err(AppError::invalid(
            format!("{field}.country"),
            "country must be an ISO 3166-1 alpha-2 code, e.g. VN",
        ));
    }
    match (a.lat, a.lon) {
        (Some(lat), Some(lon)) => {
            Location { lat, lon }.validate(field)?;
        }
        (None, None) => {}
        _ => return Err(AppError::invalid(format!("{field}.lat"), "give both lat and lon, or neither")),
    }
    Ok(a)
}

/// A delivery contact, trimmed.
pub(crate) fn validated_contact(c: Contact, field: &str) -> Result<Contact, AppError> {
    Ok(Contact {
        name: optional_text(&format!("{field}.name"), c.name, 200)?,
        phone: optional_text(&format!("{field}.phone"), c.phone, 40)?,
        email: optional_text(&format!("{field}.email"), c.email, 200)?,
    })
}

/// Checks the shape of requested lines (no lookups).
pub(crate) fn validated_lines(mut lines: Vec<LineRequest>) -> Result<Vec<LineRequest>, AppError> {
    if lines.is_empty() || lines.len() > MAX_LINES {
        return Err(AppError::invalid("lines", format!("an order needs 1 to {MAX_LINES} lines")));
    }
    for (i, line) in lines.iter_mut().enumerate() {
        let at = |e: AppError| e.within(&format!("lines[{i}]"));
        line.quantity = positive_quantity("quantity", line.quantity).map_err(at)?;
        line.quoted_unit_price =
            line.quoted_unit_price.map(|p| price("quoted_unit_price", p)).transpose().map_err(at)?;
        line.shipping_unit_cost =
            line.shipping_unit_cost.map(|p| price("shipping_unit_cost", p)).transpose().map_err(at)?;
        line.unit = line.unit.as_deref().map(|u| parse_unit("unit", u)).transpose().map_err(at)?;
    }
    Ok(lines)
}

/// Order lines from requested lines, checked against the catalog: the SKU exists, is priced in
/// the order's currency and sold in the requested unit. List price and tax rate are the SKU's
/// now; the quote defaults to the list price.
pub(crate) fn build_lines(
    lines: Vec<LineRequest>,
    currency: Currency,
    catalog: &HashMap<Sku, SkuRecord>,
) -> Result<Vec<OrderLine>, AppError> {
    let mut built = Vec::with_capacity(lines.len());
    for (i, line) in lines.into_iter().enumerate() {
        let at = |e: AppError| e.within(&format!("lines[{i}]"));
        let sku = catalog
            .get(&line.sku)
            .ok_or_else(|| {
                AppError::invalid_with_code(InvalidCode::UnknownSku, "sku", format!("unknown SKU {}", line.sku))
            })
            .map_err(at)?;
        if sku.currency != currency {
            return Err(at(AppError::invalid_with_code(
                InvalidCode::CurrencyMismatch,
                "sku",
                format!("SKU {} is priced in {}, the order is in {currency}", sku.sku, sku.currency),
            )));
        }
        if let Some(unit) = &line.unit
            && unit != &sku.unit
        {
            return Err(at(AppError::invalid("unit", format!("SKU {} is sold in {}, not {unit}", sku.sku, sku.unit))));
        }
        built.push(OrderLine {
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
    Ok(built)
}

impl CreateOrderRequest {
    /// Checks everything that needs no lookup; text fields come back trimmed. Pure: public so
    /// the create path can be benchmarked without a store (`benches/hot_paths.rs`).
    pub fn validated(mut self) -> Result<Self, AppError> {
        let c = self.customer;
        self.customer = Customer {
            id: non_empty_text("customer.id", c.id, 64)?,
            name: non_empty_text("customer.name", c.name, 200)?,
            delivery_address: validated_address(c.delivery_address, "customer.delivery_address")?,
            contact: validated_contact(c.contact, "customer.contact")?,
        };
        self.external_reference = optional_text("external_reference", self.external_reference, 100)?;
        self.notes = optional_text("notes", self.notes, 2000)?;
        self.channel = optional_text("channel", self.channel, 64)?;
        self.channel_order_id = optional_text("channel_order_id", self.channel_order_id, 128)?;
        if self.channel.is_some() != self.channel_order_id.is_some() {
            return Err(AppError::invalid("channel_order_id", "channel and channel_order_id go together"));
        }
        self.lines = validated_lines(self.lines)?;
        self.discount = discount(self.discount, self.currency)?;
        Ok(self)
    }

    /// Builds the priced DRAFT order from a [`validated`](Self::validated) request and the
    /// catalog entries of its SKUs (lines checked against the catalog, then priced). Pure, no
    /// order number yet: public for the same reason as `validated`.
    pub fn into_order(
        self,
        actor: &Actor,
        catalog: &HashMap<Sku, SkuRecord>,
        now: DateTime<Utc>,
    ) -> Result<Order, AppError> {
        let mut order = Order {
            tenant_id: actor.tenant_id.clone(),
            order_id: OrderId::generate(),
            order_number: String::new(),
            status: OrderStatus::Draft,
            version: 1,
            lines: build_lines(self.lines, self.currency, catalog)?,
            customer: self.customer,
            currency: self.currency,
            fulfillment_policy: self.fulfillment_policy,
            allocation: self.allocation,
            external_reference: self.external_reference,
            channel: self.channel,
            channel_order_id: self.channel_order_id,
            notes: self.notes,
            discount: self.discount,
            on_hold: false,
            holds: vec![],
            price_approval: None,
            allocated_at: None,
            fulfillment_requests: vec![],
            shipments: vec![],
            returns: vec![],
            totals: Default::default(),
            created_by: actor.sub.clone(),
            created_at: now,
            updated_at: now,
        };
        order.reprice()?;
        Ok(order)
    }
}
