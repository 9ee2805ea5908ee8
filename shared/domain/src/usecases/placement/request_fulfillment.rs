//! The `request-fulfillment` task: the order's reservations become fulfillment requests to the hubs.

use crate::kernel::access::Actor;
use crate::kernel::error::{AppError, ConflictCode};
use crate::kernel::ids::{OrderId, TenantId};
use crate::order::status::OrderStatus;
use crate::ports::{CatalogStore, OrderStore};
use crate::usecases::placement::assign_hub::{COMPONENT, PlacementRequest};
use crate::usecases::unit_of_work;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What `dispatch` reports to the workflow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DispatchResult {
    /// When held: how long the workflow waits before the reservation expires (seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_seconds: Option<i64>,
    /// The order.
    pub order_id: OrderId,
    /// `IN_FULFILLMENT`, or `ALLOCATED` when a hold stopped it.
    pub status: OrderStatus,
    /// Whether an active hold stopped it (releasing the last hold sends it on).
    pub held: bool,
}

/// Sends an allocated order to its warehouses (`FulfillmentRequested` per hub), unless a hold
/// stops it.
pub async fn dispatch<S: OrderStore + CatalogStore>(
    store: &S,
    request: &PlacementRequest,
    reservation_timeout: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<DispatchResult, AppError> {
    let mut order = store.get_order(&request.tenant_id, &request.order_id).await?.ok_or(AppError::NotFound("order"))?;
    if order.status != OrderStatus::Allocated {
        return Err(AppError::conflict(
            ConflictCode::NotPlaceable,
            format!("the order is {}, not ALLOCATED", order.status),
        ));
    }
    let version = order.version;
    let actor = Actor::system(request.tenant_id.clone(), COMPONENT);
    let change = order.request_fulfillment(&actor, now)?;
    if change.is_empty() {
        return Ok(DispatchResult {
            order_id: order.order_id,
            status: order.status,
            held: true,
            expires_in_seconds: Some(reservation_timeout.num_seconds()),
        });
    }
    let result = DispatchResult {
        order_id: order.order_id.clone(),
        status: order.status,
        held: false,
        expires_in_seconds: None,
    };
    let dispatched = change.dispatched.clone();
    let (write, _) = unit_of_work::order_write(order, Some(version), change, now);
    store.save_order(write).await?;
    count_dispatches(store, &request.tenant_id, &dispatched).await;
    Ok(result)
}

/// The day hub capacity is counted against (UTC).
pub(crate) fn today() -> chrono::NaiveDate {
    Utc::now().date_naive()
}

/// Counts the orders just sent to their hubs against today's capacity. Best effort, after the
/// dispatch committed: a lost count only makes routing a little optimistic, never oversells.
pub(crate) async fn count_dispatches<S: CatalogStore>(
    store: &S,
    tenant: &TenantId,
    requests: &[crate::order::fulfillment::FulfillmentRequest],
) {
    let hubs: Vec<crate::kernel::ids::HubId> = requests.iter().map(|r| r.hub_id.clone()).collect();
    if let Err(err) = store.count_dispatches(tenant, today(), &hubs).await {
        tracing::warn!(%err, "hub capacity count failed; routing may overfill a hub today");
    }
}
