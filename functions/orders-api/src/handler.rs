//! Routes order reads to their use cases.

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use oms_aws::http::{self, ApiResponse};
use oms_domain::ports::OrderStore;
use oms_domain::usecases::orders::{get_order, order_history};

pub async fn handle<S: OrderStore>(store: &S, event: ApiGatewayV2httpRequest) -> ApiGatewayV2httpResponse {
    http::respond(event, |req| async move {
        match req.route.as_str() {
            "GET /v1/orders/{id}" => ApiResponse::ok(&get_order(store, &req.actor, &req.path("id")?).await?),
            "GET /v1/orders/{id}/history" => {
                ApiResponse::items(&order_history(store, &req.actor, &req.path("id")?).await?)
            }
            other => Err(http::unknown_route(other)),
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use aws_lambda_events::encodings::Body;
    use chrono::Utc;
    use oms_domain::memory::MemoryStore;
    use oms_domain::order::{Address, AllocationMode, Contact, Customer, FulfillmentPolicy, Order};
    use oms_domain::ports::OrderWrite;
    use oms_domain::{Actor, Currency, OrderId, OrderStatus, Role, TenantId};
    use serde_json::Value;

    use super::*;

    fn event(fixture: &str, order_id: &str, claims: &[(&str, &str)]) -> ApiGatewayV2httpRequest {
        let mut event: Value = serde_json::from_str(fixture).unwrap();
        event["pathParameters"]["id"] = order_id.into();
        for (k, v) in claims {
            event["requestContext"]["authorizer"]["jwt"]["claims"][*k] = (*v).into();
        }
        serde_json::from_value(event).unwrap()
    }

    async fn stored_order(store: &MemoryStore, tenant: &str, created_by: &str) -> OrderId {
        let now = Utc::now();
        let actor = Actor { sub: created_by.into(), tenant_id: TenantId::parse(tenant).unwrap(), role: Role::Sales };
        let order = Order {
            tenant_id: actor.tenant_id.clone(),
            order_id: OrderId::generate(),
            order_number: "ORD-20261122-0001".into(),
            status: OrderStatus::Draft,
            version: 1,
            customer: Customer {
                id: "C1".into(),
                name: "ABC".into(),
                delivery_address: Address {
                    line1: "1 Main".into(),
                    line2: None,
                    city: "HCM".into(),
                    region: None,
                    postal_code: None,
                    country: "VN".into(),
                    lat: None,
                    lon: None,
                },
                contact: Contact::default(),
            },
            currency: Currency::Vnd,
            fulfillment_policy: FulfillmentPolicy::ShipPartial,
            allocation: AllocationMode::Auto,
            external_reference: None,
            channel: None,
            channel_order_id: None,
            notes: None,
            discount: Default::default(),
            lines: vec![],
            on_hold: false,
            holds: vec![],
            price_approval: None,
            totals: Default::default(),
            created_by: created_by.into(),
            created_at: now,
            updated_at: now,
        };
        let write = OrderWrite {
            history: vec![order.creation_record(&actor)],
            order,
            expected_version: None,
            outbox: vec![],
            idempotency: None,
        };
        let id = write.order.order_id.clone();
        store.create_order(write).await.unwrap();
        id
    }

    fn status_and_body(response: ApiGatewayV2httpResponse) -> (i64, Value) {
        let Some(Body::Text(text)) = response.body else { panic!("text body") };
        (response.status_code, serde_json::from_str(&text).unwrap())
    }

    const GET: &str = include_str!("../../../events/http/get-order.json");
    const HISTORY: &str = include_str!("../../../events/http/get-order-history.json");

    #[tokio::test]
    async fn the_creator_reads_the_order_and_its_history() {
        let store = MemoryStore::new();
        let id = stored_order(&store, "demo", "dev-sales").await;
        let (status, order) = status_and_body(handle(&store, event(GET, id.as_str(), &[])).await);
        assert_eq!((status, order["order_id"].as_str()), (200, Some(id.as_str())));
        let (status, history) = status_and_body(handle(&store, event(HISTORY, id.as_str(), &[])).await);
        assert_eq!((status, history["items"][0]["to"].as_str()), (200, Some("DRAFT")));
    }

    #[tokio::test]
    async fn other_tenants_and_other_salespeople_get_404_a_manager_gets_it() {
        let store = MemoryStore::new();
        let id = stored_order(&store, "demo", "dev-sales").await;
        let other_tenant = handle(&store, event(GET, id.as_str(), &[("tenant_id", "rival")])).await;
        assert_eq!(other_tenant.status_code, 404);
        let colleague = handle(&store, event(GET, id.as_str(), &[("sub", "someone-else")])).await;
        assert_eq!(colleague.status_code, 404);
        let manager = handle(&store, event(GET, id.as_str(), &[("sub", "boss"), ("role", "sales_manager")])).await;
        assert_eq!(manager.status_code, 200);
        let unknown = handle(&store, event(GET, "01JD0Q7M3J6W8Z5Y4X3V2T1S0R", &[])).await;
        assert_eq!(unknown.status_code, 404);
    }
}
