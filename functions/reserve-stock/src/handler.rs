//! The placement workflow's reservation task: reserves what the plan proposes, all or nothing,
//! and only if the order is still at the version the plan was made from (else `PlanStale`, and
//! the workflow plans again).

use chrono::{DateTime, Utc};
use oms_aws::edge::task::TaskError;
use oms_domain::ports::Store;
use oms_domain::routing::PlacementPlan;
use oms_domain::usecases::placement::{PlacementResult, reserve};

pub async fn handle<S: Store>(
    store: &S,
    plan: PlacementPlan,
    now: DateTime<Utc>,
) -> Result<PlacementResult, TaskError> {
    Ok(reserve(store, &plan, now).await?)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use oms_domain::OrderStatus;
    use oms_domain::memory::fixtures;
    use oms_domain::ports::StockStore;
    use oms_domain::stock::StockFilter;

    use oms_aws::edge::task::sample_order;

    use super::*;

    const SAMPLE: &str = include_str!("../../../events/placement/reserve-stock.json");

    #[tokio::test]
    async fn the_sample_plan_reserves_once_and_a_stale_one_is_refused() {
        let (store, order, plan): (_, _, PlacementPlan) = sample_order(SAMPLE, fixtures::placement_order).await;

        let placed = handle(&store, plan.clone(), Utc::now()).await.unwrap();
        assert_eq!((placed.status, placed.version > order.version()), (OrderStatus::Allocated, true));
        let reserved: Vec<String> = store
            .list_stock(order.tenant_id(), &StockFilter::default())
            .await
            .unwrap()
            .iter()
            .map(|l| format!("{} {} {}", l.hub_id, l.sku, l.reserved))
            .collect();
        assert_eq!(reserved, ["HCM-WH1 HDPE-F2 20", "HCM-WH1 PP-H1 100", "HN-WH2 HDPE-F2 5.5", "HN-WH2 PP-H1 0"]);

        // The order moved on since the plan was made: the workflow plans again.
        let err = handle(&store, plan, Utc::now()).await.unwrap_err();
        assert_eq!(err.name(), "PlanStale");
    }
}
