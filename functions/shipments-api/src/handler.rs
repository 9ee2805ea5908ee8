//! The dispatcher's shipment routes: ship an order's allocated goods, read a shipment, report
//! the status of a carrier that does not call back (a carrier that does uses `tms-webhook`).

use chrono::{DateTime, Utc};
use oms_aws::edge::http::{ApiRequest, ApiResponse};
use oms_aws::edge::routes::Routes;
use oms_domain::order::Order;
use oms_domain::ports::Store;
use oms_domain::usecases::shipments::{
    Reporter, ShipmentStatusRequest, create_shipment, get_shipment, report_shipment,
};
use oms_domain::{AppError, OrderId};

oms_aws::http_routes! {
    /// The routes of `shipments-api`.
    pub enum Route {
        /// Ship allocated quantities of an order (one call per shipment).
        CreateShipment => "POST /v1/orders/{id}/shipments",
        /// One shipment, with its order's id, number and status.
        GetShipment => "GET /v1/shipments/{shipment_id}",
        /// A dispatcher reports a shipment's status.
        ReportShipmentStatus => "POST /v1/shipments/{shipment_id}/status",
    }
}

fn shipment_response(order: &Order, shipment_id: &str) -> Result<ApiResponse, AppError> {
    ApiResponse::ok(&order.shipment_view(shipment_id).ok_or(AppError::NotFound("shipment"))?)
}

pub async fn route<S: Store>(store: &S, req: ApiRequest, now: DateTime<Utc>) -> Result<ApiResponse, AppError> {
    let actor = &req.actor;
    match Route::parse(&req.route)? {
        Route::CreateShipment => {
            let id: OrderId = req.path("id")?;
            let (body, key) = req.keyed_json()?;
            let changed = create_shipment(store, actor, &id, body, key, now).await?;
            if changed.replayed {
                return ApiResponse::changed(&changed);
            }
            let shipment = changed.order.shipments().last().ok_or_else(|| AppError::unexpected("no shipment made"))?;
            ApiResponse::created_in(&changed.order, format!("/v1/shipments/{}", shipment.shipment_id))
        }
        Route::GetShipment => {
            let shipment_id = req.path_text("shipment_id")?;
            shipment_response(&get_shipment(store, actor, &shipment_id).await?, &shipment_id)
        }
        Route::ReportShipmentStatus => {
            let shipment_id = req.path_text("shipment_id")?;
            let request: ShipmentStatusRequest = req.json()?;
            let reporter = Reporter::Dispatcher(actor.clone());
            let changed = report_shipment(store, reporter, &shipment_id, request.into_report(now)?, now).await?;
            shipment_response(&changed.order, &shipment_id)
        }
    }
}

#[cfg(test)]
mod tests {
    use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
    use oms_domain::TenantId;
    use oms_domain::memory::{MemoryStore, fixtures};
    use oms_domain::ports::StockStore;
    use serde_json::{Value, json};

    use oms_aws::edge::routes::template::sample_request as request;

    use super::*;

    const CREATE: &str = include_str!("../../../events/http/create-shipment.json");
    const GET: &str = include_str!("../../../events/http/get-shipment.json");
    const REPORT: &str = include_str!("../../../events/http/report-shipment-status.json");
    /// A sample of every route.
    const SAMPLES: &[&str] = &[CREATE, GET, REPORT];

    /// The hub and SKU of the samples.
    const HUB: &str = "HCM-WH1";
    const SKU: &str = "PP-H1";

    #[test]
    fn the_template_routes_here_what_the_enum_serves_and_every_route_has_a_sample() {
        oms_aws::edge::routes::template::assert_template_routes::<Route>(env!("CARGO_PKG_NAME"), SAMPLES);
    }

    async fn call(store: &MemoryStore, event: ApiGatewayV2httpRequest) -> (i64, Value, ApiGatewayV2httpResponse) {
        oms_aws::edge::routes::template::answer(route, store, event).await
    }

    /// 150 KG in stock at the samples' hub and an order of 100 of them allocated there.
    async fn allocated() -> (MemoryStore, String) {
        let tenant = TenantId::parse("demo").unwrap();
        let store = MemoryStore::with_catalog(&tenant, HUB, SKU, "150".parse().unwrap()).await;
        let order = fixtures::allocated_order(&store, &tenant, HUB, SKU, "100").await;
        (store, order.order_id().to_string())
    }

    #[tokio::test]
    async fn a_dispatcher_ships_once_per_key_and_the_stock_leaves_the_hub() {
        let (store, id) = allocated().await;
        assert_eq!(call(&store, request(CREATE, "id", &id, Some("sales"), None)).await.0, 403);
        let (status, order, response) = call(&store, request(CREATE, "id", &id, None, None)).await;
        assert_eq!((status, order["status"].as_str()), (201, Some("SHIPPED")), "{order}");
        let shipment = &order["shipments"][0];
        assert_eq!((shipment["carrier"].as_str(), shipment["status"].as_str()), (Some("GHN"), Some("CREATED")));
        let location = format!("/v1/shipments/{}", shipment["shipment_id"].as_str().unwrap());
        assert_eq!(response.headers.get("location").unwrap().to_str().unwrap(), location);
        assert_eq!(response.headers.get("etag").unwrap().to_str().unwrap(), format!("\"{}\"", order["version"]));

        let (status, again, response) = call(&store, request(CREATE, "id", &id, None, None)).await;
        assert_eq!((status, again["shipments"].as_array().unwrap().len()), (200, 1), "the sample's key replays");
        assert_eq!(response.headers.get("idempotent-replayed").unwrap(), "true");
        let tenant = TenantId::parse("demo").unwrap();
        let stock = store.stock_for_skus(&tenant, &[oms_domain::Sku::parse(SKU).unwrap()]).await.unwrap();
        assert_eq!((stock[0].on_hand.to_string(), stock[0].reserved.to_string()), ("50".into(), "0".into()));
    }

    #[tokio::test]
    async fn an_external_shipment_needs_its_carrier_and_nothing_ships_twice() {
        let (store, id) = allocated().await;
        let mut body: Value =
            serde_json::from_str(serde_json::from_str::<Value>(CREATE).unwrap()["body"].as_str().unwrap()).unwrap();
        body.as_object_mut().unwrap().remove("carrier");
        let (status, error, _) = call(&store, request(CREATE, "id", &id, None, Some(body))).await;
        assert_eq!((status, error["error"]["field"].as_str()), (400, Some("carrier")));
        let internal =
            json!({"type": "INTERNAL", "lines": [{"order_line_id": "L1", "quantity": "100", "hub_id": HUB}]});
        assert_eq!(call(&store, request(CREATE, "id", &id, None, Some(internal.clone()))).await.0, 201);
        assert_eq!(call(&store, request(CREATE, "id", &id, None, Some(internal))).await.0, 409, "nothing left to ship");
    }

    #[tokio::test]
    async fn a_shipment_is_read_and_followed_by_its_tenant_only() {
        let tenant = TenantId::parse("demo").unwrap();
        let store = MemoryStore::with_catalog(&tenant, HUB, SKU, "150".parse().unwrap()).await;
        let order = fixtures::shipped_order(&store, &tenant, HUB, SKU, "100").await;
        let shipment_id = order.shipments()[0].shipment_id.as_str();

        let (status, view, _) = call(&store, request(GET, "shipment_id", shipment_id, None, None)).await;
        assert_eq!((status, view["order_id"].as_str()), (200, Some(order.order_id().as_str())), "{view}");
        assert_eq!((view["status"].as_str(), view["order_status"].as_str()), (Some("CREATED"), Some("SHIPPED")));
        let mut rival: Value = serde_json::from_str(GET).unwrap();
        rival["pathParameters"]["shipment_id"] = shipment_id.into();
        rival["requestContext"]["authorizer"]["jwt"]["claims"]["tenant_id"] = "rival".into();
        assert_eq!(call(&store, serde_json::from_value(rival).unwrap()).await.0, 404);
        assert_eq!(call(&store, request(GET, "shipment_id", "SHP-20991231-0001", None, None)).await.0, 404);

        assert_eq!(call(&store, request(REPORT, "shipment_id", shipment_id, Some("sales"), None)).await.0, 403);
        let (status, view, _) = call(&store, request(REPORT, "shipment_id", shipment_id, None, None)).await;
        assert_eq!(
            (status, view["status"].as_str(), view["order_status"].as_str()),
            (200, Some("IN_TRANSIT"), Some("IN_TRANSIT"))
        );
        let created = json!({"status": "CREATED"});
        assert_eq!(call(&store, request(REPORT, "shipment_id", shipment_id, None, Some(created))).await.0, 400);
        let delivered = json!({"status": "DELIVERED"});
        let (_, view, _) = call(&store, request(REPORT, "shipment_id", shipment_id, None, Some(delivered))).await;
        assert_eq!(view["order_status"], "COMPLETED");
    }

    #[test]
    fn arbitrary_bodies_are_answered_never_a_crash_or_a_500() {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let (store, id) = runtime.block_on(allocated());
        let tenant = TenantId::parse("demo").unwrap();
        let shipped = runtime.block_on(fixtures::shipped_order(&store, &tenant, HUB, SKU, "50"));
        let shipment_id = shipped.shipments()[0].shipment_id.clone();
        for (sample, name, value) in [(CREATE, "id", id.as_str()), (REPORT, "shipment_id", shipment_id.as_str())] {
            oms_domain::arbitrary::check_mutations(oms_domain::arbitrary::body_of(sample), 32, |body| {
                let (status, answer, _) =
                    runtime.block_on(call(&store, request(sample, name, value, None, Some(body.clone()))));
                (status < 500).then_some(()).ok_or_else(|| format!("{body} -> {status} {answer}"))
            });
        }
    }
}
