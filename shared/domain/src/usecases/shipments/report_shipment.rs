//! `POST /v1/shipments/{shipment_id}/status` and the TMS webhook: a shipment's status moves on.

use crate::kernel::access::{Action, Actor};
use crate::kernel::error::AppError;
use crate::kernel::ids::TenantId;
use crate::order::shipment::{ShipmentReport, ShipmentStatus};
use crate::ports::{OrderStore, StockStore};
use crate::usecases::unit_of_work::{Changed, change_order};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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
pub async fn report_shipment<S: OrderStore + StockStore>(
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
        order.report_shipment(shipment_id, report.clone(), &actor, now)
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
