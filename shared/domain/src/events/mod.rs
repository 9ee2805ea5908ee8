//! What the OMS tells the world (EventBridge, source `oms`), and the outbox messages that carry
//! it. Events are written in the same transaction as the change they describe and published by
//! the outbox relay, so a change that did not commit never emits and one that did never loses
//! its event.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::kernel::ids::{HubId, OrderId, Sku, TenantId};
use crate::kernel::money::Currency;
use crate::order::shipment::ShipmentStatus;
use crate::order::status::OrderStatus;
use crate::order::{Order, StatusChange};

#[cfg(test)]
mod schema_tests;
pub mod wire;

pub use wire::{BackorderedLine, InvoiceLine, OrderedLine};

/// The `source` of every event the OMS emits.
pub const EVENT_SOURCE: &str = "oms";

/// A domain event, as published: every field is an id, an amount, a status or a [`wire`] struct,
/// never a domain struct (see [`wire`] for why). The variant name is the EventBridge
/// `detail-type`; each has one constructor below that builds it from the aggregate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum DomainEvent {
    /// A new order: who ordered what, at what price, in essentials. Not the whole order: an
    /// event must fit one EventBridge entry whatever the order holds, and consumers that want
    /// more read `GET /v1/orders/{id}`.
    OrderCreated {
        /// The order.
        order_id: OrderId,
        /// Its number.
        order_number: String,
        /// `DRAFT`, or where submitting it right away took it.
        status: OrderStatus,
        /// The customer as ordered.
        customer: wire::Customer,
        /// Currency of every amount.
        currency: Currency,
        /// The customer's own reference.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        external_reference: Option<String>,
        /// The sales channel it came from.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        channel: Option<String>,
        /// The channel's id for it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        channel_order_id: Option<String>,
        /// Who created it (`sub`).
        created_by: String,
        /// What was ordered.
        lines: Vec<OrderedLine>,
        /// The order's money.
        totals: wire::OrderTotals,
    },
    /// An order left DRAFT.
    OrderSubmitted {
        /// The order.
        order_id: OrderId,
        /// Its number.
        order_number: String,
        /// Where submit took it.
        status: OrderStatus,
    },
    /// Any status change.
    OrderStatusChanged {
        /// The order.
        order_id: OrderId,
        /// Its number.
        order_number: String,
        /// Previous status.
        from: Option<OrderStatus>,
        /// New status.
        to: OrderStatus,
        /// Why.
        reason: String,
        /// Who (`sub`).
        actor: String,
    },
    /// An order waits for a sales manager to approve below-list prices.
    PriceApprovalRequested {
        /// The order.
        order_id: OrderId,
        /// Its number.
        order_number: String,
        /// The per-line comparison.
        approval: wire::PriceApproval,
    },
    /// An order's details were edited.
    OrderModified {
        /// The order.
        order_id: OrderId,
        /// Its number.
        order_number: String,
        /// The fields that changed.
        fields: Vec<String>,
    },
    /// An order was cancelled and its stock released.
    OrderCancelled {
        /// The order.
        order_id: OrderId,
        /// Its number.
        order_number: String,
        /// Why.
        reason: String,
        /// The reservations given back.
        released: Vec<wire::StockMove>,
    },
    /// A hold was placed on an order.
    OrderHoldPlaced {
        /// The order.
        order_id: OrderId,
        /// Its number.
        order_number: String,
        /// The hold.
        hold: wire::Hold,
    },
    /// A hold was released.
    OrderHoldReleased {
        /// The order.
        order_id: OrderId,
        /// Its number.
        order_number: String,
        /// The hold.
        hold: wire::Hold,
        /// Whether other holds remain.
        still_on_hold: bool,
    },
    /// Work for a warehouse: what to pick and where it goes.
    FulfillmentRequested {
        /// The request (what the WMS reports back on).
        fulfillment_request_id: String,
        /// The order.
        order_id: OrderId,
        /// Its number.
        order_number: String,
        /// The warehouse.
        hub_id: HubId,
        /// What to pick.
        lines: Vec<wire::FulfillmentLine>,
        /// The customer's name.
        customer_name: String,
        /// Where it goes.
        ship_to: wire::Address,
        /// Who to call.
        contact: wire::Contact,
    },
    /// A warehouse request was withdrawn (the order was cancelled).
    FulfillmentCancelled {
        /// The request.
        fulfillment_request_id: String,
        /// The order.
        order_id: OrderId,
        /// The warehouse.
        hub_id: HubId,
        /// Why.
        reason: String,
    },
    /// Goods left a hub: for the TMS to plan and track, with where they go.
    ShipmentCreated {
        /// The order.
        order_id: OrderId,
        /// Its number.
        order_number: String,
        /// The shipment, in full.
        shipment: Box<wire::Shipment>,
        /// The customer's name.
        customer_name: String,
        /// Where it goes.
        ship_to: wire::Address,
        /// Who to call.
        contact: wire::Contact,
    },
    /// A shipment moved on (carrier callback or dispatcher).
    ShipmentStatusChanged {
        /// The order.
        order_id: OrderId,
        /// Its number.
        order_number: String,
        /// The shipment.
        shipment_id: String,
        /// Previous status.
        from: ShipmentStatus,
        /// New status.
        to: ShipmentStatus,
        /// When it happened, by the reporter's clock.
        reported_at: DateTime<Utc>,
    },
    /// An order was delivered in full and closed: the hand-off to accounting.
    OrderCompleted {
        /// The order.
        order_id: OrderId,
        /// Its number.
        order_number: String,
        /// The customer's own reference.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        external_reference: Option<String>,
        /// The customer as ordered.
        customer: wire::Customer,
        /// Currency of every amount.
        currency: Currency,
        /// What was sold, line by line.
        lines: Vec<InvoiceLine>,
        /// The order's money.
        totals: wire::OrderTotals,
        /// The shipments that delivered it.
        shipment_ids: Vec<String>,
    },
    /// A return was approved: what the warehouse should expect, and where.
    ReturnApproved {
        /// The return.
        return_id: String,
        /// The order.
        order_id: OrderId,
        /// Its number.
        order_number: String,
        /// The customer's name.
        customer_name: String,
        /// What comes back to which hub.
        lines: Vec<wire::ReturnLine>,
    },
    /// Money to give back for a received return: a credit memo for accounting to pay.
    RefundRequested {
        /// The return.
        return_id: String,
        /// The order.
        order_id: OrderId,
        /// Its number.
        order_number: String,
        /// The customer's own reference.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        external_reference: Option<String>,
        /// The customer as ordered.
        customer: wire::Customer,
        /// The credit memo.
        refund: wire::Refund,
    },
    /// Available stock of a SKU at a hub fell under the SKU's low-stock threshold.
    InventoryLow {
        /// The hub.
        hub_id: HubId,
        /// The SKU.
        sku: Sku,
        /// Available now.
        available: Decimal,
        /// The threshold it fell under.
        threshold: Decimal,
    },
    /// Available stock of a SKU at a hub went up (a receipt, a count, a release): backordered
    /// orders for it can be placed again.
    StockReplenished {
        /// The hub.
        hub_id: HubId,
        /// The SKU.
        sku: Sku,
        /// Available now.
        available: Decimal,
    },
    /// Stock was reserved for an order.
    StockReserved {
        /// The order.
        order_id: OrderId,
        /// Its number.
        order_number: String,
        /// What was reserved where.
        reservations: Vec<wire::Reservation>,
    },
    /// Some or all of an order waits for stock.
    OrderBackordered {
        /// The order.
        order_id: OrderId,
        /// Its number.
        order_number: String,
        /// Lines with a backordered quantity.
        lines: Vec<BackorderedLine>,
    },
}

impl DomainEvent {
    /// Every `detail-type`, in declaration order: the list the schema test and the tooling check
    /// against `events/schemas/oms/`.
    pub const DETAIL_TYPES: [&'static str; 19] = [
        "OrderCreated",
        "OrderSubmitted",
        "OrderStatusChanged",
        "PriceApprovalRequested",
        "OrderModified",
        "OrderCancelled",
        "OrderHoldPlaced",
        "OrderHoldReleased",
        "FulfillmentRequested",
        "FulfillmentCancelled",
        "ShipmentCreated",
        "ShipmentStatusChanged",
        "OrderCompleted",
        "ReturnApproved",
        "RefundRequested",
        "InventoryLow",
        "StockReplenished",
        "StockReserved",
        "OrderBackordered",
    ];

    /// The EventBridge `detail-type`.
    pub fn detail_type(&self) -> &'static str {
        match self {
            Self::OrderCreated { .. } => "OrderCreated",
            Self::OrderSubmitted { .. } => "OrderSubmitted",
            Self::OrderStatusChanged { .. } => "OrderStatusChanged",
            Self::PriceApprovalRequested { .. } => "PriceApprovalRequested",
            Self::OrderModified { .. } => "OrderModified",
            Self::OrderCancelled { .. } => "OrderCancelled",
            Self::OrderHoldPlaced { .. } => "OrderHoldPlaced",
            Self::OrderHoldReleased { .. } => "OrderHoldReleased",
            Self::FulfillmentRequested { .. } => "FulfillmentRequested",
            Self::FulfillmentCancelled { .. } => "FulfillmentCancelled",
            Self::ShipmentCreated { .. } => "ShipmentCreated",
            Self::ShipmentStatusChanged { .. } => "ShipmentStatusChanged",
            Self::OrderCompleted { .. } => "OrderCompleted",
            Self::ReturnApproved { .. } => "ReturnApproved",
            Self::RefundRequested { .. } => "RefundRequested",
            Self::InventoryLow { .. } => "InventoryLow",
            Self::StockReplenished { .. } => "StockReplenished",
            Self::StockReserved { .. } => "StockReserved",
            Self::OrderBackordered { .. } => "OrderBackordered",
        }
    }

    /// `OrderCreated` of a new order.
    pub fn order_created(order: &Order) -> Self {
        Self::OrderCreated {
            order_id: order.order_id.clone(),
            order_number: order.order_number.clone(),
            status: order.status,
            customer: (&order.customer).into(),
            currency: order.currency,
            external_reference: order.external_reference.clone(),
            channel: order.channel.clone(),
            channel_order_id: order.channel_order_id.clone(),
            created_by: order.created_by.clone(),
            lines: order.lines.iter().map(Into::into).collect(),
            totals: (&order.totals).into(),
        }
    }

    /// `OrderSubmitted`: the order just left DRAFT for `order.status`.
    pub fn order_submitted(order: &Order) -> Self {
        Self::OrderSubmitted {
            order_id: order.order_id.clone(),
            order_number: order.order_number.clone(),
            status: order.status,
        }
    }

    /// The event that records a status change.
    pub fn status_changed(order: &Order, change: &StatusChange) -> Self {
        Self::OrderStatusChanged {
            order_id: order.order_id.clone(),
            order_number: order.order_number.clone(),
            from: change.from,
            to: change.to,
            reason: change.reason.clone(),
            actor: change.actor.clone(),
        }
    }

    /// `PriceApprovalRequested` for the order's approval request.
    pub fn price_approval_requested(order: &Order, approval: &crate::order::PriceApproval) -> Self {
        Self::PriceApprovalRequested {
            order_id: order.order_id.clone(),
            order_number: order.order_number.clone(),
            approval: approval.into(),
        }
    }

    /// `OrderModified`: the names of the fields an edit changed.
    pub fn order_modified(order: &Order, fields: &[&str]) -> Self {
        Self::OrderModified {
            order_id: order.order_id.clone(),
            order_number: order.order_number.clone(),
            fields: fields.iter().map(|f| (*f).to_owned()).collect(),
        }
    }

    /// `OrderCancelled`, with the reservations the cancellation gave back.
    pub fn order_cancelled(order: &Order, reason: &str, released: &[crate::stock::StockMove]) -> Self {
        Self::OrderCancelled {
            order_id: order.order_id.clone(),
            order_number: order.order_number.clone(),
            reason: reason.to_owned(),
            released: released.iter().map(Into::into).collect(),
        }
    }

    /// `OrderHoldPlaced`.
    pub fn hold_placed(order: &Order, hold: &crate::order::Hold) -> Self {
        Self::OrderHoldPlaced {
            order_id: order.order_id.clone(),
            order_number: order.order_number.clone(),
            hold: hold.into(),
        }
    }

    /// `OrderHoldReleased`, once the order no longer counts `hold` among its active ones.
    pub fn hold_released(order: &Order, hold: &crate::order::Hold) -> Self {
        Self::OrderHoldReleased {
            order_id: order.order_id.clone(),
            order_number: order.order_number.clone(),
            hold: hold.into(),
            still_on_hold: order.on_hold,
        }
    }

    /// `FulfillmentRequested`: a warehouse request, with where the goods go.
    pub fn fulfillment_requested(order: &Order, request: &crate::order::fulfillment::FulfillmentRequest) -> Self {
        Self::FulfillmentRequested {
            fulfillment_request_id: request.fulfillment_request_id.clone(),
            order_id: order.order_id.clone(),
            order_number: order.order_number.clone(),
            hub_id: request.hub_id.clone(),
            lines: request.lines.iter().map(Into::into).collect(),
            customer_name: order.customer.name.clone(),
            ship_to: (&order.customer.delivery_address).into(),
            contact: (&order.customer.contact).into(),
        }
    }

    /// `FulfillmentCancelled`: a warehouse request withdrawn.
    pub fn fulfillment_cancelled(
        order: &Order,
        request: &crate::order::fulfillment::FulfillmentRequest,
        reason: &str,
    ) -> Self {
        Self::FulfillmentCancelled {
            fulfillment_request_id: request.fulfillment_request_id.clone(),
            order_id: order.order_id.clone(),
            hub_id: request.hub_id.clone(),
            reason: reason.to_owned(),
        }
    }

    /// `ShipmentCreated`, for the TMS.
    pub fn shipment_created(order: &Order, shipment: &crate::order::shipment::Shipment) -> Self {
        Self::ShipmentCreated {
            order_id: order.order_id.clone(),
            order_number: order.order_number.clone(),
            shipment: Box::new(shipment.into()),
            customer_name: order.customer.name.clone(),
            ship_to: (&order.customer.delivery_address).into(),
            contact: (&order.customer.contact).into(),
        }
    }

    /// `ShipmentStatusChanged`: `shipment_id` went from `from` to what `report` says.
    pub fn shipment_status_changed(
        order: &Order,
        shipment_id: &str,
        from: ShipmentStatus,
        report: &crate::order::shipment::ShipmentReport,
    ) -> Self {
        Self::ShipmentStatusChanged {
            order_id: order.order_id.clone(),
            order_number: order.order_number.clone(),
            shipment_id: shipment_id.to_owned(),
            from,
            to: report.status,
            reported_at: report.occurred_at,
        }
    }

    /// `OrderCompleted`: the accounting hand-off, with the shipments that delivered the order.
    pub fn order_completed(order: &Order) -> Self {
        Self::OrderCompleted {
            order_id: order.order_id.clone(),
            order_number: order.order_number.clone(),
            external_reference: order.external_reference.clone(),
            customer: (&order.customer).into(),
            currency: order.currency,
            lines: order.lines.iter().map(Into::into).collect(),
            totals: (&order.totals).into(),
            shipment_ids: order.shipments.iter().filter(|s| s.is_live()).map(|s| s.shipment_id.clone()).collect(),
        }
    }

    /// `ReturnApproved`: what the warehouse should expect, and where.
    pub fn return_approved(order: &Order, rma: &crate::order::returns::Return) -> Self {
        Self::ReturnApproved {
            return_id: rma.return_id.clone(),
            order_id: order.order_id.clone(),
            order_number: order.order_number.clone(),
            customer_name: order.customer.name.clone(),
            lines: rma.lines.iter().map(Into::into).collect(),
        }
    }

    /// `RefundRequested`: the credit memo of a received return.
    pub fn refund_requested(order: &Order, return_id: &str, refund: &crate::order::returns::Refund) -> Self {
        Self::RefundRequested {
            return_id: return_id.to_owned(),
            order_id: order.order_id.clone(),
            order_number: order.order_number.clone(),
            external_reference: order.external_reference.clone(),
            customer: (&order.customer).into(),
            refund: refund.into(),
        }
    }

    /// `InventoryLow`: the level's available stock fell under `threshold`.
    pub fn inventory_low(level: &crate::stock::StockLevel, threshold: Decimal) -> Self {
        Self::InventoryLow {
            hub_id: level.hub_id.clone(),
            sku: level.sku.clone(),
            available: level.available(),
            threshold,
        }
    }

    /// `StockReplenished`: the level's available stock went up.
    pub fn stock_replenished(level: &crate::stock::StockLevel) -> Self {
        Self::StockReplenished { hub_id: level.hub_id.clone(), sku: level.sku.clone(), available: level.available() }
    }

    /// `StockReserved`: what was reserved for the order, where.
    pub fn stock_reserved(order: &Order, reservations: &[crate::routing::PlannedReservation]) -> Self {
        Self::StockReserved {
            order_id: order.order_id.clone(),
            order_number: order.order_number.clone(),
            reservations: reservations.iter().map(Into::into).collect(),
        }
    }

    /// `OrderBackordered` when any line of the order waits for stock, else nothing.
    pub fn order_backordered(order: &Order) -> Option<Self> {
        let lines: Vec<BackorderedLine> = order
            .lines
            .iter()
            .filter(|l| !l.backordered.is_zero())
            .map(|l| BackorderedLine { line_id: l.line_id.clone(), sku: l.sku.clone(), backordered: l.backordered })
            .collect();
        (!lines.is_empty()).then(|| Self::OrderBackordered {
            order_id: order.order_id.clone(),
            order_number: order.order_number.clone(),
            lines,
        })
    }
}

/// An event with the fields every OMS event carries. Serialized as the EventBridge `detail`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventEnvelope {
    /// Unique per event: consumers deduplicate on it.
    pub event_id: String,
    /// Owner.
    pub tenant_id: TenantId,
    /// When the change happened.
    pub occurred_at: DateTime<Utc>,
    /// The event.
    #[serde(flatten)]
    pub event: DomainEvent,
}

impl EventEnvelope {
    /// Wraps an event with a fresh id.
    pub fn new(tenant_id: TenantId, occurred_at: DateTime<Utc>, event: DomainEvent) -> Self {
        Self { event_id: ulid::Ulid::new().to_string(), tenant_id, occurred_at, event }
    }

    /// The `Detail` of its `PutEvents` entry: the envelope as JSON.
    pub fn detail(&self) -> String {
        serde_json::to_string(self).expect("an event serializes")
    }

    /// The size of its `PutEvents` entry as EventBridge counts it ("Calculating PutEvents event
    /// entry size"): 14 bytes for `Time` (always set), then the UTF-8 bytes of `Source`,
    /// `DetailType` and `Detail`. An entry, and a request's entries together, may not pass
    /// [`crate::kernel::limits::MAX_EVENT_BYTES`].
    pub fn entry_size(&self) -> usize {
        Self::entry_size_of(self.event.detail_type(), &self.detail())
    }

    /// [`Self::entry_size`] of a detail already serialized.
    pub fn entry_size_of(detail_type: &str, detail: &str) -> usize {
        14 + EVENT_SOURCE.len() + detail_type.len() + detail.len()
    }
}

/// A workflow the outbox can start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Workflow {
    /// The `order-placement` state machine.
    OrderPlacement,
}

/// Something to do once a transaction commits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
// Messages are built once and moved into the write; boxing the event would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum OutboxMessage {
    /// Publish an event on the bus.
    Event(EventEnvelope),
    /// Start a workflow execution. The name makes the start idempotent.
    StartWorkflow {
        /// Owner (for key scoping).
        tenant_id: TenantId,
        /// Which workflow.
        workflow: Workflow,
        /// Execution name: a repeated start with the same name is a no-op.
        execution_name: String,
        /// Execution input.
        input: serde_json::Value,
    },
}

impl OutboxMessage {
    /// The placement workflow for an order at this version. Naming the execution after the order
    /// and its version means a repeat cannot start two, while a later re-placement (a new
    /// version) can.
    pub fn start_placement(order: &Order) -> Self {
        Self::StartWorkflow {
            tenant_id: order.tenant_id.clone(),
            workflow: Workflow::OrderPlacement,
            execution_name: format!("{}-v{}", order.order_id, order.version),
            input: serde_json::json!({ "tenant_id": order.tenant_id, "order_id": order.order_id }),
        }
    }

    /// The tenant the message belongs to.
    pub fn tenant_id(&self) -> &TenantId {
        match self {
            Self::Event(e) => &e.tenant_id,
            Self::StartWorkflow { tenant_id, .. } => tenant_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_detail_carries_tenant_event_id_and_type() {
        let envelope = EventEnvelope::new(
            TenantId::parse("t1").unwrap(),
            Utc::now(),
            DomainEvent::OrderSubmitted {
                order_id: OrderId::parse("O1").unwrap(),
                order_number: "ORD-20261122-0001".into(),
                status: OrderStatus::PendingAllocation,
            },
        );
        let detail = serde_json::to_value(&envelope).unwrap();
        assert_eq!(detail["tenant_id"], "t1");
        assert_eq!(detail["type"], "OrderSubmitted");
        assert_eq!(detail["status"], "PENDING_ALLOCATION");
        assert_eq!(detail["event_id"].as_str().unwrap().len(), 26);
        let back: EventEnvelope = serde_json::from_value(detail).unwrap();
        assert_eq!(back, envelope);
    }
}
