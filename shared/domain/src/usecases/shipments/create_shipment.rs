//! `POST /v1/orders/{id}/shipments`: a dispatcher ships lines the OMS's own way.

use crate::kernel::access::{Action, Actor};
use crate::kernel::error::AppError;
use crate::kernel::ids::OrderId;
use crate::order::shipment::{NewShipment, Package, ShipLine, ShipmentType};
use crate::ports::{Counter, OrderStore, StockStore};
use crate::usecases::orders::get_order;
use crate::usecases::unit_of_work::{Changed, IdempotencyKey, change_order, replay_if_seen};
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// The id a shipment is tried with before it takes a number.
pub(crate) const PENDING_SHIPMENT: &str = "SHP-PENDING";

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
    value.map(|v| crate::kernel::text::non_empty_text(field, v, 200)).transpose()
}

/// `POST /orders/{id}/shipments`: a dispatcher ships allocated quantities (several calls split
/// an order into several shipments). `ShipmentCreated` goes to the TMS.
pub async fn create_shipment<S: OrderStore + StockStore>(
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
        let _trial_change = get_order(store, actor, id).await?.ship(new(PENDING_SHIPMENT), actor, now)?;
    }
    let shipment_id = store.next_number(Counter::Shipments, now.date_naive()).await?;
    change_order(store, actor, id, Action::Ship, key, now, |order| order.ship(new(&shipment_id), actor, now)).await
}
