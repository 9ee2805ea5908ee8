//! Place a hold: stop an order where it is (`payment_hold`, `fraud`, `manual`, ...). A held
//! order does not go to a warehouse or ship until its last hold is released; its status does
//! not change. Refused once the order has shipped or closed, and for a code already held.
//!
//! Emits `OrderHoldPlaced`.

use chrono::{DateTime, Utc};

use crate::events::DomainEvent;
use crate::kernel::access::Actor;
use crate::kernel::error::{AppError, ConflictCode};
use crate::order::status::OrderStatus;
use crate::order::{Change, Hold, HoldStatus, Order};

impl Order {
    /// Places a hold: 409 `not_holdable` once shipped or closed, `hold_exists` for a code with
    /// an active hold, `too_many_holds` past the cap.
    pub fn place_hold(
        &mut self,
        code: &str,
        reason: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Change, AppError> {
        use OrderStatus::*;
        if matches!(self.status, Shipped | InTransit | Delivered | Completed | Cancelled) {
            return Err(AppError::conflict(
                ConflictCode::NotHoldable,
                format!("an order in {} cannot be put on hold", self.status),
            ));
        }
        if self.holds.iter().any(|h| h.code == code && h.status == HoldStatus::Active) {
            return Err(AppError::conflict(
                ConflictCode::HoldExists,
                format!("the order already has an active {code} hold"),
            ));
        }
        crate::kernel::limits::check_room(
            ConflictCode::TooManyHolds,
            "holds",
            self.holds.len(),
            crate::kernel::limits::MAX_HOLDS,
        )?;
        self.holds.push(Hold {
            hold_id: format!("H{}", self.holds.len() + 1),
            code: code.to_owned(),
            reason: reason.to_owned(),
            status: HoldStatus::Active,
            placed_by: actor.sub.clone(),
            placed_at: now,
            released_by: None,
            released_at: None,
        });
        self.on_hold = true;
        self.touch(now);
        let hold = self.holds.last().expect("just pushed");
        let mut change = Change::none();
        change.emit(DomainEvent::hold_placed(self, hold));
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
    use crate::kernel::ids::TenantId;
    use crate::memory::MemoryStore;
    use crate::memory::fixtures::{placed_order, sample_store, shipped_order};
    use crate::order::status::OrderStatus;
    use crate::order::testing::{actor, given};

    #[tokio::test]
    async fn a_hold_stops_the_order_where_it_is() {
        let store = sample_store(dec!(1000)).await;
        let order = placed_order(&store).await;
        let admin = actor(&order, Role::Admin);
        given(order)
            .when(|o| o.place_hold("payment_hold", "waiting for the deposit", &admin, Utc::now()))
            .then_status(OrderStatus::Allocated)
            .then_records(&[])
            .then_emits(&["OrderHoldPlaced"])
            .then_event(
                "OrderHoldPlaced",
                json!({"hold": {"hold_id": "H1", "code": "payment_hold", "reason": "waiting for the deposit"}}),
            )
            .then_moves(&[])
            .then_order(|o| assert!(o.on_hold));
    }

    #[tokio::test]
    async fn one_active_hold_per_code() {
        let store = sample_store(dec!(1000)).await;
        let order = placed_order(&store).await;
        let admin = actor(&order, Role::Admin);
        let held = given(order).when(|o| o.place_hold("fraud", "check", &admin, Utc::now())).into_order();
        given(held)
            .when(|o| o.place_hold("fraud", "again", &admin, Utc::now()))
            .then_refused(|e| matches!(e, AppError::Conflict { code: ConflictCode::HoldExists, .. }));
    }

    #[tokio::test]
    async fn a_shipped_order_is_not_held() {
        let tenant = TenantId::parse("t1").unwrap();
        let store = MemoryStore::with_catalog(&tenant, "HCM-01", "PP-001", dec!(100)).await;
        let order = shipped_order(&store, &tenant, "HCM-01", "PP-001", "10").await;
        let admin = actor(&order, Role::Admin);
        given(order)
            .when(|o| o.place_hold("manual", "too late", &admin, Utc::now()))
            .then_refused(|e| matches!(e, AppError::Conflict { code: ConflictCode::NotHoldable, .. }));
    }
}
