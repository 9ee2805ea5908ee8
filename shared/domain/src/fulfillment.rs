//! Sending an allocated order to its warehouses: one fulfillment request per hub holding its
//! reservations, with the lines and quantities the WMS must pick. Requests live inside the order
//! (an order has a handful of hubs), so a request and the order change together, atomically.
//!
//! An active hold stops an order here: it stays `ALLOCATED` until the last hold is released,
//! and then continues from this step.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::access::Actor;
use crate::error::AppError;
use crate::ids::{HubId, LineId, Sku};
use crate::order::{Order, StatusChange};
use crate::status::OrderStatus;

/// Where a fulfillment request is at the warehouse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
}

/// A line of a fulfillment request.
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
}

/// Work for one warehouse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
                "not_allocated",
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
    use crate::access::Role;
    use crate::ids::TenantId;
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
