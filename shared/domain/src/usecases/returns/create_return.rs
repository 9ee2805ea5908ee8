//! `POST /v1/orders/{id}/returns`: a customer sends goods back.

use crate::kernel::access::{Action, Actor};
use crate::kernel::error::AppError;
use crate::kernel::ids::OrderId;
use crate::order::returns::ReturnLineRequest;
use crate::ports::{Counter, OrderStore, StockStore};
use crate::usecases::orders::get_order;
use crate::usecases::unit_of_work::{Changed, IdempotencyKey, change_order, replay_if_seen};
use chrono::{DateTime, Utc};
use serde::Deserialize;

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
pub async fn create_return<S: OrderStore + StockStore>(
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
        let mut trial = get_order(store, actor, id).await?;
        let _trial_change = trial.request_return(PENDING_RETURN.into(), &request.lines, actor, now)?;
    }
    let return_id = store.next_number(Counter::Returns(&actor.tenant_id), now.date_naive()).await?;
    change_order(store, actor, id, Action::CreateReturn, key, now, |order| {
        order.request_return(return_id.clone(), &request.lines, actor, now)
    })
    .await
}
