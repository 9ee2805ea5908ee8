//! Answers the one route with the document; any other route key is the template and the code
//! disagreeing (500, like every HTTP function).

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::HeaderValue;
use oms_aws::edge::http;
use oms_aws::edge::routes::Routes;

oms_aws::http_routes! {
    /// The route of `api-docs`.
    pub enum Route {
        /// The HTTP API's OpenAPI 3.1 document (no authorizer: it holds no data).
        Document => "GET /v1/openapi.json",
    }
}

/// The OpenAPI document, as `build.rs` wrote it from oms-contract.
pub const DOCUMENT: &str = include_str!(concat!(env!("OUT_DIR"), "/openapi.json"));

pub fn handle(document: &str, event: &ApiGatewayV2httpRequest) -> ApiGatewayV2httpResponse {
    let key = event.request_context.route_key.as_deref().or(event.route_key.as_deref()).unwrap_or_default();
    match Route::parse(key) {
        Ok(Route::Document) => document_response(document),
        Err(err) => http::error_response(&err),
    }
}

fn document_response(document: &str) -> ApiGatewayV2httpResponse {
    let mut response = ApiGatewayV2httpResponse::default();
    response.status_code = 200;
    response.headers.insert("content-type", HeaderValue::from_static("application/json"));
    // The document changes only with a deployment; clients and caches may keep it a while.
    response.headers.insert("cache-control", HeaderValue::from_static("public, max-age=300"));
    response.body = Some(Body::Text(document.to_owned()));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = include_str!("../../../events/http/get-openapi.json");

    fn sample() -> ApiGatewayV2httpRequest {
        serde_json::from_str(SAMPLE).unwrap()
    }

    #[test]
    fn the_template_routes_here_what_the_enum_serves_and_every_route_has_a_sample() {
        oms_aws::edge::routes::template::assert_template_routes::<Route>(env!("CARGO_PKG_NAME"), &[SAMPLE]);
    }

    #[test]
    fn the_compiled_in_document_is_the_contracts() {
        assert_eq!(DOCUMENT, oms_contract::to_json());
    }

    #[test]
    fn the_sample_request_gets_the_document_as_json() {
        let response = handle(DOCUMENT, &sample());
        assert_eq!(response.status_code, 200);
        assert_eq!(response.headers["content-type"], "application/json");
        let Some(Body::Text(text)) = response.body else { panic!("text body") };
        let document: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(document["openapi"], "3.1.0");
        assert!(document["paths"]["/v1/openapi.json"]["get"].is_object());
    }

    #[test]
    fn another_route_key_is_the_template_and_the_code_disagreeing() {
        let mut event = sample();
        event.request_context.route_key = Some("GET /v1/other".into());
        assert_eq!(handle("{}", &event).status_code, 500);
    }
}
