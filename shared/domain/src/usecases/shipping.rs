//! Following an order from the warehouse to the customer: warehouse reports on fulfillment
//! requests, dispatcher shipments, and shipment status reports (carrier callbacks and
//! dispatchers). Each is one atomic change of the order, recomputed when a concurrent change of
//! the same order wins; a repeat or a late report writes nothing.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::access::{Action, Actor};
use crate::error::AppError;
use crate::events::DomainEvent;
use crate::fulfillment::WarehouseReport;
use crate::ids::{OrderId, TenantId};
use crate::inventory::StockMove;
use crate::order::Order;
use crate::ports::{Counter, Lookup, Store};
use crate::shipment::{NewShipment, Package, ShipLine, ShipmentChange, ShipmentReport, ShipmentStatus, ShipmentType};
use crate::usecases::effects::after_shipping;
use crate::usecases::idempotency::{Changed, IdempotencyKey, replay_if_seen};
use crate::usecases::orders::{Effects, change_order, get_order};
use crate::usecases::wms::Applied;

/// The id a shipment is tried with before it takes a number.
const PENDING_SHIPMENT: &str = "SHP-PENDING";

fn unknown_request(request_id: &str) -> AppError {
    AppError::invalid_with_code(
        "unknown_fulfillment_request",
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

/// The effects of a shipment change: its stock moves, history, events.
fn shipping_effects(order: &Order, change: ShipmentChange, event: DomainEvent, now: DateTime<Utc>) -> Effects {
    Effects {
        outbox: after_shipping(order, event, &change.changes, now),
        history: change.changes,
        moves: StockMove::net(change.moves),
        ..Effects::default()
    }
}

/// Applies a warehouse report on a fulfillment request (`FulfillmentAccepted`, `PickCompleted`,
/// `PackCompleted`, `ShipCompleted`). A repeated `event_id` changes nothing; an unknown request
/// or line, more than requested, or shipping an order on hold is refused with the reason and
/// nothing applied. `ShipCompleted` makes a shipment: the goods leave the hub's stock.
pub async fn warehouse_report<S: Store>(
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
        let pending = Some(PENDING_SHIPMENT.to_owned());
        if trial.record_warehouse_report(request_id, event_id, report.clone(), pending, &wms, now)?.is_none() {
            return Ok(Applied::Ignored);
        }
        Some(store.next_number(Counter::Shipments, now.date_naive()).await?)
    } else {
        None
    };
    let changed = change_order(store, &wms, &order_id, Action::Ship, None, now, |order| {
        let recorded =
            order.record_warehouse_report(request_id, event_id, report.clone(), shipment_id.clone(), &wms, now)?;
        // A repeat changed nothing; accepted, picked and packed change the order but tell no one.
        let (Some(change), Some(shipment)) = (recorded, shipment_id.as_deref().and_then(|id| order.shipment(id)))
        else {
            return Ok(Effects::default());
        };
        let created = DomainEvent::shipment_created(order, shipment);
        let mut effects = shipping_effects(order, change, created, now);
        effects.lookups = shipment_id.iter().cloned().map(Lookup::Shipment).collect();
        Ok(effects)
    })
    .await
    .map_err(|e| match e {
        AppError::NotFound(_) => unknown_request(request_id),
        other => other,
    })?;
    Ok(Applied::from(&changed))
}

/// The carrier's callback (`POST /v1/webhooks/tms`, SPEC; `events/schemas/tms`). `tenant_id` is
/// optional: a TMS that sends it only reaches that tenant's shipments.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CarrierCallback {
    /// The TMS's id of this report: a repeat changes nothing.
    pub event_id: String,
    /// The shipment.
    pub shipment_id: String,
    /// `ASSIGNED`, `IN_TRANSIT`, `DELIVERED` or `CANCELLED`.
    pub status: ShipmentStatus,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// The TMS's order id.
    #[serde(default)]
    pub tms_order_id: Option<String>,
    /// When given, only this tenant's shipments are reached.
    #[serde(default)]
    pub tenant_id: Option<TenantId>,
}

/// What the webhook answers a callback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CallbackAnswer {
    /// The shipment.
    pub shipment_id: String,
    /// Its status now.
    pub status: Option<ShipmentStatus>,
    /// False for a repeat or a late report that changed nothing.
    pub applied: bool,
}

/// The body of `POST /orders/{id}/shipments`.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ShipmentRequest {
    /// What leaves which hub.
    pub lines: Vec<ShipLine>,
    /// `INTERNAL` (own transport, via the TMS) or `EXTERNAL` (a carrier).
    #[serde(rename = "type")]
    pub shipment_type: ShipmentType,
    /// The carrier's name (required for `EXTERNAL`).
    pub carrier: Option<String>,
    /// The carrier's tracking number (required for `EXTERNAL`).
    pub tracking_number: Option<String>,
    /// Packages, if known.
    #[serde(default)]
    pub packages: Vec<Package>,
}

fn optional_name(field: &str, value: Option<String>) -> Result<Option<String>, AppError> {
    value.map(|v| crate::inventory::non_empty_text(field, v, 200)).transpose()
}

/// `POST /orders/{id}/shipments`: a dispatcher ships allocated quantities (several calls split
/// an order into several shipments). `ShipmentCreated` goes to the TMS.
pub async fn create_shipment<S: Store>(
    store: &S,
    actor: &Actor,
    id: &OrderId,
    request: ShipmentRequest,
    key: Option<IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Changed, AppError> {
    actor.authorize(Action::Ship)?;
    let carrier = optional_name("carrier", request.carrier)?;
    let tracking_number = optional_name("tracking_number", request.tracking_number)?;
    if request.shipment_type == ShipmentType::External && (carrier.is_none() || tracking_number.is_none()) {
        return Err(AppError::invalid(
            if carrier.is_none() { "carrier" } else { "tracking_number" },
            "an EXTERNAL shipment needs a carrier and a tracking number",
        ));
    }
    let new = |shipment_id: &str| NewShipment {
        shipment_id: shipment_id.to_owned(),
        shipment_type: request.shipment_type,
        carrier: carrier.clone(),
        tracking_number: tracking_number.clone(),
        fulfillment_request_id: None,
        lines: request.lines.clone(),
        packages: request.packages.clone(),
    };
    // Refuse what cannot ship before taking a number: a refused request writes nothing.
    if replay_if_seen(store, actor, key.as_ref()).await?.is_none() {
        get_order(store, actor, id).await?.ship(new(PENDING_SHIPMENT), actor, now)?;
    }
    let shipment_id = store.next_number(Counter::Shipments, now.date_naive()).await?;
    change_order(store, actor, id, Action::Ship, key, now, |order| {
        let change = order.ship(new(&shipment_id), actor, now)?;
        let created = DomainEvent::shipment_created(order, order.shipment(&shipment_id).expect("just shipped"));
        let mut effects = shipping_effects(order, change, created, now);
        effects.lookups = vec![Lookup::Shipment(shipment_id.clone())];
        Ok(effects)
    })
    .await
}

/// The order a shipment belongs to, if the actor may see it (404 otherwise, also for another
/// tenant's shipment).
pub async fn get_shipment<S: Store>(store: &S, actor: &Actor, shipment_id: &str) -> Result<Order, AppError> {
    actor.authorize(Action::ReadOrders)?;
    let found = store.find_shipment(shipment_id).await?.filter(|f| f.tenant_id == actor.tenant_id);
    let found = found.ok_or(AppError::NotFound("shipment"))?;
    get_order(store, actor, &found.order_id).await.map_err(|_| AppError::NotFound("shipment"))
}

/// Who reports a shipment's status.
#[derive(Debug, Clone)]
pub enum Reporter {
    /// The TMS's signed callback. It may name the tenant it reports for; a shipment of another
    /// tenant is then unknown.
    Carrier {
        /// The tenant the callback claims, if any.
        tenant_id: Option<TenantId>,
    },
    /// A dispatcher (external carriers without a callback).
    Dispatcher(Actor),
}

/// A shipment status report: forward-only, so a repeat or a late report changes nothing. The
/// order follows its shipments to `IN_TRANSIT`, `DELIVERED` and `COMPLETED` (with
/// `OrderCompleted`). An unknown shipment, or another tenant's, is 404.
pub async fn report_shipment<S: Store>(
    store: &S,
    reporter: Reporter,
    shipment_id: &str,
    report: ShipmentReport,
    now: DateTime<Utc>,
) -> Result<Changed, AppError> {
    if let Reporter::Dispatcher(actor) = &reporter {
        actor.authorize(Action::Ship)?;
    }
    let found = store.find_shipment(shipment_id).await?.ok_or(AppError::NotFound("shipment"))?;
    let actor = match reporter {
        Reporter::Carrier { tenant_id: Some(claimed) } if claimed != found.tenant_id => {
            return Err(AppError::NotFound("shipment"));
        }
        Reporter::Carrier { .. } => Actor::system(found.tenant_id.clone(), "tms"),
        Reporter::Dispatcher(actor) if actor.tenant_id != found.tenant_id => {
            return Err(AppError::NotFound("shipment"));
        }
        Reporter::Dispatcher(actor) => actor,
    };
    change_order(store, &actor, &found.order_id, Action::Ship, None, now, |order| {
        let from = order.shipment(shipment_id).ok_or(AppError::NotFound("shipment"))?.status;
        let Some(change) = order.report_shipment(shipment_id, report.clone(), &actor, now)? else {
            return Ok(Effects::default());
        };
        let moved = DomainEvent::shipment_status_changed(order, shipment_id, from, &report);
        Ok(shipping_effects(order, change, moved, now))
    })
    .await
}

/// The body of `POST /shipments/{id}/status` (a dispatcher reporting for a carrier without a
/// callback).
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ShipmentStatusRequest {
    /// `ASSIGNED`, `IN_TRANSIT`, `DELIVERED` or `CANCELLED`.
    pub status: ShipmentStatus,
    /// When it happened (defaults to now).
    pub occurred_at: Option<DateTime<Utc>>,
}

impl ShipmentStatusRequest {
    /// The report it makes.
    pub fn into_report(self, now: DateTime<Utc>) -> Result<ShipmentReport, AppError> {
        if self.status == ShipmentStatus::Created {
            return Err(AppError::invalid("status", "a shipment cannot be reported CREATED"));
        }
        Ok(ShipmentReport {
            status: self.status,
            occurred_at: self.occurred_at.unwrap_or(now),
            event_id: None,
            tms_order_id: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::fulfillment::ReportedLine;
    use crate::memory::MemoryStore;

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
            lines: vec![ReportedLine { order_line_id: crate::ids::LineId::parse("L1").unwrap(), quantity: dec!(1) }],
        };
        let err = warehouse_report(&store, &tenant, "e1", "01HX-F1", report, Utc::now()).await.unwrap_err();
        assert!(matches!(err, AppError::Invalid { code: "unknown_fulfillment_request", .. }), "{err}");
    }
}
