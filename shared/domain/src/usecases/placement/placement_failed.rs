//! The `placement-failed` task: placement gave up; the order says why.

use crate::kernel::access::Actor;
use crate::kernel::error::AppError;
use crate::kernel::ids::{OrderId, TenantId};
use crate::order::Change;
use crate::order::status::OrderStatus;
use crate::ports::Store;
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

/// Placement gave up (retries exhausted, or an unexpected error): nothing is reserved (every
/// reservation is atomic, and chunked ones are moved back), so the order goes `BACKORDERED`
/// with the reason in its history, to be placed again when stock comes back.
pub async fn record_failure<S: Store>(
    store: &S,
    failure: &PlacementFailure,
    now: DateTime<Utc>,
) -> Result<OrderStatus, AppError> {
    let mut order = store.get_order(&failure.tenant_id, &failure.order_id).await?.ok_or(AppError::NotFound("order"))?;
    if order.status != OrderStatus::PendingAllocation {
        return Ok(order.status);
    }
    let name = failure.error.get("Error").and_then(|e| e.as_str()).unwrap_or("unknown error");
    let cause = failure.error.get("Cause").and_then(|c| c.as_str()).unwrap_or_default();
    let cause: String = cause.chars().take(300).collect();
    let version = order.version;
    let actor = Actor::system(failure.tenant_id.clone(), COMPONENT);
    for line in &mut order.lines {
        line.backordered = line.unallocated();
    }
    let reason = format!("placement failed ({name}): {cause}");
    let change = order.change_status(OrderStatus::Backordered, reason.trim_end_matches(": "), &actor, now)?;
    let mut committed = Change::none();
    committed.status_changed(&order, change);
    committed.start_placement = order.awaits_automatic_placement();
    let status = order.status;
    let (write, _) = unit_of_work::order_write(order, Some(version), committed, now);
    store.save_order(write).await?;
    Ok(status)
}
