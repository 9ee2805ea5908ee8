//! The placement workflow's failure path: placement gave up, so the order goes `BACKORDERED`
//! with the caught error in its history (placed again when stock comes back). An order that
//! left `PENDING_ALLOCATION` meanwhile is left as it is.

use chrono::{DateTime, Utc};
use oms_aws::edge::task::TaskError;
use oms_domain::OrderStatus;
use oms_domain::ports::Store;
use oms_domain::usecases::placement::{PlacementFailure, record_failure};

pub async fn handle<S: Store>(
    store: &S,
    failure: PlacementFailure,
    now: DateTime<Utc>,
) -> Result<OrderStatus, TaskError> {
    Ok(record_failure(store, &failure, now).await?)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use oms_domain::memory::fixtures;
    use oms_domain::ports::OrderStore;

    use oms_aws::edge::task::sample_order;

    use super::*;

    const SAMPLE: &str = include_str!("../../../events/placement/placement-failed.json");

    #[tokio::test]
    async fn the_sample_backorders_its_order_with_the_reason_and_a_placed_order_is_left_alone() {
        let (store, order, mut failure): (_, _, PlacementFailure) =
            sample_order(SAMPLE, fixtures::placement_order).await;

        assert_eq!(handle(&store, failure.clone(), Utc::now()).await.unwrap(), OrderStatus::Backordered);
        let history = store.order_history(order.tenant_id(), order.order_id()).await.unwrap();
        let reason = &history.last().unwrap().reason;
        assert_eq!(reason, "placement failed (TooManyReplans): stock kept changing under every plan");

        let allocated = fixtures::placed_order(&store).await;
        failure.order_id = allocated.order_id().clone();
        assert_eq!(handle(&store, failure, Utc::now()).await.unwrap(), OrderStatus::Allocated);
    }
}
