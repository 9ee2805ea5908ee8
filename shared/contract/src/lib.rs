//! The HTTP API's contract: the OpenAPI 3.1 document served at `GET /v1/openapi.json`.
//!
//! Written once, from the code: request and response bodies are the domain's own types (their
//! `utoipa::ToSchema` derives, oms-domain's `openapi` feature), so a field renamed in the domain
//! is renamed here. Each route is declared once, by its `#[utoipa::path]` in [`paths`]; the
//! statuses every route shares (the edge's: 400, 401, 403, 413, 503) are added by [`edge`] from
//! what the route takes, and each route's request examples are its samples in `events/http`.
//! [`routes`] lists what the document declares, for the tests that hold it against the template
//! and the functions' routing.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};

mod edge;
use edge::{EdgeStatuses, Samples};
pub mod paths;
pub mod schemas;

/// Name of the bearer JWT security scheme (every route but the webhook and the document).
pub const BEARER: &str = "bearer";
/// Name of the TMS webhook's signature scheme (`X-TMS-Signature`).
pub const TMS_SIGNATURE: &str = "tms_signature";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "OMS HTTP API",
        description = "Orders, inventory, shipments and returns of the Order Management System. \
Decimals (quantities, prices, amounts) travel as JSON strings. Errors are \
`{\"error\": {\"code\", \"message\", \"field\"?}}`. Every POST honours `Idempotency-Key`; \
order responses carry the order's version as `ETag`, which `PATCH` sends back as `If-Match`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        paths::create_order,
        paths::list_orders,
        paths::get_order,
        paths::edit_order,
        paths::order_history,
        paths::submit_order,
        paths::approve_price,
        paths::cancel_order,
        paths::place_hold,
        paths::release_hold,
        paths::allocate_line,
        paths::confirm_allocation,
        paths::create_shipment,
        paths::get_shipment,
        paths::report_shipment,
        paths::create_return,
        paths::get_return,
        paths::approve_return,
        paths::reject_return,
        paths::receive_return,
        paths::confirm_refund,
        paths::close_return,
        paths::tms_callback,
        paths::list_hubs,
        paths::put_hub,
        paths::list_skus,
        paths::put_sku,
        paths::list_stock,
        paths::put_stock,
        paths::list_integrations,
        paths::register_integration,
        paths::revoke_integration,
        paths::openapi_document,
    ),
    components(
        schemas(schemas::ErrorBody),
        responses(
            schemas::BadRequest,
            schemas::Unauthorized,
            schemas::Forbidden,
            schemas::NotFound,
            schemas::Conflict,
            schemas::PreconditionFailed,
            schemas::PayloadTooLarge,
            schemas::Unprocessable,
            schemas::Unavailable,
        )
    ),
    modifiers(&SecuritySchemes, &EdgeStatuses, &Samples),
    security(("bearer" = [])),
    tags(
        (name = "orders", description = "Orders: create, read, list, edit, price approval, holds, allocation, cancel"),
        (name = "shipments", description = "Shipments made by dispatchers and warehouses, and the carrier's reports"),
        (name = "returns", description = "Returns (RMAs), receiving and refunds"),
        (name = "inventory", description = "Hubs, SKUs and stock levels"),
        (name = "integrations", description = "The tenant's registry of integrations (who may act for it)"),
        (name = "meta", description = "This document"),
    )
)]
struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .description(Some("A JWT with the claims sub, tenant_id and role (API Gateway's JWT authorizer)"))
            .build();
        components.add_security_scheme(BEARER, SecurityScheme::Http(bearer));
        let signature = ApiKeyValue::with_description(
            "X-TMS-Signature",
            "`[k=<key id>,]t=<unix seconds>,v1=<hex HMAC-SHA256(secret, \"<t>.<raw body>\")>`",
        );
        components.add_security_scheme(TMS_SIGNATURE, SecurityScheme::ApiKey(ApiKey::Header(signature)));
    }
}

/// The document.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The document as JSON, as `GET /v1/openapi.json` answers it.
pub fn to_json() -> String {
    serde_json::to_string(&document()).expect("an OpenAPI document always serializes")
}

/// Every route the document declares, as `(METHOD, path)`, e.g. `("GET", "/v1/orders/{id}")`.
pub fn routes() -> Vec<(&'static str, String)> {
    document()
        .paths
        .paths
        .into_iter()
        .flat_map(|(path, mut item)| {
            edge::operations(&mut item).into_iter().map(|(method, _)| (method, path.clone())).collect::<Vec<_>>()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_openapi_3_1_with_every_route_once() {
        let json: serde_json::Value = serde_json::from_str(&to_json()).unwrap();
        assert_eq!(json["openapi"], "3.1.0");
        let routes = routes();
        let unique: std::collections::BTreeSet<_> = routes.iter().collect();
        assert_eq!(unique.len(), routes.len());
        assert_eq!(routes.len(), 33, "{routes:?}");
        assert!(routes.contains(&("GET", "/v1/openapi.json".to_owned())));
    }

    /// With each HTTP function's own test (template == its route enum == its samples), this
    /// makes the template, the document and the code's route enums one set of routes.
    #[test]
    fn the_document_declares_exactly_the_routes_the_template_sends_to_functions() {
        let template = include_str!("../../../infra/template.yaml");
        let binaries = template.lines().filter_map(|l| l.trim().strip_prefix("Binary: "));
        let in_template: std::collections::BTreeSet<String> = binaries
            .flat_map(|binary| oms_aws::edge::routes::template::http_routes(template, binary).unwrap_or_default())
            .collect();
        let documented: std::collections::BTreeSet<String> =
            routes().into_iter().map(|(method, path)| format!("{method} {path}")).collect();
        assert_eq!(documented, in_template);
    }

    #[test]
    fn every_sample_is_a_route_of_the_document_and_its_example() {
        let json: serde_json::Value = serde_json::from_str(&to_json()).unwrap();
        for (name, sample) in edge::SAMPLES {
            let event: serde_json::Value = serde_json::from_str(sample).unwrap();
            let (method, path) = event["routeKey"].as_str().unwrap().split_once(' ').unwrap();
            assert!(routes().contains(&(method, path.to_owned())), "{method} {path}");
            let operation = &json["paths"][path][method.to_lowercase()];
            if let Some(body) = event["body"].as_str().filter(|b| !b.is_empty()) {
                let example = &operation["requestBody"]["content"]["application/json"]["examples"][name]["value"];
                assert_eq!(example, &serde_json::from_str::<serde_json::Value>(body).unwrap(), "{method} {path}");
            }
        }
    }

    #[test]
    fn secured_routes_answer_401_and_the_open_ones_declare_their_own_security() {
        let json: serde_json::Value = serde_json::from_str(&to_json()).unwrap();
        let webhook = &json["paths"]["/v1/webhooks/tms"]["post"];
        assert_eq!(webhook["security"], serde_json::json!([{TMS_SIGNATURE: []}]));
        assert_eq!(json["paths"]["/v1/openapi.json"]["get"]["security"], serde_json::json!([{}]));
        let order = &json["paths"]["/v1/orders/{id}"]["get"];
        assert!(order.get("security").is_none(), "inherits the document's bearer");
        for status in ["200", "400", "401", "403", "404", "503"] {
            assert!(order["responses"].get(status).is_some(), "{status}");
        }
        let create = &json["paths"]["/v1/orders"]["post"]["responses"];
        assert!(create.get("413").is_some() && create.get("422").is_some());
    }

    /// The error `code` lists every code the edge answers with, each in exactly one branch.
    #[test]
    fn error_codes_are_listed_once_and_the_edge_answers_no_other() {
        use oms_domain::{AppError, ConflictCode, InvalidCode, UnprocessableCode};
        let json: serde_json::Value = serde_json::from_str(&to_json()).unwrap();
        let schemas = &json["components"]["schemas"];
        assert_eq!(schemas["ErrorDetail"]["properties"]["code"]["$ref"], "#/components/schemas/ErrorCode");
        let mut listed = Vec::new();
        for branch in schemas["ErrorCode"]["oneOf"].as_array().unwrap() {
            let name = branch["$ref"].as_str().unwrap().trim_start_matches("#/components/schemas/");
            listed.extend(schemas[name]["enum"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()));
        }
        let unique: std::collections::BTreeSet<_> = listed.iter().cloned().collect();
        assert_eq!(unique.len(), listed.len(), "a code is in two branches");

        let coded = [
            AppError::invalid_with_code(InvalidCode::InvalidCursor, "f", "m"),
            AppError::conflict(ConflictCode::PlanStale, "m"),
            AppError::unprocessable(UnprocessableCode::RejectedByStore, "m"),
        ];
        let fixed = [
            AppError::Unauthenticated,
            AppError::Forbidden("m".into()),
            AppError::NotFound("order"),
            AppError::PreconditionFailed { expected: 1, current: 2 },
            AppError::PayloadTooLarge { limit: 1 },
            AppError::Unavailable("m".into()),
            AppError::unexpected("m"),
        ];
        for err in coded.iter().chain(&fixed) {
            let (_, code) = oms_aws::edge::http::status_and_code(err);
            assert!(unique.contains(code), "{code} is not in the document");
        }
        let all = InvalidCode::ALL.len() + ConflictCode::ALL.len() + UnprocessableCode::ALL.len() + fixed.len();
        assert_eq!(listed.len(), all, "{listed:?}");
    }

    #[test]
    fn decimals_are_strings_and_ids_carry_their_pattern() {
        let json: serde_json::Value = serde_json::from_str(&to_json()).unwrap();
        let schemas = &json["components"]["schemas"];
        assert_eq!(schemas["OrderLine"]["properties"]["quantity"]["type"], "string");
        assert_eq!(schemas["OrderId"]["pattern"], "^[A-Za-z0-9._:-]+$");
        assert_eq!(schemas["Currency"]["enum"][0], "VND");
    }
}
