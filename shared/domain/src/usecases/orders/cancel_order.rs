//! `POST /v1/orders/{id}/cancel`: cancel an order before it ships.

use crate::events::DomainEvent;
use crate::kernel::access::{Action, Actor};
use crate::kernel::error::AppError;
use crate::kernel::ids::OrderId;
use crate::ports::Store;
use crate::usecases::unit_of_work::{self, Changed, Effects, IdempotencyKey, change_order, order_event};
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// The body of `POST /orders/{id}/cancel`.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    /// Why.
    pub reason: String,
}

/// `POST /orders/{id}/cancel`: releases every reservation with the change.
pub async fn cancel_order<S: Store>(
    store: &S,
    actor: &Actor,
    id: &OrderId,
    request: CancelRequest,
    key: Option<IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Changed, AppError> {
    let reason = crate::kernel::text::non_empty_text("reason", request.reason, 500)?;
    change_order(store, actor, id, Action::ManageOrders, key, now, |order| {
        let cancellation = order.cancel(&reason, actor, now)?;
        let mut outbox = unit_of_work::after_transition(order, &cancellation.change, now);
        for request in &cancellation.withdrawn {
            outbox.push(order_event(order, now, DomainEvent::fulfillment_cancelled(order, request, &reason)));
        }
        outbox.push(order_event(order, now, DomainEvent::order_cancelled(order, &reason, &cancellation.released)));
        Ok(Effects {
            history: vec![cancellation.change],
            outbox,
            moves: crate::stock::StockMove::net(cancellation.released),
            ..Effects::default()
        })
    })
    .await
}
