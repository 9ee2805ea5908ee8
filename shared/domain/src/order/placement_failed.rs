//! `placement_failed`: the placement workflow gave up on an order (retries exhausted, or an
//! unexpected error). Nothing is reserved then (every reservation is atomic, and chunked ones
//! are moved back), so the order goes `BACKORDERED` with the reason in its history, to be placed
//! again when stock comes back. Emits `OrderStatusChanged`.

use chrono::{DateTime, Utc};

use crate::kernel::access::Actor;
use crate::kernel::error::AppError;
use crate::order::status::OrderStatus;
use crate::order::{Change, Order};

/// How much of the failure's cause the history keeps.
const MAX_CAUSE_CHARS: usize = 300;

impl Order {
    /// Records that placement failed with error `name` and its `cause`: the whole order waits
    /// for stock. An empty change unless the order still awaits allocation (placed, cancelled or
    /// already recorded meanwhile).
    pub fn placement_failed(
        &mut self,
        name: &str,
        cause: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Change, AppError> {
        if self.status != OrderStatus::PendingAllocation {
            return Ok(Change::none());
        }
        for line in &mut self.lines {
            line.backordered = line.unallocated();
        }
        let cause: String = cause.chars().take(MAX_CAUSE_CHARS).collect();
        let reason = format!("placement failed ({name}): {cause}");
        let moved = self.change_status(OrderStatus::Backordered, reason.trim_end_matches(": "), actor, now)?;
        let mut change = Change::none();
        change.status_changed(self, moved);
        Ok(change)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use rust_decimal_macros::dec;
    use serde_json::json;

    use crate::kernel::access::Actor;
    use crate::memory::fixtures::{placed_order, placement_order, sample_store};
    use crate::order::status::OrderStatus;
    use crate::order::testing::given;

    #[tokio::test]
    async fn the_whole_order_waits_for_stock_with_the_failure_in_its_history() {
        let store = sample_store(dec!(1000)).await;
        let order = placement_order(&store).await;
        let system = Actor::system(order.tenant_id.clone(), "order-placement");
        given(order.clone())
            .when(|o| o.placement_failed("States.Timeout", "took too long", &system, Utc::now()))
            .then_status(OrderStatus::Backordered)
            .then_records(&[OrderStatus::Backordered])
            .then_emits(&["OrderStatusChanged"])
            .then_event(
                "OrderStatusChanged",
                json!({"from": "PENDING_ALLOCATION", "reason": "placement failed (States.Timeout): took too long"}),
            )
            .then_moves(&[])
            .then_starts_placement(false)
            .then_order(|o| assert!(o.lines.iter().all(|l| l.backordered == l.quantity)));
        let long = "x".repeat(500);
        given(order).when(|o| o.placement_failed("Lambda.Unknown", &long, &system, Utc::now())).then_event(
            "OrderStatusChanged",
            json!({"reason": format!("placement failed (Lambda.Unknown): {}", "x".repeat(300))}),
        );
    }

    #[tokio::test]
    async fn no_cause_leaves_no_dangling_colon_and_a_placed_order_is_left_alone() {
        let store = sample_store(dec!(1000)).await;
        let order = placement_order(&store).await;
        let system = Actor::system(order.tenant_id.clone(), "order-placement");
        given(order)
            .when(|o| o.placement_failed("unknown error", "", &system, Utc::now()))
            .then_event("OrderStatusChanged", json!({"reason": "placement failed (unknown error)"}));
        given(placed_order(&store).await)
            .when(|o| o.placement_failed("States.Timeout", "late", &system, Utc::now()))
            .then_nothing_changes();
    }
}
