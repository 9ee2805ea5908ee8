//! `tms-webhook`: `POST /v1/webhooks/tms`, the carrier's signed status callback (no JWT).

#![recursion_limit = "256"]

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use oms_aws::runtime;

mod handler;
mod signature;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let (_, store) = runtime::start().await?;
    let secret: &'static str = Box::leak(runtime::env("OMS_TMS_WEBHOOK_SECRET")?.into_boxed_str());
    runtime::run(service_fn(move |event: LambdaEvent<ApiGatewayV2httpRequest>| async move {
        Ok::<_, Error>(handler::handle(store, secret.as_bytes(), event.payload, chrono::Utc::now()).await)
    }))
    .await
}
