//! `reserve`: the placement workflow's `reserve-stock` step records a placement plan (which hub
//! reserves how much of each line, see `routing`) on the order. What the policy allows is
//! reserved and the rest backordered; the order goes `ALLOCATED` or `BACKORDERED`. What it emits:
//! `OrderStatusChanged`, then `StockReserved` when anything was reserved, then `OrderBackordered`
//! when any line waits for stock. The reservations are stock moves committed with the order, each
//! conditional on the stock being there, so a stale plan fails as a whole.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::events::DomainEvent;
use crate::kernel::access::Actor;
use crate::kernel::error::{AppError, ConflictCode};
use crate::order::status::OrderStatus;
use crate::order::{Allocation, Change, FulfillmentPolicy, Order};
use crate::routing::PlannedReservation;
use crate::stock::StockMove;

impl Order {
    /// Records the plan's reservations on the lines, backorders the rest, and moves the order to
    /// `ALLOCATED` or `BACKORDERED` as its fulfillment policy says, with the stock reservations to
    /// commit together with it, atomically. Emits `OrderStatusChanged`, `StockReserved` when
    /// anything was reserved, and `OrderBackordered` when any line waits for stock.
    pub fn reserve(
        &mut self,
        reservations: &[PlannedReservation],
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Change, AppError> {
        if !self.status.awaits_allocation() {
            return Err(AppError::conflict(
                ConflictCode::NotPlaceable,
                format!("an order in {} is not awaiting allocation", self.status),
            ));
        }
        for r in reservations {
            let line = self.line_mut(&r.line_id).filter(|l| l.sku == r.sku).ok_or_else(|| {
                AppError::invalid("reservations", format!("no line {} with SKU {}", r.line_id, r.sku))
            })?;
            if r.quantity <= Decimal::ZERO || r.quantity > line.unallocated() {
                return Err(AppError::conflict(
                    ConflictCode::OverAllocation,
                    format!("line {} needs {}, the plan reserves {}", line.line_id, line.unallocated(), r.quantity),
                ));
            }
            match line.allocations.iter_mut().find(|a| a.hub_id == r.hub_id) {
                Some(existing) => existing.quantity += r.quantity,
                None => line.allocations.push(Allocation { hub_id: r.hub_id.clone(), quantity: r.quantity }),
            }
            line.allocated += r.quantity;
        }
        for line in &mut self.lines {
            line.backordered = line.unallocated();
        }
        if !reservations.is_empty() {
            self.allocated_at = Some(now);
        }

        let reserved_any = self.lines.iter().any(|l| l.allocated > Decimal::ZERO);
        let complete = self.lines.iter().all(|l| l.backordered.is_zero());
        let allocated = match self.fulfillment_policy {
            FulfillmentPolicy::ShipPartial => reserved_any,
            FulfillmentPolicy::ShipComplete | FulfillmentPolicy::Backorder => complete,
        };
        let (to, reason) = if allocated && complete {
            (OrderStatus::Allocated, "all quantity reserved".to_owned())
        } else if allocated {
            (OrderStatus::Allocated, "reserved what is available; the rest is backordered".to_owned())
        } else if reserved_any {
            (OrderStatus::Backordered, format!("partly reserved; {:?} waits for the rest", self.fulfillment_policy))
        } else {
            (OrderStatus::Backordered, "no stock available to reserve".to_owned())
        };
        let moved = self.change_status(to, reason, actor, now)?;
        let moves = reservations.iter().map(|r| StockMove::reserve(r.hub_id.clone(), r.sku.clone(), r.quantity));
        let mut change = Change { moves: StockMove::net(moves), ..Change::none() };
        change.status_changed(self, moved);
        if !reservations.is_empty() {
            change.emit(DomainEvent::stock_reserved(self, reservations));
        }
        if let Some(backordered) = DomainEvent::order_backordered(self) {
            change.emit(backordered);
        }
        Ok(change)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use rust_decimal::Decimal;
    use rust_decimal_macros::dec;
    use serde_json::json;

    use crate::kernel::access::Actor;
    use crate::kernel::error::{AppError, ConflictCode};
    use crate::kernel::ids::{HubId, LineId, Sku};
    use crate::memory::fixtures::{placed_order, placement_order, sample_store};
    use crate::order::status::OrderStatus;
    use crate::order::testing::given;
    use crate::order::{FulfillmentPolicy, Order};
    use crate::routing::PlannedReservation;
    use crate::stock::StockMove;

    fn placement(order: &Order) -> Actor {
        Actor::system(order.tenant_id.clone(), "order-placement")
    }

    /// `quantity` of line `line` (`L1` is `PP-H1`, `L2` is `HDPE-F2`) at `HCM-WH1`.
    fn at_hcm(line: &str, quantity: Decimal) -> PlannedReservation {
        let sku = if line == "L1" { "PP-H1" } else { "HDPE-F2" };
        PlannedReservation {
            line_id: LineId::parse(line).unwrap(),
            sku: Sku::parse(sku).unwrap(),
            hub_id: HubId::parse("HCM-WH1").unwrap(),
            quantity,
        }
    }

    fn reserve(sku: &str, quantity: Decimal) -> StockMove {
        StockMove::reserve(HubId::parse("HCM-WH1").unwrap(), Sku::parse(sku).unwrap(), quantity)
    }

    #[tokio::test]
    async fn a_plan_that_covers_everything_allocates_the_order_and_reserves_the_stock() {
        let store = sample_store(dec!(1000)).await;
        let order = placement_order(&store).await;
        let system = placement(&order);
        let plan = [at_hcm("L1", dec!(60)), at_hcm("L1", dec!(40)), at_hcm("L2", dec!(25.5))];
        given(order)
            .when(|o| o.reserve(&plan, &system, Utc::now()))
            .then_status(OrderStatus::Allocated)
            .then_records(&[OrderStatus::Allocated])
            .then_emits(&["OrderStatusChanged", "StockReserved"])
            .then_event("OrderStatusChanged", json!({"from": "PENDING_ALLOCATION", "reason": "all quantity reserved"}))
            .then_event(
                "StockReserved",
                json!({"reservations": [
                    {"line_id": "L1", "hub_id": "HCM-WH1", "quantity": "60"},
                    {"line_id": "L1", "hub_id": "HCM-WH1", "quantity": "40"},
                    {"line_id": "L2", "hub_id": "HCM-WH1", "quantity": "25.5"}
                ]}),
            )
            .then_moves(&[reserve("HDPE-F2", dec!(25.5)), reserve("PP-H1", dec!(100))])
            .then_starts_placement(false)
            .then_order(|o| {
                assert_eq!(o.lines[0].allocations.len(), 1, "one allocation per hub");
                assert!(o.allocated_at.is_some() && o.lines.iter().all(|l| l.backordered.is_zero()));
            });
    }

    #[tokio::test]
    async fn what_the_plan_cannot_cover_is_backordered_as_the_policy_says() {
        let store = sample_store(dec!(1000)).await;
        let order = placement_order(&store).await;
        let system = placement(&order);
        let cases = [
            (
                FulfillmentPolicy::ShipPartial,
                OrderStatus::Allocated,
                "reserved what is available; the rest is backordered",
            ),
            (FulfillmentPolicy::Backorder, OrderStatus::Backordered, "partly reserved; Backorder waits for the rest"),
            (
                FulfillmentPolicy::ShipComplete,
                OrderStatus::Backordered,
                "partly reserved; ShipComplete waits for the rest",
            ),
        ];
        for (policy, status, reason) in cases {
            let mut order = order.clone();
            order.fulfillment_policy = policy;
            given(order)
                .when(|o| o.reserve(&[at_hcm("L1", dec!(100))], &system, Utc::now()))
                .then_status(status)
                .then_emits(&["OrderStatusChanged", "StockReserved", "OrderBackordered"])
                .then_event("OrderStatusChanged", json!({"reason": reason}))
                .then_event("OrderBackordered", json!({"lines": [{"line_id": "L2", "backordered": "25.5"}]}))
                .then_moves(&[reserve("PP-H1", dec!(100))]);
        }
        given(order)
            .when(|o| o.reserve(&[], &system, Utc::now()))
            .then_status(OrderStatus::Backordered)
            .then_emits(&["OrderStatusChanged", "OrderBackordered"])
            .then_event("OrderStatusChanged", json!({"reason": "no stock available to reserve"}))
            .then_moves(&[])
            .then_order(|o| assert_eq!((o.lines[0].backordered, o.allocated_at), (dec!(100), None)));
    }

    #[tokio::test]
    async fn a_plan_reserves_no_more_than_a_line_needs_and_only_for_an_order_awaiting_allocation() {
        let store = sample_store(dec!(1000)).await;
        let order = placement_order(&store).await;
        let system = placement(&order);
        given(order.clone())
            .when(|o| o.reserve(&[at_hcm("L1", dec!(101))], &system, Utc::now()))
            .then_refused(|e| matches!(e, AppError::Conflict { code: ConflictCode::OverAllocation, .. }));
        let mut wrong_sku = at_hcm("L1", dec!(1));
        wrong_sku.sku = Sku::parse("HDPE-F2").unwrap();
        given(order)
            .when(|o| o.reserve(&[wrong_sku], &system, Utc::now()))
            .then_refused(|e| matches!(e, AppError::Invalid { .. }));
        given(placed_order(&store).await)
            .when(|o| o.reserve(&[], &system, Utc::now()))
            .then_refused(|e| matches!(e, AppError::Conflict { code: ConflictCode::NotPlaceable, .. }));
    }
}
