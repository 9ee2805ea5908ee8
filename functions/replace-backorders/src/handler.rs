//! On `StockReplenished` (from the OMS bus), sends backordered orders of the SKU back to
//! placement, oldest first, as far as the stock now available goes. Any other event is refused.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use chrono::{DateTime, Utc};
use oms_aws::edge::task::TaskError;
use oms_domain::AppError;
use oms_domain::events::{DomainEvent, EventEnvelope};
use oms_domain::ports::Store;
use oms_domain::usecases::placement::replace_backorders;

pub async fn handle<S: Store>(
    store: &S,
    event: EventBridgeEvent<EventEnvelope>,
    now: DateTime<Utc>,
) -> Result<(), TaskError> {
    let detail = event.detail;
    let DomainEvent::StockReplenished { sku, .. } = &detail.event else {
        return Err(AppError::invalid("detail-type", "expected StockReplenished").into());
    };
    let replaced = replace_backorders(store, &detail.tenant_id, sku, now).await?;
    tracing::info!(%sku, replaced = replaced.len(), "backorders sent back to placement");
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use oms_domain::OrderStatus;
    use oms_domain::events::OutboxMessage;
    use oms_domain::memory::fixtures;
    use oms_domain::ports::OrderStore;
    use oms_domain::usecases::placement::{PlacementFailure, record_failure};

    use super::*;

    const SAMPLE: &str = include_str!("../../../events/bus/stock-replenished.json");

    #[tokio::test]
    async fn the_sample_sends_a_backordered_order_of_its_sku_back_to_placement() {
        let store = fixtures::sample_store("1000".parse().unwrap()).await;
        let order = fixtures::placement_order(&store).await;
        let failure = PlacementFailure {
            tenant_id: order.tenant_id().clone(),
            order_id: order.order_id().clone(),
            error: serde_json::json!({"Error": "TooManyReplans"}),
        };
        assert_eq!(record_failure(&store, &failure, Utc::now()).await.unwrap(), OrderStatus::Backordered);
        let starts = |store: &oms_domain::memory::MemoryStore| {
            store.outbox().into_iter().filter(|m| matches!(m, OutboxMessage::StartWorkflow { .. })).count()
        };
        let before = starts(&store);

        handle(&store, serde_json::from_str(SAMPLE).unwrap(), Utc::now()).await.unwrap();
        let now = store.get_order(order.tenant_id(), order.order_id()).await.unwrap().unwrap();
        assert_eq!(now.status(), OrderStatus::PendingAllocation);
        assert_eq!(starts(&store), before + 1, "placement starts again");
    }

    #[tokio::test]
    async fn another_event_is_refused() {
        let store = fixtures::sample_store("1000".parse().unwrap()).await;
        let mut event: serde_json::Value = serde_json::from_str(SAMPLE).unwrap();
        event["detail-type"] = "InventoryLow".into();
        event["detail"]["type"] = "InventoryLow".into();
        event["detail"]["threshold"] = "10".into();
        let err = handle(&store, serde_json::from_value(event).unwrap(), Utc::now()).await.unwrap_err();
        assert_eq!(err.name(), "InvalidInput");
    }
}
