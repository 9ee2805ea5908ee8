//! `report_shipment`: a carrier (TMS callback) or a dispatcher reports where a shipment is.
//! Forward-only, so a repeat or a late report changes nothing. What it emits:
//! `ShipmentStatusChanged`, then `OrderStatusChanged` for each status the order follows its
//! shipments to (`IN_TRANSIT`, `DELIVERED`, `COMPLETED`), then `OrderCompleted` when it completed
//! (see `shipping_change`). A cancelled shipment puts its goods back at their hubs.

use chrono::{DateTime, Utc};

use crate::events::DomainEvent;
use crate::kernel::access::Actor;
use crate::kernel::error::AppError;
use crate::kernel::limits::check_external_id;
use crate::order::shipment::{ShipmentReport, ShipmentStatus, TrackingEvent, shipping_change};
use crate::order::{Change, Order};

impl Order {
    /// Applies a status report about a shipment. An empty change when it does not move the
    /// shipment forward (a repeat, a late report, anything after delivery or cancellation):
    /// nothing changes then. A cancelled shipment's goods go back to their hubs, reserved for
    /// the order again, so they can ship anew. An unknown shipment is 404.
    pub fn report_shipment(
        &mut self,
        shipment_id: &str,
        report: ShipmentReport,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Change, AppError> {
        let index =
            self.shipments.iter().position(|s| s.shipment_id == shipment_id).ok_or(AppError::NotFound("shipment"))?;
        if let Some(id) = &report.event_id {
            check_external_id("event_id", id)?;
        }
        if let Some(id) = &report.tms_order_id {
            check_external_id("tms_order_id", id)?;
        }
        let from = self.shipments[index].status;
        let repeat =
            report.event_id.is_some() && self.shipments[index].tracking.iter().any(|t| t.event_id == report.event_id);
        if repeat || !from.advances_to(report.status) {
            return Ok(Change::none());
        }
        let moved = DomainEvent::shipment_status_changed(self, shipment_id, from, &report);
        let shipment = &mut self.shipments[index];
        shipment.status = report.status;
        shipment.updated_at = now;
        if report.tms_order_id.is_some() {
            shipment.tms_order_id = report.tms_order_id;
        }
        shipment.tracking.push(TrackingEvent {
            status: report.status,
            occurred_at: report.occurred_at,
            event_id: report.event_id,
            reported_by: actor.sub.clone(),
            recorded_at: now,
        });
        let moves = if report.status == ShipmentStatus::Cancelled { shipment.return_to_hubs() } else { Vec::new() };
        self.recount_shipments();
        self.touch(now);
        let reason = format!("shipment {shipment_id} {}", report.status.as_str());
        let history = self.follow_shipments(&reason, actor, now)?;
        Ok(shipping_change(self, moved, history, moves))
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use rust_decimal_macros::dec;
    use serde_json::json;

    use crate::kernel::access::Role;
    use crate::kernel::error::AppError;
    use crate::kernel::ids::{HubId, Sku, TenantId};
    use crate::kernel::limits::MAX_EXTERNAL_ID;
    use crate::memory::MemoryStore;
    use crate::memory::fixtures::shipped_order;
    use crate::order::Order;
    use crate::order::shipment::{ShipmentReport, ShipmentStatus};
    use crate::order::status::OrderStatus;
    use crate::order::testing::{actor, given};
    use crate::stock::StockMove;

    /// 10 KG of `PP-H1` shipped whole from `H1` in one shipment: `SHIPPED`.
    async fn shipped() -> (Order, String) {
        let tenant = TenantId::parse("t1").unwrap();
        let store = MemoryStore::with_catalog(&tenant, "H1", "PP-H1", dec!(100)).await;
        let order = shipped_order(&store, &tenant, "H1", "PP-H1", "10").await;
        let shipment_id = order.shipments[0].shipment_id.clone();
        (order, shipment_id)
    }

    fn report(status: ShipmentStatus, event_id: &str) -> ShipmentReport {
        ShipmentReport { status, occurred_at: Utc::now(), event_id: Some(event_id.into()), tms_order_id: None }
    }

    #[tokio::test]
    async fn the_order_follows_its_shipment_to_completed_and_hands_over_to_accounting() {
        let (order, id) = shipped().await;
        let tms = actor(&order, Role::System);
        let in_transit = given(order)
            .when(|o| o.report_shipment(&id, report(ShipmentStatus::InTransit, "e1"), &tms, Utc::now()))
            .then_status(OrderStatus::InTransit)
            .then_emits(&["ShipmentStatusChanged", "OrderStatusChanged"])
            .then_event("ShipmentStatusChanged", json!({"shipment_id": id, "from": "CREATED", "to": "IN_TRANSIT"}))
            .then_event("OrderStatusChanged", json!({"from": "SHIPPED", "to": "IN_TRANSIT"}))
            .then_moves(&[])
            .into_order();
        given(in_transit)
            .when(|o| o.report_shipment(&id, report(ShipmentStatus::Delivered, "e2"), &tms, Utc::now()))
            .then_status(OrderStatus::Completed)
            .then_records(&[OrderStatus::Delivered, OrderStatus::Completed])
            .then_emits(&["ShipmentStatusChanged", "OrderStatusChanged", "OrderStatusChanged", "OrderCompleted"])
            .then_event(
                "OrderCompleted",
                json!({"shipment_ids": [id], "lines": [{"quantity": "10", "delivered": "10"}]}),
            )
            .then_starts_placement(false)
            .then_order(|o| assert_eq!(o.lines[0].delivered, dec!(10)));
    }

    #[tokio::test]
    async fn reports_only_move_forward_and_repeats_change_nothing() {
        let (order, id) = shipped().await;
        let tms = actor(&order, Role::System);
        let delivered = given(order)
            .when(|o| o.report_shipment(&id, report(ShipmentStatus::Delivered, "e1"), &tms, Utc::now()))
            .then_status(OrderStatus::Completed)
            .into_order();
        for late in [
            report(ShipmentStatus::InTransit, "e2"),
            report(ShipmentStatus::Delivered, "e1"),
            report(ShipmentStatus::Cancelled, "e3"),
        ] {
            given(delivered.clone()).when(|o| o.report_shipment(&id, late, &tms, Utc::now())).then_nothing_changes();
        }
        given(delivered)
            .when(|o| o.report_shipment("NOPE", report(ShipmentStatus::Delivered, "e4"), &tms, Utc::now()))
            .then_refused(|e| matches!(e, AppError::NotFound("shipment")));
    }

    #[tokio::test]
    async fn a_cancelled_shipment_puts_the_goods_back_and_the_order_does_not_go_backwards() {
        let (order, id) = shipped().await;
        let dispatcher = actor(&order, Role::Dispatcher);
        given(order)
            .when(|o| o.report_shipment(&id, report(ShipmentStatus::Cancelled, "e1"), &dispatcher, Utc::now()))
            .then_status(OrderStatus::Shipped)
            .then_emits(&["ShipmentStatusChanged"])
            .then_moves(&[StockMove::unship(HubId::parse("H1").unwrap(), Sku::parse("PP-H1").unwrap(), dec!(10))])
            .then_order(|o| {
                assert_eq!(o.lines[0].shipped, dec!(0));
                assert_eq!(o.shippable(&o.lines[0].line_id, &HubId::parse("H1").unwrap()), dec!(10), "ships anew");
            });
    }

    #[tokio::test]
    async fn carrier_ids_past_their_cap_are_refused_and_the_shipment_still_moves() {
        let (order, id) = shipped().await;
        let tms = actor(&order, Role::System);
        let long = "x".repeat(MAX_EXTERNAL_ID + 1);
        let mut with_long_tms_id = report(ShipmentStatus::InTransit, "e1");
        with_long_tms_id.tms_order_id = Some(long.clone());
        for refused in [with_long_tms_id, report(ShipmentStatus::InTransit, &long)] {
            given(order.clone())
                .when(|o| o.report_shipment(&id, refused, &tms, Utc::now()))
                .then_refused(|e| matches!(e, AppError::Invalid { .. }));
        }
        let mut fits = report(ShipmentStatus::InTransit, "e1");
        fits.tms_order_id = Some("x".repeat(MAX_EXTERNAL_ID));
        given(order)
            .when(|o| o.report_shipment(&id, fits, &tms, Utc::now()))
            .then_status(OrderStatus::InTransit)
            .then_order(|o| assert_eq!(o.shipments[0].tms_order_id.as_deref().map(str::len), Some(MAX_EXTERNAL_ID)));
    }
}
