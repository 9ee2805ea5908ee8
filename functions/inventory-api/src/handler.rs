//! Routes hub, SKU and stock requests, and the tenant's registry of integrations, to their use
//! cases.

use chrono::{DateTime, Utc};
use oms_aws::edge::http::{ApiRequest, ApiResponse};
use oms_aws::edge::routes::Routes;
use oms_domain::ports::{CatalogStore, IntegrationStore, StockStore};
use oms_domain::stock::{StockFilter, StockLevel, StockView};
use oms_domain::usecases::{catalog as uc, integrations};
use oms_domain::{AppError, HubId, Sku};

oms_aws::http_routes! {
    /// The routes of `inventory-api`.
    pub enum Route {
        /// Create or replace a hub (admin).
        PutHub => "PUT /v1/hubs/{hub_id}",
        /// The tenant's hubs.
        ListHubs => "GET /v1/hubs",
        /// Create or replace a SKU (admin).
        PutSku => "PUT /v1/skus/{sku}",
        /// The tenant's SKUs.
        ListSkus => "GET /v1/skus",
        /// Set or adjust a hub's stock of a SKU (admin).
        PutStock => "PUT /v1/inventory/{hub_id}/{sku}",
        /// Stock levels, by SKU and/or hub.
        ListStock => "GET /v1/inventory",
        /// The tenant's registered integrations (admin).
        ListIntegrations => "GET /v1/integrations",
        /// Register an integration (admin).
        PutIntegration => "PUT /v1/integrations/{kind}/{principal}",
        /// Revoke an integration (admin).
        DeleteIntegration => "DELETE /v1/integrations/{kind}/{principal}",
    }
}

fn views(levels: Vec<StockLevel>) -> Vec<StockView> {
    levels.into_iter().map(StockView::from).collect()
}

pub async fn route<S>(store: &S, req: ApiRequest, now: DateTime<Utc>) -> Result<ApiResponse, AppError>
where
    S: CatalogStore + StockStore + IntegrationStore,
{
    let actor = &req.actor;
    match Route::parse(&req.route)? {
        Route::PutHub => ApiResponse::ok(&uc::put_hub(store, actor, req.path("hub_id")?, req.json()?, now).await?),
        Route::ListHubs => ApiResponse::items(&uc::list_hubs(store, actor).await?),
        Route::PutSku => ApiResponse::ok(&uc::put_sku(store, actor, req.path("sku")?, req.json()?, now).await?),
        Route::ListSkus => ApiResponse::items(&uc::list_skus(store, actor).await?),
        Route::PutStock => {
            let level = uc::change_stock(store, actor, req.path("hub_id")?, req.path("sku")?, req.json()?).await?;
            ApiResponse::ok(&StockView::from(level))
        }
        Route::ListStock => {
            let filter = StockFilter {
                sku: req.query("sku").map(Sku::parse).transpose().map_err(|e: AppError| e.within("query"))?,
                hub_id: req.query("hub_id").map(HubId::parse).transpose().map_err(|e: AppError| e.within("query"))?,
            };
            ApiResponse::items(&views(uc::list_stock(store, actor, filter).await?))
        }
        Route::ListIntegrations => ApiResponse::items(&integrations::list(store, actor).await?),
        Route::PutIntegration => {
            let (kind, principal) = (req.path_text("kind")?, req.path_text("principal")?);
            ApiResponse::ok(&integrations::register(store, actor, &kind, &principal, req.json()?, now).await?)
        }
        Route::DeleteIntegration => {
            let (kind, principal) = (req.path_text("kind")?, req.path_text("principal")?);
            ApiResponse::ok(&integrations::revoke(store, actor, &kind, &principal).await?)
        }
    }
}

#[cfg(test)]
mod tests {
    use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
    use oms_domain::memory::MemoryStore;
    use serde_json::Value;

    use super::*;

    fn event(fixture: &str, edit: impl FnOnce(&mut Value)) -> ApiGatewayV2httpRequest {
        let mut event: Value = serde_json::from_str(fixture).unwrap();
        edit(&mut event);
        serde_json::from_value(event).unwrap()
    }

    async fn call(store: &MemoryStore, fixture: &str, edit: impl FnOnce(&mut Value)) -> (i64, Value) {
        let (status, body, _) = oms_aws::edge::routes::template::answer(route, store, event(fixture, edit)).await;
        (status, body)
    }

    const PUT_HUB: &str = include_str!("../../../events/http/put-hub.json");
    const PUT_SKU: &str = include_str!("../../../events/http/put-sku.json");
    const PUT_STOCK: &str = include_str!("../../../events/http/put-stock.json");
    const ADJUST_STOCK: &str = include_str!("../../../events/http/adjust-stock.json");
    const LIST_STOCK: &str = include_str!("../../../events/http/list-stock.json");
    const LIST_HUBS: &str = include_str!("../../../events/http/list-hubs.json");
    const LIST_SKUS: &str = include_str!("../../../events/http/list-skus.json");
    const PUT_INTEGRATION: &str = include_str!("../../../events/http/put-integration.json");
    const LIST_INTEGRATIONS: &str = include_str!("../../../events/http/list-integrations.json");
    const DELETE_INTEGRATION: &str = include_str!("../../../events/http/delete-integration.json");
    /// A sample of every route.
    const SAMPLES: &[&str] = &[
        PUT_HUB,
        LIST_HUBS,
        PUT_SKU,
        LIST_SKUS,
        PUT_STOCK,
        ADJUST_STOCK,
        LIST_STOCK,
        PUT_INTEGRATION,
        LIST_INTEGRATIONS,
        DELETE_INTEGRATION,
    ];

    #[test]
    fn the_template_routes_here_what_the_enum_serves_and_every_route_has_a_sample() {
        oms_aws::edge::routes::template::assert_template_routes::<Route>(env!("CARGO_PKG_NAME"), SAMPLES);
    }

    #[tokio::test]
    async fn an_admin_registers_lists_and_revokes_the_tenants_integrations() {
        let store = MemoryStore::new();
        let (status, registered) = call(&store, PUT_INTEGRATION, |_| {}).await;
        assert_eq!(
            (status, registered["kind"].as_str(), registered["name"].as_str()),
            (200, Some("wms"), Some("Hai Phong WMS"))
        );
        let (_, listed) = call(&store, LIST_INTEGRATIONS, |_| {}).await;
        assert_eq!(listed["items"][0]["principal"], "111122223333");
        let as_sales = |e: &mut Value| e["requestContext"]["authorizer"]["jwt"]["claims"]["role"] = "sales".into();
        assert_eq!(call(&store, PUT_INTEGRATION, as_sales).await.0, 403);
        assert_eq!(call(&store, LIST_INTEGRATIONS, as_sales).await.0, 403);
        assert_eq!(call(&store, DELETE_INTEGRATION, as_sales).await.0, 403);
        let bad_principal = |e: &mut Value| e["pathParameters"]["principal"] = "a#b".into();
        assert_eq!(call(&store, PUT_INTEGRATION, bad_principal).await.0, 400);
        let (status, revoked) = call(&store, DELETE_INTEGRATION, |_| {}).await;
        assert_eq!((status, revoked["revoked"].as_bool()), (200, Some(true)));
        assert_eq!(call(&store, DELETE_INTEGRATION, |_| {}).await.0, 404, "nothing left to revoke");
        assert_eq!(call(&store, LIST_INTEGRATIONS, |_| {}).await.1["items"], serde_json::json!([]));
    }

    #[tokio::test]
    async fn a_route_the_function_does_not_serve_is_a_500_not_a_client_error() {
        let store = MemoryStore::new();
        let other = |e: &mut Value| {
            e["routeKey"] = "GET /v1/orders".into();
            e["requestContext"]["routeKey"] = "GET /v1/orders".into();
        };
        assert_eq!(call(&store, LIST_HUBS, other).await.0, 500);
    }

    #[tokio::test]
    async fn an_admin_sets_up_hubs_skus_and_stock_and_anyone_reads_them() {
        let store = MemoryStore::new();
        assert_eq!(call(&store, PUT_HUB, |_| {}).await.0, 200);
        assert_eq!(call(&store, PUT_SKU, |_| {}).await.0, 200);
        let (status, level) = call(&store, PUT_STOCK, |_| {}).await;
        assert_eq!((status, level["available"].as_str()), (200, Some("2000")));
        let (status, level) = call(&store, ADJUST_STOCK, |_| {}).await;
        assert_eq!((status, level["on_hand"].as_str()), (200, Some("1987.5")));
        let (_, hubs) = call(&store, LIST_HUBS, |_| {}).await;
        assert_eq!(hubs["items"][0]["type"], "WAREHOUSE");
        let (_, skus) = call(&store, LIST_SKUS, |_| {}).await;
        assert_eq!(skus["items"][0]["tax_rate"], "0.10");
        let (status, stock) = call(&store, LIST_STOCK, |_| {}).await;
        assert_eq!((status, stock["items"][0]["reserved"].as_str()), (200, Some("0")));
    }

    #[tokio::test]
    async fn an_unknown_pair_reads_as_zero() {
        let store = MemoryStore::new();
        let (status, stock) = call(&store, LIST_STOCK, |e| {
            e["queryStringParameters"] = serde_json::json!({"sku": "PP-H1", "hub_id": "NOWHERE"});
        })
        .await;
        assert_eq!(status, 200);
        assert_eq!(
            stock["items"],
            serde_json::json!([{"hub_id": "NOWHERE", "sku": "PP-H1", "on_hand": "0", "reserved": "0", "available": "0"}])
        );
    }

    #[tokio::test]
    async fn sales_cannot_write_stock_and_unknown_hubs_or_skus_are_404() {
        let store = MemoryStore::new();
        let sales =
            call(&store, PUT_HUB, |e| e["requestContext"]["authorizer"]["jwt"]["claims"]["role"] = "sales".into())
                .await;
        assert_eq!(sales.0, 403);
        assert_eq!(call(&store, PUT_STOCK, |_| {}).await.0, 404);
        call(&store, PUT_HUB, |_| {}).await;
        assert_eq!(call(&store, PUT_STOCK, |_| {}).await.1["error"]["message"], "sku not found");
    }

    #[tokio::test]
    async fn a_bad_hub_body_is_400_and_writes_nothing() {
        let store = MemoryStore::new();
        let (status, error) = call(&store, PUT_HUB, |e| e["body"] = r#"{"name": "X", "type": "SHOP"}"#.into()).await;
        assert_eq!(status, 400, "{error}");
        assert_eq!(call(&store, LIST_HUBS, |_| {}).await.1["items"], serde_json::json!([]));
    }

    #[test]
    fn arbitrary_bodies_are_answered_never_a_crash_or_a_500() {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let store = MemoryStore::new();
        runtime.block_on(call(&store, PUT_HUB, |_| {}));
        runtime.block_on(call(&store, PUT_SKU, |_| {}));
        for sample in [PUT_HUB, PUT_SKU, PUT_STOCK, ADJUST_STOCK, PUT_INTEGRATION] {
            oms_domain::arbitrary::check_mutations(oms_domain::arbitrary::body_of(sample), 32, |body| {
                let (status, answer) = runtime.block_on(call(&store, sample, |e| e["body"] = body.to_string().into()));
                (status < 500).then_some(()).ok_or_else(|| format!("{body} -> {status} {answer}"))
            });
        }
    }
}
