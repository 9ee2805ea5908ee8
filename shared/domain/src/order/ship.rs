//! `ship`: goods leave their hubs for the customer, in a shipment a dispatcher makes (B2B trucks
//! split an order) or a warehouse reports (`ShipCompleted`, see `record_warehouse_report.rs`).
//! What it emits: `ShipmentCreated`, then `OrderStatusChanged` for each status the order follows
//! its shipments to (see `shipping_change`).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::events::DomainEvent;
use crate::kernel::access::Actor;
use crate::kernel::error::{AppError, ConflictCode, InvalidCode};
use crate::kernel::limits::{MAX_LINES, MAX_PACKAGES, MAX_SHIPMENTS, check_external_id, check_list, check_room};
use crate::kernel::quantity::positive_quantity;
use crate::order::shipment::{NewShipment, Shipment, ShipmentLine, ShipmentStatus, shipping_change};
use crate::order::status::OrderStatus;
use crate::order::{Change, Order};
use crate::ports::Lookup;
use crate::stock::StockMove;

impl Order {
    /// Ships reserved goods: the stock leaves its hubs, line quantities and the order's status
    /// follow. Emits `ShipmentCreated` (for the TMS), `OrderStatusChanged` per status the order
    /// moved to, and makes the shipment findable by its id. Refused while a hold is active,
    /// before allocation, and for more than a line has allocated-and-not-yet-shipped at a hub
    /// (409); an unknown line is 400.
    pub fn ship(&mut self, new: NewShipment, actor: &Actor, now: DateTime<Utc>) -> Result<Change, AppError> {
        use OrderStatus::*;
        if !matches!(self.status, Allocated | InFulfillment | PartiallyShipped | Shipped | InTransit) {
            return Err(AppError::conflict(
                ConflictCode::NotShippable,
                format!("an order in {} cannot ship", self.status),
            ));
        }
        if self.on_hold {
            return Err(AppError::conflict(ConflictCode::OnHold, "an active hold stops the order from shipping"));
        }
        if new.lines.is_empty() {
            return Err(AppError::invalid("lines", "a shipment needs at least one line"));
        }
        check_list("lines", new.lines.len(), MAX_LINES)?;
        check_list("packages", new.packages.len(), MAX_PACKAGES)?;
        for (field, value) in [("carrier", &new.carrier), ("tracking_number", &new.tracking_number)] {
            if let Some(value) = value {
                check_external_id(field, value)?;
            }
        }
        check_room(ConflictCode::TooManyShipments, "shipments", self.shipments.len(), MAX_SHIPMENTS)?;
        for (i, package) in new.packages.iter().enumerate() {
            package.validate(&format!("packages[{i}]"))?;
        }
        let mut lines: Vec<ShipmentLine> = Vec::new();
        for (i, requested) in new.lines.iter().enumerate() {
            let quantity = positive_quantity(&format!("lines[{i}].quantity"), requested.quantity)?;
            let line = self.line(&requested.order_line_id).ok_or_else(|| {
                AppError::invalid_with_code(
                    InvalidCode::UnknownLine,
                    format!("lines[{i}].order_line_id"),
                    format!("the order has no line {}", requested.order_line_id),
                )
            })?;
            let (sku, unit) = (line.sku.clone(), line.unit.clone());
            // The same line and hub twice in one shipment counts once, in total.
            let already: Decimal = lines
                .iter()
                .filter(|l| l.order_line_id == requested.order_line_id && l.hub_id == requested.hub_id)
                .map(|l| l.quantity)
                .sum();
            let left = self.shippable(&requested.order_line_id, &requested.hub_id) - already;
            if quantity > left {
                return Err(AppError::conflict(
                    ConflictCode::OverShipment,
                    format!(
                        "line {} has {left} allocated and not yet shipped at {}; cannot ship {quantity}",
                        requested.order_line_id, requested.hub_id
                    ),
                ));
            }
            lines.push(ShipmentLine {
                order_line_id: requested.order_line_id.clone(),
                sku,
                unit,
                hub_id: requested.hub_id.clone(),
                quantity,
            });
        }
        let moves: Vec<StockMove> =
            lines.iter().map(|l| StockMove::ship(l.hub_id.clone(), l.sku.clone(), l.quantity)).collect();
        if new.fulfillment_request_id.is_none() {
            self.settle_requests(&lines);
        }
        let reason = format!("shipment {} left the hub", new.shipment_id);
        self.shipments.push(Shipment {
            shipment_id: new.shipment_id,
            shipment_type: new.shipment_type,
            status: ShipmentStatus::Created,
            carrier: new.carrier,
            tracking_number: new.tracking_number,
            tms_order_id: None,
            fulfillment_request_id: new.fulfillment_request_id,
            lines,
            packages: new.packages,
            tracking: Vec::new(),
            created_by: actor.sub.clone(),
            created_at: now,
            updated_at: now,
        });
        self.recount_shipments();
        self.touch(now);
        let history = self.follow_shipments(&reason, actor, now)?;
        let shipment = self.shipments.last().expect("just pushed");
        let mut change = shipping_change(self, DomainEvent::shipment_created(self, shipment), history, moves);
        change.lookups.push(Lookup::Shipment(shipment.shipment_id.clone()));
        Ok(change)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use rust_decimal::Decimal;
    use rust_decimal_macros::dec;
    use serde_json::json;

    use crate::kernel::access::Role;
    use crate::kernel::error::{AppError, ConflictCode, InvalidCode};
    use crate::kernel::ids::{HubId, LineId, Sku, TenantId};
    use crate::memory::MemoryStore;
    use crate::memory::fixtures::allocated_order;
    use crate::order::Order;
    use crate::order::fulfillment::FulfillmentStatus;
    use crate::order::shipment::{NewShipment, ShipLine, ShipmentType};
    use crate::order::status::OrderStatus;
    use crate::order::testing::{actor, given};
    use crate::ports::Lookup;
    use crate::stock::StockMove;

    /// 1,000 KG of `PP-H1` allocated at `H1` and sent there (request `-F1`).
    async fn at_the_warehouse() -> Order {
        let tenant = TenantId::parse("t1").unwrap();
        let store = MemoryStore::with_catalog(&tenant, "H1", "PP-H1", dec!(5000)).await;
        allocated_order(&store, &tenant, "H1", "PP-H1", "1000").await
    }

    fn truck(id: &str, hub: &str, quantity: Decimal) -> NewShipment {
        NewShipment {
            shipment_id: id.into(),
            shipment_type: ShipmentType::Internal,
            carrier: None,
            tracking_number: None,
            fulfillment_request_id: None,
            lines: vec![ShipLine {
                order_line_id: LineId::parse("L1").unwrap(),
                quantity,
                hub_id: HubId::parse(hub).unwrap(),
            }],
            packages: vec![],
        }
    }

    fn ship(hub: &str, quantity: Decimal) -> StockMove {
        StockMove::ship(HubId::parse(hub).unwrap(), Sku::parse("PP-H1").unwrap(), quantity)
    }

    #[tokio::test]
    async fn two_trucks_split_the_order_and_the_warehouse_is_not_left_with_shipped_work() {
        let order = at_the_warehouse().await;
        let dispatcher = actor(&order, Role::Dispatcher);
        let now = Utc::now();
        let first = given(order)
            .when(|o| o.ship(truck("S1", "H1", dec!(600)), &dispatcher, now))
            .then_status(OrderStatus::PartiallyShipped)
            .then_records(&[OrderStatus::PartiallyShipped])
            .then_emits(&["ShipmentCreated", "OrderStatusChanged"])
            .then_event(
                "ShipmentCreated",
                json!({"customer_name": "ABC", "shipment": {"shipment_id": "S1", "status": "CREATED", "lines": [{"hub_id": "H1", "quantity": "600"}]}}),
            )
            .then_event("OrderStatusChanged", json!({"to": "PARTIALLY_SHIPPED", "reason": "shipment S1 left the hub"}))
            .then_moves(&[ship("H1", dec!(600))])
            .then_order(|o| assert_eq!(o.lines[0].shipped, dec!(600)));
        assert_eq!(first.change().lookups, [Lookup::Shipment("S1".into())]);
        let order = first.into_order();
        given(order.clone())
            .when(|o| o.ship(truck("S2", "H1", dec!(401)), &dispatcher, now))
            .then_refused(|e| matches!(e, AppError::Conflict { code: ConflictCode::OverShipment, .. }));
        given(order)
            .when(|o| o.ship(truck("S2", "H1", dec!(400)), &dispatcher, now))
            .then_status(OrderStatus::Shipped)
            .then_emits(&["ShipmentCreated", "OrderStatusChanged"])
            .then_moves(&[ship("H1", dec!(400))])
            .then_order(|o| assert_eq!(o.fulfillment_requests[0].status, FulfillmentStatus::Shipped));
    }

    #[tokio::test]
    async fn the_same_line_and_hub_twice_in_one_shipment_counts_once_in_total() {
        let order = at_the_warehouse().await;
        let dispatcher = actor(&order, Role::Dispatcher);
        let mut twice = truck("S1", "H1", dec!(600));
        twice.lines.push(twice.lines[0].clone());
        given(order.clone())
            .when(|o| o.ship(twice, &dispatcher, Utc::now()))
            .then_refused(|e| matches!(e, AppError::Conflict { code: ConflictCode::OverShipment, .. }));
        let mut halves = truck("S1", "H1", dec!(500));
        halves.lines.push(halves.lines[0].clone());
        given(order)
            .when(|o| o.ship(halves, &dispatcher, Utc::now()))
            .then_status(OrderStatus::Shipped)
            .then_moves(&[ship("H1", dec!(1000))]);
    }

    #[tokio::test]
    async fn a_hold_an_unknown_line_or_an_unallocated_order_does_not_ship() {
        let order = at_the_warehouse().await;
        let dispatcher = actor(&order, Role::Dispatcher);
        let mut held = order.clone();
        held.on_hold = true;
        given(held)
            .when(|o| o.ship(truck("S1", "H1", dec!(1)), &dispatcher, Utc::now()))
            .then_refused(|e| matches!(e, AppError::Conflict { code: ConflictCode::OnHold, .. }));
        let mut unknown = truck("S1", "H1", dec!(1));
        unknown.lines[0].order_line_id = LineId::parse("L9").unwrap();
        given(order.clone())
            .when(|o| o.ship(unknown, &dispatcher, Utc::now()))
            .then_refused(|e| matches!(e, AppError::Invalid { code: InvalidCode::UnknownLine, .. }));
        let mut pending = order;
        pending.status = OrderStatus::PendingAllocation;
        given(pending)
            .when(|o| o.ship(truck("S1", "H1", dec!(1)), &dispatcher, Utc::now()))
            .then_refused(|e| matches!(e, AppError::Conflict { code: ConflictCode::NotShippable, .. }));
    }
}
