//! The `placement-failed` task: placement gave up; the order says why.

use crate::kernel::access::Actor;
use crate::kernel::error::AppError;
use crate::kernel::ids::{OrderId, TenantId};
use crate::order::status::OrderStatus;
use crate::ports::OrderStore;
use crate::usecases::placement::COMPONENT;
use crate::usecases::unit_of_work;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The workflow's input when placement failed for good: the order and the failure Step
/// Functions caught.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacementFailure {
    /// Owner.
    pub tenant_id: TenantId,
    /// The order.
    pub order_id: OrderId,
    /// What Step Functions caught (`Error`, `Cause`).
    #[serde(default)]
    pub error: serde_json::Value,
}

/// Placement gave up (see [`crate::order::Order::placement_failed`]): the order goes
/// `BACKORDERED` with Step Functions' error and cause in its history. Returns its status.
pub async fn record_failure<S: OrderStore>(
    store: &S,
    failure: &PlacementFailure,
    now: DateTime<Utc>,
) -> Result<OrderStatus, AppError> {
    let mut order = store.get_order(&failure.tenant_id, &failure.order_id).await?.ok_or(AppError::NotFound("order"))?;
    let name = failure.error.get("Error").and_then(|e| e.as_str()).unwrap_or("unknown error");
    let cause = failure.error.get("Cause").and_then(|c| c.as_str()).unwrap_or_default();
    let version = order.version;
    let actor = Actor::system(failure.tenant_id.clone(), COMPONENT);
    let change = order.placement_failed(name, cause, &actor, now)?;
    let status = order.status;
    if order.version != version {
        let (write, _) = unit_of_work::order_write(order, Some(version), change, now);
        store.save_order(write).await?;
    }
    Ok(status)
}
