//! Confirm allocation: a dispatcher says the manual allocation is complete. Every line must be
//! fully allocated; the order goes `ALLOCATED` and straight on to its warehouses
//! ([`Order::request_fulfillment`]), unless a hold stops it there.
//!
//! Emits, in order: `OrderStatusChanged` (to `ALLOCATED`), then what sending it to its
//! warehouses emits (`OrderStatusChanged` to `IN_FULFILLMENT` and `FulfillmentRequested` per
//! hub), unless it is on hold.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::kernel::access::Actor;
use crate::kernel::error::{AppError, ConflictCode};
use crate::order::status::OrderStatus;
use crate::order::{Change, Order};

impl Order {
    /// Confirms the manual allocation and dispatches the order: 409 `allocation_incomplete`
    /// while a line needs more, `not_placeable` unless it awaits allocation.
    pub fn confirm_allocation(&mut self, actor: &Actor, now: DateTime<Utc>) -> Result<Change, AppError> {
        if let Some(line) = self.lines.iter().find(|l| l.unallocated() > Decimal::ZERO) {
            return Err(AppError::conflict(
                ConflictCode::AllocationIncomplete,
                format!("line {} still needs {} {}", line.line_id, line.unallocated(), line.unit),
            ));
        }
        if !matches!(self.status, OrderStatus::PendingAllocation | OrderStatus::Backordered) {
            return Err(AppError::conflict(
                ConflictCode::NotPlaceable,
                format!("an order in {} is not awaiting allocation", self.status),
            ));
        }
        let status_change = self.change_status(OrderStatus::Allocated, "allocation confirmed", actor, now)?;
        let mut change = Change::none();
        change.status_changed(self, status_change);
        Ok(change.and(self.request_fulfillment(actor, now)?))
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use rust_decimal_macros::dec;
    use serde_json::json;

    use crate::kernel::access::Role;
    use crate::kernel::error::{AppError, ConflictCode};
    use crate::kernel::ids::{HubId, LineId};
    use crate::order::Order;
    use crate::order::allocate_line::tests::b2b_order;
    use crate::order::status::OrderStatus;
    use crate::order::testing::{actor, given};

    /// The B2B order with 600 at `WH` and 400 at `PORT`: fully allocated, not yet confirmed.
    fn fully_allocated() -> Order {
        let line = LineId::for_position(0);
        let order = given(b2b_order())
            .when(|o| o.allocate_line(&line, &HubId::parse("WH").unwrap(), dec!(600), Utc::now()))
            .into_order();
        given(order)
            .when(|o| o.allocate_line(&line, &HubId::parse("PORT").unwrap(), dec!(400), Utc::now()))
            .into_order()
    }

    #[test]
    fn a_complete_allocation_is_confirmed_and_sent_to_its_warehouses() {
        let order = fully_allocated();
        let admin = actor(&order, Role::Admin);
        given(order)
            .when(|o| o.confirm_allocation(&admin, Utc::now()))
            .then_status(OrderStatus::InFulfillment)
            .then_records(&[OrderStatus::Allocated, OrderStatus::InFulfillment])
            .then_emits(&["OrderStatusChanged", "OrderStatusChanged", "FulfillmentRequested", "FulfillmentRequested"])
            .then_event("OrderStatusChanged", json!({"to": "ALLOCATED", "reason": "allocation confirmed"}))
            .then_dispatches_to(&["WH", "PORT"])
            .then_moves(&[])
            .then_starts_placement(false);
    }

    #[test]
    fn a_hold_keeps_a_confirmed_order_at_allocated() {
        let order = fully_allocated();
        let admin = actor(&order, Role::Admin);
        let held = given(order).when(|o| o.place_hold("payment_hold", "deposit", &admin, Utc::now())).into_order();
        given(held)
            .when(|o| o.confirm_allocation(&admin, Utc::now()))
            .then_status(OrderStatus::Allocated)
            .then_emits(&["OrderStatusChanged"])
            .then_dispatches_to(&[]);
    }

    #[test]
    fn an_incomplete_allocation_is_not_confirmed() {
        let line = LineId::for_position(0);
        let order = given(b2b_order())
            .when(|o| o.allocate_line(&line, &HubId::parse("WH").unwrap(), dec!(600), Utc::now()))
            .into_order();
        let admin = actor(&order, Role::Admin);
        given(order)
            .when(|o| o.confirm_allocation(&admin, Utc::now()))
            .then_refused(|e| matches!(e, AppError::Conflict { code: ConflictCode::AllocationIncomplete, .. }));
    }
}
