//! `request-fulfillment`: the placement workflow's last task, sending the order to its hubs.

#![recursion_limit = "256"]

use lambda_runtime::{Error, LambdaEvent, service_fn};
use oms_aws::edge::runtime;
use oms_domain::usecases::placement::PlacementRequest;

mod handler;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let (_, store) = runtime::start().await?;
    let timeout = runtime::reservation_timeout()?;
    runtime::run(service_fn(move |event: LambdaEvent<PlacementRequest>| async move {
        handler::handle(store, event.payload, timeout, chrono::Utc::now()).await
    }))
    .await
}
