//! What a command did to an order, and what must be committed with it. Every command of the
//! aggregate returns a [`Change`]: the history entries it recorded, the events it emits (built
//! with the constructors of [`crate::events`], in the order they are published), the stock it
//! moves, whether it starts the placement workflow, the warehouse requests it sent and the
//! documents it made that are found by their own id. The unit of work
//! (`usecases::unit_of_work`) commits the order and its change in one atomic write, so a
//! command states in one place everything it does and emits.
//!
//! Invariant: a command that changed nothing returns an empty change and leaves the order's
//! version as it was; the unit of work answers that as a replay and writes nothing.

use crate::events::DomainEvent;
use crate::order::fulfillment::FulfillmentRequest;
use crate::order::{Order, StatusChange};
use crate::ports::Lookup;
use crate::stock::StockMove;

/// What a command changed, to commit with the order.
#[derive(Debug, Default, Clone, PartialEq)]
#[must_use = "a change is committed with the order, or its history and events are lost"]
pub struct Change {
    /// History entries, oldest first.
    pub history: Vec<StatusChange>,
    /// Events to publish once committed, in order.
    pub events: Vec<DomainEvent>,
    /// Stock moves committed atomically with the order.
    pub moves: Vec<StockMove>,
    /// Whether the change leaves the order waiting for automatic allocation, so the placement
    /// workflow starts for it. A repeated start is harmless (Express does not deduplicate
    /// execution names; the tasks check the order's status and version).
    pub start_placement: bool,
    /// Warehouse requests sent, counted against the hubs' daily capacity once committed.
    pub dispatched: Vec<FulfillmentRequest>,
    /// Documents created that are found by their own id.
    pub lookups: Vec<Lookup>,
}

impl Change {
    /// Nothing changed: a repeat, or a report that came too late to matter.
    pub fn none() -> Self {
        Self::default()
    }

    /// Whether the change holds nothing to commit.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    /// Records a status change: its history entry and `OrderStatusChanged` (every status change
    /// is announced).
    pub fn status_changed(&mut self, order: &Order, change: StatusChange) -> &mut Self {
        self.events.push(DomainEvent::status_changed(order, &change));
        self.history.push(change);
        self
    }

    /// Emits an event.
    pub fn emit(&mut self, event: DomainEvent) -> &mut Self {
        self.events.push(event);
        self
    }

    /// Appends what a following step of the same command did.
    pub fn and(mut self, then: Change) -> Self {
        self.history.extend(then.history);
        self.events.extend(then.events);
        self.moves.extend(then.moves);
        self.start_placement |= then.start_placement;
        self.dispatched.extend(then.dispatched);
        self.lookups.extend(then.lookups);
        self
    }

    /// The `detail-type`s of the events, in order (for tests and logs).
    pub fn event_types(&self) -> Vec<&'static str> {
        self.events.iter().map(DomainEvent::detail_type).collect()
    }
}
