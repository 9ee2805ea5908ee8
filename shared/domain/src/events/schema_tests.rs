//! The published contract, checked in `cargo test`: an event of every `detail_type()`, built by
//! its constructor from a fixture order (and the events the use cases wrote for that order),
//! is validated against its committed schema in `events/schemas/oms/`. A wire change that a
//! schema does not allow fails here, not only in the end-to-end run.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::Utc;
use rust_decimal_macros::dec;
use serde_json::{Value, json};

use super::{DomainEvent, EventEnvelope, OutboxMessage};
use crate::kernel::ids::TenantId;
use crate::memory::{MemoryStore, fixtures};
use crate::order::shipment::{ShipmentReport, ShipmentStatus};
use crate::stock::{MoveKind, StockLevel, StockMove};

/// Where a variant stands in [`DomainEvent::DETAIL_TYPES`]. The match is exhaustive on purpose:
/// a new event does not compile here until this test builds one and it has a place in the list.
fn position(event: &DomainEvent) -> usize {
    match event {
        DomainEvent::OrderCreated { .. } => 0,
        DomainEvent::OrderSubmitted { .. } => 1,
        DomainEvent::OrderStatusChanged { .. } => 2,
        DomainEvent::PriceApprovalRequested { .. } => 3,
        DomainEvent::OrderModified { .. } => 4,
        DomainEvent::OrderCancelled { .. } => 5,
        DomainEvent::OrderHoldPlaced { .. } => 6,
        DomainEvent::OrderHoldReleased { .. } => 7,
        DomainEvent::FulfillmentRequested { .. } => 8,
        DomainEvent::FulfillmentCancelled { .. } => 9,
        DomainEvent::ShipmentCreated { .. } => 10,
        DomainEvent::ShipmentStatusChanged { .. } => 11,
        DomainEvent::OrderCompleted { .. } => 12,
        DomainEvent::ReturnApproved { .. } => 13,
        DomainEvent::RefundRequested { .. } => 14,
        DomainEvent::InventoryLow { .. } => 15,
        DomainEvent::StockReplenished { .. } => 16,
        DomainEvent::StockReserved { .. } => 17,
        DomainEvent::OrderBackordered { .. } => 18,
    }
}

fn schema_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/schemas/oms")
}

/// The committed outbound schemas, compiled, by detail type.
struct Contract {
    schemas: boon::Schemas,
    by_type: BTreeMap<String, boon::SchemaIndex>,
}

impl Contract {
    fn load() -> Self {
        let (mut schemas, mut compiler) = (boon::Schemas::new(), boon::Compiler::new());
        let mut by_type = BTreeMap::new();
        for entry in std::fs::read_dir(schema_dir()).expect("events/schemas/oms") {
            let path = entry.unwrap().path().canonicalize().unwrap();
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            let Some(detail_type) = name.strip_suffix(".schema.json") else { continue };
            let index = compiler
                .compile(path.to_str().unwrap(), &mut schemas)
                .unwrap_or_else(|e| panic!("{name} does not compile: {e:#}"));
            by_type.insert(detail_type.to_owned(), index);
        }
        Self { schemas, by_type }
    }

    fn check(&self, detail_type: &str, detail: &Value) -> Result<(), String> {
        let index = self.by_type.get(detail_type).ok_or_else(|| format!("no schema for {detail_type}"))?;
        self.schemas.validate(detail, *index).map_err(|e| format!("{e:#}"))
    }
}

/// Events of every type: those the use cases wrote while making a shipped order, and the rest
/// built by their constructors from that order, with every optional field filled somewhere.
async fn every_event() -> Vec<EventEnvelope> {
    let tenant = TenantId::parse("t1").unwrap();
    let store = MemoryStore::with_catalog(&tenant, "HUB1", "SKU1", dec!(100)).await;
    let order = fixtures::shipped_order(&store, &tenant, "HUB1", "SKU1", "10").await;
    let mut envelopes: Vec<EventEnvelope> = store
        .outbox()
        .into_iter()
        .filter_map(|m| match m {
            OutboxMessage::Event(e) => Some(e),
            OutboxMessage::StartWorkflow { .. } => None,
        })
        .collect();

    let now = Utc::now();
    let mut rich = order.clone();
    rich.external_reference = Some("PO-7781".into());
    rich.channel = Some("shopee".into());
    rich.channel_order_id = Some("2219934".into());
    rich.customer = serde_json::from_value(json!({
        "id": "C1", "name": "ABC",
        "delivery_address": {"line1": "12 Nguyen Hue", "line2": "Floor 3", "city": "HCM", "region": "HCM",
                             "postal_code": "700000", "country": "VN", "lat": 10.77, "lon": 106.7},
        "contact": {"name": "Lan", "phone": "+84 90 000 0000", "email": "lan@example.com"}
    }))
    .unwrap();
    rich.lines[0].backordered = dec!(4);
    let (hub, sku) = (crate::kernel::ids::HubId::parse("HUB1").unwrap(), order.lines[0].sku.clone());
    let approval = serde_json::from_value(json!({
        "requested_by": "sales-user", "requested_at": now, "discount": "1000",
        "lines": [{"line_id": "L1", "sku": "SKU1", "list_unit_price": "32000", "quoted_unit_price": "30000",
                   "difference": "-2000", "percent": "-6.25"}],
        "decision": {"approved": true, "notes": "volume deal", "decided_by": "manager-user", "decided_at": now}
    }))
    .unwrap();
    let hold = serde_json::from_value(json!({
        "hold_id": "H1", "code": "payment_hold", "reason": "awaiting payment", "status": "released",
        "placed_by": "admin-user", "placed_at": now, "released_by": "admin-user", "released_at": now
    }))
    .unwrap();
    let mut request = order.fulfillment_requests.first().expect("the fixture was dispatched").clone();
    request.lines[0].picked = dec!(10);
    request.lines[0].packed = dec!(10);
    request.lines[0].shipped = dec!(10);
    let mut shipment = order.shipments.first().expect("the fixture shipped").clone();
    shipment.carrier = Some("GHN".into());
    shipment.tracking_number = Some("GHN123".into());
    shipment.tms_order_id = Some("TMS-1".into());
    shipment.fulfillment_request_id = Some(request.fulfillment_request_id.clone());
    shipment.packages = vec![
        serde_json::from_value(json!({"package_number": "PKG-1", "weight_kg": "12.5",
            "dimensions_cm": {"length": "40", "width": "30", "height": "20"},
            "tracking_number": "GHN123-1", "label_url": "https://labels.example.com/1.pdf"}))
        .unwrap(),
    ];
    let report = ShipmentReport {
        status: ShipmentStatus::InTransit,
        occurred_at: now,
        event_id: Some("tms-1".into()),
        tms_order_id: Some("TMS-1".into()),
    };
    shipment.tracking = vec![
        serde_json::from_value(json!({"status": "IN_TRANSIT", "occurred_at": now, "event_id": "tms-1",
            "reported_by": "tms", "recorded_at": now}))
        .unwrap(),
    ];
    let rma: crate::order::returns::Return = serde_json::from_value(json!({
        "return_id": "RMA-20261122-0001", "status": "received", "created_by": "sales-user",
        "created_at": now, "updated_at": now,
        "lines": [{"order_line_id": "L1", "sku": "SKU1", "unit": "KG", "hub_id": "HUB1", "quantity": "2",
                   "reason": "damaged", "received": "2", "accepted": "1", "rejected": "1", "disposition": "restock"}],
        "refund": {"currency": "VND", "net": "32000", "tax": "3200", "total": "35200", "requested_at": now,
                   "reference": "BANK-1", "confirmed_at": now,
                   "lines": [{"order_line_id": "L1", "sku": "SKU1", "quantity": "1", "unit_price": "32000",
                              "tax_rate": "0.1", "net": "32000", "tax": "3200", "gross": "35200"}]}
    }))
    .unwrap();
    let released = [
        StockMove { hub_id: hub.clone(), sku: sku.clone(), quantity: dec!(-6), kind: MoveKind::Reservation },
        StockMove { hub_id: hub.clone(), sku: sku.clone(), quantity: dec!(4), kind: MoveKind::Shipment },
    ];
    let level = StockLevel { hub_id: hub.clone(), sku: sku.clone(), on_hand: dec!(5), reserved: dec!(2) };
    let reservation = crate::routing::PlannedReservation {
        line_id: order.lines[0].line_id.clone(),
        sku,
        hub_id: hub,
        quantity: dec!(3),
    };

    let built = [
        DomainEvent::order_created(&rich),
        DomainEvent::order_submitted(&order),
        DomainEvent::price_approval_requested(&order, &approval),
        DomainEvent::order_modified(&order, &["customer.delivery_address", "notes"]),
        DomainEvent::order_cancelled(&order, "customer asked", &released),
        DomainEvent::hold_placed(&order, &hold),
        DomainEvent::hold_released(&order, &hold),
        DomainEvent::fulfillment_requested(&rich, &request),
        DomainEvent::fulfillment_cancelled(&order, &request, "customer asked"),
        DomainEvent::shipment_created(&rich, &shipment),
        DomainEvent::shipment_status_changed(&order, &shipment.shipment_id, ShipmentStatus::Created, &report),
        DomainEvent::order_completed(&rich),
        DomainEvent::return_approved(&order, &rma),
        DomainEvent::refund_requested(&rich, &rma.return_id, rma.refund.as_ref().unwrap()),
        DomainEvent::inventory_low(&level, dec!(10)),
        DomainEvent::stock_replenished(&level),
        DomainEvent::stock_reserved(&order, &[reservation]),
        DomainEvent::order_backordered(&rich).expect("a backordered line"),
    ];
    envelopes.extend(built.into_iter().map(|e| EventEnvelope::new(tenant.clone(), now, e)));
    envelopes
}

#[tokio::test]
async fn an_event_of_every_type_matches_its_published_schema() {
    let contract = Contract::load();
    let envelopes = every_event().await;
    let mut seen = BTreeSet::new();
    let mut failures = Vec::new();
    for envelope in &envelopes {
        let detail_type = envelope.event.detail_type();
        assert_eq!(DomainEvent::DETAIL_TYPES[position(&envelope.event)], detail_type);
        seen.insert(detail_type);
        let detail: Value = serde_json::from_str(&envelope.detail()).unwrap();
        if let Err(e) = contract.check(detail_type, &detail) {
            failures.push(format!("{detail_type}: {e}\n{detail:#}"));
        }
        // The relay reads what it publishes back from the table stream.
        assert_eq!(&serde_json::from_value::<EventEnvelope>(detail).unwrap(), envelope, "{detail_type} round-trips");
    }
    assert!(failures.is_empty(), "events that break their schema:\n{}", failures.join("\n\n"));
    let every: BTreeSet<&str> = DomainEvent::DETAIL_TYPES.into_iter().collect();
    assert_eq!(seen, every, "an event of every type is checked");
}

#[test]
fn every_detail_type_has_a_schema_and_every_schema_a_detail_type() {
    let contract = Contract::load();
    let schemas: BTreeSet<&str> = contract.by_type.keys().map(String::as_str).collect();
    let every: BTreeSet<&str> = DomainEvent::DETAIL_TYPES.into_iter().collect();
    assert_eq!(schemas, every);
    assert_eq!(every.len(), DomainEvent::DETAIL_TYPES.len(), "no detail type is listed twice");
}

#[tokio::test]
async fn a_detail_the_schema_does_not_allow_is_caught() {
    let contract = Contract::load();
    let envelope = every_event().await.into_iter().find(|e| e.event.detail_type() == "ShipmentCreated").unwrap();
    let mut detail: Value = serde_json::from_str(&envelope.detail()).unwrap();
    contract.check("ShipmentCreated", &detail).expect("the event as built is valid");
    detail["shipment"]["status"] = json!("LOST");
    detail.as_object_mut().unwrap().remove("order_number");
    let error = contract.check("ShipmentCreated", &detail).expect_err("a status outside the enum, a field missing");
    assert!(error.contains("'order_number'") && error.contains("/shipment/status"), "{error}");
}
