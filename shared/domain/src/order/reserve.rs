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
use crate::kernel::error::AppError;
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
                "not_placeable",
                format!("an order in {} is not awaiting allocation", self.status),
            ));
        }
        for r in reservations {
            let line = self.line_mut(&r.line_id).filter(|l| l.sku == r.sku).ok_or_else(|| {
                AppError::invalid("reservations", format!("no line {} with SKU {}", r.line_id, r.sku))
            })?;
            if r.quantity <= Decimal::ZERO || r.quantity > line.unallocated() {
                return Err(AppError::conflict(
                    "over_allocation",
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
