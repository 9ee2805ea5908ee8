//! Answers with the document; every request to the route gets the same one.

use aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::HeaderValue;

pub fn respond(document: &str) -> ApiGatewayV2httpResponse {
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

    #[test]
    fn the_sample_request_gets_the_document_as_json() {
        let _: aws_lambda_events::apigw::ApiGatewayV2httpRequest = serde_json::from_str(SAMPLE).unwrap();
        let response = respond(&oms_contract::to_json());
        assert_eq!(response.status_code, 200);
        assert_eq!(response.headers["content-type"], "application/json");
        let Some(Body::Text(text)) = response.body else { panic!("text body") };
        let document: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(document["openapi"], "3.1.0");
        assert!(document["paths"]["/v1/openapi.json"]["get"].is_object());
    }
}
