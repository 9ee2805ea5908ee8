//! What every route shares because it passes the same edge (`oms_aws::edge::http`), added to each
//! operation from what the operation takes, so no route can forget one: 400 when it has
//! parameters or a body, 413 with a body (over 256 KB), 401 and 403 behind the JWT (a missing
//! token, an unknown or `system` role), 503 everywhere (a dependency down). And each route's
//! request examples: its samples in `events/http`, matched by the sample's `routeKey`.

use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::{Ref, RefOr};

/// Every sample of `events/http` (API Gateway v2 requests), by file name.
pub(crate) const SAMPLES: &[(&str, &str)] = &[
    ("adjust-stock", include_str!("../../../events/http/adjust-stock.json")),
    ("allocate-line", include_str!("../../../events/http/allocate-line.json")),
    ("approve-price", include_str!("../../../events/http/approve-price.json")),
    ("cancel-order", include_str!("../../../events/http/cancel-order.json")),
    ("confirm-allocation", include_str!("../../../events/http/confirm-allocation.json")),
    ("create-order", include_str!("../../../events/http/create-order.json")),
    ("edit-order", include_str!("../../../events/http/edit-order.json")),
    ("get-openapi", include_str!("../../../events/http/get-openapi.json")),
    ("get-order-history", include_str!("../../../events/http/get-order-history.json")),
    ("get-order", include_str!("../../../events/http/get-order.json")),
    ("list-hubs", include_str!("../../../events/http/list-hubs.json")),
    ("list-orders", include_str!("../../../events/http/list-orders.json")),
    ("list-skus", include_str!("../../../events/http/list-skus.json")),
    ("list-stock", include_str!("../../../events/http/list-stock.json")),
    ("place-hold", include_str!("../../../events/http/place-hold.json")),
    ("put-hub", include_str!("../../../events/http/put-hub.json")),
    ("put-integration", include_str!("../../../events/http/put-integration.json")),
    ("put-sku", include_str!("../../../events/http/put-sku.json")),
    ("put-stock", include_str!("../../../events/http/put-stock.json")),
    ("receive-return", include_str!("../../../events/http/receive-return.json")),
    ("release-hold", include_str!("../../../events/http/release-hold.json")),
    ("submit-order", include_str!("../../../events/http/submit-order.json")),
    ("tms-webhook", include_str!("../../../events/http/tms-webhook.json")),
];

/// The operations of a path item with their methods.
pub(crate) fn operations(item: &mut PathItem) -> Vec<(&'static str, &mut Operation)> {
    [
        ("GET", item.get.as_mut()),
        ("PUT", item.put.as_mut()),
        ("POST", item.post.as_mut()),
        ("DELETE", item.delete.as_mut()),
        ("PATCH", item.patch.as_mut()),
        ("HEAD", item.head.as_mut()),
        ("OPTIONS", item.options.as_mut()),
        ("TRACE", item.trace.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.map(|operation| (method, operation)))
    .collect()
}

pub(crate) struct EdgeStatuses;

impl utoipa::Modify for EdgeStatuses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for (_, operation) in operations(item) {
                // No security of its own: the document's bearer JWT applies.
                let behind_jwt = operation.security.is_none();
                let has_input = operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
                let has_body = operation.request_body.is_some();
                let statuses = [
                    ("400", "BadRequest", has_input || has_body),
                    ("401", "Unauthorized", behind_jwt),
                    ("403", "Forbidden", behind_jwt),
                    ("413", "PayloadTooLarge", has_body),
                    ("503", "Unavailable", behind_jwt || has_body),
                ];
                for (status, response, applies) in statuses {
                    if applies {
                        operation
                            .responses
                            .responses
                            .entry(status.to_owned())
                            .or_insert_with(|| RefOr::Ref(Ref::from_response_name(response)));
                    }
                }
            }
        }
    }
}

pub(crate) struct Samples;

impl utoipa::Modify for Samples {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (name, sample) in SAMPLES {
            let event: serde_json::Value = serde_json::from_str(sample).expect("events/http samples are JSON");
            let Some((method, path)) = event["routeKey"].as_str().and_then(|key| key.split_once(' ')) else {
                continue;
            };
            let Some(body) = event["body"].as_str().and_then(|body| serde_json::from_str(body).ok()) else {
                continue;
            };
            let Some(item) = openapi.paths.paths.get_mut(path) else { continue };
            let Some((_, operation)) = operations(item).into_iter().find(|(m, _)| *m == method) else { continue };
            if let Some(content) = operation.request_body.as_mut().and_then(|b| b.content.get_mut("application/json")) {
                let example = utoipa::openapi::example::ExampleBuilder::new()
                    .summary(format!("events/http/{name}.json"))
                    .value(Some(body));
                content.examples.insert((*name).to_owned(), example.into());
            }
        }
    }
}
