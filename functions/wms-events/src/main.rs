//! `wms-events`: events from the warehouse system, routed here by EventBridge rules.

#![recursion_limit = "256"]

use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use oms_aws::edge::runtime;

mod handler;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let (_, store) = runtime::start().await?;
    runtime::run(service_fn(move |event: LambdaEvent<EventBridgeEvent>| async move {
        handler::handle(store, event.payload, chrono::Utc::now()).await
    }))
    .await
}
