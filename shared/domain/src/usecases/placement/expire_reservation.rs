//! The `expire-reservation` task: a reservation nobody confirmed in time gives its stock back.

use crate::kernel::access::Actor;
use crate::kernel::error::AppError;
use crate::kernel::ids::OrderId;
use crate::order::status::OrderStatus;
use crate::ports::{OrderStore, StockStore};
use crate::usecases::placement::assign_hub::{COMPONENT, PlacementRequest};
use crate::usecases::unit_of_work;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What `expire` reports to the workflow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpiryResult {
    /// The order.
    pub order_id: OrderId,
    /// Whether its reservation was released.
    pub expired: bool,
    /// Its status now.
    pub status: OrderStatus,
}

/// The workflow waited out the reservation timeout of an order held at `ALLOCATED`: if it is
/// still held there, its stock goes back and the order to `PENDING_ALLOCATION` (placed again
/// when the hold is released); otherwise nothing changes.
pub async fn expire<S: OrderStore + StockStore>(
    store: &S,
    request: &PlacementRequest,
    timeout: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<ExpiryResult, AppError> {
    let mut order = store.get_order(&request.tenant_id, &request.order_id).await?.ok_or(AppError::NotFound("order"))?;
    let version = order.version;
    let actor = Actor::system(request.tenant_id.clone(), COMPONENT);
    let change = order.expire_reservation(timeout, &actor, now)?;
    let expired = order.version != version;
    let result = ExpiryResult { order_id: order.order_id.clone(), expired, status: order.status };
    if expired {
        let (write, moves) = unit_of_work::order_write(order, Some(version), change, now);
        store.save_with_stock(write, &moves).await?;
    }
    Ok(result)
}
