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
