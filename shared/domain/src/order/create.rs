//! Create: a new order, priced and numbered by the `create-order` use case from a validated
//! request, is recorded. Its history starts with an entry from nowhere to its status (`DRAFT`);
//! submitted in the same request, what [`Order::submit`] records and emits follows in the same
//! write.
//!
//! Emits `OrderCreated` (who ordered what, at what price, in essentials).

use crate::events::DomainEvent;
use crate::kernel::access::Actor;
use crate::order::{Change, Order, StatusChange};

impl Order {
    /// What creating this new order records and emits.
    pub fn created(&self, actor: &Actor) -> Change {
        let mut change = Change::none();
        change.history.push(StatusChange {
            order_id: self.order_id.clone(),
            from: None,
            to: self.status,
            reason: "order created".into(),
            actor: actor.sub.clone(),
            role: actor.role,
            at: self.created_at,
            version: self.version,
        });
        change.emit(DomainEvent::order_created(self));
        change
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;
    use serde_json::json;

    use crate::kernel::access::Role;
    use crate::order::status::OrderStatus;
    use crate::order::testing::{actor, given};
    use crate::order::tests::sample_order;

    #[test]
    fn a_new_order_is_recorded_and_announced_as_a_draft() {
        let order = sample_order(&[("A", dec!(2), dec!(100), dec!(100))]);
        let sales = actor(&order, Role::Sales);
        given(order)
            .when(|o| Ok(o.created(&sales)))
            .then_status(OrderStatus::Draft)
            .then_records(&[OrderStatus::Draft])
            .then_emits(&["OrderCreated"])
            .then_event(
                "OrderCreated",
                json!({"status": "DRAFT", "lines": [{"line_id": "L1", "sku": "A", "quantity": "2"}]}),
            )
            .then_order(|o| assert_eq!(o.version, 1));
    }
}
