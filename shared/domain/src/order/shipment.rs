//! Shipments: reserved goods leaving a hub for the customer, and their journey with the carrier.
//!
//! A shipment is made by the warehouse (`ShipCompleted` of a fulfillment request) or by a
//! dispatcher from allocated quantities (B2B trucks: several shipments split one order). Its
//! status only moves forward (`CREATED` → `ASSIGNED` → `IN_TRANSIT` → `DELIVERED`, or
//! `CANCELLED`), so a late or repeated carrier callback changes nothing. The order's line
//! quantities `shipped` and `delivered` are sums over its shipments, and its status follows
//! them forward: `PARTIALLY_SHIPPED`, `SHIPPED`, `IN_TRANSIT`, `DELIVERED`, `COMPLETED`.
//!
//! Shipments live inside the order (an order has a handful), so a shipment, the quantities it
//! moves and the order's status change together, atomically.
//!
//! The commands are in their own files: [`Order::ship`] (`ship.rs`, a dispatcher's shipment or a
//! warehouse's `ShipCompleted`) and [`Order::report_shipment`] (`report_shipment.rs`). Both emit
//! what `shipping_change` says: the shipment's own event, then the order's status changes, then
//! `OrderCompleted` when the order completed.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::events::DomainEvent;
use crate::kernel::access::Actor;
use crate::kernel::error::AppError;
use crate::kernel::ids::{HubId, LineId, Sku};
use crate::kernel::limits::check_external_id;
use crate::kernel::quantity::{non_negative_quantity, positive_quantity};
use crate::order::status::OrderStatus;
use crate::order::{Change, Order, StatusChange};
use crate::stock::StockMove;

/// Who carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ShipmentType {
    /// The tenant's own transport, planned in the TMS.
    Internal,
    /// A third-party carrier with its own tracking number.
    External,
}

/// Where a shipment is on its way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ShipmentStatus {
    /// Left the hub; not yet planned by the carrier.
    Created,
    /// A vehicle or driver is assigned.
    Assigned,
    /// On the road.
    InTransit,
    /// At the customer.
    Delivered,
    /// Will not be delivered: the goods are back at the hub.
    Cancelled,
}

impl ShipmentStatus {
    /// Whether a report of `to` moves a shipment forward from here. Delivered and cancelled
    /// are final; anything else may be cancelled; the rest only moves forward.
    pub fn advances_to(self, to: ShipmentStatus) -> bool {
        use ShipmentStatus::*;
        match (self, to) {
            (Delivered | Cancelled, _) => false,
            (_, Cancelled) => true,
            (from, to) => to.rank() > from.rank(),
        }
    }

    fn rank(self) -> u8 {
        match self {
            Self::Created => 0,
            Self::Assigned => 1,
            Self::InTransit => 2,
            Self::Delivered | Self::Cancelled => 3,
        }
    }

    /// The SPEC name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "CREATED",
            Self::Assigned => "ASSIGNED",
            Self::InTransit => "IN_TRANSIT",
            Self::Delivered => "DELIVERED",
            Self::Cancelled => "CANCELLED",
        }
    }
}

/// Outer dimensions of a package, in centimetres.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Dimensions {
    /// Length.
    pub length: Decimal,
    /// Width.
    pub width: Decimal,
    /// Height.
    pub height: Decimal,
}

/// A package as the warehouse packed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
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

/// Longest label URL accepted.
const MAX_URL: usize = 2048;

impl Package {
    /// Checks what a warehouse sent; `at` is the package's JSON path.
    pub fn validate(&self, at: &str) -> Result<(), AppError> {
        check_external_id(&format!("{at}.package_number"), &self.package_number)?;
        if let Some(tracking) = &self.tracking_number {
            check_external_id(&format!("{at}.tracking_number"), tracking)?;
        }
        if self.label_url.as_ref().is_some_and(|url| url.len() > MAX_URL) {
            return Err(AppError::invalid(format!("{at}.label_url"), format!("label_url is at most {MAX_URL} bytes")));
        }
        if let Some(weight) = self.weight_kg {
            non_negative_quantity(&format!("{at}.weight_kg"), weight)?;
        }
        if let Some(d) = &self.dimensions_cm {
            for (name, value) in [("length", d.length), ("width", d.width), ("height", d.height)] {
                positive_quantity(&format!("{at}.dimensions_cm.{name}"), value)?;
            }
        }
        Ok(())
    }
}

/// What a shipment carries of one order line, from one hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// One status report about a shipment, as received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// Goods on their way to the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Shipment {
    /// `SHP-YYYYMMDD-NNNN`, unique across tenants.
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
    /// The TMS's id for it, once the TMS reports one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tms_order_id: Option<String>,
    /// The warehouse request it completes, when the warehouse shipped it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fulfillment_request_id: Option<String>,
    /// What it carries.
    pub lines: Vec<ShipmentLine>,
    /// How it is packed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<Package>,
    /// Every status report received that moved it, oldest first.
    #[serde(default)]
    pub tracking: Vec<TrackingEvent>,
    /// Who made it (`sub`).
    pub created_by: String,
    /// When it left.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl Shipment {
    /// Whether it still counts as shipped (not cancelled).
    pub fn is_live(&self) -> bool {
        self.status != ShipmentStatus::Cancelled
    }

    /// The stock moves that put a cancelled shipment's goods back at their hubs.
    pub(super) fn return_to_hubs(&self) -> Vec<StockMove> {
        self.lines.iter().map(|l| StockMove::unship(l.hub_id.clone(), l.sku.clone(), l.quantity)).collect()
    }
}

/// A shipment as its own resource: with the order it ships.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderShipment {
    /// The order.
    pub order_id: crate::kernel::ids::OrderId,
    /// Its number.
    pub order_number: String,
    /// Its status.
    pub order_status: OrderStatus,
    /// The shipment.
    #[serde(flatten)]
    pub shipment: Shipment,
}

/// One line of a shipment to make: how much of an order line leaves which hub.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ShipLine {
    /// The order line.
    pub order_line_id: LineId,
    /// How much.
    pub quantity: Decimal,
    /// The hub it leaves.
    pub hub_id: HubId,
}

/// A shipment to make.
#[derive(Debug, Clone)]
pub struct NewShipment {
    /// Its id, from the shipment counter.
    pub shipment_id: String,
    /// Own transport or a carrier.
    pub shipment_type: ShipmentType,
    /// Carrier name.
    pub carrier: Option<String>,
    /// Tracking number.
    pub tracking_number: Option<String>,
    /// The warehouse request it completes.
    pub fulfillment_request_id: Option<String>,
    /// What leaves where.
    pub lines: Vec<ShipLine>,
    /// Packages.
    pub packages: Vec<Package>,
}

/// What a change of a shipment emits and moves: the shipment's own event first, then
/// `OrderStatusChanged` for each status the order followed it to, then `OrderCompleted` (the
/// accounting hand-off) when the order completed. The stock moves are netted per hub and SKU.
pub(super) fn shipping_change(
    order: &Order,
    shipment_event: DomainEvent,
    history: Vec<StatusChange>,
    moves: Vec<StockMove>,
) -> Change {
    let completed = history.iter().any(|c| c.to == OrderStatus::Completed);
    // No placement start: a status a shipment moves the order to never awaits allocation.
    let mut change = Change { moves: StockMove::net(moves), ..Change::default() };
    change.emit(shipment_event);
    for step in history {
        change.status_changed(order, step);
    }
    if completed {
        change.emit(DomainEvent::order_completed(order));
    }
    change
}

impl Order {
    /// How much of a line may still leave a hub: what is allocated there minus what live
    /// shipments already took from there.
    pub fn shippable(&self, line_id: &LineId, hub_id: &HubId) -> Decimal {
        let Some(line) = self.line(line_id) else { return Decimal::ZERO };
        let allocated: Decimal = line.allocations.iter().filter(|a| &a.hub_id == hub_id).map(|a| a.quantity).sum();
        allocated - self.shipped_from(line_id, hub_id)
    }

    fn shipped_from(&self, line_id: &LineId, hub_id: &HubId) -> Decimal {
        self.shipments
            .iter()
            .filter(|s| s.is_live())
            .flat_map(|s| &s.lines)
            .filter(|l| &l.order_line_id == line_id && &l.hub_id == hub_id)
            .map(|l| l.quantity)
            .sum()
    }

    /// The shipment with this id.
    pub fn shipment(&self, shipment_id: &str) -> Option<&Shipment> {
        self.shipments.iter().find(|s| s.shipment_id == shipment_id)
    }

    /// The shipment with this id, with the order it ships.
    pub fn shipment_view(&self, shipment_id: &str) -> Option<OrderShipment> {
        Some(OrderShipment {
            order_id: self.order_id.clone(),
            order_number: self.order_number.clone(),
            order_status: self.status,
            shipment: self.shipment(shipment_id)?.clone(),
        })
    }

    /// Line `shipped` and `delivered` as sums over live and delivered shipments.
    pub(super) fn recount_shipments(&mut self) {
        for line in &mut self.lines {
            let of_line = || self.shipments.iter().flat_map(|s| s.lines.iter().map(move |l| (s.status, l)));
            let mine = |(_, l): &(ShipmentStatus, &ShipmentLine)| l.order_line_id == line.line_id;
            line.shipped = of_line()
                .filter(mine)
                .filter(|(status, _)| *status != ShipmentStatus::Cancelled)
                .map(|(_, l)| l.quantity)
                .sum();
            line.delivered = of_line()
                .filter(mine)
                .filter(|(status, _)| *status == ShipmentStatus::Delivered)
                .map(|(_, l)| l.quantity)
                .sum();
        }
    }

    /// Where the order's shipments say it is, if anything shipped.
    fn shipping_status(&self) -> Option<OrderStatus> {
        if !self.lines.iter().any(|l| l.shipped > Decimal::ZERO) {
            return None;
        }
        let all_shipped = self.lines.iter().all(|l| l.shipped >= l.quantity - l.cancelled);
        if !all_shipped {
            return Some(OrderStatus::PartiallyShipped);
        }
        let live = || self.shipments.iter().filter(|s| s.is_live());
        let all_delivered = live().all(|s| s.status == ShipmentStatus::Delivered)
            && self.lines.iter().all(|l| l.delivered >= l.quantity - l.cancelled);
        if all_delivered {
            Some(OrderStatus::Completed)
        } else if live().any(|s| matches!(s.status, ShipmentStatus::InTransit | ShipmentStatus::Delivered)) {
            Some(OrderStatus::InTransit)
        } else {
            Some(OrderStatus::Shipped)
        }
    }

    /// Moves the order forward to where its shipments say it is, one recorded step at a time
    /// (`SHIPPED` → `IN_TRANSIT` → `DELIVERED` → `COMPLETED`). Never backwards: a cancelled
    /// shipment leaves a `SHIPPED` order `SHIPPED` until its goods ship again.
    pub(super) fn follow_shipments(
        &mut self,
        reason: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Vec<StatusChange>, AppError> {
        use OrderStatus::*;
        const PATH: [OrderStatus; 5] = [PartiallyShipped, Shipped, InTransit, Delivered, Completed];
        let Some(target) = self.shipping_status() else { return Ok(Vec::new()) };
        let to = PATH.iter().position(|s| *s == target).expect("a shipping status is on the path");
        // From before shipping, a first shipment of everything skips PARTIALLY_SHIPPED.
        let from = match PATH.iter().position(|s| *s == self.status) {
            Some(at) => at + 1,
            None if target == PartiallyShipped => 0,
            None => 1,
        };
        let mut changes = Vec::new();
        for step in PATH.iter().take(to + 1).skip(from) {
            let why = match step {
                Delivered => "every shipment delivered".to_owned(),
                Completed => "delivered in full; handed to accounting".to_owned(),
                _ => reason.to_owned(),
            };
            changes.push(self.change_status(*step, why, actor, now)?);
        }
        Ok(changes)
    }
}

/// A status report about a shipment (carrier callback or dispatcher).
#[derive(Debug, Clone)]
pub struct ShipmentReport {
    /// The reported status.
    pub status: ShipmentStatus,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// The reporter's event id, to recognise repeats.
    pub event_id: Option<String>,
    /// The TMS's id for the shipment.
    pub tms_order_id: Option<String>,
}
