//! Submit: a draft (or a rejected quote) leaves the salesperson. A quote under list price or an
//! order-level discount needs a sales manager's approval first (`PENDING_PRICE_APPROVAL`, with
//! the lines compared to list); otherwise the order waits for allocation (`PENDING_ALLOCATION`),
//! and the placement workflow starts when allocation is automatic.
//!
//! Emits, in order: `OrderSubmitted`, `PriceApprovalRequested` when approval is needed, then
//! `OrderStatusChanged`.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::events::DomainEvent;
use crate::kernel::access::Actor;
use crate::kernel::error::{AppError, ConflictCode};
use crate::order::status::OrderStatus;
use crate::order::{Change, Order, OrderLine, PriceApproval, PriceComparison};

impl Order {
    /// Submits a draft or a rejected quote (409 `invalid_transition` from any other status).
    pub fn submit(&mut self, actor: &Actor, now: DateTime<Utc>) -> Result<Change, AppError> {
        if !self.status.lines_editable() {
            return Err(AppError::conflict(
                ConflictCode::InvalidTransition,
                format!("an order in {} cannot be submitted", self.status),
            ));
        }
        let status_change = if self.needs_price_approval() {
            let lines: Vec<PriceComparison> =
                self.lines.iter().filter(|l| l.below_list_price()).map(price_comparison).collect();
            let discount = (self.discount > Decimal::ZERO).then_some(self.discount);
            let reason = match (lines.is_empty(), discount.is_some()) {
                (false, true) => "quoted price below list price and an order discount",
                (true, true) => "order discount",
                _ => "quoted price below list price",
            };
            self.price_approval = Some(PriceApproval {
                requested_by: actor.sub.clone(),
                requested_at: now,
                lines,
                discount,
                decision: None,
            });
            self.change_status(OrderStatus::PendingPriceApproval, reason, actor, now)?
        } else {
            self.change_status(OrderStatus::PendingAllocation, "submitted", actor, now)?
        };
        let mut change = Change::none();
        change.emit(DomainEvent::order_submitted(self));
        if let (OrderStatus::PendingPriceApproval, Some(approval)) = (self.status, &self.price_approval) {
            change.emit(DomainEvent::price_approval_requested(self, approval));
        }
        change.status_changed(self, status_change);
        change.start_placement = self.awaits_automatic_placement();
        Ok(change)
    }
}

fn price_comparison(line: &OrderLine) -> PriceComparison {
    let difference = line.quoted_unit_price - line.list_unit_price;
    let percent = if line.list_unit_price.is_zero() {
        Decimal::ZERO
    } else {
        (difference / line.list_unit_price * Decimal::ONE_HUNDRED)
            .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
    };
    PriceComparison {
        line_id: line.line_id.clone(),
        sku: line.sku.clone(),
        list_unit_price: line.list_unit_price,
        quoted_unit_price: line.quoted_unit_price,
        difference,
        percent,
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use rust_decimal_macros::dec;
    use serde_json::json;

    use crate::kernel::access::Role;
    use crate::kernel::error::{AppError, ConflictCode};
    use crate::order::AllocationMode;
    use crate::order::status::OrderStatus;
    use crate::order::testing::{actor, given};
    use crate::order::tests::sample_order;

    #[test]
    fn a_draft_at_list_price_goes_to_allocation_and_starts_placement() {
        let order = sample_order(&[("A", dec!(1), dec!(100), dec!(100))]);
        let sales = actor(&order, Role::Sales);
        given(order)
            .when(|o| o.submit(&sales, Utc::now()))
            .then_status(OrderStatus::PendingAllocation)
            .then_records(&[OrderStatus::PendingAllocation])
            .then_emits(&["OrderSubmitted", "OrderStatusChanged"])
            .then_event("OrderSubmitted", json!({"status": "PENDING_ALLOCATION"}))
            .then_event(
                "OrderStatusChanged",
                json!({"from": "DRAFT", "to": "PENDING_ALLOCATION", "reason": "submitted"}),
            )
            .then_starts_placement(true)
            .then_order(|o| assert_eq!(o.version, 2));
    }

    #[test]
    fn a_manual_allocation_waits_for_a_dispatcher_instead_of_placement() {
        let mut order = sample_order(&[("A", dec!(1), dec!(100), dec!(100))]);
        order.allocation = AllocationMode::Manual;
        let sales = actor(&order, Role::Sales);
        given(order)
            .when(|o| o.submit(&sales, Utc::now()))
            .then_status(OrderStatus::PendingAllocation)
            .then_starts_placement(false);
    }

    #[test]
    fn a_quote_under_list_asks_a_manager_to_approve_it() {
        let order = sample_order(&[("A", dec!(1), dec!(100), dec!(100)), ("B", dec!(1), dec!(99), dec!(100))]);
        let sales = actor(&order, Role::Sales);
        given(order)
            .when(|o| o.submit(&sales, Utc::now()))
            .then_status(OrderStatus::PendingPriceApproval)
            .then_emits(&["OrderSubmitted", "PriceApprovalRequested", "OrderStatusChanged"])
            .then_event(
                "PriceApprovalRequested",
                json!({"approval": {"lines": [{"line_id": "L2", "difference": "-1", "percent": "-1.00"}]}}),
            )
            .then_event("OrderStatusChanged", json!({"reason": "quoted price below list price"}))
            .then_starts_placement(false);
    }

    #[test]
    fn an_order_discount_needs_approval_too() {
        let mut order = sample_order(&[("A", dec!(1), dec!(100), dec!(100))]);
        order.discount = dec!(5);
        order.reprice().unwrap();
        let sales = actor(&order, Role::Sales);
        given(order)
            .when(|o| o.submit(&sales, Utc::now()))
            .then_status(OrderStatus::PendingPriceApproval)
            .then_event("OrderStatusChanged", json!({"reason": "order discount"}))
            .then_order(|o| {
                let approval = o.price_approval.as_ref().unwrap();
                assert_eq!((approval.discount, approval.lines.len()), (Some(dec!(5)), 0));
            });
    }

    #[test]
    fn a_submitted_order_cannot_be_submitted_again() {
        let order = sample_order(&[("A", dec!(1), dec!(100), dec!(100))]);
        let sales = actor(&order, Role::Sales);
        let submitted = given(order).when(|o| o.submit(&sales, Utc::now())).into_order();
        given(submitted)
            .when(|o| o.submit(&sales, Utc::now()))
            .then_refused(|e| matches!(e, AppError::Conflict { code: ConflictCode::InvalidTransition, .. }));
    }
}
