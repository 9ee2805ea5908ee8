//! `api-docs`: `GET /v1/openapi.json`, the HTTP API's OpenAPI 3.1 document, without
//! authentication (its route has no authorizer). No store and no AWS client: the document is
//! built from the code (oms-contract) at compile time (`build.rs`), so start-up builds nothing.

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use oms_aws::edge::runtime;

mod handler;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    runtime::init_tracing();
    runtime::run(service_fn(move |event: LambdaEvent<ApiGatewayV2httpRequest>| async move {
        Ok::<_, Error>(handler::handle(handler::DOCUMENT, &event.payload))
    }))
    .await
}
