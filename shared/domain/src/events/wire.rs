//! What an event's `detail` carries, written for the wire: every published event is made of
//! identifiers, `Currency`, `OrderStatus`/`ShipmentStatus` (the product's vocabulary, the same
//! strings in the API and in SPEC.md) and the structs below — never a domain struct itself.
//!
//! Invariants:
//! - Each struct here is the JSON a consumer reads, field by field, and is built from the domain
//!   type by one `From`: renaming or reshaping an internal struct stops at that `From` instead of
//!   silently changing an event. Enums match exhaustively for the same reason.
//! - The JSON Schemas in `events/schemas/oms/` are the published contract. A test
//!   (`events::schema_tests`) builds an event of every `detail_type()` and validates it against
//!   its schema, so a change here that breaks a schema fails `cargo test`.
//! - Fields are only added (consumers tolerate unknown fields); removing, renaming or retyping
//!   one breaks consumers and must change the schema and its version of the contract with it.
//! - They deserialize too: the outbox relay reads the events back from the table stream.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::kernel::ids::{HubId, LineId, Sku};
use crate::kernel::money::Currency;
use crate::order::shipment::ShipmentStatus;

/// The customer as ordered (a snapshot taken with the order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    /// The customer's id in the CRM.
    pub id: String,
    /// Name.
    pub name: String,
    /// Delivery address.
    pub delivery_address: Address,
    /// Delivery contact.
    pub contact: Contact,
}

impl From<&crate::order::Customer> for Customer {
    fn from(c: &crate::order::Customer) -> Self {
        Self {
            id: c.id.clone(),
            name: c.name.clone(),
            delivery_address: (&c.delivery_address).into(),
            contact: (&c.contact).into(),
        }
    }
}

/// Where goods go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// Latitude, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    /// Longitude, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
}

impl From<&crate::order::Address> for Address {
    fn from(a: &crate::order::Address) -> Self {
        Self {
            line1: a.line1.clone(),
            line2: a.line2.clone(),
            city: a.city.clone(),
            region: a.region.clone(),
            postal_code: a.postal_code.clone(),
            country: a.country.clone(),
            lat: a.lat,
            lon: a.lon,
        }
    }
}

/// Who to call about the delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

impl From<&crate::order::Contact> for Contact {
    fn from(c: &crate::order::Contact) -> Self {
        Self { name: c.name.clone(), phone: c.phone.clone(), email: c.email.clone() }
    }
}

/// An order's money, rounded to the currency's minor unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderTotals {
    /// Sum of line products.
    pub products: Decimal,
    /// Sum of line shipping.
    pub shipping: Decimal,
    /// Sum of line tax.
    pub tax: Decimal,
    /// Order-level discount.
    pub discount: Decimal,
    /// What the customer pays: products + shipping + tax - discount.
    pub grand_total: Decimal,
}

impl From<&crate::order::pricing::OrderTotals> for OrderTotals {
    fn from(t: &crate::order::pricing::OrderTotals) -> Self {
        Self {
            products: t.products,
            shipping: t.shipping,
            tax: t.tax,
            discount: t.discount,
            grand_total: t.grand_total,
        }
    }
}

/// A line's money, rounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineTotals {
    /// Unit price x quantity.
    pub products: Decimal,
    /// Shipping unit cost x quantity.
    pub shipping: Decimal,
    /// Products + shipping, before tax.
    pub net: Decimal,
    /// Tax on `net`.
    pub tax: Decimal,
    /// `net + tax`.
    pub gross: Decimal,
}

impl From<&crate::order::pricing::LineTotals> for LineTotals {
    fn from(t: &crate::order::pricing::LineTotals) -> Self {
        Self { products: t.products, shipping: t.shipping, net: t.net, tax: t.tax, gross: t.gross }
    }
}

/// A line as `OrderCreated` tells it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderedLine {
    /// The line.
    pub line_id: LineId,
    /// Its SKU.
    pub sku: Sku,
    /// Ordered quantity.
    pub quantity: Decimal,
    /// Unit of measure.
    pub unit: String,
    /// The price that applies per unit (approved, else quoted).
    pub unit_price: Decimal,
    /// What the line costs the customer, tax included.
    pub gross: Decimal,
}

impl From<&crate::order::OrderLine> for OrderedLine {
    fn from(l: &crate::order::OrderLine) -> Self {
        Self {
            line_id: l.line_id.clone(),
            sku: l.sku.clone(),
            quantity: l.quantity,
            unit: l.unit.clone(),
            unit_price: l.unit_price(),
            gross: l.totals.gross,
        }
    }
}

/// A line as accounting invoices it (`OrderCompleted`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceLine {
    /// The line.
    pub line_id: LineId,
    /// Its SKU.
    pub sku: Sku,
    /// The product's name.
    pub name: String,
    /// Unit of measure.
    pub unit: String,
    /// Ordered.
    pub quantity: Decimal,
    /// Delivered.
    pub delivered: Decimal,
    /// Cancelled.
    pub cancelled: Decimal,
    /// The price charged per unit (approved, else quoted).
    pub unit_price: Decimal,
    /// Shipping charged per unit.
    pub shipping_unit_cost: Decimal,
    /// Tax rate applied.
    pub tax_rate: Decimal,
    /// The line's money, rounded.
    pub totals: LineTotals,
}

impl From<&crate::order::OrderLine> for InvoiceLine {
    fn from(line: &crate::order::OrderLine) -> Self {
        Self {
            line_id: line.line_id.clone(),
            sku: line.sku.clone(),
            name: line.name.clone(),
            unit: line.unit.clone(),
            quantity: line.quantity,
            delivered: line.delivered,
            cancelled: line.cancelled,
            unit_price: line.unit_price(),
            shipping_unit_cost: line.shipping_unit_cost,
            tax_rate: line.tax_rate,
            totals: (&line.totals).into(),
        }
    }
}

/// A line waiting for stock (`OrderBackordered`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackorderedLine {
    /// The line.
    pub line_id: LineId,
    /// Its SKU.
    pub sku: Sku,
    /// How much waits.
    pub backordered: Decimal,
}

/// A hold on an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    /// `H1`, `H2`, ... within the order.
    pub hold_id: String,
    /// Why, as a code (`payment_hold`, `fraud`, ...).
    pub code: String,
    /// Why, in words.
    pub reason: String,
    /// Active or released.
    pub status: HoldStatus,
    /// Who placed it (`sub`).
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

impl From<&crate::order::Hold> for Hold {
    fn from(h: &crate::order::Hold) -> Self {
        Self {
            hold_id: h.hold_id.clone(),
            code: h.code.clone(),
            reason: h.reason.clone(),
            status: h.status.into(),
            placed_by: h.placed_by.clone(),
            placed_at: h.placed_at,
            released_by: h.released_by.clone(),
            released_at: h.released_at,
        }
    }
}

/// Whether a hold still applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldStatus {
    /// It stops the order.
    Active,
    /// It no longer applies.
    Released,
}

impl From<crate::order::HoldStatus> for HoldStatus {
    fn from(s: crate::order::HoldStatus) -> Self {
        match s {
            crate::order::HoldStatus::Active => Self::Active,
            crate::order::HoldStatus::Released => Self::Released,
        }
    }
}

/// A request for a sales manager to approve below-list prices or an order-level discount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceApproval {
    /// Who submitted (`sub`).
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

impl From<&crate::order::PriceApproval> for PriceApproval {
    fn from(a: &crate::order::PriceApproval) -> Self {
        Self {
            requested_by: a.requested_by.clone(),
            requested_at: a.requested_at,
            lines: a.lines.iter().map(Into::into).collect(),
            discount: a.discount,
            decision: a.decision.as_ref().map(Into::into),
        }
    }
}

/// A line's quote against its list price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

impl From<&crate::order::PriceComparison> for PriceComparison {
    fn from(c: &crate::order::PriceComparison) -> Self {
        Self {
            line_id: c.line_id.clone(),
            sku: c.sku.clone(),
            list_unit_price: c.list_unit_price,
            quoted_unit_price: c.quoted_unit_price,
            difference: c.difference,
            percent: c.percent,
        }
    }
}

/// A sales manager's answer to a price approval request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceDecision {
    /// Approved or rejected.
    pub approved: bool,
    /// The approver's notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Who decided (`sub`).
    pub decided_by: String,
    /// When.
    pub decided_at: DateTime<Utc>,
}

impl From<&crate::order::PriceDecision> for PriceDecision {
    fn from(d: &crate::order::PriceDecision) -> Self {
        Self {
            approved: d.approved,
            notes: d.notes.clone(),
            decided_by: d.decided_by.clone(),
            decided_at: d.decided_at,
        }
    }
}

/// A change of stock at one hub for one SKU (`OrderCancelled`'s releases).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockMove {
    /// The hub.
    pub hub_id: HubId,
    /// The SKU.
    pub sku: Sku,
    /// How much: positive reserves, negative gives back.
    pub quantity: Decimal,
    /// What moves; absent for a reservation.
    #[serde(default, skip_serializing_if = "MoveKind::is_reservation")]
    pub kind: MoveKind,
}

impl From<&crate::stock::StockMove> for StockMove {
    fn from(m: &crate::stock::StockMove) -> Self {
        Self { hub_id: m.hub_id.clone(), sku: m.sku.clone(), quantity: m.quantity, kind: m.kind.into() }
    }
}

/// What a stock move changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MoveKind {
    /// Only the reservation.
    #[default]
    Reservation,
    /// Goods with their reservation.
    Shipment,
    /// Goods received into free stock.
    Receipt,
}

impl MoveKind {
    fn is_reservation(&self) -> bool {
        *self == Self::Reservation
    }
}

impl From<crate::stock::MoveKind> for MoveKind {
    fn from(k: crate::stock::MoveKind) -> Self {
        match k {
            crate::stock::MoveKind::Reservation => Self::Reservation,
            crate::stock::MoveKind::Shipment => Self::Shipment,
            crate::stock::MoveKind::Receipt => Self::Receipt,
        }
    }
}

/// Stock reserved for a line at a hub (`StockReserved`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    /// The order line.
    pub line_id: LineId,
    /// Its SKU.
    pub sku: Sku,
    /// Where.
    pub hub_id: HubId,
    /// How much.
    pub quantity: Decimal,
}

impl From<&crate::routing::PlannedReservation> for Reservation {
    fn from(r: &crate::routing::PlannedReservation) -> Self {
        Self { line_id: r.line_id.clone(), sku: r.sku.clone(), hub_id: r.hub_id.clone(), quantity: r.quantity }
    }
}

/// What a warehouse picks for one order line (`FulfillmentRequested`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FulfillmentLine {
    /// The order line.
    pub order_line_id: LineId,
    /// Its SKU.
    pub sku: Sku,
    /// Unit of measure.
    pub unit: String,
    /// Quantity to pick.
    pub quantity: Decimal,
    /// Picked so far; absent when none.
    #[serde(default, skip_serializing_if = "Decimal::is_zero")]
    pub picked: Decimal,
    /// Packed so far; absent when none.
    #[serde(default, skip_serializing_if = "Decimal::is_zero")]
    pub packed: Decimal,
    /// Shipped so far; absent when none.
    #[serde(default, skip_serializing_if = "Decimal::is_zero")]
    pub shipped: Decimal,
}

impl From<&crate::order::fulfillment::FulfillmentLine> for FulfillmentLine {
    fn from(l: &crate::order::fulfillment::FulfillmentLine) -> Self {
        Self {
            order_line_id: l.order_line_id.clone(),
            sku: l.sku.clone(),
            unit: l.unit.clone(),
            quantity: l.quantity,
            picked: l.picked,
            packed: l.packed,
            shipped: l.shipped,
        }
    }
}

/// Goods on their way to the customer (`ShipmentCreated`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    /// `SHP-YYYYMMDD-NNNN`.
    pub shipment_id: String,
    /// Own transport or a carrier.
    #[serde(rename = "type")]
    pub shipment_type: ShipmentType,
    /// Where it is.
    pub status: ShipmentStatus,
    /// The carrier's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    /// The carrier's tracking number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    /// The TMS's id for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tms_order_id: Option<String>,
    /// The warehouse request it completes, when the warehouse shipped it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fulfillment_request_id: Option<String>,
    /// What it carries.
    pub lines: Vec<ShipmentLine>,
    /// How it is packed; absent when unknown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<Package>,
    /// Status reports that moved it, oldest first.
    #[serde(default)]
    pub tracking: Vec<TrackingEvent>,
    /// Who made it (`sub`).
    pub created_by: String,
    /// When it left.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<&crate::order::shipment::Shipment> for Shipment {
    fn from(s: &crate::order::shipment::Shipment) -> Self {
        Self {
            shipment_id: s.shipment_id.clone(),
            shipment_type: s.shipment_type.into(),
            status: s.status,
            carrier: s.carrier.clone(),
            tracking_number: s.tracking_number.clone(),
            tms_order_id: s.tms_order_id.clone(),
            fulfillment_request_id: s.fulfillment_request_id.clone(),
            lines: s.lines.iter().map(Into::into).collect(),
            packages: s.packages.iter().map(Into::into).collect(),
            tracking: s.tracking.iter().map(Into::into).collect(),
            created_by: s.created_by.clone(),
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// Who carries a shipment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ShipmentType {
    /// The tenant's own transport.
    Internal,
    /// A third-party carrier.
    External,
}

impl From<crate::order::shipment::ShipmentType> for ShipmentType {
    fn from(t: crate::order::shipment::ShipmentType) -> Self {
        match t {
            crate::order::shipment::ShipmentType::Internal => Self::Internal,
            crate::order::shipment::ShipmentType::External => Self::External,
        }
    }
}

/// What a shipment carries of one order line, from one hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipmentLine {
    /// The order line.
    pub order_line_id: LineId,
    /// Its SKU.
    pub sku: Sku,
    /// Unit of measure.
    pub unit: String,
    /// The hub it left.
    pub hub_id: HubId,
    /// How much.
    pub quantity: Decimal,
}

impl From<&crate::order::shipment::ShipmentLine> for ShipmentLine {
    fn from(l: &crate::order::shipment::ShipmentLine) -> Self {
        Self {
            order_line_id: l.order_line_id.clone(),
            sku: l.sku.clone(),
            unit: l.unit.clone(),
            hub_id: l.hub_id.clone(),
            quantity: l.quantity,
        }
    }
}

/// A package as the warehouse packed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    /// The warehouse's package number.
    pub package_number: String,
    /// Gross weight in kilograms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_kg: Option<Decimal>,
    /// Outer dimensions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions_cm: Option<Dimensions>,
    /// The carrier's tracking number of this package.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    /// Where the shipping label is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_url: Option<String>,
}

impl From<&crate::order::shipment::Package> for Package {
    fn from(p: &crate::order::shipment::Package) -> Self {
        Self {
            package_number: p.package_number.clone(),
            weight_kg: p.weight_kg,
            dimensions_cm: p.dimensions_cm.as_ref().map(|d| Dimensions {
                length: d.length,
                width: d.width,
                height: d.height,
            }),
            tracking_number: p.tracking_number.clone(),
            label_url: p.label_url.clone(),
        }
    }
}

/// A package's outer dimensions, in centimetres.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dimensions {
    /// Length.
    pub length: Decimal,
    /// Width.
    pub width: Decimal,
    /// Height.
    pub height: Decimal,
}

/// One status report that moved a shipment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackingEvent {
    /// The status reported.
    pub status: ShipmentStatus,
    /// When it happened, by the reporter's clock.
    pub occurred_at: DateTime<Utc>,
    /// The reporter's event id (carrier callbacks), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// Who reported it (`sub`).
    pub reported_by: String,
    /// When the OMS recorded it.
    pub recorded_at: DateTime<Utc>,
}

impl From<&crate::order::shipment::TrackingEvent> for TrackingEvent {
    fn from(t: &crate::order::shipment::TrackingEvent) -> Self {
        Self {
            status: t.status,
            occurred_at: t.occurred_at,
            event_id: t.event_id.clone(),
            reported_by: t.reported_by.clone(),
            recorded_at: t.recorded_at,
        }
    }
}

/// One line of a return (`ReturnApproved`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnLine {
    /// The order line.
    pub order_line_id: LineId,
    /// Its SKU.
    pub sku: Sku,
    /// Unit of measure.
    pub unit: String,
    /// The hub the goods go back to.
    pub hub_id: HubId,
    /// Asked to return.
    pub quantity: Decimal,
    /// Why.
    pub reason: String,
    /// Received by the warehouse.
    #[serde(default)]
    pub received: Decimal,
    /// Accepted at inspection.
    #[serde(default)]
    pub accepted: Decimal,
    /// Rejected at inspection.
    #[serde(default)]
    pub rejected: Decimal,
    /// What the warehouse did with the goods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disposition: Option<Disposition>,
}

impl From<&crate::order::returns::ReturnLine> for ReturnLine {
    fn from(l: &crate::order::returns::ReturnLine) -> Self {
        Self {
            order_line_id: l.order_line_id.clone(),
            sku: l.sku.clone(),
            unit: l.unit.clone(),
            hub_id: l.hub_id.clone(),
            quantity: l.quantity,
            reason: l.reason.clone(),
            received: l.received,
            accepted: l.accepted,
            rejected: l.rejected,
            disposition: l.disposition.map(Into::into),
        }
    }
}

/// What happened to returned goods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// Back into sellable stock.
    Restock,
    /// Thrown away.
    Dispose,
    /// Sent for repair.
    Repair,
}

impl From<crate::order::returns::Disposition> for Disposition {
    fn from(d: crate::order::returns::Disposition) -> Self {
        match d {
            crate::order::returns::Disposition::Restock => Self::Restock,
            crate::order::returns::Disposition::Dispose => Self::Dispose,
            crate::order::returns::Disposition::Repair => Self::Repair,
        }
    }
}

/// The money a return gives back: a credit memo (`RefundRequested`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    /// Currency.
    pub currency: Currency,
    /// Per line.
    pub lines: Vec<RefundLine>,
    /// Sum of line nets.
    pub net: Decimal,
    /// Sum of line taxes.
    pub tax: Decimal,
    /// What the customer gets back.
    pub total: Decimal,
    /// When it was asked for.
    pub requested_at: DateTime<Utc>,
    /// The payment's reference, once paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// When it was paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmed_at: Option<DateTime<Utc>>,
}

impl From<&crate::order::returns::Refund> for Refund {
    fn from(r: &crate::order::returns::Refund) -> Self {
        Self {
            currency: r.currency,
            lines: r.lines.iter().map(Into::into).collect(),
            net: r.net,
            tax: r.tax,
            total: r.total,
            requested_at: r.requested_at,
            reference: r.reference.clone(),
            confirmed_at: r.confirmed_at,
        }
    }
}

/// A refund line: the accepted quantity at the charged price, with its tax.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundLine {
    /// The order line.
    pub order_line_id: LineId,
    /// Its SKU.
    pub sku: Sku,
    /// Refunded quantity.
    pub quantity: Decimal,
    /// The price charged per unit.
    pub unit_price: Decimal,
    /// The tax rate charged.
    pub tax_rate: Decimal,
    /// `quantity × unit_price`, rounded.
    pub net: Decimal,
    /// Tax on `net`, rounded.
    pub tax: Decimal,
    /// `net + tax`.
    pub gross: Decimal,
}

impl From<&crate::order::returns::RefundLine> for RefundLine {
    fn from(l: &crate::order::returns::RefundLine) -> Self {
        Self {
            order_line_id: l.order_line_id.clone(),
            sku: l.sku.clone(),
            quantity: l.quantity,
            unit_price: l.unit_price,
            tax_rate: l.tax_rate,
            net: l.net,
            tax: l.tax,
            gross: l.gross,
        }
    }
}
