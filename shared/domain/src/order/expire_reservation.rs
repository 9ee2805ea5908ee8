//! `expire_reservation`: the placement workflow waited out the reservation timeout of an order
//! held at `ALLOCATED`. If it is still held there, its stock goes back and it returns to
//! `PENDING_ALLOCATION`, to be placed again when the hold is released. Emits
//! `OrderStatusChanged`; starts no placement (the hold stops it).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::kernel::access::Actor;
use crate::kernel::error::AppError;
use crate::order::status::OrderStatus;
use crate::order::{Change, Order};
use crate::stock::StockMove;

impl Order {
    /// Gives back the reservations of an allocated order that has been on hold longer than
    /// `timeout` since its stock was reserved: back to `PENDING_ALLOCATION`, to be placed again
    /// when the hold is released. Emits `OrderStatusChanged` only. An empty change when that
    /// does not apply (released meanwhile, sent on, not yet due).
    pub fn expire_reservation(
        &mut self,
        timeout: chrono::Duration,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Change, AppError> {
        let due = self.allocated_at.is_some_and(|at| at + timeout <= now);
        if self.status != OrderStatus::Allocated || !self.on_hold || !due {
            return Ok(Change::none());
        }
        let released = self.release_allocations();
        for line in &mut self.lines {
            line.backordered = Decimal::ZERO;
        }
        let minutes = timeout.num_minutes();
        let reason =
            format!("reservation released after {minutes} min on hold; placed again when the hold is released");
        let moved = self.change_status(OrderStatus::PendingAllocation, reason, actor, now)?;
        // No placement start although the order now awaits allocation: it is on hold, and
        // releasing the last hold places it again.
        let mut change = Change { moves: StockMove::net(released), ..Change::none() };
        change.status_changed(self, moved);
        Ok(change)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, Utc};
    use rust_decimal_macros::dec;
    use serde_json::json;

    use crate::kernel::access::Actor;
    use crate::memory::fixtures::{placed_order, sample_store};
    use crate::order::Order;
    use crate::order::status::OrderStatus;
    use crate::order::testing::given;
    use crate::stock::StockMove;

    /// The placement order, its stock reserved, then stopped by a hold before its warehouses.
    async fn held() -> Order {
        let store = sample_store(dec!(1000)).await;
        let mut order = placed_order(&store).await;
        order.on_hold = true;
        order
    }

    #[tokio::test]
    async fn a_held_reservation_gives_its_stock_back_once_due_and_is_not_placed_again_yet() {
        let order = held().await;
        let system = Actor::system(order.tenant_id.clone(), "order-placement");
        let reserved_at = order.allocated_at.expect("placed");
        let timeout = Duration::minutes(15);
        let released: Vec<StockMove> = order
            .lines
            .iter()
            .flat_map(|l| l.allocations.iter().map(|a| StockMove::release(a.hub_id.clone(), l.sku.clone(), a.quantity)))
            .collect();
        given(order.clone())
            .when(|o| o.expire_reservation(timeout, &system, reserved_at + Duration::minutes(14)))
            .then_nothing_changes();
        given(order)
            .when(|o| o.expire_reservation(timeout, &system, reserved_at + Duration::minutes(16)))
            .then_status(OrderStatus::PendingAllocation)
            .then_records(&[OrderStatus::PendingAllocation])
            .then_emits(&["OrderStatusChanged"])
            .then_event(
                "OrderStatusChanged",
                json!({"from": "ALLOCATED", "reason": "reservation released after 15 min on hold; placed again when the hold is released"}),
            )
            .then_moves(&StockMove::net(released))
            .then_starts_placement(false)
            .then_order(|o| {
                assert!(o.lines.iter().all(|l| l.allocated.is_zero() && l.allocations.is_empty()));
                assert_eq!(o.allocated_at, None);
            });
    }

    #[tokio::test]
    async fn a_reservation_not_held_does_not_expire() {
        let mut order = held().await;
        order.on_hold = false;
        let system = Actor::system(order.tenant_id.clone(), "order-placement");
        let late = Utc::now() + Duration::days(1);
        given(order).when(|o| o.expire_reservation(Duration::minutes(15), &system, late)).then_nothing_changes();
    }
}
