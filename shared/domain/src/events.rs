//! What the OMS tells the world (EventBridge, source `oms`), and the outbox messages that carry
//! it. Events are written in the same transaction as the change they describe and published by
//! the outbox relay, so a change that did not commit never emits and one that did never loses
//! its event.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ids::{LineId, OrderId, TenantId};
use crate::inventory::StockMove;
use crate::order::{Hold, Order, OrderLine, PriceApproval, StatusChange};
use crate::placement::PlannedReservation;
use crate::pricing::{LineTotals, OrderTotals};
use crate::shipment::{Shipment, ShipmentStatus};
use crate::status::OrderStatus;

/// The `source` of every event the OMS emits.
pub const EVENT_SOURCE: &str = "oms";

/// A domain event. The variant name is the EventBridge `detail-type`.
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
        customer: crate::order::Customer,
        /// Currency of every amount.
        currency: crate::money::Currency,
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
        totals: OrderTotals,
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
        approval: PriceApproval,
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
        released: Vec<StockMove>,
    },
    /// A hold was placed on an order.
    OrderHoldPlaced {
        /// The order.
        order_id: OrderId,
        /// Its number.
        order_number: String,
        /// The hold.
        hold: Hold,
    },
    /// A hold was released.
    OrderHoldReleased {
        /// The order.
        order_id: OrderId,
        /// Its number.
        order_number: String,
        /// The hold.
        hold: Hold,
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
        hub_id: crate::ids::HubId,
        /// What to pick.
        lines: Vec<crate::fulfillment::FulfillmentLine>,
        /// The customer's name.
        customer_name: String,
        /// Where it goes.
        ship_to: crate::order::Address,
        /// Who to call.
        contact: crate::order::Contact,
    },
    /// A warehouse request was withdrawn (the order was cancelled).
    FulfillmentCancelled {
        /// The request.
        fulfillment_request_id: String,
        /// The order.
        order_id: OrderId,
        /// The warehouse.
        hub_id: crate::ids::HubId,
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
        shipment: Box<Shipment>,
        /// The customer's name.
        customer_name: String,
        /// Where it goes.
        ship_to: crate::order::Address,
        /// Who to call.
        contact: crate::order::Contact,
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
        customer: crate::order::Customer,
        /// Currency of every amount.
        currency: crate::money::Currency,
        /// What was sold, line by line.
        lines: Vec<InvoiceLine>,
        /// The order's money.
        totals: OrderTotals,
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
        lines: Vec<crate::returns::ReturnLine>,
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
        customer: crate::order::Customer,
        /// The credit memo.
        refund: crate::returns::Refund,
    },
    /// Available stock of a SKU at a hub fell under the SKU's low-stock threshold.
    InventoryLow {
        /// The hub.
        hub_id: crate::ids::HubId,
        /// The SKU.
        sku: crate::ids::Sku,
        /// Available now.
        available: Decimal,
        /// The threshold it fell under.
        threshold: Decimal,
    },
    /// Available stock of a SKU at a hub went up (a receipt, a count, a release): backordered
    /// orders for it can be placed again.
    StockReplenished {
        /// The hub.
        hub_id: crate::ids::HubId,
        /// The SKU.
        sku: crate::ids::Sku,
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
        reservations: Vec<PlannedReservation>,
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

/// A line waiting for stock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackorderedLine {
    /// The line.
    pub line_id: LineId,
    /// Its SKU.
    pub sku: crate::ids::Sku,
    /// How much waits.
    pub backordered: Decimal,
}

/// A line as `OrderCreated` tells it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderedLine {
    /// The line.
    pub line_id: LineId,
    /// Its SKU.
    pub sku: crate::ids::Sku,
    /// Ordered quantity.
    pub quantity: Decimal,
    /// Unit of measure.
    pub unit: String,
    /// The price that applies per unit (approved, else quoted).
    pub unit_price: Decimal,
    /// What the line costs the customer, tax included.
    pub gross: Decimal,
}

/// A line as accounting invoices it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceLine {
    /// The line.
    pub line_id: LineId,
    /// Its SKU.
    pub sku: crate::ids::Sku,
    /// The product's name.
    pub name: String,
    /// Unit of measure.
    pub unit: String,
    /// Ordered.
    pub quantity: Decimal,
    /// Delivered.
    pub delivered: Decimal,
    /// Cancelled.
    pub cancelled: Decimal,
    /// The price charged per unit (approved, else quoted).
    pub unit_price: Decimal,
    /// Shipping charged per unit.
    pub shipping_unit_cost: Decimal,
    /// Tax rate applied.
    pub tax_rate: Decimal,
    /// The line's money, rounded.
    pub totals: LineTotals,
}

impl InvoiceLine {
    /// The invoice view of an order line.
    pub fn of(line: &OrderLine) -> Self {
        Self {
            line_id: line.line_id.clone(),
            sku: line.sku.clone(),
            name: line.name.clone(),
            unit: line.unit.clone(),
            quantity: line.quantity,
            delivered: line.delivered,
            cancelled: line.cancelled,
            unit_price: line.unit_price(),
            shipping_unit_cost: line.shipping_unit_cost,
            tax_rate: line.tax_rate,
            totals: line.totals,
        }
    }
}

impl DomainEvent {
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
            customer: order.customer.clone(),
            currency: order.currency,
            external_reference: order.external_reference.clone(),
            channel: order.channel.clone(),
            channel_order_id: order.channel_order_id.clone(),
            created_by: order.created_by.clone(),
            lines: order
                .lines
                .iter()
                .map(|l| OrderedLine {
                    line_id: l.line_id.clone(),
                    sku: l.sku.clone(),
                    quantity: l.quantity,
                    unit: l.unit.clone(),
                    unit_price: l.unit_price(),
                    gross: l.totals.gross,
                })
                .collect(),
            totals: order.totals,
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
    /// [`crate::limits::MAX_EVENT_BYTES`].
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
