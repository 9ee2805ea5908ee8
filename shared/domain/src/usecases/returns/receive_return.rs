//! `POST /v1/returns/{return_id}/receive` and the warehouse's `ReturnReceived` (the `return-receive` function): goods back, restocked, refund owed.

use crate::kernel::access::{Action, Actor};
use crate::kernel::error::{AppError, InvalidCode};
use crate::kernel::ids::TenantId;
use crate::order::returns::ReceivedLine;
use crate::ports::{OrderStore, StockStore};
use crate::usecases::returns::change_return;
use crate::usecases::unit_of_work::{Changed, IdempotencyKey};
use crate::usecases::wms::Applied;
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// The body of `POST /returns/{id}/receive` (a counter clerk) and the lines of `ReturnReceived`.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReceiveRequest {
    /// What was received and found, per line.
    pub lines: Vec<ReceivedLine>,
}

/// `ReturnReceived` from the warehouse.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReturnReceived {
    /// Owner.
    pub tenant_id: TenantId,
    /// Unique per event.
    pub event_id: String,
    /// The return.
    pub return_id: String,
    /// What was received and found.
    pub lines: Vec<ReceivedLine>,
    /// When.
    pub occurred_at: Option<DateTime<Utc>>,
}

/// Records a receipt: restocks accepted goods marked `restock` (which lets backordered orders
/// for them be placed again), updates line `returned`, and emits `RefundRequested` for the
/// accepted quantity. A repeated event changes nothing; more than approved is refused.
pub(crate) async fn receive<S: OrderStore + StockStore>(
    store: &S,
    actor: &Actor,
    return_id: &str,
    event_id: Option<&str>,
    lines: &[ReceivedLine],
    key: Option<IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Changed, AppError> {
    change_return(store, actor, return_id, Action::ManageReturns, key, now, |order| {
        order.receive_return(return_id, event_id, lines, now)
    })
    .await
}

/// `POST /returns/{id}/receive`: a counter clerk records a receipt.
pub async fn receive_return<S: OrderStore + StockStore>(
    store: &S,
    actor: &Actor,
    return_id: &str,
    request: ReceiveRequest,
    key: Option<IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Changed, AppError> {
    receive(store, actor, return_id, None, &request.lines, key, now).await
}

/// `ReturnReceived`: the warehouse records a receipt (see [`receive_return`]).
pub async fn return_received<S: OrderStore + StockStore>(
    store: &S,
    event: ReturnReceived,
    now: DateTime<Utc>,
) -> Result<Applied, AppError> {
    let wms = Actor::system(event.tenant_id.clone(), "wms");
    let changed = receive(store, &wms, &event.return_id, Some(&event.event_id), &event.lines, None, now)
        .await
        .map_err(|e| match e {
            AppError::NotFound(_) => AppError::invalid_with_code(
                InvalidCode::UnknownReturn,
                "return_id",
                format!("no return {}", event.return_id),
            ),
            other => other,
        })?;
    Ok(Applied::from(&changed))
}
