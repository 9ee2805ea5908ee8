//! `replace-backorders`: on `StockReplenished`, sends backordered orders of the SKU back to
//! placement, oldest first.

#![recursion_limit = "256"]

use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use oms_aws::runtime;
use oms_aws::task::TaskError;
use oms_domain::AppError;
use oms_domain::events::{DomainEvent, EventEnvelope};
use oms_domain::usecases::placement::replace_backorders;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let (_, store) = runtime::start().await?;
    runtime::run(service_fn(move |event: LambdaEvent<EventBridgeEvent<EventEnvelope>>| async move {
        let detail = event.payload.detail;
        let DomainEvent::StockReplenished { sku, .. } = &detail.event else {
            return Err(TaskError::from(AppError::invalid("detail-type", "expected StockReplenished")));
        };
        let replaced = replace_backorders(store, &detail.tenant_id, sku, chrono::Utc::now()).await?;
        tracing::info!(%sku, replaced = replaced.len(), "backorders sent back to placement");
        Ok(())
    }))
    .await
}
