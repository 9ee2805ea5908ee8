//! `return-receive`: returned goods, from the warehouse (`ReturnReceived` on the bus) or a
//! counter clerk (`POST /v1/returns/{id}/receive`).

#![recursion_limit = "256"]

use lambda_runtime::{Error, LambdaEvent, service_fn};
use oms_aws::edge::runtime;

mod handler;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let (_, store) = runtime::start().await?;
    runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        handler::handle(store, event.payload, chrono::Utc::now()).await
    }))
    .await
}
