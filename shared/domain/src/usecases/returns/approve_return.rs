//! `POST /v1/returns/{return_id}/approve`.

use crate::events::DomainEvent;
use crate::kernel::access::{Action, Actor};
use crate::kernel::error::AppError;
use crate::ports::Store;
use crate::usecases::returns::change_return;
use crate::usecases::unit_of_work::{Changed, Effects, IdempotencyKey, order_event};
use chrono::{DateTime, Utc};

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
