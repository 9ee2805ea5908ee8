//! What a status change tells the world: the outbox messages that go with it, in one place so
//! every path to a status emits the same events.

use chrono::{DateTime, Utc};

use crate::events::{DomainEvent, EventEnvelope, OutboxMessage};
use crate::order::{Order, StatusChange};
use crate::status::OrderStatus;

fn event(order: &Order, now: DateTime<Utc>, event: DomainEvent) -> OutboxMessage {
    OutboxMessage::Event(EventEnvelope::new(order.tenant_id.clone(), now, event))
}

/// `OrderStatusChanged`, and the placement workflow when the change leaves the order waiting for
/// automatic allocation.
pub fn after_transition(order: &Order, change: &StatusChange, now: DateTime<Utc>) -> Vec<OutboxMessage> {
    let mut messages = vec![event(order, now, DomainEvent::status_changed(order, change))];
    if order.awaits_automatic_placement() {
        messages.push(OutboxMessage::start_placement(order));
    }
    messages
}

/// `OrderSubmitted`, `PriceApprovalRequested` when prices need approval, and what any
/// transition emits.
pub fn after_submit(order: &Order, change: &StatusChange, now: DateTime<Utc>) -> Vec<OutboxMessage> {
    let mut messages = vec![event(order, now, DomainEvent::order_submitted(order))];
    if let (OrderStatus::PendingPriceApproval, Some(approval)) = (order.status, &order.price_approval) {
        messages.push(event(order, now, DomainEvent::price_approval_requested(order, approval)));
    }
    messages.extend(after_transition(order, change, now));
    messages
}

/// An event about the order, wrapped for the outbox.
pub fn order_event(order: &Order, now: DateTime<Utc>, e: DomainEvent) -> OutboxMessage {
    event(order, now, e)
}

/// `FulfillmentRequested` for each new warehouse request, and what the transition emits.
pub fn after_dispatch(
    order: &Order,
    change: &StatusChange,
    requests: &[crate::fulfillment::FulfillmentRequest],
    now: DateTime<Utc>,
) -> Vec<OutboxMessage> {
    let mut messages = after_transition(order, change, now);
    for request in requests {
        messages.push(event(order, now, DomainEvent::fulfillment_requested(order, request)));
    }
    messages
}

/// The shipment's own event, what each status change of the order emits, and `OrderCompleted`
/// (the accounting hand-off) when the order completed.
pub fn after_shipping(
    order: &Order,
    shipment_event: DomainEvent,
    changes: &[StatusChange],
    now: DateTime<Utc>,
) -> Vec<OutboxMessage> {
    let mut messages = vec![event(order, now, shipment_event)];
    for change in changes {
        messages.extend(after_transition(order, change, now));
    }
    if changes.iter().any(|c| c.to == OrderStatus::Completed) {
        messages.push(event(order, now, DomainEvent::order_completed(order)));
    }
    messages
}
