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

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::kernel::access::Actor;
use crate::kernel::error::{AppError, ConflictCode, InvalidCode};
use crate::kernel::ids::{HubId, LineId, Sku};
use crate::kernel::limits::{MAX_LINES, MAX_PACKAGES, MAX_SHIPMENTS, check_external_id, check_list, check_room};
use crate::kernel::quantity::{non_negative_quantity, positive_quantity};
use crate::order::status::OrderStatus;
use crate::order::{Order, StatusChange};
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
    fn return_to_hubs(&self) -> Vec<StockMove> {
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

/// What a shipment change did to the order.
#[derive(Debug, Default)]
pub struct ShipmentChange {
    /// Status changes of the order, in order.
    pub changes: Vec<StatusChange>,
    /// Stock that left or came back.
    pub moves: Vec<StockMove>,
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

    /// Ships reserved goods: the stock leaves its hubs, line quantities and the order's status
    /// follow. Refused while a hold is active, before allocation, and for more than a line has
    /// allocated-and-not-yet-shipped at a hub (409); an unknown line is 400.
    pub fn ship(&mut self, new: NewShipment, actor: &Actor, now: DateTime<Utc>) -> Result<ShipmentChange, AppError> {
        use OrderStatus::*;
        if !matches!(self.status, Allocated | InFulfillment | PartiallyShipped | Shipped | InTransit) {
            return Err(AppError::conflict(
                ConflictCode::NotShippable,
                format!("an order in {} cannot ship", self.status),
            ));
        }
        if self.on_hold {
            return Err(AppError::conflict(ConflictCode::OnHold, "an active hold stops the order from shipping"));
        }
        if new.lines.is_empty() {
            return Err(AppError::invalid("lines", "a shipment needs at least one line"));
        }
        check_list("lines", new.lines.len(), MAX_LINES)?;
        check_list("packages", new.packages.len(), MAX_PACKAGES)?;
        for (field, value) in [("carrier", &new.carrier), ("tracking_number", &new.tracking_number)] {
            if let Some(value) = value {
                check_external_id(field, value)?;
            }
        }
        check_room(ConflictCode::TooManyShipments, "shipments", self.shipments.len(), MAX_SHIPMENTS)?;
        for (i, package) in new.packages.iter().enumerate() {
            package.validate(&format!("packages[{i}]"))?;
        }
        let mut lines: Vec<ShipmentLine> = Vec::new();
        for (i, requested) in new.lines.iter().enumerate() {
            let quantity = positive_quantity(&format!("lines[{i}].quantity"), requested.quantity)?;
            let line = self.line(&requested.order_line_id).ok_or_else(|| {
                AppError::invalid_with_code(
                    InvalidCode::UnknownLine,
                    format!("lines[{i}].order_line_id"),
                    format!("the order has no line {}", requested.order_line_id),
                )
            })?;
            let (sku, unit) = (line.sku.clone(), line.unit.clone());
            // The same line and hub twice in one shipment counts once, in total.
            let already: Decimal = lines
                .iter()
                .filter(|l| l.order_line_id == requested.order_line_id && l.hub_id == requested.hub_id)
                .map(|l| l.quantity)
                .sum();
            let left = self.shippable(&requested.order_line_id, &requested.hub_id) - already;
            if quantity > left {
                return Err(AppError::conflict(
                    ConflictCode::OverShipment,
                    format!(
                        "line {} has {left} allocated and not yet shipped at {}; cannot ship {quantity}",
                        requested.order_line_id, requested.hub_id
                    ),
                ));
            }
            lines.push(ShipmentLine {
                order_line_id: requested.order_line_id.clone(),
                sku,
                unit,
                hub_id: requested.hub_id.clone(),
                quantity,
            });
        }
        let moves = lines.iter().map(|l| StockMove::ship(l.hub_id.clone(), l.sku.clone(), l.quantity)).collect();
        if new.fulfillment_request_id.is_none() {
            self.settle_requests(&lines);
        }
        let reason = format!("shipment {} left the hub", new.shipment_id);
        self.shipments.push(Shipment {
            shipment_id: new.shipment_id,
            shipment_type: new.shipment_type,
            status: ShipmentStatus::Created,
            carrier: new.carrier,
            tracking_number: new.tracking_number,
            tms_order_id: None,
            fulfillment_request_id: new.fulfillment_request_id,
            lines,
            packages: new.packages,
            tracking: Vec::new(),
            created_by: actor.sub.clone(),
            created_at: now,
            updated_at: now,
        });
        self.recount_shipments();
        self.touch(now);
        let changes = self.follow_shipments(&reason, actor, now)?;
        Ok(ShipmentChange { changes, moves })
    }

    /// Applies a status report about a shipment. `None` when it does not move the shipment
    /// forward (a repeat, a late report, anything after delivery or cancellation): nothing
    /// changes then. A cancelled shipment's goods go back to their hubs, reserved for the order
    /// again, so they can ship anew.
    pub fn report_shipment(
        &mut self,
        shipment_id: &str,
        report: ShipmentReport,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Option<ShipmentChange>, AppError> {
        if let Some(id) = &report.event_id {
            check_external_id("event_id", id)?;
        }
        if let Some(id) = &report.tms_order_id {
            check_external_id("tms_order_id", id)?;
        }
        let shipment =
            self.shipments.iter_mut().find(|s| s.shipment_id == shipment_id).ok_or(AppError::NotFound("shipment"))?;
        let repeat = report.event_id.is_some() && shipment.tracking.iter().any(|t| t.event_id == report.event_id);
        if repeat || !shipment.status.advances_to(report.status) {
            return Ok(None);
        }
        shipment.status = report.status;
        shipment.updated_at = now;
        if report.tms_order_id.is_some() {
            shipment.tms_order_id = report.tms_order_id;
        }
        shipment.tracking.push(TrackingEvent {
            status: report.status,
            occurred_at: report.occurred_at,
            event_id: report.event_id,
            reported_by: actor.sub.clone(),
            recorded_at: now,
        });
        let moves = if report.status == ShipmentStatus::Cancelled { shipment.return_to_hubs() } else { Vec::new() };
        self.recount_shipments();
        self.touch(now);
        let reason = format!("shipment {shipment_id} {}", report.status.as_str());
        let changes = self.follow_shipments(&reason, actor, now)?;
        Ok(Some(ShipmentChange { changes, moves }))
    }

    /// Line `shipped` and `delivered` as sums over live and delivered shipments.
    fn recount_shipments(&mut self) {
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
    fn follow_shipments(
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

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::kernel::access::Role;
    use crate::kernel::ids::TenantId;
    use crate::order::Allocation;
    use crate::order::tests::sample_order;

    fn dispatcher() -> Actor {
        Actor { sub: "d".into(), tenant_id: TenantId::parse("t1").unwrap(), role: Role::Dispatcher }
    }

    fn hub(id: &str) -> HubId {
        HubId::parse(id).unwrap()
    }

    /// 1,000 KG allocated 600 at H1 and 400 at H2.
    fn allocated() -> Order {
        let mut order = sample_order(&[("PP", dec!(1000), dec!(1), dec!(1))]);
        order.status = OrderStatus::Allocated;
        order.lines[0].allocations = vec![
            Allocation { hub_id: hub("H1"), quantity: dec!(600) },
            Allocation { hub_id: hub("H2"), quantity: dec!(400) },
        ];
        order.lines[0].allocated = dec!(1000);
        order
    }

    fn truck(id: &str, order: &Order, hub_id: &str, quantity: Decimal) -> NewShipment {
        NewShipment {
            shipment_id: id.into(),
            shipment_type: ShipmentType::Internal,
            carrier: None,
            tracking_number: None,
            fulfillment_request_id: None,
            lines: vec![ShipLine { order_line_id: order.lines[0].line_id.clone(), quantity, hub_id: hub(hub_id) }],
            packages: vec![],
        }
    }

    fn report(status: ShipmentStatus, event_id: &str) -> ShipmentReport {
        ShipmentReport { status, occurred_at: Utc::now(), event_id: Some(event_id.into()), tms_order_id: None }
    }

    fn statuses(changes: &[StatusChange]) -> Vec<OrderStatus> {
        changes.iter().map(|c| c.to).collect()
    }

    #[test]
    fn two_trucks_split_the_order_and_delivery_completes_it() {
        let mut order = allocated();
        let now = Utc::now();
        let first = order.ship(truck("S1", &order, "H1", dec!(600)), &dispatcher(), now).unwrap();
        assert_eq!(statuses(&first.changes), [OrderStatus::PartiallyShipped]);
        assert_eq!(first.moves, [StockMove::ship(hub("H1"), order.lines[0].sku.clone(), dec!(600))]);
        let err = order.ship(truck("S2", &order, "H1", dec!(1)), &dispatcher(), now).unwrap_err();
        assert!(matches!(err, AppError::Conflict { code: ConflictCode::OverShipment, .. }), "{err}");
        let second = order.ship(truck("S2", &order, "H2", dec!(400)), &dispatcher(), now).unwrap();
        assert_eq!(statuses(&second.changes), [OrderStatus::Shipped]);
        assert_eq!(order.lines[0].shipped, dec!(1000));

        let moved = order.report_shipment("S1", report(ShipmentStatus::InTransit, "e1"), &dispatcher(), now).unwrap();
        assert_eq!(statuses(&moved.unwrap().changes), [OrderStatus::InTransit]);
        order.report_shipment("S1", report(ShipmentStatus::Delivered, "e2"), &dispatcher(), now).unwrap();
        assert_eq!((order.status, order.lines[0].delivered), (OrderStatus::InTransit, dec!(600)));
        let done = order.report_shipment("S2", report(ShipmentStatus::Delivered, "e3"), &dispatcher(), now).unwrap();
        assert_eq!(statuses(&done.unwrap().changes), [OrderStatus::Delivered, OrderStatus::Completed]);
        assert_eq!(order.lines[0].delivered, dec!(1000));
    }

    #[test]
    fn carrier_ids_past_their_cap_are_refused_and_the_shipment_still_moves() {
        let mut order = allocated();
        let now = Utc::now();
        order.ship(truck("S1", &order, "H1", dec!(600)), &dispatcher(), now).unwrap();
        let before = order.clone();
        let long = "x".repeat(crate::kernel::limits::MAX_EXTERNAL_ID + 1);
        let mut with_long_tms_id = report(ShipmentStatus::InTransit, "e1");
        with_long_tms_id.tms_order_id = Some(long.clone());
        for refused in [with_long_tms_id, report(ShipmentStatus::InTransit, &long)] {
            let err = order.report_shipment("S1", refused, &dispatcher(), now).unwrap_err();
            assert!(matches!(err, AppError::Invalid { .. }), "{err}");
            assert_eq!(order, before, "nothing changed");
        }
        let mut fits = report(ShipmentStatus::InTransit, "e1");
        fits.tms_order_id = Some("x".repeat(crate::kernel::limits::MAX_EXTERNAL_ID));
        assert!(order.report_shipment("S1", fits, &dispatcher(), now).unwrap().is_some());
    }

    #[test]
    fn reports_only_move_forward_and_repeats_change_nothing() {
        let mut order = allocated();
        let now = Utc::now();
        order.ship(truck("S1", &order, "H1", dec!(600)), &dispatcher(), now).unwrap();
        order.report_shipment("S1", report(ShipmentStatus::Delivered, "e1"), &dispatcher(), now).unwrap();
        let before = order.clone();
        for late in [
            report(ShipmentStatus::InTransit, "e2"),
            report(ShipmentStatus::Delivered, "e1"),
            report(ShipmentStatus::Cancelled, "e3"),
        ] {
            assert!(order.report_shipment("S1", late, &dispatcher(), now).unwrap().is_none());
        }
        assert_eq!(order, before);
        assert!(matches!(
            order.report_shipment("NOPE", report(ShipmentStatus::Delivered, "e4"), &dispatcher(), now),
            Err(AppError::NotFound("shipment"))
        ));
    }

    #[test]
    fn a_cancelled_shipment_puts_the_goods_back_and_they_can_ship_again() {
        let mut order = allocated();
        let now = Utc::now();
        order.ship(truck("S1", &order, "H1", dec!(600)), &dispatcher(), now).unwrap();
        let cancelled =
            order.report_shipment("S1", report(ShipmentStatus::Cancelled, "e1"), &dispatcher(), now).unwrap().unwrap();
        assert_eq!(cancelled.moves, [StockMove::unship(hub("H1"), order.lines[0].sku.clone(), dec!(600))]);
        assert_eq!((order.status, order.lines[0].shipped), (OrderStatus::PartiallyShipped, dec!(0)));
        assert_eq!(order.shippable(&order.lines[0].line_id.clone(), &hub("H1")), dec!(600));
        order.ship(truck("S2", &order, "H1", dec!(600)), &dispatcher(), now).unwrap();
    }

    #[test]
    fn a_hold_or_an_unallocated_order_does_not_ship() {
        let mut order = allocated();
        order.on_hold = true;
        let err = order.ship(truck("S1", &order, "H1", dec!(1)), &dispatcher(), Utc::now()).unwrap_err();
        assert!(matches!(err, AppError::Conflict { code: ConflictCode::OnHold, .. }));
        order.on_hold = false;
        order.status = OrderStatus::PendingAllocation;
        assert!(order.ship(truck("S1", &order, "H1", dec!(1)), &dispatcher(), Utc::now()).is_err());
    }
}
