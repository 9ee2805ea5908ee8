//! Allocate a line (by hand): a dispatcher reserves part of a line at a hub, for an order
//! allocated manually that still awaits allocation (B2B: a line may come from several hubs).
//! Never more than the line still needs; the stock is reserved atomically with the order (the
//! commit refuses what the hub has not available).
//!
//! Emits `StockReserved` with the one reservation.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::events::DomainEvent;
use crate::kernel::error::{AppError, ConflictCode};
use crate::kernel::ids::{HubId, LineId};
use crate::order::status::OrderStatus;
use crate::order::{Allocation, AllocationMode, Change, Order};
use crate::routing::PlannedReservation;
use crate::stock::StockMove;

impl Order {
    /// Reserves `quantity` of a line at a hub: 409 `not_manual` for an order allocated
    /// automatically, `not_placeable` unless it awaits allocation, `over_allocation` for more
    /// than the line needs; 404 for an unknown line.
    pub fn allocate_line(
        &mut self,
        line_id: &LineId,
        hub_id: &HubId,
        quantity: Decimal,
        now: DateTime<Utc>,
    ) -> Result<Change, AppError> {
        if self.allocation != AllocationMode::Manual {
            return Err(AppError::conflict(ConflictCode::NotManual, "this order is allocated automatically"));
        }
        if !matches!(self.status, OrderStatus::PendingAllocation | OrderStatus::Backordered) {
            return Err(AppError::conflict(
                ConflictCode::NotPlaceable,
                format!("an order in {} is not awaiting allocation", self.status),
            ));
        }
        let quantity = crate::kernel::quantity::positive_quantity("quantity", quantity)?;
        let line = self.line_mut(line_id).ok_or(AppError::NotFound("order line"))?;
        if quantity > line.unallocated() {
            return Err(AppError::conflict(
                ConflictCode::OverAllocation,
                format!("line {line_id} needs {} more, not {quantity}", line.unallocated()),
            ));
        }
        match line.allocations.iter_mut().find(|a| &a.hub_id == hub_id) {
            Some(existing) => existing.quantity += quantity,
            None => line.allocations.push(Allocation { hub_id: hub_id.clone(), quantity }),
        }
        line.allocated += quantity;
        line.backordered = line.unallocated();
        let sku = line.sku.clone();
        self.allocated_at = Some(now);
        self.touch(now);
        let reservation =
            PlannedReservation { line_id: line_id.clone(), sku: sku.clone(), hub_id: hub_id.clone(), quantity };
        let mut change = Change::none();
        change.emit(DomainEvent::stock_reserved(self, &[reservation]));
        change.moves = vec![StockMove::reserve(hub_id.clone(), sku, quantity)];
        Ok(change)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use chrono::Utc;
    use rust_decimal_macros::dec;
    use serde_json::json;

    use crate::kernel::error::{AppError, ConflictCode};
    use crate::kernel::ids::{HubId, LineId, Sku};
    use crate::order::status::OrderStatus;
    use crate::order::testing::given;
    use crate::order::tests::sample_order;
    use crate::order::{AllocationMode, Order};
    use crate::stock::StockMove;

    /// The seed's B2B order: 1000 KG of `PP`, allocated by hand, awaiting allocation.
    pub(crate) fn b2b_order() -> Order {
        let mut order = sample_order(&[("PP", dec!(1000), dec!(23500), dec!(25000))]);
        order.allocation = AllocationMode::Manual;
        order.status = OrderStatus::PendingAllocation;
        order
    }

    fn hub(id: &str) -> HubId {
        HubId::parse(id).unwrap()
    }

    #[test]
    fn a_line_is_reserved_at_a_hub_with_its_stock() {
        let line = LineId::for_position(0);
        given(b2b_order())
            .when(|o| o.allocate_line(&line, &hub("WH"), dec!(600), Utc::now()))
            .then_status(OrderStatus::PendingAllocation)
            .then_records(&[])
            .then_emits(&["StockReserved"])
            .then_event(
                "StockReserved",
                json!({"reservations": [{"line_id": "L1", "sku": "PP", "hub_id": "WH", "quantity": "600"}]}),
            )
            .then_moves(&[StockMove::reserve(hub("WH"), Sku::parse("PP").unwrap(), dec!(600))])
            .then_order(|o| assert_eq!((o.lines[0].allocated, o.lines[0].backordered), (dec!(600), dec!(400))));
    }

    #[test]
    fn never_more_than_the_line_needs() {
        let line = LineId::for_position(0);
        let order = given(b2b_order()).when(|o| o.allocate_line(&line, &hub("WH"), dec!(600), Utc::now())).into_order();
        let order = given(order)
            .when(|o| o.allocate_line(&line, &hub("PORT"), dec!(401), Utc::now()))
            .then_refused(|e| matches!(e, AppError::Conflict { code: ConflictCode::OverAllocation, .. }))
            .into_order();
        given(order)
            .when(|o| o.allocate_line(&line, &hub("PORT"), dec!(400), Utc::now()))
            .then_order(|o| assert_eq!(o.lines[0].allocations.len(), 2));
    }

    #[test]
    fn automatic_orders_are_not_allocated_by_hand() {
        let mut order = b2b_order();
        order.allocation = AllocationMode::Auto;
        given(order)
            .when(|o| o.allocate_line(&LineId::for_position(0), &hub("WH"), dec!(1), Utc::now()))
            .then_refused(|e| matches!(e, AppError::Conflict { code: ConflictCode::NotManual, .. }));
    }

    #[test]
    fn an_unknown_line_is_not_found() {
        given(b2b_order())
            .when(|o| o.allocate_line(&LineId::for_position(5), &hub("WH"), dec!(1), Utc::now()))
            .then_refused(|e| matches!(e, AppError::NotFound("order line")));
    }
}
