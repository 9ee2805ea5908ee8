//! Decodes the request, creates the order, answers 201 with it (or the first answer again for
//! a repeated `Idempotency-Key`).

use chrono::{DateTime, Utc};
use oms_aws::edge::http::{ApiRequest, ApiResponse};
use oms_aws::edge::routes::Routes;
use oms_domain::AppError;
use oms_domain::ports::Store;
use oms_domain::usecases::{CreateOrderRequest, create_order};

oms_aws::http_routes! {
    /// The route of `create-order`.
    pub enum Route {
        /// Create an order (a draft, or submitted with `"submit": true`).
        CreateOrder => "POST /v1/orders",
    }
}

pub async fn route<S: Store>(store: &S, req: ApiRequest, now: DateTime<Utc>) -> Result<ApiResponse, AppError> {
    match Route::parse(&req.route)? {
        Route::CreateOrder => {
            let (request, idempotency): (CreateOrderRequest, _) = req.keyed_json()?;
            let created = create_order(store, &req.actor, request, idempotency, now).await?;
            let location = format!("/v1/orders/{}", created.order.order_id());
            let response = ApiResponse::created(&created.order)?.header("location", location);
            Ok(if created.replayed { response.header("idempotent-replayed", "true") } else { response })
        }
    }
}

#[cfg(test)]
mod tests {
    use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
    use oms_domain::catalog::SkuInput;
    use oms_domain::events::OutboxMessage;
    use oms_domain::memory::MemoryStore;
    use oms_domain::ports::CatalogStore;
    use oms_domain::{Currency, Sku, TenantId};
    use serde_json::Value;

    use super::*;

    const FIXTURE: &str = include_str!("../../../events/http/create-order.json");

    #[test]
    fn the_template_routes_here_what_the_enum_serves_and_every_route_has_a_sample() {
        oms_aws::edge::routes::template::assert_template_routes::<Route>(env!("CARGO_PKG_NAME"), &[FIXTURE]);
    }

    async fn store_with_catalog() -> MemoryStore {
        let store = MemoryStore::new();
        let tenant = TenantId::parse("demo").unwrap();
        for (sku, price) in [("PP-H1", "32000"), ("HDPE-F2", "35500")] {
            let input = SkuInput {
                name: sku.into(),
                unit: "KG".into(),
                list_price: price.parse().unwrap(),
                currency: Currency::Vnd,
                tax_rate: None,
                low_stock_threshold: None,
                channel_items: Default::default(),
                stock_shards: None,
            };
            store.put_sku(&tenant, &input.into_sku(Sku::parse(sku).unwrap(), Utc::now()).unwrap()).await.unwrap();
        }
        store
    }

    fn fixture(edit: impl FnOnce(&mut Value)) -> ApiGatewayV2httpRequest {
        let mut event: Value = serde_json::from_str(FIXTURE).unwrap();
        edit(&mut event);
        serde_json::from_value(event).unwrap()
    }

    fn set_body(event: &mut Value, edit: impl FnOnce(&mut Value)) {
        let mut body: Value = serde_json::from_str(event["body"].as_str().unwrap()).unwrap();
        edit(&mut body);
        event["body"] = body.to_string().into();
    }

    async fn call(store: &MemoryStore, event: ApiGatewayV2httpRequest) -> (i64, Value, ApiGatewayV2httpResponse) {
        oms_aws::edge::routes::template::answer(route, store, event).await
    }

    #[tokio::test]
    async fn the_fixture_creates_a_priced_submitted_order_and_queues_its_placement() {
        let store = store_with_catalog().await;
        let (status, order, _) = call(&store, fixture(|_| {})).await;
        assert_eq!(status, 201, "{order}");
        assert_eq!(order["status"], "PENDING_ALLOCATION");
        assert!(order["order_number"].as_str().unwrap().starts_with("ORD-"));
        // 100 x 32000 = 3,200,000 and 25.5 x (35500 + 300) = 912,900; plus 10% tax: 4,524,190.
        assert_eq!(order["lines"][1]["totals"]["net"], "912900");
        assert_eq!(order["totals"]["grand_total"], "4524190");
        let kinds: Vec<String> = store
            .outbox()
            .iter()
            .map(|m| match m {
                OutboxMessage::Event(e) => e.event.detail_type().to_owned(),
                OutboxMessage::StartWorkflow { .. } => "StartWorkflow".to_owned(),
            })
            .collect();
        assert_eq!(kinds, ["OrderCreated", "OrderSubmitted", "OrderStatusChanged", "StartWorkflow"]);
    }

    #[tokio::test]
    async fn a_repeated_key_replays_and_a_changed_body_is_422() {
        let store = store_with_catalog().await;
        let (_, first, _) = call(&store, fixture(|_| {})).await;
        let (status, again, response) = call(&store, fixture(|_| {})).await;
        assert_eq!(status, 201);
        assert_eq!(response.headers.get("idempotent-replayed").unwrap(), "true");
        assert_eq!(again["order_id"], first["order_id"]);

        let (changed, _, _) = call(&store, fixture(|e| set_body(e, |b| b["notes"] = "rush".into()))).await;
        assert_eq!(changed, 422);
        assert_eq!(store.outbox().len(), 4, "neither repeat wrote anything");
    }

    #[tokio::test]
    async fn bad_input_is_400_with_the_field_and_writes_nothing() {
        let store = store_with_catalog().await;
        type Edit = Box<dyn FnOnce(&mut Value)>;
        let cases: Vec<(Edit, &str)> = vec![
            (Box::new(|b| b["lines"][0]["quantity"] = "0".into()), "lines[0].quantity"),
            (Box::new(|b| b["lines"][0]["quantity"] = "1.0001".into()), "lines[0].quantity"),
            (Box::new(|b| b["lines"][1]["sku"] = "NOPE".into()), "lines[1].sku"),
            (Box::new(|b| b["lines"] = serde_json::json!([])), "lines"),
            (Box::new(|b| b["currency"] = "USD".into()), "lines[0].sku"),
            (Box::new(|b| b["surprise"] = true.into()), "."),
            (
                Box::new(|b| b["customer"]["delivery_address"]["country"] = "Vietnam".into()),
                "customer.delivery_address.country",
            ),
        ];
        for (edit, field) in cases {
            let (status, body, _) = call(&store, fixture(|e| set_body(e, edit))).await;
            assert_eq!(status, 400, "{field}: {body}");
            let error = &body["error"];
            if field != "." {
                assert_eq!(error["field"], field, "{error}");
            }
        }
        let (status, malformed, _) = call(&store, fixture(|e| e["body"] = "{not json".into())).await;
        assert_eq!((status, malformed["error"]["code"].as_str()), (400, Some("malformed_body")));
        assert!(store.outbox().is_empty());
    }

    #[tokio::test]
    async fn a_dispatcher_cannot_create_and_a_request_without_claims_is_401() {
        let store = store_with_catalog().await;
        let dispatcher = fixture(|e| e["requestContext"]["authorizer"]["jwt"]["claims"]["role"] = "dispatcher".into());
        assert_eq!(call(&store, dispatcher).await.0, 403);
        let anonymous = fixture(|e| e["requestContext"]["authorizer"] = Value::Null);
        assert_eq!(call(&store, anonymous).await.0, 401);
        assert!(store.outbox().is_empty());
    }

    #[test]
    fn arbitrary_bodies_are_answered_never_a_crash_or_a_500() {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let store = runtime.block_on(store_with_catalog());
        oms_domain::arbitrary::check_mutations(oms_domain::arbitrary::body_of(FIXTURE), 64, |body| {
            let event = fixture(|e| e["body"] = body.to_string().into());
            let (status, answer, _) = runtime.block_on(call(&store, event));
            (status < 500).then_some(()).ok_or_else(|| format!("{body} -> {status} {answer}"))
        });
    }
}
