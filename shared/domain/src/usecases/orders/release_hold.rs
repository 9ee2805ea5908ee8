//! `POST /v1/orders/{id}/holds/{hold_id}/release`: let a held order go on.

use crate::events::DomainEvent;
use crate::kernel::access::{Action, Actor};
use crate::kernel::error::AppError;
use crate::kernel::ids::OrderId;
use crate::order::status::OrderStatus;
use crate::ports::Store;
use crate::usecases::unit_of_work::{Changed, Effects, IdempotencyKey, change_order, order_event};
use chrono::{DateTime, Utc};

/// `POST /orders/{id}/holds/{hold_id}/release`.
pub async fn release_hold<S: Store>(
    store: &S,
    actor: &Actor,
    id: &OrderId,
    hold_id: &str,
    key: Option<IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Changed, AppError> {
    change_order(store, actor, id, Action::ManageOrders, key, now, |order| {
        let hold = order.release_hold(hold_id, actor, now)?.clone();
        let released = DomainEvent::hold_released(order, &hold);
        let mut effects = Effects { outbox: vec![order_event(order, now, released)], ..Effects::default() };
        // The last hold gone, the order continues where the hold stopped it: placed again if
        // its reservation expired meanwhile, or on to its warehouses if it is allocated.
        if !order.on_hold && order.awaits_automatic_placement() {
            effects.outbox.push(crate::events::OutboxMessage::start_placement(order));
        }
        if !order.on_hold && order.status == OrderStatus::Allocated {
            effects.dispatch(order, actor, now)?;
        }
        Ok(effects)
    })
    .await
}
