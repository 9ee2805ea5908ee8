//! Release a hold: the order is off hold once its last active hold is released, and then
//! continues where the hold stopped it: placed again if its reservation expired meanwhile
//! (back at `PENDING_ALLOCATION`, allocated automatically), or on to its warehouses
//! ([`Order::request_fulfillment`]) if it is `ALLOCATED`.
//!
//! Emits `OrderHoldReleased` (with whether the order is still on hold), then, after the last
//! hold, what sending it to its warehouses emits; or it starts the placement workflow.

use chrono::{DateTime, Utc};

use crate::events::DomainEvent;
use crate::kernel::access::Actor;
use crate::kernel::error::{AppError, ConflictCode};
use crate::order::status::OrderStatus;
use crate::order::{Change, HoldStatus, Order};

impl Order {
    /// Releases an active hold: 404 for an unknown hold, 409 `hold_released` for one already
    /// released.
    pub fn release_hold(&mut self, hold_id: &str, actor: &Actor, now: DateTime<Utc>) -> Result<Change, AppError> {
        let index = self.holds.iter().position(|h| h.hold_id == hold_id).ok_or(AppError::NotFound("hold"))?;
        let hold = &mut self.holds[index];
        if hold.status != HoldStatus::Active {
            return Err(AppError::conflict(ConflictCode::HoldReleased, format!("hold {hold_id} is already released")));
        }
        hold.status = HoldStatus::Released;
        hold.released_by = Some(actor.sub.clone());
        hold.released_at = Some(now);
        self.on_hold = self.holds.iter().any(|h| h.status == HoldStatus::Active);
        self.touch(now);
        let mut change = Change::none();
        change.emit(DomainEvent::hold_released(self, &self.holds[index]));
        if self.on_hold {
            return Ok(change);
        }
        change.start_placement = self.awaits_automatic_placement();
        if self.status == OrderStatus::Allocated {
            change = change.and(self.request_fulfillment(actor, now)?);
        }
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
    use crate::memory::fixtures::{placed_order, placement_order, sample_store};
    use crate::order::Order;
    use crate::order::status::OrderStatus;
    use crate::order::testing::{actor, given};

    fn held(order: Order, codes: &[&str]) -> Order {
        let admin = actor(&order, Role::Admin);
        codes.iter().fold(order, |order, code| {
            given(order).when(|o| o.place_hold(code, "check", &admin, Utc::now())).into_order()
        })
    }

    #[tokio::test]
    async fn releasing_the_last_hold_sends_an_allocated_order_to_its_warehouses() {
        let store = sample_store(dec!(1000)).await;
        let order = held(placed_order(&store).await, &["payment_hold"]);
        let admin = actor(&order, Role::Admin);
        given(order)
            .when(|o| o.release_hold("H1", &admin, Utc::now()))
            .then_status(OrderStatus::InFulfillment)
            .then_records(&[OrderStatus::InFulfillment])
            .then_emits(&["OrderHoldReleased", "OrderStatusChanged", "FulfillmentRequested"])
            .then_event(
                "OrderHoldReleased",
                json!({"hold": {"hold_id": "H1", "status": "released"}, "still_on_hold": false}),
            )
            .then_dispatches_to(&["HCM-WH1"])
            .then_starts_placement(false);
    }

    #[tokio::test]
    async fn another_active_hold_keeps_it_where_it_is() {
        let store = sample_store(dec!(1000)).await;
        let order = held(placed_order(&store).await, &["payment_hold", "fraud"]);
        let admin = actor(&order, Role::Admin);
        given(order)
            .when(|o| o.release_hold("H1", &admin, Utc::now()))
            .then_status(OrderStatus::Allocated)
            .then_emits(&["OrderHoldReleased"])
            .then_event("OrderHoldReleased", json!({"still_on_hold": true}))
            .then_dispatches_to(&[])
            .then_starts_placement(false);
    }

    #[tokio::test]
    async fn an_order_waiting_for_placement_is_placed_again() {
        let store = sample_store(dec!(1000)).await;
        let order = held(placement_order(&store).await, &["manual"]);
        let admin = actor(&order, Role::Admin);
        given(order)
            .when(|o| o.release_hold("H1", &admin, Utc::now()))
            .then_status(OrderStatus::PendingAllocation)
            .then_emits(&["OrderHoldReleased"])
            .then_starts_placement(true);
    }

    #[tokio::test]
    async fn a_hold_is_released_once() {
        let store = sample_store(dec!(1000)).await;
        let order = held(placed_order(&store).await, &["payment_hold", "fraud"]);
        let admin = actor(&order, Role::Admin);
        let released = given(order).when(|o| o.release_hold("H1", &admin, Utc::now())).into_order();
        given(released)
            .when(|o| o.release_hold("H1", &admin, Utc::now()))
            .then_refused(|e| matches!(e, AppError::Conflict { code: ConflictCode::HoldReleased, .. }));
        given(held(placed_order(&store).await, &[]))
            .when(|o| o.release_hold("H9", &admin, Utc::now()))
            .then_refused(|e| matches!(e, AppError::NotFound("hold")));
    }
}
