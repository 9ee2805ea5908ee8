//! Bodies the edge builds itself rather than a domain type: the error shape (`oms_aws::edge::http::
//! error_response`) and the `{"items": [...]}` lists (`ApiResponse::items`). Each mirrors the code
//! named on it; the fuzzer's response-schema check (tests/e2e/test_api_fuzz.py) holds them to
//! what the stack answers. Every other body is the domain type the handler encodes or decodes.

use std::borrow::Cow;

use oms_domain::{ConflictCode, InvalidCode, UnprocessableCode};
use serde::Serialize;
use utoipa::openapi::schema::{OneOfBuilder, Schema};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{PartialSchema, ToSchema};

/// An error: `{"error": {"code", "message", "field"?}}`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"error": {"code": "invalid_request", "message": "lines must not be empty", "field": "lines"}}))]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// The error's detail.
#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable: `invalid_request`, `not_found`, `not_editable`, `over_return`, ...
    #[schema(value_type = ErrorCode)]
    pub code: String,
    /// For people.
    pub message: String,
    /// The offending field or parameter (for 400s that can name one), e.g. `lines[1].quantity`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// Every `code` an error can carry: the use cases' codes by reaction (the domain's enums) and the
/// edge's fixed ones. The sets are disjoint (oms-domain tests its codes unique; [`EdgeCode`] is
/// tested against them and the edge here), so exactly one branch matches a code.
pub struct ErrorCode;

impl utoipa::PartialSchema for ErrorCode {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .description(Some("The use case's code by status (400, 409, 422), or the edge's for the other statuses"))
            .item(Ref::from_schema_name(InvalidCode::name()))
            .item(Ref::from_schema_name(ConflictCode::name()))
            .item(Ref::from_schema_name(UnprocessableCode::name()))
            .item(Ref::from_schema_name(EdgeCode::name()))
            .into()
    }
}

impl ToSchema for ErrorCode {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.extend([
            (InvalidCode::name().into_owned(), InvalidCode::schema()),
            (ConflictCode::name().into_owned(), ConflictCode::schema()),
            (UnprocessableCode::name().into_owned(), UnprocessableCode::schema()),
            (EdgeCode::name().into_owned(), EdgeCode::schema()),
        ]);
    }
}

/// The codes of errors that carry no code of their own: one per status
/// (`oms_aws::edge::http::status_and_code`, and the local gateway's answers).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EdgeCode {
    /// 401: no valid credentials.
    Unauthorized,
    /// 403: the caller may not do this.
    Forbidden,
    /// 404: no such resource for this caller, or no such route.
    NotFound,
    /// 412: `If-Match` names a stale version.
    PreconditionFailed,
    /// 413: the body is too large.
    PayloadTooLarge,
    /// 503: a dependency is unavailable.
    Unavailable,
    /// 500: an unexpected failure.
    Internal,
}

macro_rules! error_response {
    ($(#[$doc:meta])* $name:ident, $description:literal) => {
        $(#[$doc])*
        pub struct $name;

        impl<'s> utoipa::ToResponse<'s> for $name {
            fn response() -> (&'s str, RefOr<Response>) {
                let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
                let response = ResponseBuilder::new().description($description).content("application/json", content);
                (stringify!($name), response.build().into())
            }
        }
    };
}

error_response!(
    /// 400.
    BadRequest,
    "The request is malformed or a field is invalid (`field` names it)"
);
error_response!(
    /// 401.
    Unauthorized,
    "No valid credentials (a missing or invalid token; for the webhook, a missing, stale or wrong signature)"
);
error_response!(
    /// 403.
    Forbidden,
    "The caller's role may not do this"
);
error_response!(
    /// 404.
    NotFound,
    "No such resource for this caller (another tenant's, or a colleague's for sales, answers the same)"
);
error_response!(
    /// 409.
    Conflict,
    "The resource's state does not allow it now (`code` says why: not_editable, on_hold, over_shipment, ...)"
);
error_response!(
    /// 412.
    PreconditionFailed,
    "`If-Match` names a version that is no longer current"
);
error_response!(
    /// 413.
    PayloadTooLarge,
    "The body is over 256 KB"
);
error_response!(
    /// 422.
    Unprocessable,
    "Understood but refused: an `Idempotency-Key` reused with another request, or a change the store rejects"
);
error_response!(
    /// 503.
    Unavailable,
    "A dependency is unavailable; retry after `Retry-After`"
);

/// A list: `{"items": [...]}` (`oms_aws::edge::http::ApiResponse::items`).
#[derive(Serialize, ToSchema)]
pub struct Items<T: ToSchema> {
    /// The items.
    pub items: Vec<T>,
}

/// The OpenAPI document (any JSON object; this one).
pub struct Document;

impl utoipa::PartialSchema for Document {
    fn schema() -> RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new().description(Some("An OpenAPI 3.1 document")).into()
    }
}

impl ToSchema for Document {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("OpenApiDocument")
    }
}
