//! `reconcile-reservations`: run by an EventBridge schedule (every 15 minutes); settles the
//! reservation records that big order changes left behind.

#![recursion_limit = "256"]

use aws_lambda_events::eventbridge::EventBridgeEvent;

mod handler;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    oms_aws::edge::runtime::serve(|store, _: EventBridgeEvent, now| async move {
        handler::handle(store, now).await.map_err(lambda_runtime::Error::from)
    })
    .await
}
