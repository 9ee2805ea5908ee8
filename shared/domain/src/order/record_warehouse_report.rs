//! `record_warehouse_report`: the warehouse reports on a fulfillment request
//! (`FulfillmentAccepted`, `PickCompleted`, `PackCompleted`, `ShipCompleted`). Reports come at
//! least once and in any order; each is applied once (by its `event_id`) and only ever moves a
//! request forward, so any order of the same reports ends in the same state. What it emits:
//! nothing for accepted, picked and packed (the order changes, nobody is told); a
//! `ShipCompleted` ships (see `ship.rs`): `ShipmentCreated` and the order's status changes.

use chrono::{DateTime, Utc};

use crate::kernel::access::Actor;
use crate::kernel::error::{AppError, ConflictCode, InvalidCode};
use crate::kernel::limits::{MAX_PACKAGES, MAX_REQUEST_EVENTS, check_external_id, check_list, check_room};
use crate::order::fulfillment::{FulfillmentStatus, Stage, WarehouseReport};
use crate::order::shipment::{NewShipment, ShipLine, ShipmentType};
use crate::order::{Change, Order};

impl Order {
    /// Applies a warehouse report about one of the order's requests. A repeated `event_id`
    /// changes nothing (an empty change, the version as it was). A status the request is already
    /// past (reports arrive out of order) does not move it back. Quantities add up whatever the
    /// order of arrival, so any order of the same reports ends in the same state. Refused, with
    /// the reason and nothing applied: an unknown request or line, more than requested, a
    /// withdrawn request, and shipping on hold. `shipment_id` names the shipment a `Shipped`
    /// report makes.
    pub fn record_warehouse_report(
        &mut self,
        request_id: &str,
        event_id: &str,
        report: WarehouseReport,
        shipment_id: Option<String>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Change, AppError> {
        check_external_id("event_id", event_id)?;
        let index = self.request_index(request_id)?;
        let request = &self.fulfillment_requests[index];
        if request.applied_events.iter().any(|e| e == event_id) {
            return Ok(Change::none());
        }
        check_room(
            ConflictCode::TooManyEvents,
            "warehouse events on this request",
            request.applied_events.len(),
            MAX_REQUEST_EVENTS,
        )?;
        if matches!(request.status, FulfillmentStatus::Cancelled | FulfillmentStatus::Failed) {
            return Err(AppError::conflict(
                ConflictCode::RequestClosed,
                format!("fulfillment request {request_id} was withdrawn or failed; it takes no more reports"),
            ));
        }
        let mut request = request.clone();
        let mut change = Change::none();
        let shipping = report.ships();
        match report {
            // Recorded even when the request is past it, so the set of applied events, and with
            // it the state, is the same whatever order they came in.
            WarehouseReport::Accepted => request.advance(FulfillmentStatus::Accepted),
            WarehouseReport::Picked { lines } => {
                request.add(Stage::Picked, &lines)?;
                request.advance(FulfillmentStatus::InProgress);
            }
            WarehouseReport::Packed { lines, packages } => {
                check_list("packages", request.packages.len() + packages.len(), MAX_PACKAGES)?;
                for (i, package) in packages.iter().enumerate() {
                    package.validate(&format!("packages[{i}]"))?;
                }
                request.add(Stage::Packed, &lines)?;
                request.packages.extend(packages);
                let packed = request.all(Stage::Packed);
                request.advance(if packed { FulfillmentStatus::Packed } else { FulfillmentStatus::InProgress });
            }
            WarehouseReport::Shipped { lines, packages, carrier, tracking_number } => {
                if carrier.trim().is_empty() || tracking_number.trim().is_empty() {
                    return Err(AppError::invalid("carrier", "a shipment needs a carrier and a tracking number"));
                }
                request.add(Stage::Shipped, &lines)?;
                let shipment_id = shipment_id.ok_or_else(|| AppError::unexpected("a shipment without an id"))?;
                let new = NewShipment {
                    shipment_id,
                    shipment_type: ShipmentType::External,
                    carrier: Some(carrier),
                    tracking_number: Some(tracking_number),
                    fulfillment_request_id: Some(request_id.to_owned()),
                    lines: lines
                        .into_iter()
                        .map(|l| ShipLine {
                            order_line_id: l.order_line_id,
                            quantity: l.quantity,
                            hub_id: request.hub_id.clone(),
                        })
                        .collect(),
                    packages,
                };
                change = self.ship(new, actor, now)?;
                let shipped = request.all(Stage::Shipped);
                request.advance(if shipped { FulfillmentStatus::Shipped } else { FulfillmentStatus::InProgress });
            }
        }
        request.applied_events.push(event_id.to_owned());
        self.fulfillment_requests[index] = request;
        self.recount_warehouse_progress();
        if !shipping {
            // Shipping bumped the version already.
            self.touch(now);
        }
        Ok(change)
    }

    fn request_index(&self, request_id: &str) -> Result<usize, AppError> {
        self.fulfillment_requests.iter().position(|r| r.fulfillment_request_id == request_id).ok_or_else(|| {
            AppError::invalid_with_code(
                InvalidCode::UnknownFulfillmentRequest,
                "fulfillment_request_id",
                format!("no fulfillment request {request_id}"),
            )
        })
    }

    /// Line `picked` and `packed` as sums over the order's requests.
    fn recount_warehouse_progress(&mut self) {
        for line in &mut self.lines {
            let of_line =
                || self.fulfillment_requests.iter().flat_map(|r| &r.lines).filter(|l| l.order_line_id == line.line_id);
            line.picked = of_line().map(|l| l.picked).sum();
            line.packed = of_line().map(|l| l.packed).sum();
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use rust_decimal::Decimal;
    use rust_decimal_macros::dec;
    use serde_json::json;

    use crate::kernel::access::Actor;
    use crate::kernel::error::{AppError, ConflictCode, InvalidCode};
    use crate::kernel::ids::{HubId, LineId, Sku};
    use crate::memory::fixtures::{placed_order, sample_store};
    use crate::order::Order;
    use crate::order::fulfillment::{FulfillmentStatus, ReportedLine, WarehouseReport};
    use crate::order::shipment::Package;
    use crate::order::status::OrderStatus;
    use crate::order::testing::given;
    use crate::ports::Lookup;
    use crate::stock::StockMove;

    /// The placement order (100 `PP-H1` as `L1`, 25.5 `HDPE-F2` as `L2`) with 60 of each SKU at
    /// each hub, sent to its warehouses: `-F1` at `HCM-WH1` (60 of `L1`, 25.5 of `L2`), `-F2` at
    /// `HN-WH2` (40 of `L1`).
    async fn at_two_warehouses() -> Order {
        let store = sample_store(dec!(60)).await;
        let order = placed_order(&store).await;
        let placement = Actor::system(order.tenant_id.clone(), "order-placement");
        given(order)
            .when(|o| o.request_fulfillment(&placement, Utc::now()))
            .then_status(OrderStatus::InFulfillment)
            .then_dispatches_to(&["HCM-WH1", "HN-WH2"])
            .into_order()
    }

    fn request(order: &Order, n: usize) -> String {
        format!("{}-F{n}", order.order_id)
    }

    fn wms(order: &Order) -> Actor {
        Actor::system(order.tenant_id.clone(), "wms")
    }

    fn lines(quantities: &[(&str, Decimal)]) -> Vec<ReportedLine> {
        quantities
            .iter()
            .map(|(line, quantity)| ReportedLine { order_line_id: LineId::parse(*line).unwrap(), quantity: *quantity })
            .collect()
    }

    fn package() -> Package {
        Package {
            package_number: "P1".into(),
            weight_kg: Some(dec!(12.5)),
            dimensions_cm: None,
            tracking_number: None,
            label_url: None,
        }
    }

    fn shipped(quantities: &[(&str, Decimal)]) -> WarehouseReport {
        WarehouseReport::Shipped {
            lines: lines(quantities),
            packages: vec![package()],
            carrier: "GHN".into(),
            tracking_number: "GHN1".into(),
        }
    }

    /// What `HCM-WH1` reports on `-F1`, with the shipment id each report needs.
    fn f1_reports() -> Vec<(&'static str, WarehouseReport, Option<String>)> {
        vec![
            ("e1", WarehouseReport::Accepted, None),
            ("e2", WarehouseReport::Picked { lines: lines(&[("L1", dec!(60))]) }, None),
            ("e3", WarehouseReport::Picked { lines: lines(&[("L2", dec!(25.5))]) }, None),
            (
                "e4",
                WarehouseReport::Packed {
                    lines: lines(&[("L1", dec!(60)), ("L2", dec!(25.5))]),
                    packages: vec![package()],
                },
                None,
            ),
            ("e5", shipped(&[("L1", dec!(60)), ("L2", dec!(25.5))]), Some("SHP-1".to_owned())),
        ]
    }

    #[tokio::test]
    async fn accepted_picked_and_packed_change_the_order_and_tell_no_one() {
        let order = at_two_warehouses().await;
        let (f1, wms) = (request(&order, 1), wms(&order));
        let version = order.version;
        let accepted = given(order)
            .when(|o| o.record_warehouse_report(&f1, "e1", WarehouseReport::Accepted, None, &wms, Utc::now()))
            .then_status(OrderStatus::InFulfillment)
            .then_emits(&[])
            .then_records(&[])
            .then_order(|o| {
                assert_eq!(o.fulfillment_requests[0].status, FulfillmentStatus::Accepted);
                assert_eq!(o.version, version + 1, "the order changed");
            })
            .into_order();
        let picked = WarehouseReport::Picked { lines: lines(&[("L1", dec!(60))]) };
        let picked = given(accepted)
            .when(|o| o.record_warehouse_report(&f1, "e2", picked, None, &wms, Utc::now()))
            .then_emits(&[])
            .then_moves(&[])
            .then_order(|o| {
                assert_eq!(
                    (o.lines[0].picked, o.fulfillment_requests[0].status),
                    (dec!(60), FulfillmentStatus::InProgress)
                )
            })
            .into_order();
        let packed = WarehouseReport::Packed {
            lines: lines(&[("L1", dec!(60)), ("L2", dec!(25.5))]),
            packages: vec![package()],
        };
        given(picked)
            .when(|o| o.record_warehouse_report(&f1, "e4", packed, None, &wms, Utc::now()))
            .then_emits(&[])
            .then_order(|o| {
                let request = &o.fulfillment_requests[0];
                assert_eq!((request.status, request.packages.len()), (FulfillmentStatus::Packed, 1));
                assert_eq!((o.lines[0].packed, o.lines[1].packed), (dec!(60), dec!(25.5)));
            });
    }

    #[tokio::test]
    async fn ship_completed_ships_what_the_warehouse_sent() {
        let order = at_two_warehouses().await;
        let (f1, wms) = (request(&order, 1), wms(&order));
        let ship =
            |sku: &str, quantity| StockMove::ship(HubId::parse("HCM-WH1").unwrap(), Sku::parse(sku).unwrap(), quantity);
        let report = shipped(&[("L1", dec!(60)), ("L2", dec!(25.5))]);
        let done = given(order)
            .when(|o| o.record_warehouse_report(&f1, "e5", report, Some("SHP-1".into()), &wms, Utc::now()))
            .then_status(OrderStatus::PartiallyShipped)
            .then_emits(&["ShipmentCreated", "OrderStatusChanged"])
            .then_event(
                "ShipmentCreated",
                json!({"shipment": {"shipment_id": "SHP-1", "type": "EXTERNAL", "carrier": "GHN", "fulfillment_request_id": f1}}),
            )
            .then_event("OrderStatusChanged", json!({"from": "IN_FULFILLMENT", "to": "PARTIALLY_SHIPPED", "actor": "wms"}))
            .then_moves(&[ship("HDPE-F2", dec!(25.5)), ship("PP-H1", dec!(60))])
            .then_order(|o| assert_eq!(o.fulfillment_requests[0].status, FulfillmentStatus::Shipped));
        assert_eq!(done.change().lookups, [Lookup::Shipment("SHP-1".into())]);
        let repeat = shipped(&[("L1", dec!(60)), ("L2", dec!(25.5))]);
        given(done.into_order())
            .when(|o| o.record_warehouse_report(&f1, "e5", repeat, Some("SHP-2".into()), &wms, Utc::now()))
            .then_nothing_changes();
    }

    /// The order with its moment-dependent fields cleared, to compare end states.
    fn settled(mut order: Order) -> Order {
        order.version = 0;
        order.updated_at = order.created_at;
        for request in &mut order.fulfillment_requests {
            request.applied_events.sort();
        }
        for shipment in &mut order.shipments {
            shipment.created_at = order.created_at;
            shipment.updated_at = order.created_at;
        }
        order
    }

    #[tokio::test]
    async fn warehouse_reports_in_any_order_and_repeated_end_the_same() {
        let base = at_two_warehouses().await;
        let (f1, wms) = (request(&base, 1), wms(&base));
        let mut reference = base.clone();
        for (event_id, report, shipment) in f1_reports() {
            let _change = reference.record_warehouse_report(&f1, event_id, report, shipment, &wms, Utc::now()).unwrap();
        }
        assert_eq!(reference.fulfillment_requests[0].status, FulfillmentStatus::Shipped);
        assert_eq!(reference.status, OrderStatus::PartiallyShipped, "HN-WH2 has not shipped yet");
        let l1 = &reference.lines[0];
        assert_eq!((l1.picked, l1.packed, l1.shipped), (dec!(60), dec!(60), dec!(60)));

        // Reversed, and every report twice.
        let mut order = base;
        let mut reports = f1_reports();
        reports.reverse();
        for (event_id, report, shipment) in reports.iter().chain(reports.iter()) {
            let _change = order
                .record_warehouse_report(&f1, event_id, report.clone(), shipment.clone(), &wms, Utc::now())
                .unwrap();
        }
        assert_eq!(settled(order), settled(reference));
    }

    #[tokio::test]
    async fn what_a_request_did_not_ask_for_is_refused_and_changes_nothing() {
        let order = at_two_warehouses().await;
        let (f2, wms) = (request(&order, 2), wms(&order));
        let too_much = WarehouseReport::Picked { lines: lines(&[("L1", dec!(41))]) };
        given(order.clone())
            .when(|o| o.record_warehouse_report(&f2, "x1", too_much, None, &wms, Utc::now()))
            .then_refused(|e| matches!(e, AppError::Invalid { code: InvalidCode::OverRequested, .. }));
        let other_hubs_line = WarehouseReport::Picked { lines: lines(&[("L2", dec!(1))]) };
        given(order.clone())
            .when(|o| o.record_warehouse_report(&f2, "x2", other_hubs_line, None, &wms, Utc::now()))
            .then_refused(|e| matches!(e, AppError::Invalid { code: InvalidCode::UnknownLine, .. }));
        given(order.clone())
            .when(|o| o.record_warehouse_report("NOPE-F9", "x3", WarehouseReport::Accepted, None, &wms, Utc::now()))
            .then_refused(|e| matches!(e, AppError::Invalid { code: InvalidCode::UnknownFulfillmentRequest, .. }));
        let no_carrier = WarehouseReport::Shipped {
            lines: lines(&[("L1", dec!(40))]),
            packages: vec![],
            carrier: " ".into(),
            tracking_number: "T1".into(),
        };
        given(order)
            .when(|o| o.record_warehouse_report(&f2, "x4", no_carrier, Some("SHP-1".into()), &wms, Utc::now()))
            .then_refused(|e| matches!(e, AppError::Invalid { .. }));
    }

    #[tokio::test]
    async fn a_withdrawn_request_takes_no_reports_and_a_hold_stops_shipping() {
        let order = at_two_warehouses().await;
        let (f2, wms) = (request(&order, 2), wms(&order));
        let mut withdrawn = order.clone();
        withdrawn.fulfillment_requests[1].status = FulfillmentStatus::Cancelled;
        given(withdrawn)
            .when(|o| o.record_warehouse_report(&f2, "x1", WarehouseReport::Accepted, None, &wms, Utc::now()))
            .then_refused(|e| matches!(e, AppError::Conflict { code: ConflictCode::RequestClosed, .. }));
        let mut held = order;
        held.on_hold = true;
        given(held)
            .when(|o| {
                o.record_warehouse_report(
                    &f2,
                    "x2",
                    shipped(&[("L1", dec!(40))]),
                    Some("SHP-1".into()),
                    &wms,
                    Utc::now(),
                )
            })
            .then_refused(|e| matches!(e, AppError::Conflict { code: ConflictCode::OnHold, .. }));
    }
}
