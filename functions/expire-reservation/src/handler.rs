//! After the placement workflow waited out the reservation timeout of an order held at
//! `ALLOCATED`: its stock goes back and it waits at `PENDING_ALLOCATION` for the hold's release,
//! unless the hold was released meanwhile (then nothing changes).

use chrono::{DateTime, Utc};
use oms_aws::edge::task::TaskError;
use oms_domain::ports::Store;
use oms_domain::usecases::placement::{ExpiryResult, PlacementRequest, expire};

pub async fn handle<S: Store>(
    store: &S,
    request: PlacementRequest,
    timeout: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<ExpiryResult, TaskError> {
    Ok(expire(store, &request, timeout, now).await?)
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, Utc};
    use oms_domain::memory::fixtures;
    use oms_domain::ports::StockStore;
    use oms_domain::stock::StockFilter;
    use oms_domain::usecases::orders::{HoldRequest, place_hold};
    use oms_domain::{Actor, OrderStatus, Role};

    use oms_aws::edge::task::sample_order;

    use super::*;

    const SAMPLE: &str = include_str!("../../../events/placement/expire-reservation.json");

    #[tokio::test]
    async fn the_sample_gives_back_a_held_orders_stock_once_its_time_is_up() {
        let (store, order, request): (_, _, PlacementRequest) = sample_order(SAMPLE, fixtures::placed_order).await;
        let admin = Actor { sub: "admin-user".into(), tenant_id: order.tenant_id().clone(), role: Role::Admin };
        let hold = HoldRequest { code: "payment_hold".into(), reason: "awaiting payment".into() };
        place_hold(&store, &admin, order.order_id(), hold, None, Utc::now()).await.unwrap();
        let timeout = Duration::minutes(15);

        let early = handle(&store, request.clone(), timeout, Utc::now()).await.unwrap();
        assert_eq!((early.expired, early.status), (false, OrderStatus::Allocated));

        let due = handle(&store, request, timeout, Utc::now() + timeout).await.unwrap();
        assert_eq!((due.expired, due.status), (true, OrderStatus::PendingAllocation));
        let levels = store.list_stock(order.tenant_id(), &StockFilter::default()).await.unwrap();
        assert!(levels.iter().all(|l| l.reserved.is_zero()), "{levels:?}");
    }
}
