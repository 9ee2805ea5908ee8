//! `replace_backorder`: stock of a SKU came back (a receipt, a count, a return); a backordered
//! order allocated automatically goes back to `PENDING_ALLOCATION`, and the placement workflow
//! starts for it. Emits `OrderStatusChanged`. Which orders get the stock first is the use case's
//! business (`usecases::placement::replace_backorders`: oldest first, as far as it goes).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::kernel::access::Actor;
use crate::kernel::error::AppError;
use crate::kernel::ids::Sku;
use crate::order::status::OrderStatus;
use crate::order::{AllocationMode, Change, FulfillmentPolicy, Order};

impl Order {
    /// How much of `sku` the order still waits for (unallocated, not cancelled).
    pub fn waits_for(&self, sku: &Sku) -> Decimal {
        self.lines.iter().filter(|l| &l.sku == sku).map(|l| l.unallocated()).sum()
    }

    /// `available` of `sku` is free again: sends a backordered order allocated automatically
    /// back to placement. An empty change for any other order, and for a `ship_complete` order
    /// that needs more of `sku` than is available (it could not be served whole).
    pub fn replace_backorder(
        &mut self,
        sku: &Sku,
        available: Decimal,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Change, AppError> {
        if self.status != OrderStatus::Backordered || self.allocation != AllocationMode::Auto {
            return Ok(Change::none());
        }
        if self.fulfillment_policy == FulfillmentPolicy::ShipComplete && self.waits_for(sku) > available {
            return Ok(Change::none());
        }
        let moved = self.change_status(OrderStatus::PendingAllocation, format!("{sku} back in stock"), actor, now)?;
        let mut change = Change::none();
        change.status_changed(self, moved);
        change.start_placement = self.awaits_automatic_placement();
        Ok(change)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use rust_decimal_macros::dec;
    use serde_json::json;

    use crate::kernel::access::Actor;
    use crate::kernel::ids::Sku;
    use crate::memory::fixtures::{placement_order, sample_store};
    use crate::order::status::OrderStatus;
    use crate::order::testing::given;
    use crate::order::{AllocationMode, FulfillmentPolicy, Order};

    /// The placement order with nothing in stock: `BACKORDERED`, 100 `PP-H1` waiting.
    async fn backordered() -> Order {
        let store = sample_store(dec!(0)).await;
        let order = placement_order(&store).await;
        let system = Actor::system(order.tenant_id.clone(), "order-placement");
        given(order).when(|o| o.reserve(&[], &system, Utc::now())).then_status(OrderStatus::Backordered).into_order()
    }

    #[tokio::test]
    async fn a_backordered_order_goes_back_to_placement_when_its_stock_returns() {
        let order = backordered().await;
        let system = Actor::system(order.tenant_id.clone(), "order-placement");
        let sku = Sku::parse("PP-H1").unwrap();
        assert_eq!(order.waits_for(&sku), dec!(100));
        given(order)
            .when(|o| o.replace_backorder(&sku, dec!(10), &system, Utc::now()))
            .then_status(OrderStatus::PendingAllocation)
            .then_emits(&["OrderStatusChanged"])
            .then_event("OrderStatusChanged", json!({"from": "BACKORDERED", "reason": "PP-H1 back in stock"}))
            .then_starts_placement(true);
    }

    #[tokio::test]
    async fn what_cannot_be_served_or_is_not_placed_automatically_is_passed_over() {
        let order = backordered().await;
        let system = Actor::system(order.tenant_id.clone(), "order-placement");
        let sku = Sku::parse("PP-H1").unwrap();
        let mut whole = order.clone();
        whole.fulfillment_policy = FulfillmentPolicy::ShipComplete;
        given(whole.clone()).when(|o| o.replace_backorder(&sku, dec!(99), &system, Utc::now())).then_nothing_changes();
        given(whole)
            .when(|o| o.replace_backorder(&sku, dec!(100), &system, Utc::now()))
            .then_status(OrderStatus::PendingAllocation);
        let mut manual = order.clone();
        manual.allocation = AllocationMode::Manual;
        given(manual).when(|o| o.replace_backorder(&sku, dec!(100), &system, Utc::now())).then_nothing_changes();
        let pending = given(order).when(|o| o.replace_backorder(&sku, dec!(100), &system, Utc::now())).into_order();
        given(pending).when(|o| o.replace_backorder(&sku, dec!(100), &system, Utc::now())).then_nothing_changes();
    }
}
