//! `api-docs`: `GET /v1/openapi.json`, the HTTP API's OpenAPI 3.1 document, without
//! authentication (its route has no authorizer). No store and no AWS client: the document is
//! built from the code (oms-contract) once, at start-up.

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use oms_aws::edge::runtime;

mod handler;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    runtime::init_tracing();
    let document: &'static str = Box::leak(oms_contract::to_json().into_boxed_str());
    runtime::run(service_fn(move |event: LambdaEvent<ApiGatewayV2httpRequest>| async move {
        Ok::<_, Error>(handler::handle(document, &event.payload))
    }))
    .await
}
