//! Cancel: an order is cancelled before anything of it shipped. Every reservation goes back to
//! stock, open warehouse requests are withdrawn, and what was not shipped counts as cancelled.
//!
//! Emits, in order: `OrderStatusChanged` (to `CANCELLED`), `FulfillmentCancelled` for each
//! withdrawn warehouse request, then `OrderCancelled` with the reservations given back.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::events::DomainEvent;
use crate::kernel::access::Actor;
use crate::kernel::error::{AppError, ConflictCode};
use crate::order::status::OrderStatus;
use crate::order::{Change, Order};
use crate::stock::StockMove;

impl Order {
    /// Cancels the order (409 `not_cancellable` once anything shipped or the status forbids it).
    pub fn cancel(&mut self, reason: &str, actor: &Actor, now: DateTime<Utc>) -> Result<Change, AppError> {
        if self.anything_shipped() || !self.status.can_transition_to(OrderStatus::Cancelled) {
            return Err(AppError::conflict(
                ConflictCode::NotCancellable,
                format!("an order in {} cannot be cancelled", self.status),
            ));
        }
        let released = self.release_allocations();
        let withdrawn = self.cancel_open_fulfillment();
        for line in &mut self.lines {
            line.cancelled = line.quantity - line.shipped;
            line.backordered = Decimal::ZERO;
        }
        let status_change = self.change_status(OrderStatus::Cancelled, format!("cancelled: {reason}"), actor, now)?;
        let mut change = Change::none();
        change.status_changed(self, status_change);
        for request in &withdrawn {
            change.emit(DomainEvent::fulfillment_cancelled(self, request, reason));
        }
        change.emit(DomainEvent::order_cancelled(self, reason, &released));
        change.moves = StockMove::net(released);
        Ok(change)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use rust_decimal_macros::dec;
    use serde_json::json;

    use crate::kernel::access::Role;
    use crate::kernel::error::{AppError, ConflictCode};
    use crate::kernel::ids::{HubId, Sku, TenantId};
    use crate::memory::MemoryStore;
    use crate::memory::fixtures::{allocated_order, placed_order, placement_order, sample_store, shipped_order};
    use crate::order::status::OrderStatus;
    use crate::order::testing::{actor, given};
    use crate::stock::StockMove;

    fn release(hub: &str, sku: &str, quantity: rust_decimal::Decimal) -> StockMove {
        StockMove::release(HubId::parse(hub).unwrap(), Sku::parse(sku).unwrap(), quantity)
    }

    #[tokio::test]
    async fn a_submitted_order_is_cancelled_with_nothing_to_give_back() {
        let store = sample_store(dec!(1000)).await;
        let order = placement_order(&store).await;
        let admin = actor(&order, Role::Admin);
        given(order)
            .when(|o| o.cancel("customer called", &admin, Utc::now()))
            .then_status(OrderStatus::Cancelled)
            .then_records(&[OrderStatus::Cancelled])
            .then_emits(&["OrderStatusChanged", "OrderCancelled"])
            .then_event(
                "OrderStatusChanged",
                json!({"from": "PENDING_ALLOCATION", "to": "CANCELLED", "reason": "cancelled: customer called"}),
            )
            .then_event("OrderCancelled", json!({"reason": "customer called", "released": []}))
            .then_moves(&[])
            .then_starts_placement(false)
            .then_order(|o| assert!(o.lines.iter().all(|l| l.cancelled == l.quantity)));
    }

    #[tokio::test]
    async fn cancelling_a_placed_order_gives_its_reservations_back() {
        let store = sample_store(dec!(1000)).await;
        let order = placed_order(&store).await;
        let reserved: Vec<StockMove> = order
            .lines
            .iter()
            .flat_map(|l| l.allocations.iter().map(|a| StockMove::release(a.hub_id.clone(), l.sku.clone(), a.quantity)))
            .collect();
        assert!(!reserved.is_empty(), "the fixture reserved stock");
        let admin = actor(&order, Role::Admin);
        given(order)
            .when(|o| o.cancel("duplicate", &admin, Utc::now()))
            .then_status(OrderStatus::Cancelled)
            .then_emits(&["OrderStatusChanged", "OrderCancelled"])
            .then_moves(&StockMove::net(reserved))
            .then_order(|o| assert!(o.lines.iter().all(|l| l.allocated.is_zero() && l.allocations.is_empty())));
    }

    #[tokio::test]
    async fn cancelling_an_order_at_its_warehouse_withdraws_the_request() {
        let tenant = TenantId::parse("t1").unwrap();
        let store = MemoryStore::with_catalog(&tenant, "HCM-01", "PP-001", dec!(100)).await;
        let order = allocated_order(&store, &tenant, "HCM-01", "PP-001", "10").await;
        let request_id = order.fulfillment_requests[0].fulfillment_request_id.clone();
        let admin = actor(&order, Role::Admin);
        given(order)
            .when(|o| o.cancel("customer called", &admin, Utc::now()))
            .then_status(OrderStatus::Cancelled)
            .then_emits(&["OrderStatusChanged", "FulfillmentCancelled", "OrderCancelled"])
            .then_event("FulfillmentCancelled", json!({"fulfillment_request_id": request_id, "hub_id": "HCM-01"}))
            .then_moves(&[release("HCM-01", "PP-001", dec!(10))]);
    }

    #[tokio::test]
    async fn nothing_is_cancelled_once_something_shipped() {
        let tenant = TenantId::parse("t1").unwrap();
        let store = MemoryStore::with_catalog(&tenant, "HCM-01", "PP-001", dec!(100)).await;
        let order = shipped_order(&store, &tenant, "HCM-01", "PP-001", "10").await;
        let admin = actor(&order, Role::Admin);
        given(order)
            .when(|o| o.cancel("too late", &admin, Utc::now()))
            .then_refused(|e| matches!(e, AppError::Conflict { code: ConflictCode::NotCancellable, .. }));
    }
}
