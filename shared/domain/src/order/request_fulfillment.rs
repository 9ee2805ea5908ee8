//! Request fulfillment (dispatch): an allocated order's reservations go to their hubs, one
//! warehouse request per hub with the lines and quantities to pick, and the order to
//! `IN_FULFILLMENT`. Run by the placement workflow, and by confirming a manual allocation or
//! releasing the last hold of an allocated order. An active hold stops it: nothing changes, and
//! releasing the last hold sends the order on.
//!
//! Emits, in order: `OrderStatusChanged` (to `IN_FULFILLMENT`), then `FulfillmentRequested` for
//! each request. The requests count against the hubs' daily capacity once committed.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::events::DomainEvent;
use crate::kernel::access::Actor;
use crate::kernel::error::{AppError, ConflictCode};
use crate::order::fulfillment::{FulfillmentLine, FulfillmentRequest, FulfillmentStatus};
use crate::order::status::OrderStatus;
use crate::order::{Change, Order};

impl Order {
    /// Sends the order's reservations to their hubs (409 `not_allocated` unless `ALLOCATED`); an
    /// empty change when a hold stops it.
    pub fn request_fulfillment(&mut self, actor: &Actor, now: DateTime<Utc>) -> Result<Change, AppError> {
        if self.status != OrderStatus::Allocated {
            return Err(AppError::conflict(
                ConflictCode::NotAllocated,
                format!("an order in {} cannot go to a warehouse", self.status),
            ));
        }
        if self.on_hold {
            return Ok(Change::none());
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
        let status_change =
            self.change_status(OrderStatus::InFulfillment, format!("sent to {hubs} warehouse(s)"), actor, now)?;
        let mut change = Change::none();
        change.status_changed(self, status_change);
        for request in &requests {
            change.emit(DomainEvent::fulfillment_requested(self, request));
        }
        change.dispatched = requests;
        Ok(change)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use serde_json::json;

    use crate::kernel::access::Role;
    use crate::kernel::error::{AppError, ConflictCode};
    use crate::order::fulfillment::tests::allocated;
    use crate::order::status::OrderStatus;
    use crate::order::testing::{actor, given};

    #[test]
    fn one_request_per_hub_with_its_lines() {
        let order = allocated();
        let admin = actor(&order, Role::Admin);
        let then = given(order)
            .when(|o| o.request_fulfillment(&admin, Utc::now()))
            .then_status(OrderStatus::InFulfillment)
            .then_records(&[OrderStatus::InFulfillment])
            .then_emits(&["OrderStatusChanged", "FulfillmentRequested", "FulfillmentRequested"])
            .then_event("OrderStatusChanged", json!({"from": "ALLOCATED", "reason": "sent to 2 warehouse(s)"}))
            .then_event("FulfillmentRequested", json!({"hub_id": "H1"}))
            .then_dispatches_to(&["H1", "H2"])
            .then_starts_placement(false)
            .then_order(|o| {
                let shape: Vec<_> =
                    o.fulfillment_requests.iter().map(|r| (r.hub_id.to_string(), r.lines.len())).collect();
                assert_eq!(shape, [("H1".to_owned(), 2), ("H2".to_owned(), 1)]);
            });
        given(then.into_order())
            .when(|o| o.request_fulfillment(&admin, Utc::now()))
            .then_refused(|e| matches!(e, AppError::Conflict { code: ConflictCode::NotAllocated, .. }));
    }

    #[test]
    fn a_hold_stops_it_and_nothing_changes() {
        let mut order = allocated();
        order.on_hold = true;
        let admin = actor(&order, Role::Admin);
        given(order).when(|o| o.request_fulfillment(&admin, Utc::now())).then_nothing_changes();
    }
}
