//! `reserve-stock`: the placement workflow's reservation task.

#![recursion_limit = "256"]

use lambda_runtime::{Error, LambdaEvent, service_fn};
use oms_aws::edge::runtime;
use oms_domain::routing::PlacementPlan;

mod handler;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let (_, store) = runtime::start().await?;
    runtime::run(service_fn(move |event: LambdaEvent<PlacementPlan>| async move {
        handler::handle(store, event.payload, chrono::Utc::now()).await
    }))
    .await
}
