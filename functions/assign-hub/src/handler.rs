//! The placement workflow's planning task: which hubs serve which lines of an order waiting for
//! placement, from a stock snapshot. Errors carry the names the ASL's Retry/Catch match.

use oms_aws::edge::task::TaskError;
use oms_domain::ports::Store;
use oms_domain::routing::{PlacementPlan, RoutingWeights};
use oms_domain::usecases::placement::{PlacementRequest, plan};

pub async fn handle<S: Store>(
    store: &S,
    request: PlacementRequest,
    weights: RoutingWeights,
) -> Result<PlacementPlan, TaskError> {
    Ok(plan(store, &request, weights).await?)
}

#[cfg(test)]
mod tests {
    use oms_domain::memory::fixtures;
    use rust_decimal::Decimal;

    use oms_aws::edge::task::{sample_for, sample_order};

    use super::*;

    const SAMPLE: &str = include_str!("../../../events/placement/assign-hub.json");

    #[tokio::test]
    async fn the_sample_plans_every_line_of_its_order_from_the_version_it_read() {
        let (store, order, request) = sample_order(SAMPLE, fixtures::placement_order).await;
        let plan = handle(&store, request, RoutingWeights::default()).await.unwrap();
        assert_eq!((&plan.order_id, plan.order_version), (order.order_id(), order.version()));
        for line in order.lines() {
            let planned: Decimal =
                plan.reservations.iter().filter(|r| r.line_id == line.line_id).map(|r| r.quantity).sum();
            assert_eq!(planned, line.quantity, "{}", line.line_id);
        }
    }

    #[tokio::test]
    async fn an_order_that_is_not_there_or_no_longer_waits_is_not_placeable() {
        let store = fixtures::sample_store("1000".parse().unwrap()).await;
        let err = handle(&store, serde_json::from_str(SAMPLE).unwrap(), RoutingWeights::default()).await.unwrap_err();
        assert_eq!(err.name(), "OrderNotPlaceable");
        let allocated = fixtures::placed_order(&store).await;
        let err = handle(&store, sample_for(SAMPLE, &allocated), RoutingWeights::default()).await.unwrap_err();
        assert_eq!(err.name(), "OrderNotPlaceable");
    }
}
