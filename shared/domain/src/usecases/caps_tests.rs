//! Every collection a caller can grow on an order, at its cap: the next one is refused with a
//! 4xx, nothing changes, and the order still takes other changes (README "Limits").

use chrono::Utc;
use rust_decimal::Decimal;
use serde_json::json;

use crate::kernel::access::{Actor, Role};
use crate::kernel::error::{AppError, ConflictCode};
use crate::kernel::ids::{OrderId, TenantId};
use crate::kernel::limits::{MAX_EXTERNAL_ID, MAX_PACKAGES, MAX_REQUEST_EVENTS, MAX_RETURNS, MAX_SHIPMENTS};
use crate::memory::MemoryStore;
use crate::ports::OrderStore;
use crate::usecases::orders::{allocate_line, confirm_allocation};
use crate::usecases::returns::{approve_return, create_return};
use crate::usecases::shipments::{Reporter, create_shipment, report_shipment};
use crate::usecases::wms::fulfillment_accepted;

fn as_role(tenant: &TenantId, role: Role) -> Actor {
    Actor { sub: format!("{role:?}-user").to_lowercase(), tenant_id: tenant.clone(), role }
}

/// An order of 500 KG allocated at H1 and sent to the warehouse (request `<id>-F1`).
async fn order_at_the_warehouse() -> (MemoryStore, TenantId, OrderId) {
    let tenant = TenantId::parse("t1").unwrap();
    let store = MemoryStore::with_catalog(&tenant, "H1", "PP-H1", Decimal::from(1000)).await;
    let admin = as_role(&tenant, Role::Admin);
    let request = serde_json::from_value(json!({
        "customer": {"id": "C1", "name": "ABC", "delivery_address": {"line1": "1", "city": "HCM", "country": "VN"}},
        "lines": [{"sku": "PP-H1", "quantity": "500"}], "allocation": "manual", "submit": true
    }))
    .unwrap();
    let id = crate::usecases::create_order(&store, &admin, request, None, Utc::now()).await.unwrap().order.order_id;
    let allocation = serde_json::from_value(json!({"order_line_id": "L1", "hub_id": "H1", "quantity": "500"})).unwrap();
    allocate_line(&store, &admin, &id, allocation, None, Utc::now()).await.unwrap();
    confirm_allocation(&store, &admin, &id, None, Utc::now()).await.unwrap();
    (store, tenant, id)
}

async fn version(store: &MemoryStore, tenant: &TenantId, id: &OrderId) -> u64 {
    store.get_order(tenant, id).await.unwrap().unwrap().version
}

fn accepted(tenant: &TenantId, id: &OrderId, event_id: &str) -> crate::usecases::wms::FulfillmentAccepted {
    serde_json::from_value(
        json!({"tenant_id": tenant, "event_id": event_id, "fulfillment_request_id": format!("{id}-F1")}),
    )
    .unwrap()
}

#[tokio::test]
async fn warehouse_events_on_a_request_stop_at_their_cap_and_repeats_still_pass() {
    let (store, tenant, id) = order_at_the_warehouse().await;
    for n in 0..MAX_REQUEST_EVENTS {
        fulfillment_accepted(&store, accepted(&tenant, &id, &format!("e-{n}")), Utc::now()).await.unwrap();
    }
    let before = version(&store, &tenant, &id).await;
    let refused = fulfillment_accepted(&store, accepted(&tenant, &id, "one-more"), Utc::now()).await;
    assert!(matches!(refused, Err(AppError::Conflict { code: ConflictCode::TooManyEvents, .. })), "{refused:?}");
    let long_id = "x".repeat(MAX_EXTERNAL_ID + 1);
    let refused = fulfillment_accepted(&store, accepted(&tenant, &id, &long_id), Utc::now()).await;
    assert!(matches!(refused, Err(AppError::Invalid { .. })), "{refused:?}");
    fulfillment_accepted(&store, accepted(&tenant, &id, "e-5"), Utc::now()).await.unwrap();
    assert_eq!(version(&store, &tenant, &id).await, before, "refusals and a repeat change nothing");
}

#[tokio::test]
async fn shipments_and_returns_stop_at_their_caps_and_the_order_stays_writable() {
    let (store, tenant, id) = order_at_the_warehouse().await;
    let dispatcher = as_role(&tenant, Role::Dispatcher);
    let ship = |packages: usize| {
        let packages: Vec<_> = (0..packages).map(|n| json!({"package_number": format!("P{n}")})).collect();
        serde_json::from_value(json!({
            "lines": [{"order_line_id": "L1", "quantity": "1", "hub_id": "H1"}], "type": "INTERNAL", "packages": packages
        }))
        .unwrap()
    };
    let refused = create_shipment(&store, &dispatcher, &id, ship(MAX_PACKAGES + 1), None, Utc::now()).await;
    assert!(matches!(refused, Err(AppError::Invalid { .. })), "{refused:?}");
    let mut shipment_ids = Vec::new();
    for _ in 0..MAX_SHIPMENTS {
        let order = create_shipment(&store, &dispatcher, &id, ship(1), None, Utc::now()).await.unwrap().order;
        shipment_ids.push(order.shipments.last().unwrap().shipment_id.clone());
    }
    let before = version(&store, &tenant, &id).await;
    let refused = create_shipment(&store, &dispatcher, &id, ship(0), None, Utc::now()).await;
    assert!(matches!(refused, Err(AppError::Conflict { code: ConflictCode::TooManyShipments, .. })), "{refused:?}");
    assert_eq!(version(&store, &tenant, &id).await, before);
    let status =
        serde_json::from_value::<crate::usecases::shipments::ShipmentStatusRequest>(json!({"status": "IN_TRANSIT"}))
            .unwrap()
            .into_report(Utc::now())
            .unwrap();
    report_shipment(&store, Reporter::Dispatcher(dispatcher.clone()), &shipment_ids[0], status, Utc::now())
        .await
        .expect("the order still takes a shipment's progress");

    let manager = as_role(&tenant, Role::SalesManager);
    let rma =
        || serde_json::from_value(json!({"lines": [{"order_line_id": "L1", "quantity": "1", "reason": "dented"}]}));
    for _ in 0..MAX_RETURNS {
        create_return(&store, &manager, &id, rma().unwrap(), None, Utc::now()).await.unwrap();
    }
    let before = version(&store, &tenant, &id).await;
    let refused = create_return(&store, &manager, &id, rma().unwrap(), None, Utc::now()).await;
    assert!(matches!(refused, Err(AppError::Conflict { code: ConflictCode::TooManyReturns, .. })), "{refused:?}");
    assert_eq!(version(&store, &tenant, &id).await, before);
    let order = store.get_order(&tenant, &id).await.unwrap().unwrap();
    approve_return(&store, &manager, &order.returns[0].return_id, None, Utc::now())
        .await
        .expect("the order still takes a return's approval");
}
