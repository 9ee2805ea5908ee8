//! Decide price: a sales manager approves or rejects the below-list quotes (and order discount)
//! of an order waiting for price approval. Approved, the quotes become the lines' approved
//! prices, the order is repriced and goes on to allocation (the placement workflow starts when
//! allocation is automatic); rejected, it goes back to the salesperson (`PRICE_REJECTED`,
//! editable). Nobody decides on an order they created or submitted (403): the four-eyes rule
//! that makes the approval worth having.
//!
//! Emits `OrderStatusChanged`.

use chrono::{DateTime, Utc};

use crate::kernel::access::Actor;
use crate::kernel::error::{AppError, ConflictCode};
use crate::order::status::OrderStatus;
use crate::order::{Change, Order, PriceDecision};

impl Order {
    /// A sales manager's decision on the pending price approval: approved quotes become the
    /// lines' approved prices and the order goes on to allocation; rejected, it goes back to the
    /// salesperson (`PRICE_REJECTED`, editable). Nobody decides on an order they created or
    /// submitted (403): the four-eyes rule that makes the approval worth having.
    pub fn decide_price(
        &mut self,
        approved: bool,
        notes: Option<String>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Change, AppError> {
        if self.status != OrderStatus::PendingPriceApproval {
            return Err(AppError::conflict(
                ConflictCode::InvalidTransition,
                format!("an order in {} has no price to approve", self.status),
            ));
        }
        let submitted_by = self.price_approval.as_ref().map(|a| a.requested_by.as_str());
        if actor.sub == self.created_by || Some(actor.sub.as_str()) == submitted_by {
            return Err(AppError::Forbidden("nobody approves the prices of an order they created or submitted".into()));
        }
        let to = if approved {
            for line in self.lines.iter_mut().filter(|l| l.below_list_price()) {
                line.approved_unit_price = Some(line.quoted_unit_price);
            }
            self.reprice()?;
            OrderStatus::PendingAllocation
        } else {
            OrderStatus::PriceRejected
        };
        let reason = match (&notes, approved) {
            (Some(n), true) => format!("price approved: {n}"),
            (Some(n), false) => format!("price rejected: {n}"),
            (None, true) => "price approved".to_owned(),
            (None, false) => "price rejected".to_owned(),
        };
        if let Some(approval) = &mut self.price_approval {
            approval.decision = Some(PriceDecision { approved, notes, decided_by: actor.sub.clone(), decided_at: now });
        }
        let status_change = self.change_status(to, reason, actor, now)?;
        let mut change = Change::none();
        change.status_changed(self, status_change);
        change.start_placement = self.awaits_automatic_placement();
        Ok(change)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use rust_decimal_macros::dec;
    use serde_json::json;

    use crate::kernel::access::{Actor, Role};
    use crate::kernel::error::{AppError, ConflictCode};
    use crate::order::Order;
    use crate::order::status::OrderStatus;
    use crate::order::testing::given;
    use crate::order::tests::sample_order;

    fn manager(order: &Order, sub: &str) -> Actor {
        Actor { sub: sub.into(), tenant_id: order.tenant_id.clone(), role: Role::SalesManager }
    }

    /// Created by `u1` (see `sample_order`), line A quoted at 90 against a list price of 100,
    /// submitted by manager `m1`.
    fn awaiting_approval() -> Order {
        let order = sample_order(&[("A", dec!(2), dec!(90), dec!(100))]);
        let m1 = manager(&order, "m1");
        given(order).when(|o| o.submit(&m1, Utc::now())).then_status(OrderStatus::PendingPriceApproval).into_order()
    }

    #[test]
    fn approved_quotes_become_the_price_and_the_order_goes_on_to_allocation() {
        let order = awaiting_approval();
        let m2 = manager(&order, "m2");
        given(order)
            .when(|o| o.decide_price(true, Some("key account".into()), &m2, Utc::now()))
            .then_status(OrderStatus::PendingAllocation)
            .then_records(&[OrderStatus::PendingAllocation])
            .then_emits(&["OrderStatusChanged"])
            .then_event(
                "OrderStatusChanged",
                json!({"from": "PENDING_PRICE_APPROVAL", "reason": "price approved: key account", "actor": "m2"}),
            )
            .then_starts_placement(true)
            .then_order(|o| {
                assert_eq!(o.lines[0].approved_unit_price, Some(dec!(90)));
                assert_eq!(o.totals.products, dec!(180));
                let decision = o.price_approval.as_ref().and_then(|a| a.decision.as_ref()).unwrap();
                assert_eq!((decision.approved, decision.decided_by.as_str()), (true, "m2"));
            });
    }

    #[test]
    fn rejected_quotes_go_back_to_the_salesperson() {
        let order = awaiting_approval();
        let m2 = manager(&order, "m2");
        given(order)
            .when(|o| o.decide_price(false, None, &m2, Utc::now()))
            .then_status(OrderStatus::PriceRejected)
            .then_emits(&["OrderStatusChanged"])
            .then_event("OrderStatusChanged", json!({"to": "PRICE_REJECTED", "reason": "price rejected"}))
            .then_starts_placement(false)
            .then_order(|o| assert_eq!(o.lines[0].approved_unit_price, None));
    }

    #[test]
    fn nobody_approves_the_prices_of_an_order_they_created_or_submitted() {
        for who in ["u1", "m1"] {
            let order = awaiting_approval();
            let actor = manager(&order, who);
            given(order)
                .when(|o| o.decide_price(true, None, &actor, Utc::now()))
                .then_refused(|e| matches!(e, AppError::Forbidden(_)));
        }
    }

    #[test]
    fn only_an_order_waiting_for_approval_has_a_price_to_decide() {
        let order = sample_order(&[("A", dec!(1), dec!(100), dec!(100))]);
        let m2 = manager(&order, "m2");
        given(order)
            .when(|o| o.decide_price(true, None, &m2, Utc::now()))
            .then_refused(|e| matches!(e, AppError::Conflict { code: ConflictCode::InvalidTransition, .. }));
    }
}
