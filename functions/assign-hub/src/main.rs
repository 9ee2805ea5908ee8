//! `assign-hub`: the placement workflow's planning task.

#![recursion_limit = "256"]

use lambda_runtime::{Error, LambdaEvent, service_fn};
use oms_aws::edge::runtime;
use oms_domain::routing::RoutingWeights;
use oms_domain::usecases::placement::PlacementRequest;

mod handler;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let (_, store) = runtime::start().await?;
    // OMS_ROUTING_WEIGHTS="<performance>,<proximity>", default 0.7,0.3.
    let weights = match std::env::var("OMS_ROUTING_WEIGHTS") {
        Ok(value) => RoutingWeights::parse(&value)?,
        Err(_) => RoutingWeights::default(),
    };
    runtime::run(service_fn(move |event: LambdaEvent<PlacementRequest>| async move {
        handler::handle(store, event.payload, weights).await
    }))
    .await
}
