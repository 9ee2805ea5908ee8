//! The placement workflow's last task: sends an `ALLOCATED` order to its warehouses, one
//! `FulfillmentRequested` per hub, unless a hold stops it (then the workflow waits out the
//! reservation timeout it answers with).

use chrono::{DateTime, Utc};
use oms_aws::edge::task::TaskError;
use oms_domain::ports::Store;
use oms_domain::usecases::placement::{DispatchResult, PlacementRequest, dispatch};

pub async fn handle<S: Store>(
    store: &S,
    request: PlacementRequest,
    reservation_timeout: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<DispatchResult, TaskError> {
    Ok(dispatch(store, &request, reservation_timeout, now).await?)
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, Utc};
    use oms_domain::OrderStatus;
    use oms_domain::events::OutboxMessage;
    use oms_domain::memory::fixtures;

    use oms_aws::edge::task::sample_order;

    use super::*;

    const SAMPLE: &str = include_str!("../../../events/placement/request-fulfillment.json");

    #[tokio::test]
    async fn the_sample_sends_its_allocated_order_to_each_of_its_hubs_once() {
        let (store, order, request): (_, _, PlacementRequest) = sample_order(SAMPLE, fixtures::placed_order).await;

        let sent = handle(&store, request.clone(), Duration::minutes(15), Utc::now()).await.unwrap();
        assert_eq!((sent.status, sent.held, sent.expires_in_seconds), (OrderStatus::InFulfillment, false, None));
        let mut requested: Vec<String> = store
            .outbox()
            .into_iter()
            .filter_map(|m| match m {
                OutboxMessage::Event(e) if e.event.detail_type() == "FulfillmentRequested" => {
                    Some(serde_json::to_value(&e).unwrap()["hub_id"].as_str().unwrap().to_owned())
                }
                _ => None,
            })
            .collect();
        requested.sort();
        let mut allocated: Vec<String> =
            order.lines().iter().flat_map(|l| &l.allocations).map(|a| a.hub_id.to_string()).collect();
        allocated.sort();
        allocated.dedup();
        assert_eq!(requested, allocated, "one request per hub");

        // Sent already: the order is no longer ALLOCATED, and nothing is sent twice.
        let err = handle(&store, request, Duration::minutes(15), Utc::now()).await.unwrap_err();
        assert_eq!(err.name(), "OrderNotPlaceable");
    }
}
