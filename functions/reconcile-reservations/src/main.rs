//! `reconcile-reservations`: run by an EventBridge schedule (every 15 minutes); settles the
//! reservation records that big order changes left behind.

#![recursion_limit = "256"]

use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use oms_aws::edge::runtime;

mod handler;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let (_, store) = runtime::start().await?;
    runtime::run(service_fn(move |_: LambdaEvent<EventBridgeEvent>| async move {
        handler::handle(store, chrono::Utc::now()).await.map_err(Error::from)
    }))
    .await
}
