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
