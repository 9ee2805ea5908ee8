//! The order aggregate: customer snapshot, lines with their running quantities, holds, totals,
//! and the status changes it records. Its fields are the crate's; every change goes through a
//! command, one file each named for it (`cancel.rs`, `submit.rs`, ...), which checks the rules
//! and returns the [`Change`] to commit beside the new state: the history it recorded and the
//! events it emits. What a command does and says is read in its file, with its given/when/then
//! tests (`order::testing`) beside it.

mod allocate_line;
mod cancel;
pub mod change;
mod confirm_allocation;
mod create;
mod decide_price;
mod edit;
pub mod fulfillment;
mod place_hold;
pub mod pricing;
mod release_hold;
mod request_fulfillment;
pub mod returns;
pub mod shipment;
pub mod status;
mod submit;
#[cfg(any(test, feature = "memory"))]
pub mod testing;

pub use change::Change;
pub use edit::OrderEdit;

// Commands of the fulfillment, shipping, returns and placement steps, one file each.
mod close_return;
mod confirm_refund;
mod decide_return;
mod expire_reservation;
mod placement_failed;
mod receive_return;
mod record_warehouse_report;
mod replace_backorders;
mod report_shipment;
mod request_return;
mod reserve;
mod ship;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::kernel::access::{Actor, Role};
use crate::kernel::error::{AppError, ConflictCode};
use crate::kernel::ids::{HubId, LineId, OrderId, Sku, TenantId};
use crate::kernel::money::Currency;
use crate::order::pricing::{LineTotals, OrderTotals, PriceInputs, order_totals, price_line};
use crate::order::status::OrderStatus;
use crate::stock::StockMove;

/// How an order may be split and shipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FulfillmentPolicy {
    /// Ship only when everything can ship, from one hub; reserve nothing until then.
    ShipComplete,
    /// Ship what is available now; the rest is backordered.
    #[default]
    ShipPartial,
    /// Hold what is available and wait for the rest before shipping.
    Backorder,
}

/// Who reserves stock for the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AllocationMode {
    /// The placement workflow, on submit.
    #[default]
    Auto,
    /// An admin, line by line, from chosen hubs.
    Manual,
}

/// Where the order goes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Address {
    /// Street and number.
    pub line1: String,
    /// More street detail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    /// City.
    pub city: String,
    /// Province, state or region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
    /// Latitude, when known: used to route to the nearest hub.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    /// Longitude, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
}

/// Who to call about the delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// Contact name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// The customer as they were when the order was taken (a snapshot, not a reference).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Customer {
    /// The customer's id in the CRM.
    pub id: String,
    /// Name.
    pub name: String,
    /// Delivery address.
    pub delivery_address: Address,
    /// Delivery contact.
    #[serde(default)]
    pub contact: Contact,
}

/// Stock reserved for a line at one hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Allocation {
    /// The hub holding the reservation.
    pub hub_id: HubId,
    /// Reserved quantity.
    pub quantity: Decimal,
}

/// One product line of an order, with its running quantities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderLine {
    /// Unique within the order.
    pub line_id: LineId,
    /// The product.
    pub sku: Sku,
    /// The product's name when ordered.
    pub name: String,
    /// Ordered quantity (> 0, at most 3 decimals).
    pub quantity: Decimal,
    /// Unit of measure.
    pub unit: String,
    /// The price the salesperson quoted.
    pub quoted_unit_price: Decimal,
    /// The SKU's list price when the line was created.
    pub list_unit_price: Decimal,
    /// Set when a sales manager approves a below-list price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_unit_price: Option<Decimal>,
    /// Shipping cost per unit.
    pub shipping_unit_cost: Decimal,
    /// The SKU's tax rate when the line was created.
    pub tax_rate: Decimal,
    /// Reservations by hub.
    #[serde(default)]
    pub allocations: Vec<Allocation>,
    /// Sum of `allocations`.
    pub allocated: Decimal,
    /// Waiting for stock.
    pub backordered: Decimal,
    /// Picked by the warehouse.
    pub picked: Decimal,
    /// Packed by the warehouse.
    pub packed: Decimal,
    /// Shipped.
    pub shipped: Decimal,
    /// Delivered to the customer.
    pub delivered: Decimal,
    /// Returned by the customer.
    pub returned: Decimal,
    /// Cancelled.
    pub cancelled: Decimal,
    /// The line's money.
    pub totals: LineTotals,
}

impl OrderLine {
    /// The price that applies: approved, else quoted.
    pub fn unit_price(&self) -> Decimal {
        self.approved_unit_price.unwrap_or(self.quoted_unit_price)
    }

    /// Whether the quote is under list price and needs a sales manager's approval.
    pub fn below_list_price(&self) -> bool {
        self.quoted_unit_price < self.list_unit_price
    }

    /// Quantity neither reserved nor cancelled yet.
    pub fn unallocated(&self) -> Decimal {
        self.quantity - self.allocated - self.cancelled
    }

    fn reprice(&mut self, currency: Currency) -> Result<(), AppError> {
        self.totals = price_line(
            PriceInputs {
                unit_price: self.unit_price(),
                shipping_unit_cost: self.shipping_unit_cost,
                quantity: self.quantity,
                tax_rate: self.tax_rate,
            },
            currency,
        )?;
        Ok(())
    }
}

/// Whether a hold still applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum HoldStatus {
    /// Stops the order from going to a warehouse or shipping.
    Active,
    /// No longer applies.
    Released,
}

/// A hold on an order (`payment_hold`, `fraud`, `manual`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Hold {
    /// `H1`, `H2`, ... within the order.
    pub hold_id: String,
    /// Why, as a code.
    pub code: String,
    /// Why, in words.
    pub reason: String,
    /// Active or released.
    pub status: HoldStatus,
    /// Who placed it.
    pub placed_by: String,
    /// When.
    pub placed_at: DateTime<Utc>,
    /// Who released it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub released_by: Option<String>,
    /// When.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub released_at: Option<DateTime<Utc>>,
}

/// A line whose quote is under list price, as the approver sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PriceComparison {
    /// The line.
    pub line_id: LineId,
    /// Its SKU.
    pub sku: Sku,
    /// The SKU's list price.
    pub list_unit_price: Decimal,
    /// The quote.
    pub quoted_unit_price: Decimal,
    /// quoted - list (negative: a discount).
    pub difference: Decimal,
    /// difference / list x 100, two decimals.
    pub percent: Decimal,
}

/// A sales manager's answer to a price approval request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PriceDecision {
    /// Approved or rejected.
    pub approved: bool,
    /// The approver's notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Who decided.
    pub decided_by: String,
    /// When.
    pub decided_at: DateTime<Utc>,
}

/// A request for a sales manager to approve below-list prices or an order-level discount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PriceApproval {
    /// Who submitted.
    pub requested_by: String,
    /// When.
    pub requested_at: DateTime<Utc>,
    /// The lines under list price.
    pub lines: Vec<PriceComparison>,
    /// The order-level discount to approve, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount: Option<Decimal>,
    /// The answer, once given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<PriceDecision>,
}

/// An order. Its fields are the crate's: only the commands (one file each in this module) change
/// them; other crates read them through the accessors below. Serde reads and writes it whole, as
/// stored and as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Order {
    /// Owner.
    pub(crate) tenant_id: TenantId,
    /// Id (ULID).
    pub(crate) order_id: OrderId,
    /// `ORD-YYYYMMDD-NNNN`, unique per tenant.
    pub(crate) order_number: String,
    /// Lifecycle status.
    pub(crate) status: OrderStatus,
    /// Increments on every change; the optimistic lock.
    pub(crate) version: u64,
    /// Customer snapshot.
    pub(crate) customer: Customer,
    /// Currency of every amount.
    pub(crate) currency: Currency,
    /// How it may be split.
    pub(crate) fulfillment_policy: FulfillmentPolicy,
    /// Who allocates.
    pub(crate) allocation: AllocationMode,
    /// The customer's own reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) external_reference: Option<String>,
    /// The sales channel it came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) channel: Option<String>,
    /// The channel's id for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) channel_order_id: Option<String>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) notes: Option<String>,
    /// Order-level discount amount.
    pub(crate) discount: Decimal,
    /// Product lines.
    pub(crate) lines: Vec<OrderLine>,
    /// Whether an active hold stops it from going to a warehouse.
    pub(crate) on_hold: bool,
    /// Holds, active and released.
    #[serde(default)]
    pub(crate) holds: Vec<Hold>,
    /// The latest price approval request and its decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) price_approval: Option<PriceApproval>,
    /// When stock was last reserved for it (reservations of an order on hold expire).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) allocated_at: Option<DateTime<Utc>>,
    /// Work sent to warehouses, one request per hub.
    #[serde(default)]
    pub(crate) fulfillment_requests: Vec<crate::order::fulfillment::FulfillmentRequest>,
    /// Goods on their way, made by warehouses or dispatchers.
    #[serde(default)]
    pub(crate) shipments: Vec<crate::order::shipment::Shipment>,
    /// Returns (RMAs) of shipped goods.
    #[serde(default)]
    pub(crate) returns: Vec<crate::order::returns::Return>,
    /// Money.
    pub(crate) totals: OrderTotals,
    /// `sub` of the creator (sales see only their own).
    pub(crate) created_by: String,
    /// Created.
    pub(crate) created_at: DateTime<Utc>,
    /// Last change.
    pub(crate) updated_at: DateTime<Utc>,
}

/// Read access for other crates: the fields are the aggregate's, changed only by its commands.
impl Order {
    /// The owner.
    pub fn tenant_id(&self) -> &TenantId {
        &self.tenant_id
    }

    /// The id (ULID).
    pub fn order_id(&self) -> &OrderId {
        &self.order_id
    }

    /// `ORD-YYYYMMDD-NNNN`, unique per tenant.
    pub fn order_number(&self) -> &str {
        &self.order_number
    }

    /// The lifecycle status.
    pub fn status(&self) -> OrderStatus {
        self.status
    }

    /// The optimistic lock: increments on every change.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The customer snapshot.
    pub fn customer(&self) -> &Customer {
        &self.customer
    }

    /// The currency of every amount.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// How it may be split.
    pub fn fulfillment_policy(&self) -> FulfillmentPolicy {
        self.fulfillment_policy
    }

    /// Who allocates.
    pub fn allocation(&self) -> AllocationMode {
        self.allocation
    }

    /// The customer's own reference.
    pub fn external_reference(&self) -> Option<&str> {
        self.external_reference.as_deref()
    }

    /// The sales channel it came from.
    pub fn channel(&self) -> Option<&str> {
        self.channel.as_deref()
    }

    /// The channel's id for it.
    pub fn channel_order_id(&self) -> Option<&str> {
        self.channel_order_id.as_deref()
    }

    /// Free text.
    pub fn notes(&self) -> Option<&str> {
        self.notes.as_deref()
    }

    /// The order-level discount amount.
    pub fn discount(&self) -> Decimal {
        self.discount
    }

    /// The product lines.
    pub fn lines(&self) -> &[OrderLine] {
        &self.lines
    }

    /// Whether an active hold stops it.
    pub fn on_hold(&self) -> bool {
        self.on_hold
    }

    /// Holds, active and released.
    pub fn holds(&self) -> &[Hold] {
        &self.holds
    }

    /// The latest price approval request and its decision.
    pub fn price_approval(&self) -> Option<&PriceApproval> {
        self.price_approval.as_ref()
    }

    /// When stock was last reserved for it.
    pub fn allocated_at(&self) -> Option<DateTime<Utc>> {
        self.allocated_at
    }

    /// Work sent to warehouses, one request per hub.
    pub fn fulfillment_requests(&self) -> &[crate::order::fulfillment::FulfillmentRequest] {
        &self.fulfillment_requests
    }

    /// Goods on their way.
    pub fn shipments(&self) -> &[crate::order::shipment::Shipment] {
        &self.shipments
    }

    /// Returns (RMAs) of shipped goods.
    pub fn returns(&self) -> &[crate::order::returns::Return] {
        &self.returns
    }

    /// The money.
    pub fn totals(&self) -> &OrderTotals {
        &self.totals
    }

    /// `sub` of the creator.
    pub fn created_by(&self) -> &str {
        &self.created_by
    }

    /// When it was created.
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    /// When it last changed.
    pub fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }
}

/// One entry of an order's status history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusChange {
    /// The order.
    pub order_id: OrderId,
    /// Previous status; none when the order was created.
    pub from: Option<OrderStatus>,
    /// New status.
    pub to: OrderStatus,
    /// Why.
    pub reason: String,
    /// Who (`sub`).
    pub actor: String,
    /// With which role.
    pub role: Role,
    /// When.
    pub at: DateTime<Utc>,
    /// The order's version after the change.
    pub version: u64,
}

impl StatusChange {
    /// Versions, counting back from an order's current one, whose status changes its history
    /// keeps; the creation's are kept whatever the order's age. An order's history is bounded
    /// like the rest of it: a store keeps it beside the order (DynamoDB: in the order's item),
    /// and an order changed without end would otherwise outgrow what one item holds. The events
    /// (`OrderStatusChanged`) carry every change to whoever keeps more.
    pub const KEPT_VERSIONS: u64 = 32;

    /// Whether an order now at `version` still keeps this entry in its history.
    pub fn kept_at(&self, version: u64) -> bool {
        self.version == 1 || self.version + Self::KEPT_VERSIONS > version
    }
}

impl Order {
    /// Recomputes every line's and the order's totals; refused when they are too large to
    /// compute or the discount exceeds what the order costs.
    pub fn reprice(&mut self) -> Result<(), AppError> {
        for line in &mut self.lines {
            line.reprice(self.currency)?;
        }
        self.totals = order_totals(self.lines.iter().map(|l| &l.totals), self.discount, self.currency)?;
        if self.totals.grand_total < Decimal::ZERO {
            return Err(AppError::invalid("discount", "discount is larger than the order total"));
        }
        Ok(())
    }

    /// Whether a sales manager must approve the prices: a line quoted under its list price, or
    /// any order-level discount (a discount lowers the price as surely as a low quote does).
    pub fn needs_price_approval(&self) -> bool {
        self.lines.iter().any(OrderLine::below_list_price) || self.discount > Decimal::ZERO
    }

    /// The line with this id.
    pub fn line(&self, line_id: &LineId) -> Option<&OrderLine> {
        self.lines.iter().find(|l| &l.line_id == line_id)
    }

    /// The line with this id, mutably.
    pub fn line_mut(&mut self, line_id: &LineId) -> Option<&mut OrderLine> {
        self.lines.iter_mut().find(|l| &l.line_id == line_id)
    }

    /// Moves to `to` if the lifecycle allows it, bumping the version; returns the history entry.
    pub fn change_status(
        &mut self,
        to: OrderStatus,
        reason: impl Into<String>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<StatusChange, AppError> {
        let from = self.status;
        self.status =
            from.transition_to(to).map_err(|e| AppError::conflict(ConflictCode::InvalidTransition, e.to_string()))?;
        self.touch(now);
        Ok(StatusChange {
            order_id: self.order_id.clone(),
            from: Some(from),
            to,
            reason: reason.into(),
            actor: actor.sub.clone(),
            role: actor.role,
            at: now,
            version: self.version,
        })
    }

    /// Takes every reservation off the lines and returns what to give back to stock.
    pub fn release_allocations(&mut self) -> Vec<StockMove> {
        let mut releases = Vec::new();
        for line in &mut self.lines {
            for allocation in line.allocations.drain(..) {
                releases.push(StockMove::release(allocation.hub_id, line.sku.clone(), allocation.quantity));
            }
            line.allocated = Decimal::ZERO;
        }
        self.allocated_at = None;
        releases
    }

    /// Whether anything has shipped (after which the delivery details are fixed).
    pub fn anything_shipped(&self) -> bool {
        self.lines.iter().any(|l| l.shipped > Decimal::ZERO)
    }

    /// Records a change that is not a status change: bumps the version and the timestamp.
    pub fn touch(&mut self, now: DateTime<Utc>) {
        self.version += 1;
        self.updated_at = now;
    }

    /// Whether placement should run for it now.
    pub fn awaits_automatic_placement(&self) -> bool {
        self.status.awaits_allocation() && self.allocation == AllocationMode::Auto
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    pub(crate) fn sample_order(lines: &[(&str, Decimal, Decimal, Decimal)]) -> Order {
        let now = Utc::now();
        let mut order = Order {
            tenant_id: TenantId::parse("t1").unwrap(),
            order_id: OrderId::generate(),
            order_number: "ORD-20261122-0001".into(),
            status: OrderStatus::Draft,
            version: 1,
            customer: Customer {
                id: "C1".into(),
                name: "ABC".into(),
                delivery_address: Address {
                    line1: "1 Main".into(),
                    line2: None,
                    city: "HCM".into(),
                    region: None,
                    postal_code: None,
                    country: "VN".into(),
                    lat: Some(10.77),
                    lon: Some(106.7),
                },
                contact: Contact::default(),
            },
            currency: Currency::Vnd,
            fulfillment_policy: FulfillmentPolicy::ShipPartial,
            allocation: AllocationMode::Auto,
            external_reference: None,
            channel: None,
            channel_order_id: None,
            notes: None,
            discount: Decimal::ZERO,
            lines: lines
                .iter()
                .enumerate()
                .map(|(i, (sku, qty, quoted, list))| OrderLine {
                    line_id: LineId::for_position(i),
                    sku: Sku::parse(*sku).unwrap(),
                    name: sku.to_string(),
                    quantity: *qty,
                    unit: "KG".into(),
                    quoted_unit_price: *quoted,
                    list_unit_price: *list,
                    approved_unit_price: None,
                    shipping_unit_cost: Decimal::ZERO,
                    tax_rate: dec!(0.10),
                    allocations: vec![],
                    allocated: Decimal::ZERO,
                    backordered: Decimal::ZERO,
                    picked: Decimal::ZERO,
                    packed: Decimal::ZERO,
                    shipped: Decimal::ZERO,
                    delivered: Decimal::ZERO,
                    returned: Decimal::ZERO,
                    cancelled: Decimal::ZERO,
                    totals: LineTotals::default(),
                })
                .collect(),
            on_hold: false,
            holds: vec![],
            price_approval: None,
            fulfillment_requests: vec![],
            shipments: vec![],
            returns: vec![],
            allocated_at: None,
            totals: OrderTotals::default(),
            created_by: "u1".into(),
            created_at: now,
            updated_at: now,
        };
        order.reprice().unwrap();
        order
    }

    #[test]
    fn reprice_uses_the_approved_price_when_there_is_one() {
        let mut order = sample_order(&[("A", dec!(2), dec!(90), dec!(100))]);
        assert_eq!(order.totals.products, dec!(180));
        order.lines[0].approved_unit_price = Some(dec!(95));
        order.reprice().unwrap();
        assert_eq!(
            (order.totals.products, order.totals.tax, order.totals.grand_total),
            (dec!(190), dec!(19), dec!(209))
        );
    }
}
