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
