//! Sending an allocated order to its warehouses: one fulfillment request per hub holding its
//! reservations, with the lines and quantities the WMS must pick. Requests live inside the order
//! (an order has a handful of hubs), so a request and the order change together, atomically.
//!
//! An active hold stops an order here: it stays `ALLOCATED` until the last hold is released,
//! and then continues from this step.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::kernel::error::{AppError, InvalidCode};
use crate::kernel::ids::{HubId, LineId, Sku};
use crate::kernel::limits::{MAX_LINES, check_list};
use crate::kernel::quantity::positive_quantity;
use crate::order::Order;
use crate::order::shipment::{Package, ShipmentLine};

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
pub(super) enum Stage {
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
    pub(super) fn add(&mut self, stage: Stage, reported: &[ReportedLine]) -> Result<(), AppError> {
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
    pub(super) fn advance(&mut self, to: FulfillmentStatus) {
        if to.rank() > self.status.rank() {
            self.status = to;
        }
    }

    pub(super) fn all(&self, stage: Stage) -> bool {
        self.lines.iter().all(|l| stage.done(l) >= l.quantity)
    }
}

impl Order {
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
pub(crate) mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::kernel::access::{Actor, Role};
    use crate::kernel::ids::TenantId;
    use crate::order::Allocation;
    use crate::order::status::OrderStatus;
    use crate::order::tests::sample_order;

    fn admin() -> Actor {
        Actor { sub: "a".into(), tenant_id: TenantId::parse("t1").unwrap(), role: Role::Admin }
    }

    pub(crate) fn allocated() -> Order {
        let mut order = sample_order(&[("A", dec!(10), dec!(1), dec!(1)), ("B", dec!(5), dec!(1), dec!(1))]);
        order.status = OrderStatus::Allocated;
        let hub = |h: &str, q| Allocation { hub_id: HubId::parse(h).unwrap(), quantity: q };
        order.lines[0].allocations = vec![hub("H1", dec!(6)), hub("H2", dec!(4))];
        order.lines[1].allocations = vec![hub("H1", dec!(5))];
        order
    }

    #[test]
    fn cancel_withdraws_open_requests() {
        let mut order = allocated();
        let _sent = order.request_fulfillment(&admin(), Utc::now()).unwrap();
        order.fulfillment_requests[1].status = FulfillmentStatus::Shipped;
        let cancelled = order.cancel_open_fulfillment();
        assert_eq!(cancelled.len(), 1);
        assert_eq!(order.fulfillment_requests[0].status, FulfillmentStatus::Cancelled);
    }
}
