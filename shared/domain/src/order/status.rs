//! The order lifecycle (SPEC.md "Status"). The allowed transitions are listed once, in
//! [`OrderStatus::successors`]; every status change in the OMS goes through
//! [`OrderStatus::transition_to`].

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where an order is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    /// Being prepared; lines editable.
    Draft,
    /// Submitted with a quoted price below list; waits for a sales manager.
    PendingPriceApproval,
    /// The price was rejected; editable and resubmittable.
    PriceRejected,
    /// Waiting for stock to be reserved (automatically or manually).
    PendingAllocation,
    /// Stock reserved (or the rest backordered under `ship_partial`).
    Allocated,
    /// Nothing reservable yet, or `ship_complete` not yet satisfiable.
    Backordered,
    /// Fulfillment requests sent to warehouses.
    InFulfillment,
    /// Some quantity shipped.
    PartiallyShipped,
    /// All quantity shipped.
    Shipped,
    /// With the carrier.
    InTransit,
    /// All non-cancelled quantity delivered.
    Delivered,
    /// Closed and handed to accounting.
    Completed,
    /// Cancelled before anything shipped.
    Cancelled,
}

/// A status change the lifecycle does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an order cannot go from {from} to {to}")]
pub struct TransitionError {
    /// The current status.
    pub from: OrderStatus,
    /// The requested status.
    pub to: OrderStatus,
}

impl OrderStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [OrderStatus; 13] = [
        Self::Draft,
        Self::PendingPriceApproval,
        Self::PriceRejected,
        Self::PendingAllocation,
        Self::Allocated,
        Self::Backordered,
        Self::InFulfillment,
        Self::PartiallyShipped,
        Self::Shipped,
        Self::InTransit,
        Self::Delivered,
        Self::Completed,
        Self::Cancelled,
    ];

    /// The statuses reachable in one step.
    pub fn successors(self) -> &'static [OrderStatus] {
        use OrderStatus::*;
        match self {
            Draft => &[PendingPriceApproval, PendingAllocation, Cancelled],
            PendingPriceApproval => &[PendingAllocation, PriceRejected, Cancelled],
            PriceRejected => &[PendingPriceApproval, PendingAllocation, Cancelled],
            PendingAllocation => &[Allocated, Backordered, Cancelled],
            // Backordered orders are re-placed when stock arrives.
            Backordered => &[PendingAllocation, Allocated, Cancelled],
            // An expired reservation sends the order back to PENDING_ALLOCATION. Dispatcher
            // shipments (B2B) ship straight from ALLOCATED.
            Allocated => &[InFulfillment, PendingAllocation, PartiallyShipped, Shipped, Cancelled],
            InFulfillment => &[PartiallyShipped, Shipped, Cancelled],
            // Once anything shipped, cancel is no longer possible.
            PartiallyShipped => &[Shipped, InTransit, Delivered],
            Shipped => &[InTransit, Delivered],
            InTransit => &[Delivered],
            Delivered => &[Completed],
            Completed | Cancelled => &[],
        }
    }

    /// Whether `to` is reachable in one step.
    pub fn can_transition_to(self, to: OrderStatus) -> bool {
        self.successors().contains(&to)
    }

    /// The new status, or why the change is not allowed.
    pub fn transition_to(self, to: OrderStatus) -> Result<OrderStatus, TransitionError> {
        if self.can_transition_to(to) { Ok(to) } else { Err(TransitionError { from: self, to }) }
    }

    /// Whether the order's lines (SKUs, quantities, prices) may still be edited.
    pub fn lines_editable(self) -> bool {
        matches!(self, Self::Draft | Self::PriceRejected)
    }

    /// Whether placement may reserve stock for the order now.
    pub fn awaits_allocation(self) -> bool {
        matches!(self, Self::PendingAllocation)
    }

    /// The SPEC name, e.g. `PENDING_ALLOCATION`.
    pub fn as_str(self) -> &'static str {
        use OrderStatus::*;
        match self {
            Draft => "DRAFT",
            PendingPriceApproval => "PENDING_PRICE_APPROVAL",
            PriceRejected => "PRICE_REJECTED",
            PendingAllocation => "PENDING_ALLOCATION",
            Allocated => "ALLOCATED",
            Backordered => "BACKORDERED",
            InFulfillment => "IN_FULFILLMENT",
            PartiallyShipped => "PARTIALLY_SHIPPED",
            Shipped => "SHIPPED",
            InTransit => "IN_TRANSIT",
            Delivered => "DELIVERED",
            Completed => "COMPLETED",
            Cancelled => "CANCELLED",
        }
    }

    /// Parses a SPEC name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::OrderStatus::{self, *};

    /// The lifecycle of SPEC.md, written out independently of `successors` so that a change to
    /// either shows up here.
    const ALLOWED: &[(OrderStatus, OrderStatus)] = &[
        (Draft, PendingPriceApproval),
        (Draft, PendingAllocation),
        (Draft, Cancelled),
        (PendingPriceApproval, PendingAllocation),
        (PendingPriceApproval, PriceRejected),
        (PendingPriceApproval, Cancelled),
        (PriceRejected, PendingPriceApproval),
        (PriceRejected, PendingAllocation),
        (PriceRejected, Cancelled),
        (PendingAllocation, Allocated),
        (PendingAllocation, Backordered),
        (PendingAllocation, Cancelled),
        (Backordered, PendingAllocation),
        (Backordered, Allocated),
        (Backordered, Cancelled),
        (Allocated, InFulfillment),
        (Allocated, PendingAllocation),
        (Allocated, PartiallyShipped),
        (Allocated, Shipped),
        (Allocated, Cancelled),
        (InFulfillment, PartiallyShipped),
        (InFulfillment, Shipped),
        (InFulfillment, Cancelled),
        (PartiallyShipped, Shipped),
        (PartiallyShipped, InTransit),
        (PartiallyShipped, Delivered),
        (Shipped, InTransit),
        (Shipped, Delivered),
        (InTransit, Delivered),
        (Delivered, Completed),
    ];

    #[test]
    fn every_allowed_transition_succeeds_and_every_other_is_refused() {
        for from in OrderStatus::ALL {
            for to in OrderStatus::ALL {
                let allowed = ALLOWED.contains(&(from, to));
                let result = from.transition_to(to);
                if allowed {
                    assert_eq!(result, Ok(to), "{from} -> {to} must be allowed");
                } else {
                    let err = result.expect_err(&format!("{from} -> {to} must be refused"));
                    assert_eq!((err.from, err.to), (from, to));
                }
            }
        }
    }

    #[test]
    fn nothing_cancels_after_shipping_and_terminal_states_stay() {
        for s in [PartiallyShipped, Shipped, InTransit, Delivered, Completed, Cancelled] {
            assert!(!s.can_transition_to(Cancelled), "{s} must not cancel");
        }
        assert!(Completed.successors().is_empty());
        assert!(Cancelled.successors().is_empty());
    }

    #[test]
    fn names_round_trip_through_serde_and_parse() {
        for s in OrderStatus::ALL {
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(OrderStatus::parse("SHIPPING"), None);
    }

    #[test]
    fn only_draft_and_price_rejected_lines_are_editable() {
        let editable: Vec<_> = OrderStatus::ALL.into_iter().filter(|s| s.lines_editable()).collect();
        assert_eq!(editable, vec![Draft, PriceRejected]);
    }
}
