//! The HTTP edge: API Gateway v2 (HTTP API) events in, responses out.
//!
//! The caller's identity comes from the JWT authorizer's claims (`sub`, `tenant_id`, `role`),
//! which API Gateway has verified before the function runs (locally, the gateway of
//! `tools/local` plays that part). Every [`AppError`] becomes a status code in
//! [`error_response`], the one place that mapping lives.

use std::collections::HashMap;
use std::future::Future;

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::{HeaderMap, HeaderValue};
use base64::Engine;
use oms_domain::order::Order;
use oms_domain::usecases::{Changed, IdempotencyKey};
use oms_domain::{Actor, AppError, InvalidCode, Role, TenantId};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Largest request body accepted (SPEC: 413 above 256 KB).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// An authenticated request, decoded.
#[derive(Debug)]
pub struct ApiRequest {
    /// `"<METHOD> <path template>"`, e.g. `GET /v1/orders/{id}`.
    pub route: String,
    /// Who calls.
    pub actor: Actor,
    path_parameters: HashMap<String, String>,
    query: HashMap<String, String>,
    headers: HeaderMap,
    body: Option<String>,
}

impl ApiRequest {
    /// Decodes the event and authenticates the caller from the authorizer's claims.
    pub fn from_event(event: ApiGatewayV2httpRequest) -> Result<Self, AppError> {
        let route = route_key(&event);
        let claims = event.request_context.authorizer.and_then(|a| a.jwt).map(|jwt| jwt.claims).unwrap_or_default();
        let actor = actor_from_claims(&claims)?;
        let route = route?;
        let body = text_body(event.body, event.is_base64_encoded)?;
        let query = event.query_string_parameters.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        Ok(Self { route, actor, path_parameters: event.path_parameters, query, headers: event.headers, body })
    }

    /// A path parameter, parsed into its id type (a bad value is a 400).
    pub fn path<T>(&self, name: &str) -> Result<T, AppError>
    where
        T: TryFrom<String, Error = AppError>,
    {
        let raw = self.path_parameters.get(name).cloned().unwrap_or_default();
        T::try_from(raw)
    }

    /// A path parameter as plain text (non-empty).
    pub fn path_text(&self, name: &str) -> Result<String, AppError> {
        self.path_parameters
            .get(name)
            .filter(|v| !v.is_empty() && v.len() <= 64)
            .cloned()
            .ok_or_else(|| AppError::invalid(name, format!("{name} is missing or too long")))
    }

    /// A query string parameter.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// A header (names are case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `Idempotency-Key` of the request, bound to its route, path parameters and body.
    pub fn idempotency_key(&self, body: &serde_json::Value) -> Result<Option<IdempotencyKey>, AppError> {
        let params: std::collections::BTreeMap<_, _> = self.path_parameters.iter().collect();
        let request = format!("{} {params:?}", self.route);
        self.header("idempotency-key").map(|key| IdempotencyKey::new(key, &request, body)).transpose()
    }

    /// The version an `If-Match` header names (`3`, `"3"` or `W/"3"`).
    pub fn if_match(&self) -> Result<u64, AppError> {
        let raw = self.header("if-match").ok_or_else(|| {
            AppError::invalid_with_code(InvalidCode::IfMatchRequired, "If-Match", "send If-Match: <version>")
        })?;
        raw.trim().trim_start_matches("W/").trim_matches('"').parse().map_err(|_| {
            AppError::invalid_with_code(
                InvalidCode::IfMatchRequired,
                "If-Match",
                "If-Match must be the order's version",
            )
        })
    }

    /// The body as JSON if there is one, else `null` (for actions whose body is optional).
    pub fn optional_json_value(&self) -> Result<serde_json::Value, AppError> {
        if self.body.as_deref().is_none_or(|b| b.trim().is_empty()) {
            return Ok(serde_json::Value::Null);
        }
        self.json_value()
    }

    /// The body as JSON, checked for size and syntax.
    pub fn json_value(&self) -> Result<serde_json::Value, AppError> {
        let body = self.body.as_deref().unwrap_or_default();
        if body.len() > MAX_BODY_BYTES {
            return Err(AppError::PayloadTooLarge { limit: MAX_BODY_BYTES });
        }
        if body.trim().is_empty() {
            return Err(AppError::invalid_with_code(InvalidCode::MalformedBody, "body", "a JSON body is required"));
        }
        serde_json::from_str(body).map_err(|e| {
            AppError::invalid_with_code(InvalidCode::MalformedBody, "body", format!("the body is not valid JSON: {e}"))
        })
    }

    /// The body decoded into `T`; a field that does not fit is reported with its path.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, AppError> {
        decode(self.json_value()?)
    }

    /// The body of a change decoded into `T`, with the caller's `Idempotency-Key` bound to it. The
    /// body's size and syntax are checked before the key, its fields after.
    pub fn keyed_json<T: DeserializeOwned>(&self) -> Result<(T, Option<IdempotencyKey>), AppError> {
        let body = self.json_value()?;
        let key = self.idempotency_key(&body)?;
        Ok((decode(body)?, key))
    }

    /// The `Idempotency-Key` of an action whose body is optional, bound to the body if any.
    pub fn action_key(&self) -> Result<Option<IdempotencyKey>, AppError> {
        self.idempotency_key(&self.optional_json_value()?)
    }
}

/// `"<METHOD> <path template>"` of the route API Gateway matched (what [`Routes::parse`] reads).
///
/// [`Routes::parse`]: crate::edge::routes::Routes::parse
fn route_key(event: &ApiGatewayV2httpRequest) -> Result<String, AppError> {
    event
        .request_context
        .route_key
        .clone()
        .or_else(|| event.route_key.clone())
        .ok_or_else(|| AppError::unexpected("the request has no routeKey"))
}

/// The body as text: API Gateway base64-encodes bodies it does not take for text.
fn text_body(body: Option<String>, base64_encoded: bool) -> Result<Option<String>, AppError> {
    match body {
        Some(b) if base64_encoded => base64::engine::general_purpose::STANDARD
            .decode(b)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .map(Some)
            .ok_or_else(|| {
                AppError::invalid_with_code(InvalidCode::MalformedBody, "body", "the body must be UTF-8 JSON")
            }),
        other => Ok(other),
    }
}

/// A request authenticated by a signature over its body rather than by a JWT (webhooks): its
/// headers and the body exactly as sent.
#[derive(Debug)]
pub struct SignedRequest {
    /// `"<METHOD> <path template>"`, e.g. `POST /v1/webhooks/tms`.
    pub route: String,
    headers: HeaderMap,
    /// The raw body, what the signature covers.
    pub body: String,
}

impl SignedRequest {
    /// Decodes the event; a body over the size limit is refused before anything reads it.
    pub fn from_event(event: ApiGatewayV2httpRequest) -> Result<Self, AppError> {
        let route = route_key(&event)?;
        let body = text_body(event.body, event.is_base64_encoded)?.unwrap_or_default();
        if body.len() > MAX_BODY_BYTES {
            return Err(AppError::PayloadTooLarge { limit: MAX_BODY_BYTES });
        }
        Ok(Self { route, headers: event.headers, body })
    }

    /// A header (names are case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as JSON decoded into `T` (after the signature was checked).
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, AppError> {
        let value = serde_json::from_str(&self.body).map_err(|e| {
            AppError::invalid_with_code(InvalidCode::MalformedBody, "body", format!("the body is not valid JSON: {e}"))
        })?;
        decode(value)
    }
}

/// Decodes a JSON value into `T`, naming the offending field on failure.
pub fn decode<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, AppError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        AppError::Invalid { code: InvalidCode::InvalidRequest, message, field: (path != ".").then_some(path) }
    })
}

fn actor_from_claims(claims: &HashMap<String, String>) -> Result<Actor, AppError> {
    let claim = |name: &str| claims.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let (Some(sub), Some(tenant), Some(role)) = (claim("sub"), claim("tenant_id"), claim("role")) else {
        return Err(AppError::Unauthenticated);
    };
    let tenant_id = TenantId::parse(tenant).map_err(|_| AppError::Unauthenticated)?;
    let role = Role::parse(role).ok_or_else(|| AppError::Forbidden(format!("unknown role {role:?}")))?;
    // `system` is for internal callers; a user token claiming it is not trusted over HTTP.
    if role == Role::System {
        return Err(AppError::Forbidden("the system role cannot call the HTTP API".into()));
    }
    Ok(Actor { sub: sub.to_owned(), tenant_id, role })
}

/// A successful response.
#[derive(Debug)]
pub struct ApiResponse {
    status: u16,
    body: serde_json::Value,
    headers: Vec<(&'static str, String)>,
}

impl ApiResponse {
    /// 200 with a JSON body.
    pub fn ok(body: &impl Serialize) -> Result<Self, AppError> {
        Self::with_status(200, body)
    }

    /// 201 with a JSON body.
    pub fn created(body: &impl Serialize) -> Result<Self, AppError> {
        Self::with_status(201, body)
    }

    /// `{"items": [...]}` with 200.
    pub fn items<T: Serialize>(items: &[T]) -> Result<Self, AppError> {
        Self::ok(&serde_json::json!({ "items": items }))
    }

    fn with_status(status: u16, body: &impl Serialize) -> Result<Self, AppError> {
        let body = serde_json::to_value(body).map_err(|e| AppError::Unexpected(e.into()))?;
        Ok(Self { status, body, headers: Vec::new() })
    }

    /// 200 with an order, its version as the `ETag` (what `If-Match` sends back).
    pub fn order(order: &Order) -> Result<Self, AppError> {
        Ok(Self::ok(order)?.header("etag", format!("\"{}\"", order.version())))
    }

    /// 200 with a changed order; a replayed request says so (`Idempotent-Replayed: true`).
    pub fn changed(changed: &Changed) -> Result<Self, AppError> {
        let response = Self::order(&changed.order)?;
        Ok(if changed.replayed { response.header("idempotent-replayed", "true") } else { response })
    }

    /// 201 with the order a document was made in, and where that document lives.
    pub fn created_in(order: &Order, location: String) -> Result<Self, AppError> {
        Ok(Self::created(order)?.header("etag", format!("\"{}\"", order.version())).header("location", location))
    }

    /// Adds a header.
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

fn json_response(status: u16, body: &serde_json::Value, extra: &[(&'static str, String)]) -> ApiGatewayV2httpResponse {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    for (name, value) in extra {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(*name, value);
        }
    }
    let mut response = ApiGatewayV2httpResponse::default();
    response.status_code = i64::from(status);
    response.headers = headers;
    response.body = Some(Body::Text(body.to_string()));
    response
}

/// The HTTP status and the wire `code` of an error: the use case's own code where the error
/// carries one, a fixed code per status otherwise.
pub fn status_and_code(err: &AppError) -> (u16, &'static str) {
    match err {
        AppError::Invalid { code, .. } => (400, code.as_str()),
        AppError::Unauthenticated => (401, "unauthorized"),
        AppError::Forbidden(_) => (403, "forbidden"),
        AppError::NotFound(_) => (404, "not_found"),
        AppError::Conflict { code, .. } => (409, code.as_str()),
        AppError::PreconditionFailed { .. } => (412, "precondition_failed"),
        AppError::PayloadTooLarge { .. } => (413, "payload_too_large"),
        AppError::Unprocessable { code, .. } => (422, code.as_str()),
        AppError::Unavailable(_) => (503, "unavailable"),
        AppError::Unexpected(_) => (500, "internal"),
    }
}

/// The status code and error body for an error (SPEC: `{"error": {"code", "message", "field"?}}`).
/// Unexpected errors are logged with their source chain and answered without details.
pub fn error_response(err: &AppError) -> ApiGatewayV2httpResponse {
    let (status, code) = status_and_code(err);
    let message = match err {
        AppError::Unexpected(source) => {
            tracing::error!(error = ?source, "request failed unexpectedly");
            "internal error".to_owned()
        }
        AppError::Unavailable(detail) => {
            tracing::warn!(%detail, "dependency unavailable");
            "temporarily unavailable, retry later".to_owned()
        }
        other => other.to_string(),
    };
    let mut body = serde_json::json!({ "error": { "code": code, "message": message } });
    if let AppError::Invalid { field: Some(field), .. } = err {
        body["error"]["field"] = field.as_str().into();
    }
    let retry_after = matches!(err, AppError::Unavailable(_)).then(|| ("retry-after", "1".to_owned()));
    json_response(status, &body, retry_after.as_slice())
}

/// Runs a route handler on a decoded request and maps its outcome to a response. Decoding and
/// authentication failures are answered the same way as handler errors.
pub async fn respond<F, Fut>(event: ApiGatewayV2httpRequest, handler: F) -> ApiGatewayV2httpResponse
where
    F: FnOnce(ApiRequest) -> Fut,
    Fut: Future<Output = Result<ApiResponse, AppError>>,
{
    let result = match ApiRequest::from_event(event) {
        Ok(request) => handler(request).await,
        Err(err) => Err(err),
    };
    to_response(result)
}

/// The response for a handler's outcome.
pub fn to_response(result: Result<ApiResponse, AppError>) -> ApiGatewayV2httpResponse {
    match result {
        Ok(response) => json_response(response.status, &response.body, &response.headers),
        Err(err) => error_response(&err),
    }
}

/// The error for a route the function does not serve (a template/handler mismatch).
pub fn unknown_route(route: &str) -> AppError {
    AppError::unexpected(format!("no handler for route {route}"))
}

#[cfg(test)]
mod tests {
    use oms_domain::{ConflictCode, UnprocessableCode};

    use super::*;

    fn event(claims: &[(&str, &str)], body: Option<&str>) -> ApiGatewayV2httpRequest {
        let claims: serde_json::Map<String, serde_json::Value> =
            claims.iter().map(|(k, v)| ((*k).to_owned(), (*v).into())).collect();
        serde_json::from_value(serde_json::json!({
            "version": "2.0",
            "routeKey": "POST /v1/orders",
            "rawPath": "/v1/orders",
            "headers": {"Idempotency-Key": "k1"},
            "requestContext": {
                "routeKey": "POST /v1/orders",
                "http": {"method": "POST", "path": "/v1/orders", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "t"},
                "authorizer": {"jwt": {"claims": claims, "scopes": null}},
                "timeEpoch": 0
            },
            "body": body,
            "isBase64Encoded": false
        }))
        .unwrap()
    }

    const SALES: [(&str, &str); 3] = [("sub", "u1"), ("tenant_id", "t1"), ("role", "sales")];

    #[test]
    fn claims_become_the_actor() {
        let req = ApiRequest::from_event(event(&SALES, None)).unwrap();
        assert_eq!((req.actor.sub.as_str(), req.actor.tenant_id.as_str(), req.actor.role), ("u1", "t1", Role::Sales));
        assert_eq!(req.route, "POST /v1/orders");
        assert_eq!(req.header("idempotency-key"), Some("k1"));
    }

    #[test]
    fn missing_claims_are_401_and_unknown_or_system_roles_403() {
        assert!(matches!(ApiRequest::from_event(event(&[("sub", "u1")], None)), Err(AppError::Unauthenticated)));
        let root = [("sub", "u1"), ("tenant_id", "t1"), ("role", "root")];
        assert!(matches!(ApiRequest::from_event(event(&root, None)), Err(AppError::Forbidden(_))));
        let system = [("sub", "u1"), ("tenant_id", "t1"), ("role", "system")];
        assert!(matches!(ApiRequest::from_event(event(&system, None)), Err(AppError::Forbidden(_))));
    }

    #[test]
    fn bodies_are_size_checked_and_errors_name_the_field() {
        let big = format!("{{\"x\": \"{}\"}}", "a".repeat(MAX_BODY_BYTES));
        let req = ApiRequest::from_event(event(&SALES, Some(&big))).unwrap();
        assert!(matches!(req.json_value(), Err(AppError::PayloadTooLarge { .. })));

        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Line {
            quantity: rust_decimal::Decimal,
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Body {
            lines: Vec<Line>,
        }
        let req = ApiRequest::from_event(event(&SALES, Some(r#"{"lines": [{"quantity": "1"}, {"quantity": "x"}]}"#)))
            .unwrap();
        match req.json::<Body>() {
            Err(AppError::Invalid { field, .. }) => assert_eq!(field.as_deref(), Some("lines[1].quantity")),
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn every_error_kind_has_its_status_and_unexpected_details_stay_hidden() {
        let status = |e: AppError| error_response(&e).status_code;
        assert_eq!(status(AppError::invalid("f", "m")), 400);
        assert_eq!(status(AppError::Unauthenticated), 401);
        assert_eq!(status(AppError::Forbidden("x".into())), 403);
        assert_eq!(status(AppError::NotFound("order")), 404);
        assert_eq!(status(AppError::conflict(ConflictCode::NotEditable, "m")), 409);
        assert_eq!(status(AppError::PreconditionFailed { expected: 1, current: 2 }), 412);
        assert_eq!(status(AppError::PayloadTooLarge { limit: 1 }), 413);
        assert_eq!(status(AppError::unprocessable(UnprocessableCode::IdempotencyKeyReused, "m")), 422);
        assert_eq!(status(AppError::Unavailable("x".into())), 503);
        let hidden = error_response(&AppError::unexpected("db password is hunter2"));
        assert_eq!(hidden.status_code, 500);
        let Some(Body::Text(text)) = hidden.body else { panic!("text body") };
        assert!(!text.contains("hunter2") && text.contains("\"internal\""));
        let conflict = error_response(&AppError::conflict(ConflictCode::NotEditable, "m"));
        let Some(Body::Text(text)) = conflict.body else { panic!("text body") };
        let body: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(body["error"]["code"], "not_editable");
    }
}
