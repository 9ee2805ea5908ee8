//! The return routes and the warehouse's `ReturnReceived`: create, approve / reject, receive
//! (restock and refund), confirm the refund, close. Each is one atomic change of the order the
//! return belongs to; another tenant's return, or one the actor may not see, is 404.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::access::{Action, Actor};
use crate::error::AppError;
use crate::events::DomainEvent;
use crate::ids::{OrderId, TenantId};
use crate::inventory::StockMove;
use crate::order::Order;
use crate::ports::{Counter, Lookup, Store};
use crate::returns::{ReceivedLine, ReturnLineRequest};
use crate::usecases::effects::order_event;
use crate::usecases::idempotency::{Changed, IdempotencyKey, replay_if_seen};
use crate::usecases::orders::{Effects, change_order, get_order};
use crate::usecases::wms::Applied;

/// The body of `POST /orders/{id}/returns`.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReturnRequest {
    /// What comes back, and why.
    pub lines: Vec<ReturnLineRequest>,
}

/// The id a return is tried with before it takes a number.
const PENDING_RETURN: &str = "RMA-PENDING";

/// `POST /orders/{id}/returns`: opens an RMA for shipped lines (sales, managers, admins).
pub async fn create_return<S: Store>(
    store: &S,
    actor: &Actor,
    id: &OrderId,
    request: ReturnRequest,
    key: Option<IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Changed, AppError> {
    actor.authorize(Action::CreateReturn)?;
    // Refuse what cannot be returned before taking a number: a refused request writes nothing.
    if replay_if_seen(store, actor, key.as_ref()).await?.is_none() {
        get_order(store, actor, id).await?.request_return(PENDING_RETURN.into(), &request.lines, actor, now)?;
    }
    let return_id = store.next_number(Counter::Returns(&actor.tenant_id), now.date_naive()).await?;
    change_order(store, actor, id, Action::CreateReturn, key, now, |order| {
        order.request_return(return_id.clone(), &request.lines, actor, now)?;
        Ok(Effects { lookups: vec![Lookup::Return(return_id.clone())], ..Effects::default() })
    })
    .await
}

/// The order a return belongs to, if the actor may see it.
async fn order_of_return<S: Store>(store: &S, actor: &Actor, return_id: &str) -> Result<OrderId, AppError> {
    let order_id = store.find_return(&actor.tenant_id, return_id).await?.ok_or(AppError::NotFound("return"))?;
    get_order(store, actor, &order_id).await.map_err(|_| AppError::NotFound("return"))?;
    Ok(order_id)
}

/// `GET /returns/{id}`: the order the return belongs to (see [`Order::return_view`]).
pub async fn get_return<S: Store>(store: &S, actor: &Actor, return_id: &str) -> Result<Order, AppError> {
    actor.authorize(Action::ReadOrders)?;
    let order_id = order_of_return(store, actor, return_id).await?;
    get_order(store, actor, &order_id).await
}

/// Changes a return under `action`, with the events `emit` makes from the changed order.
async fn change_return<S, F>(
    store: &S,
    actor: &Actor,
    return_id: &str,
    action: Action,
    key: Option<IdempotencyKey>,
    now: DateTime<Utc>,
    change: F,
) -> Result<Changed, AppError>
where
    S: Store,
    F: FnMut(&mut Order) -> Result<Effects, AppError>,
{
    actor.authorize(action)?;
    let order_id = order_of_return(store, actor, return_id).await?;
    change_order(store, actor, &order_id, action, key, now, change).await
}

/// The body of `POST /returns/{id}/reject`.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RejectReturnRequest {
    /// Why.
    pub reason: String,
}

/// `POST /returns/{id}/approve`: `ReturnApproved` tells the warehouse what to expect, where.
pub async fn approve_return<S: Store>(
    store: &S,
    actor: &Actor,
    return_id: &str,
    key: Option<IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Changed, AppError> {
    change_return(store, actor, return_id, Action::ManageReturns, key, now, |order| {
        let rma = order.decide_return(return_id, true, None, now)?.clone();
        let approved = DomainEvent::return_approved(order, &rma);
        Ok(Effects { outbox: vec![order_event(order, now, approved)], ..Effects::default() })
    })
    .await
}

/// `POST /returns/{id}/reject` `{reason}`.
pub async fn reject_return<S: Store>(
    store: &S,
    actor: &Actor,
    return_id: &str,
    request: RejectReturnRequest,
    key: Option<IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Changed, AppError> {
    change_return(store, actor, return_id, Action::ManageReturns, key, now, |order| {
        order.decide_return(return_id, false, Some(request.reason.clone()), now)?;
        Ok(Effects::default())
    })
    .await
}

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
async fn receive<S: Store>(
    store: &S,
    actor: &Actor,
    return_id: &str,
    event_id: Option<&str>,
    lines: &[ReceivedLine],
    key: Option<IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Changed, AppError> {
    change_return(store, actor, return_id, Action::ManageReturns, key, now, |order| {
        let Some(moves) = order.receive_return(return_id, event_id, lines, now)? else {
            return Ok(Effects::default());
        };
        let rma = order.return_of(return_id).expect("just received");
        let outbox = rma
            .refund
            .as_ref()
            .map(|refund| order_event(order, now, DomainEvent::refund_requested(order, return_id, refund)))
            .into_iter()
            .collect();
        Ok(Effects { outbox, moves: StockMove::net(moves), ..Effects::default() })
    })
    .await
}

/// `POST /returns/{id}/receive`: a counter clerk records a receipt.
pub async fn receive_return<S: Store>(
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
pub async fn return_received<S: Store>(
    store: &S,
    event: ReturnReceived,
    now: DateTime<Utc>,
) -> Result<Applied, AppError> {
    let wms = Actor::system(event.tenant_id.clone(), "wms");
    let changed = receive(store, &wms, &event.return_id, Some(&event.event_id), &event.lines, None, now)
        .await
        .map_err(|e| match e {
            AppError::NotFound(_) => {
                AppError::invalid_with_code("unknown_return", "return_id", format!("no return {}", event.return_id))
            }
            other => other,
        })?;
    Ok(Applied::from(&changed))
}

/// The body of `POST /returns/{id}/confirm-refund`.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ConfirmRefundRequest {
    /// The payment's reference (bank transfer, card refund id).
    pub reference: String,
}

/// `POST /returns/{id}/confirm-refund`: accounting paid the refund; the return goes `refunded`.
pub async fn confirm_refund<S: Store>(
    store: &S,
    actor: &Actor,
    return_id: &str,
    request: ConfirmRefundRequest,
    key: Option<IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Changed, AppError> {
    change_return(store, actor, return_id, Action::ManageReturns, key, now, |order| {
        order.confirm_refund(return_id, request.reference.clone(), now)?;
        Ok(Effects::default())
    })
    .await
}

/// `POST /returns/{id}/close`.
pub async fn close_return<S: Store>(
    store: &S,
    actor: &Actor,
    return_id: &str,
    key: Option<IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Changed, AppError> {
    change_return(store, actor, return_id, Action::ManageReturns, key, now, |order| {
        order.close_return(return_id, now)?;
        Ok(Effects::default())
    })
    .await
}
