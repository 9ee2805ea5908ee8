//! Following an order from the warehouse to the customer: warehouse reports on fulfillment
//! requests, dispatcher shipments, and shipment status reports (carrier callbacks and
//! dispatchers). Each is one atomic change of the order, recomputed when a concurrent change of
//! the same order wins; a repeat or a late report writes nothing.

mod create_shipment;
mod get_shipment;
mod report_shipment;

pub(crate) use self::create_shipment::PENDING_SHIPMENT;
pub use self::create_shipment::{ShipmentRequest, create_shipment};
pub use self::get_shipment::get_shipment;
pub use self::report_shipment::{CallbackAnswer, CarrierCallback, Reporter, ShipmentStatusRequest, report_shipment};

use crate::kernel::access::{Action, Actor};
use crate::kernel::error::{AppError, InvalidCode};
use crate::kernel::ids::{OrderId, TenantId};
use crate::order::fulfillment::WarehouseReport;
use crate::ports::{Counter, OrderStore, StockStore};
use crate::usecases::unit_of_work::change_order;
use crate::usecases::wms::Applied;
use chrono::{DateTime, Utc};

fn unknown_request(request_id: &str) -> AppError {
    AppError::invalid_with_code(
        InvalidCode::UnknownFulfillmentRequest,
        "fulfillment_request_id",
        format!("no fulfillment request {request_id}"),
    )
}

/// The order a fulfillment request belongs to: request ids are `<order_id>-F<n>`.
fn order_of_request(request_id: &str) -> Result<OrderId, AppError> {
    let (order_id, n) = request_id.rsplit_once("-F").ok_or_else(|| unknown_request(request_id))?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return Err(unknown_request(request_id));
    }
    OrderId::parse(order_id).map_err(|_| unknown_request(request_id))
}

/// Applies a warehouse report on a fulfillment request (`FulfillmentAccepted`, `PickCompleted`,
/// `PackCompleted`, `ShipCompleted`; see [`crate::order::Order::record_warehouse_report`]). A repeated
/// `event_id` changes nothing; an unknown request or line, more than requested, or shipping an
/// order on hold is refused with the reason and nothing applied.
pub async fn warehouse_report<S: OrderStore + StockStore>(
    store: &S,
    tenant: &TenantId,
    event_id: &str,
    request_id: &str,
    report: WarehouseReport,
    now: DateTime<Utc>,
) -> Result<Applied, AppError> {
    let order_id = order_of_request(request_id)?;
    let wms = Actor::system(tenant.clone(), "wms");
    // A shipment takes its number before the change. Refuse what cannot ship first, so a refused
    // event takes no number; a concurrent repeat can still leave a gap.
    let shipment_id = if report.ships() {
        let mut trial = store.get_order(tenant, &order_id).await?.ok_or_else(|| unknown_request(request_id))?;
        let version = trial.version;
        let pending = Some(PENDING_SHIPMENT.to_owned());
        let _trial_change = trial.record_warehouse_report(request_id, event_id, report.clone(), pending, &wms, now)?;
        if trial.version == version {
            return Ok(Applied::Ignored);
        }
        Some(store.next_number(Counter::Shipments, now.date_naive()).await?)
    } else {
        None
    };
    let changed = change_order(store, &wms, &order_id, Action::Ship, None, now, |order| {
        order.record_warehouse_report(request_id, event_id, report.clone(), shipment_id.clone(), &wms, now)
    })
    .await
    .map_err(|e| match e {
        AppError::NotFound(_) => unknown_request(request_id),
        other => other,
    })?;
    Ok(Applied::from(&changed))
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::memory::MemoryStore;
    use crate::order::fulfillment::ReportedLine;

    #[test]
    fn request_ids_name_their_order() {
        assert_eq!(order_of_request("01HX-F2").unwrap().as_str(), "01HX");
        for bad in ["01HX", "01HX-F", "01HX-Fx", "-F1"] {
            assert!(order_of_request(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn an_unknown_request_is_refused_with_the_reason() {
        let store = MemoryStore::new();
        let tenant = TenantId::parse("t1").unwrap();
        let report = WarehouseReport::Picked {
            lines: vec![ReportedLine {
                order_line_id: crate::kernel::ids::LineId::parse("L1").unwrap(),
                quantity: dec!(1),
            }],
        };
        let err = warehouse_report(&store, &tenant, "e1", "01HX-F1", report, Utc::now()).await.unwrap_err();
        assert!(matches!(err, AppError::Invalid { code: InvalidCode::UnknownFulfillmentRequest, .. }), "{err}");
    }
}
