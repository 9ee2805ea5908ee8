//! `assign-hub`: the placement workflow's planning task.

#![recursion_limit = "256"]

use oms_domain::routing::RoutingWeights;

mod handler;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    // OMS_ROUTING_WEIGHTS="<performance>,<proximity>", default 0.7,0.3.
    let weights = match std::env::var("OMS_ROUTING_WEIGHTS") {
        Ok(value) => RoutingWeights::parse(&value)?,
        Err(_) => RoutingWeights::default(),
    };
    oms_aws::edge::runtime::serve(move |store, request, _| handler::handle(store, request, weights)).await
}
