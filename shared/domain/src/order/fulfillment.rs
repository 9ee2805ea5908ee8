//! Sending an allocated order to its warehouses: one fulfillment request per hub holding its
//! reservations, with the lines and quantities the WMS must pick. Requests live inside the order
//! (an order has a handful of hubs), so a request and the order change together, atomically.
//!
//! An active hold stops an order here: it stays `ALLOCATED` until the last hold is released,
//! and then continues from this step.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::kernel::access::Actor;
use crate::kernel::error::{AppError, ConflictCode, InvalidCode};
use crate::kernel::ids::{HubId, LineId, Sku};
use crate::kernel::limits::{MAX_LINES, MAX_PACKAGES, MAX_REQUEST_EVENTS, check_external_id, check_list, check_room};
use crate::kernel::quantity::positive_quantity;
use crate::order::shipment::{NewShipment, Package, ShipLine, ShipmentChange, ShipmentLine, ShipmentType};
use crate::order::status::OrderStatus;
use crate::order::{Order, StatusChange};

/// Where a fulfillment request is at the warehouse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FulfillmentStatus {
    /// Sent to the WMS.
    Requested,
    /// The WMS took it.
    Accepted,
    /// Picking.
    InProgress,
    /// Packed.
    Packed,
    /// Shipped.
    Shipped,
    /// Withdrawn by the OMS.
    Cancelled,
    /// The warehouse could not do it.
    Failed,
}

impl FulfillmentStatus {
    /// Whether the warehouse may still be working on it.
    pub fn is_open(self) -> bool {
        !matches!(self, Self::Shipped | Self::Cancelled | Self::Failed)
    }

    /// Position on the warehouse's way; reports only ever move a request forward on it.
    fn rank(self) -> u8 {
        match self {
            Self::Requested => 0,
            Self::Accepted => 1,
            Self::InProgress => 2,
            Self::Packed => 3,
            Self::Shipped | Self::Cancelled | Self::Failed => 4,
        }
    }
}

/// A line of a fulfillment request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FulfillmentLine {
    /// The order line.
    pub order_line_id: LineId,
    /// Its SKU.
    pub sku: Sku,
    /// Unit of measure.
    pub unit: String,
    /// Quantity to pick.
    pub quantity: Decimal,
    /// Picked so far.
    #[serde(default, skip_serializing_if = "Decimal::is_zero")]
    pub picked: Decimal,
    /// Packed so far.
    #[serde(default, skip_serializing_if = "Decimal::is_zero")]
    pub packed: Decimal,
    /// Shipped so far.
    #[serde(default, skip_serializing_if = "Decimal::is_zero")]
    pub shipped: Decimal,
}

/// Work for one warehouse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FulfillmentRequest {
    /// `<order_id>-F<n>`.
    pub fulfillment_request_id: String,
    /// The hub.
    pub hub_id: HubId,
    /// Status at the warehouse.
    pub status: FulfillmentStatus,
    /// What to pick.
    pub lines: Vec<FulfillmentLine>,
    /// When it was sent.
    pub requested_at: DateTime<Utc>,
    /// Packages the warehouse reported.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<Package>,
    /// The warehouse events applied to it (`event_id`s): a repeat is recognised and ignored.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applied_events: Vec<String>,
}

/// A quantity of an order line a warehouse reports on.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportedLine {
    /// The order line.
    pub order_line_id: LineId,
    /// How much.
    pub quantity: Decimal,
}

/// What a warehouse reports about a fulfillment request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WarehouseReport {
    /// `FulfillmentAccepted`.
    Accepted,
    /// `PickCompleted`.
    Picked {
        /// Quantities picked.
        lines: Vec<ReportedLine>,
    },
    /// `PackCompleted`.
    Packed {
        /// Quantities packed.
        lines: Vec<ReportedLine>,
        /// The packages.
        packages: Vec<Package>,
    },
    /// `ShipCompleted`.
    Shipped {
        /// Quantities shipped.
        lines: Vec<ReportedLine>,
        /// The packages.
        packages: Vec<Package>,
        /// Who carries it.
        carrier: String,
        /// The carrier's tracking number.
        tracking_number: String,
    },
}

impl WarehouseReport {
    /// Whether applying it makes a shipment (which needs a shipment id).
    pub fn ships(&self) -> bool {
        matches!(self, Self::Shipped { .. })
    }
}

/// Which running quantity of a request line a report adds to.
#[derive(Clone, Copy)]
enum Stage {
    Picked,
    Packed,
    Shipped,
}

impl Stage {
    fn name(self) -> &'static str {
        match self {
            Self::Picked => "pick",
            Self::Packed => "pack",
            Self::Shipped => "ship",
        }
    }

    fn of(self, line: &mut FulfillmentLine) -> &mut Decimal {
        match self {
            Self::Picked => &mut line.picked,
            Self::Packed => &mut line.packed,
            Self::Shipped => &mut line.shipped,
        }
    }

    fn done(self, line: &FulfillmentLine) -> Decimal {
        match self {
            Self::Picked => line.picked,
            Self::Packed => line.packed,
            Self::Shipped => line.shipped,
        }
    }
}

impl FulfillmentRequest {
    /// Adds reported quantities to a stage, all or nothing: an unknown line, a quantity that is
    /// not positive, or more than the request asked for is refused with the reason.
    fn add(&mut self, stage: Stage, reported: &[ReportedLine]) -> Result<(), AppError> {
        if reported.is_empty() {
            return Err(AppError::invalid("lines", format!("a {} report needs at least one line", stage.name())));
        }
        check_list("lines", reported.len(), MAX_LINES)?;
        let mut lines = self.lines.clone();
        for (i, r) in reported.iter().enumerate() {
            let quantity = positive_quantity(&format!("lines[{i}].quantity"), r.quantity)?;
            let line = lines.iter_mut().find(|l| l.order_line_id == r.order_line_id).ok_or_else(|| {
                AppError::invalid_with_code(
                    InvalidCode::UnknownLine,
                    format!("lines[{i}].order_line_id"),
                    format!("fulfillment request {} has no line {}", self.fulfillment_request_id, r.order_line_id),
                )
            })?;
            let requested = line.quantity;
            let done = stage.of(line);
            if *done + quantity > requested {
                return Err(AppError::invalid_with_code(
                    InvalidCode::OverRequested,
                    format!("lines[{i}].quantity"),
                    format!(
                        "{} of {} for line {}: {} already, {requested} requested",
                        stage.name(),
                        quantity,
                        r.order_line_id,
                        *done
                    ),
                ));
            }
            *done += quantity;
        }
        self.lines = lines;
        Ok(())
    }

    /// Moves the status forward to `to`, never back.
    fn advance(&mut self, to: FulfillmentStatus) {
        if to.rank() > self.status.rank() {
            self.status = to;
        }
    }

    fn all(&self, stage: Stage) -> bool {
        self.lines.iter().all(|l| stage.done(l) >= l.quantity)
    }
}

/// What sending an order to its warehouses did.
#[derive(Debug)]
pub enum Dispatch {
    /// Requests created; the order is `IN_FULFILLMENT`.
    Sent {
        /// The status change.
        change: StatusChange,
        /// The new requests.
        requests: Vec<FulfillmentRequest>,
    },
    /// An active hold stops it; nothing changed.
    Held,
}

impl Order {
    /// Sends the order's reservations to their hubs: one request per hub, the order to
    /// `IN_FULFILLMENT`. An order on hold stays where it is.
    pub fn request_fulfillment(&mut self, actor: &Actor, now: DateTime<Utc>) -> Result<Dispatch, AppError> {
        if self.status != OrderStatus::Allocated {
            return Err(AppError::conflict(
                ConflictCode::NotAllocated,
                format!("an order in {} cannot go to a warehouse", self.status),
            ));
        }
        if self.on_hold {
            return Ok(Dispatch::Held);
        }
        let mut requests: Vec<FulfillmentRequest> = Vec::new();
        for line in &self.lines {
            for allocation in &line.allocations {
                let item = FulfillmentLine {
                    order_line_id: line.line_id.clone(),
                    sku: line.sku.clone(),
                    unit: line.unit.clone(),
                    quantity: allocation.quantity,
                    picked: Decimal::ZERO,
                    packed: Decimal::ZERO,
                    shipped: Decimal::ZERO,
                };
                match requests.iter_mut().find(|r| r.hub_id == allocation.hub_id) {
                    Some(request) => request.lines.push(item),
                    None => requests.push(FulfillmentRequest {
                        fulfillment_request_id: format!(
                            "{}-F{}",
                            self.order_id,
                            self.fulfillment_requests.len() + requests.len() + 1
                        ),
                        hub_id: allocation.hub_id.clone(),
                        status: FulfillmentStatus::Requested,
                        lines: vec![item],
                        requested_at: now,
                        packages: Vec::new(),
                        applied_events: Vec::new(),
                    }),
                }
            }
        }
        let hubs = requests.len();
        self.fulfillment_requests.extend(requests.iter().cloned());
        let change =
            self.change_status(OrderStatus::InFulfillment, format!("sent to {hubs} warehouse(s)"), actor, now)?;
        Ok(Dispatch::Sent { change, requests })
    }

    /// Applies a warehouse report about one of the order's requests. `None` for a repeated
    /// `event_id`: nothing changes. A status the request is already past (reports arrive out of
    /// order) does not move it back. Quantities add up whatever the order of arrival, so any order of the same
    /// reports ends in the same state. Refused, with the reason and nothing applied: an unknown
    /// request or line, more than requested, a withdrawn request, and shipping on hold.
    /// `shipment_id` names the shipment a `Shipped` report makes.
    pub fn record_warehouse_report(
        &mut self,
        request_id: &str,
        event_id: &str,
        report: WarehouseReport,
        shipment_id: Option<String>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Option<ShipmentChange>, AppError> {
        check_external_id("event_id", event_id)?;
        let index = self.request_index(request_id)?;
        let request = &self.fulfillment_requests[index];
        if request.applied_events.iter().any(|e| e == event_id) {
            return Ok(None);
        }
        check_room(
            ConflictCode::TooManyEvents,
            "warehouse events on this request",
            request.applied_events.len(),
            MAX_REQUEST_EVENTS,
        )?;
        if matches!(request.status, FulfillmentStatus::Cancelled | FulfillmentStatus::Failed) {
            return Err(AppError::conflict(
                ConflictCode::RequestClosed,
                format!("fulfillment request {request_id} was withdrawn or failed; it takes no more reports"),
            ));
        }
        let mut request = request.clone();
        let mut outcome = ShipmentChange::default();
        let shipping = report.ships();
        match report {
            // Recorded even when the request is past it, so the set of applied events, and with
            // it the state, is the same whatever order they came in.
            WarehouseReport::Accepted => request.advance(FulfillmentStatus::Accepted),
            WarehouseReport::Picked { lines } => {
                request.add(Stage::Picked, &lines)?;
                request.advance(FulfillmentStatus::InProgress);
            }
            WarehouseReport::Packed { lines, packages } => {
                check_list("packages", request.packages.len() + packages.len(), MAX_PACKAGES)?;
                for (i, package) in packages.iter().enumerate() {
                    package.validate(&format!("packages[{i}]"))?;
                }
                request.add(Stage::Packed, &lines)?;
                request.packages.extend(packages);
                let packed = request.all(Stage::Packed);
                request.advance(if packed { FulfillmentStatus::Packed } else { FulfillmentStatus::InProgress });
            }
            WarehouseReport::Shipped { lines, packages, carrier, tracking_number } => {
                if carrier.trim().is_empty() || tracking_number.trim().is_empty() {
                    return Err(AppError::invalid("carrier", "a shipment needs a carrier and a tracking number"));
                }
                request.add(Stage::Shipped, &lines)?;
                let shipment_id = shipment_id.ok_or_else(|| AppError::unexpected("a shipment without an id"))?;
                let new = NewShipment {
                    shipment_id,
                    shipment_type: ShipmentType::External,
                    carrier: Some(carrier),
                    tracking_number: Some(tracking_number),
                    fulfillment_request_id: Some(request_id.to_owned()),
                    lines: lines
                        .into_iter()
                        .map(|l| ShipLine {
                            order_line_id: l.order_line_id,
                            quantity: l.quantity,
                            hub_id: request.hub_id.clone(),
                        })
                        .collect(),
                    packages,
                };
                outcome = self.ship(new, actor, now)?;
                let shipped = request.all(Stage::Shipped);
                request.advance(if shipped { FulfillmentStatus::Shipped } else { FulfillmentStatus::InProgress });
            }
        }
        request.applied_events.push(event_id.to_owned());
        self.fulfillment_requests[index] = request;
        self.recount_warehouse_progress();
        if !shipping {
            // Shipping bumped the version already.
            self.touch(now);
        }
        Ok(Some(outcome))
    }

    /// Goods a dispatcher shipped count as shipped on the open warehouse request that covers
    /// them (same hub and line), which is done once all of it shipped: the warehouse is not left
    /// with work that has already left.
    pub(crate) fn settle_requests(&mut self, shipped: &[ShipmentLine]) {
        for item in shipped {
            let open = self.fulfillment_requests.iter_mut().find(|r| r.status.is_open() && r.hub_id == item.hub_id);
            let Some(request) = open else { continue };
            if let Some(line) = request.lines.iter_mut().find(|l| l.order_line_id == item.order_line_id) {
                line.shipped = (line.shipped + item.quantity).min(line.quantity);
            }
            if request.all(Stage::Shipped) {
                request.advance(FulfillmentStatus::Shipped);
            }
        }
    }

    fn request_index(&self, request_id: &str) -> Result<usize, AppError> {
        self.fulfillment_requests.iter().position(|r| r.fulfillment_request_id == request_id).ok_or_else(|| {
            AppError::invalid_with_code(
                InvalidCode::UnknownFulfillmentRequest,
                "fulfillment_request_id",
                format!("no fulfillment request {request_id}"),
            )
        })
    }

    /// Line `picked` and `packed` as sums over the order's requests.
    fn recount_warehouse_progress(&mut self) {
        for line in &mut self.lines {
            let of_line =
                || self.fulfillment_requests.iter().flat_map(|r| &r.lines).filter(|l| l.order_line_id == line.line_id);
            line.picked = of_line().map(|l| l.picked).sum();
            line.packed = of_line().map(|l| l.packed).sum();
        }
    }

    /// Withdraws every request the warehouses may still be working on; returns them.
    pub fn cancel_open_fulfillment(&mut self) -> Vec<FulfillmentRequest> {
        let mut cancelled = Vec::new();
        for request in self.fulfillment_requests.iter_mut().filter(|r| r.status.is_open()) {
            request.status = FulfillmentStatus::Cancelled;
            cancelled.push(request.clone());
        }
        cancelled
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::kernel::access::Role;
    use crate::kernel::ids::TenantId;
    use crate::order::Allocation;
    use crate::order::tests::sample_order;

    fn admin() -> Actor {
        Actor { sub: "a".into(), tenant_id: TenantId::parse("t1").unwrap(), role: Role::Admin }
    }

    fn allocated() -> Order {
        let mut order = sample_order(&[("A", dec!(10), dec!(1), dec!(1)), ("B", dec!(5), dec!(1), dec!(1))]);
        order.status = OrderStatus::Allocated;
        let hub = |h: &str, q| Allocation { hub_id: HubId::parse(h).unwrap(), quantity: q };
        order.lines[0].allocations = vec![hub("H1", dec!(6)), hub("H2", dec!(4))];
        order.lines[1].allocations = vec![hub("H1", dec!(5))];
        order
    }

    #[test]
    fn one_request_per_hub_with_its_lines() {
        let mut order = allocated();
        let Dispatch::Sent { change, requests } = order.request_fulfillment(&admin(), Utc::now()).unwrap() else {
            panic!("not held")
        };
        assert_eq!(change.to, OrderStatus::InFulfillment);
        let shape: Vec<_> = requests.iter().map(|r| (r.hub_id.to_string(), r.lines.len())).collect();
        assert_eq!(shape, [("H1".to_owned(), 2), ("H2".to_owned(), 1)]);
        assert_eq!(order.fulfillment_requests.len(), 2);
        assert!(order.request_fulfillment(&admin(), Utc::now()).is_err(), "only once");
    }

    fn lines(order: &Order, quantities: &[(usize, Decimal)]) -> Vec<ReportedLine> {
        quantities
            .iter()
            .map(|(i, q)| ReportedLine { order_line_id: order.lines[*i].line_id.clone(), quantity: *q })
            .collect()
    }

    /// The reports a warehouse sends for request F1 (hub H1: 6 of line A, 5 of line B), with
    /// the shipment id each needs.
    fn h1_reports(order: &Order) -> Vec<(&'static str, WarehouseReport, Option<String>)> {
        let package = Package {
            package_number: "P1".into(),
            weight_kg: Some(dec!(12.5)),
            dimensions_cm: None,
            tracking_number: None,
            label_url: None,
        };
        vec![
            ("e1", WarehouseReport::Accepted, None),
            ("e2", WarehouseReport::Picked { lines: lines(order, &[(0, dec!(6))]) }, None),
            ("e3", WarehouseReport::Picked { lines: lines(order, &[(1, dec!(5))]) }, None),
            (
                "e4",
                WarehouseReport::Packed {
                    lines: lines(order, &[(0, dec!(6)), (1, dec!(5))]),
                    packages: vec![package.clone()],
                },
                None,
            ),
            (
                "e5",
                WarehouseReport::Shipped {
                    lines: lines(order, &[(0, dec!(6)), (1, dec!(5))]),
                    packages: vec![package],
                    carrier: "GHN".into(),
                    tracking_number: "GHN1".into(),
                },
                Some("SHP-1".to_owned()),
            ),
        ]
    }

    fn sent() -> Order {
        let mut order = allocated();
        order.lines[0].allocated = dec!(10);
        order.lines[1].allocated = dec!(5);
        order.request_fulfillment(&admin(), Utc::now()).unwrap();
        order
    }

    /// The order with its moment-dependent fields cleared, to compare end states.
    fn settled(mut order: Order) -> Order {
        order.version = 0;
        order.updated_at = order.created_at;
        for request in &mut order.fulfillment_requests {
            request.applied_events.sort();
        }
        for shipment in &mut order.shipments {
            shipment.created_at = order.created_at;
            shipment.updated_at = order.created_at;
        }
        order
    }

    #[test]
    fn warehouse_reports_in_any_order_and_repeated_end_the_same() {
        let base = sent();
        let reference = {
            let mut order = base.clone();
            let id = order.fulfillment_requests[0].fulfillment_request_id.clone();
            for (event_id, report, shipment) in h1_reports(&order) {
                order.record_warehouse_report(&id, event_id, report, shipment, &admin(), Utc::now()).unwrap().unwrap();
            }
            order
        };
        let request = &reference.fulfillment_requests[0];
        assert_eq!(request.status, FulfillmentStatus::Shipped);
        assert_eq!(reference.status, OrderStatus::PartiallyShipped, "H2 has not shipped yet");
        assert_eq!(
            (reference.lines[0].picked, reference.lines[0].packed, reference.lines[0].shipped),
            (dec!(6), dec!(6), dec!(6))
        );
        assert_eq!(reference.shipments[0].carrier.as_deref(), Some("GHN"));

        // Reversed, and every report twice.
        let mut order = base;
        let id = order.fulfillment_requests[0].fulfillment_request_id.clone();
        let mut reports = h1_reports(&order);
        reports.reverse();
        for (event_id, report, shipment) in reports.iter().chain(reports.iter()) {
            order
                .record_warehouse_report(&id, event_id, report.clone(), shipment.clone(), &admin(), Utc::now())
                .unwrap();
        }
        assert_eq!(settled(order), settled(reference));
    }

    #[test]
    fn a_pick_for_more_than_requested_or_an_unknown_line_changes_nothing() {
        let mut order = sent();
        let id = order.fulfillment_requests[1].fulfillment_request_id.clone();
        let before = order.clone();
        let too_much = WarehouseReport::Picked { lines: lines(&order, &[(0, dec!(5))]) };
        let err = order.record_warehouse_report(&id, "x1", too_much, None, &admin(), Utc::now()).unwrap_err();
        assert!(matches!(err, AppError::Invalid { code: InvalidCode::OverRequested, .. }), "{err}");
        let other_hubs_line = WarehouseReport::Picked { lines: lines(&order, &[(1, dec!(1))]) };
        let err = order.record_warehouse_report(&id, "x2", other_hubs_line, None, &admin(), Utc::now()).unwrap_err();
        assert!(matches!(err, AppError::Invalid { code: InvalidCode::UnknownLine, .. }), "{err}");
        let err = order.record_warehouse_report("NOPE-F9", "x3", WarehouseReport::Accepted, None, &admin(), Utc::now());
        assert!(matches!(err, Err(AppError::Invalid { code: InvalidCode::UnknownFulfillmentRequest, .. })));
        assert_eq!(order, before);
    }

    #[test]
    fn a_hold_stops_it_and_cancel_withdraws_open_requests() {
        let mut order = allocated();
        order.on_hold = true;
        assert!(matches!(order.request_fulfillment(&admin(), Utc::now()).unwrap(), Dispatch::Held));
        assert_eq!((order.status, order.fulfillment_requests.len()), (OrderStatus::Allocated, 0));
        order.on_hold = false;
        order.request_fulfillment(&admin(), Utc::now()).unwrap();
        order.fulfillment_requests[1].status = FulfillmentStatus::Shipped;
        let cancelled = order.cancel_open_fulfillment();
        assert_eq!(cancelled.len(), 1);
        assert_eq!(order.fulfillment_requests[0].status, FulfillmentStatus::Cancelled);
    }
}
