//! The order routes but create: reads, edits, the lifecycle actions, holds and manual
//! allocation. Shipments and returns have functions of their own (`shipments-api`,
//! `returns-api`).

use chrono::{DateTime, Utc};
use oms_aws::edge::http::{ApiRequest, ApiResponse};
use oms_aws::edge::routes::Routes;
use oms_domain::ports::Store;
use oms_domain::usecases::orders::{
    allocate_line, cancel_order, confirm_allocation, decide_price, edit_order, get_order, list_orders, order_history,
    parse_order_query, place_hold, release_hold, submit_order,
};
use oms_domain::{AppError, OrderId};

oms_aws::http_routes! {
    /// The routes of `orders-api`.
    pub enum Route {
        /// `GET /v1/orders?status=&customer_id=&from=&to=&q=&limit=&cursor=`.
        ListOrders => "GET /v1/orders",
        /// One order.
        GetOrder => "GET /v1/orders/{id}",
        /// Its status history.
        GetOrderHistory => "GET /v1/orders/{id}/history",
        /// An edit under `If-Match`.
        EditOrder => "PATCH /v1/orders/{id}",
        /// Submit a draft.
        SubmitOrder => "POST /v1/orders/{id}/submit",
        /// A sales manager's decision on the prices.
        ApprovePrice => "POST /v1/orders/{id}/approve-price",
        /// Cancel (admin).
        CancelOrder => "POST /v1/orders/{id}/cancel",
        /// Place a hold.
        PlaceHold => "POST /v1/orders/{id}/holds",
        /// Release a hold.
        ReleaseHold => "POST /v1/orders/{id}/holds/{hold_id}/release",
        /// Manual allocation of a line.
        AllocateLine => "POST /v1/orders/{id}/allocations",
        /// Confirm a manual allocation.
        ConfirmAllocation => "POST /v1/orders/{id}/confirm-allocation",
    }
}

pub async fn route<S: Store>(store: &S, req: ApiRequest, now: DateTime<Utc>) -> Result<ApiResponse, AppError> {
    let actor = &req.actor;
    // Read first on every route that names an order, so a bad id is the answer before anything else.
    let order_id = || req.path::<OrderId>("id");
    match Route::parse(&req.route)? {
        Route::ListOrders => {
            let query = parse_order_query(|name| req.query(name))?;
            ApiResponse::ok(&list_orders(store, actor, query).await?)
        }
        Route::GetOrder => ApiResponse::order(&get_order(store, actor, &order_id()?).await?),
        Route::GetOrderHistory => ApiResponse::items(&order_history(store, actor, &order_id()?).await?),
        Route::EditOrder => {
            let id = order_id()?;
            let version = req.if_match()?;
            ApiResponse::order(&edit_order(store, actor, &id, version, req.json()?, now).await?)
        }
        Route::SubmitOrder => {
            let id = order_id()?;
            let key = req.action_key()?;
            ApiResponse::changed(&submit_order(store, actor, &id, key, now).await?)
        }
        Route::ApprovePrice => {
            let id = order_id()?;
            let (body, key) = req.keyed_json()?;
            ApiResponse::changed(&decide_price(store, actor, &id, body, key, now).await?)
        }
        Route::CancelOrder => {
            let id = order_id()?;
            let (body, key) = req.keyed_json()?;
            ApiResponse::changed(&cancel_order(store, actor, &id, body, key, now).await?)
        }
        Route::PlaceHold => {
            let id = order_id()?;
            let (body, key) = req.keyed_json()?;
            ApiResponse::changed(&place_hold(store, actor, &id, body, key, now).await?)
        }
        Route::ReleaseHold => {
            let id = order_id()?;
            let hold_id = req.path_text("hold_id")?;
            let key = req.action_key()?;
            ApiResponse::changed(&release_hold(store, actor, &id, &hold_id, key, now).await?)
        }
        Route::AllocateLine => {
            let id = order_id()?;
            let (body, key) = req.keyed_json()?;
            ApiResponse::changed(&allocate_line(store, actor, &id, body, key, now).await?)
        }
        Route::ConfirmAllocation => {
            let id = order_id()?;
            let key = req.action_key()?;
            ApiResponse::changed(&confirm_allocation(store, actor, &id, key, now).await?)
        }
    }
}

#[cfg(test)]
mod tests {
    use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
    use oms_domain::catalog::{HubInput, HubType, Location, SkuInput};
    use oms_domain::events::OutboxMessage;
    use oms_domain::memory::MemoryStore;
    use oms_domain::ports::{CatalogStore, StockStore};
    use oms_domain::routing::RoutingWeights;
    use oms_domain::stock::StockChange;
    use oms_domain::usecases::create_order;
    use oms_domain::usecases::placement::{PlacementRequest, plan, reserve};
    use oms_domain::{Actor, Currency, HubId, Role, Sku, TenantId};
    use serde_json::{Value, json};

    use super::*;

    const TENANT: &str = "demo";

    /// A request shaped like the samples in `events/http`, as `role`/`sub` of `tenant`.
    fn request(
        fixture: &str,
        order_id: &str,
        who: (&str, &str, &str),
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> ApiGatewayV2httpRequest {
        let mut event: Value = serde_json::from_str(fixture).unwrap();
        if event.get("pathParameters").is_some() {
            event["pathParameters"]["id"] = order_id.into();
        }
        let claims = &mut event["requestContext"]["authorizer"]["jwt"]["claims"];
        (claims["tenant_id"], claims["role"], claims["sub"]) = (who.0.into(), who.1.into(), who.2.into());
        if let Some(body) = body {
            event["body"] = body.to_string().into();
        }
        for (name, value) in headers {
            event["headers"][*name] = (*value).into();
        }
        serde_json::from_value(event).unwrap()
    }

    const SALES: (&str, &str, &str) = (TENANT, "sales", "dev-sales");
    const MANAGER: (&str, &str, &str) = (TENANT, "sales_manager", "dev-manager");
    const ADMIN: (&str, &str, &str) = (TENANT, "admin", "dev-admin");

    const GET: &str = include_str!("../../../events/http/get-order.json");
    const HISTORY: &str = include_str!("../../../events/http/get-order-history.json");
    const LIST: &str = include_str!("../../../events/http/list-orders.json");
    const EDIT: &str = include_str!("../../../events/http/edit-order.json");
    const SUBMIT: &str = include_str!("../../../events/http/submit-order.json");
    const APPROVE: &str = include_str!("../../../events/http/approve-price.json");
    const CANCEL: &str = include_str!("../../../events/http/cancel-order.json");
    const HOLD: &str = include_str!("../../../events/http/place-hold.json");
    const RELEASE: &str = include_str!("../../../events/http/release-hold.json");
    const ALLOCATE: &str = include_str!("../../../events/http/allocate-line.json");
    const CONFIRM: &str = include_str!("../../../events/http/confirm-allocation.json");
    /// A sample of every route.
    const SAMPLES: &[&str] = &[GET, HISTORY, LIST, EDIT, SUBMIT, APPROVE, CANCEL, HOLD, RELEASE, ALLOCATE, CONFIRM];

    #[test]
    fn the_template_routes_here_what_the_enum_serves_and_every_route_has_a_sample() {
        oms_aws::edge::routes::template::assert_template_routes::<Route>(env!("CARGO_PKG_NAME"), SAMPLES);
    }

    #[tokio::test]
    async fn a_route_the_function_does_not_serve_is_a_500_not_a_client_error() {
        let store = MemoryStore::new();
        let mut event: Value = serde_json::from_str(GET).unwrap();
        event["routeKey"] = "GET /v1/shipments/{shipment_id}".into();
        event["requestContext"]["routeKey"] = "GET /v1/shipments/{shipment_id}".into();
        assert_eq!(call(&store, serde_json::from_value(event).unwrap()).await.0, 500);
    }

    async fn call(store: &MemoryStore, event: ApiGatewayV2httpRequest) -> (i64, Value) {
        let (status, body, _) = oms_aws::edge::routes::template::answer(route, store, event).await;
        (status, body)
    }

    async fn store_with_stock(on_hand: &str) -> MemoryStore {
        let store = MemoryStore::new();
        let tenant = TenantId::parse(TENANT).unwrap();
        let sku = SkuInput {
            name: "PP".into(),
            unit: "KG".into(),
            list_price: "100".parse().unwrap(),
            currency: Currency::Vnd,
            tax_rate: None,
            low_stock_threshold: None,
            channel_items: Default::default(),
            stock_shards: None,
        };
        store.put_sku(&tenant, &sku.into_sku(Sku::parse("PP").unwrap(), Utc::now()).unwrap()).await.unwrap();
        let hub = HubInput {
            name: "HCM".into(),
            hub_type: HubType::Warehouse,
            location: Location { lat: 10.8, lon: 106.6 },
            daily_capacity: 100,
            performance_score: "0.9".parse().unwrap(),
            active: true,
        };
        store.put_hub(&tenant, &hub.into_hub(HubId::parse("HCM").unwrap(), Utc::now()).unwrap()).await.unwrap();
        let change = StockChange::Set(on_hand.parse().unwrap());
        store.change_stock(&tenant, &HubId::parse("HCM").unwrap(), &Sku::parse("PP").unwrap(), change).await.unwrap();
        store
    }

    async fn new_order(store: &MemoryStore, who: (&str, &str, &str), quoted: &str, submit: bool) -> String {
        new_order_with(store, who, quoted, submit, json!({})).await
    }

    /// An order of 10 PP at `quoted`, with the fields of `extra` on top.
    async fn new_order_with(
        store: &MemoryStore,
        who: (&str, &str, &str),
        quoted: &str,
        submit: bool,
        extra: Value,
    ) -> String {
        let actor =
            Actor { sub: who.2.into(), tenant_id: TenantId::parse(who.0).unwrap(), role: Role::parse(who.1).unwrap() };
        let mut body = json!({
            "customer": {"id": "C1", "name": "Nhua ABC", "delivery_address": {"line1": "1 Le Loi", "city": "HCM", "country": "VN"}},
            "external_reference": "PO-77",
            "lines": [{"sku": "PP", "quantity": "10", "quoted_unit_price": quoted}],
            "submit": submit
        });
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let created =
            create_order(store, &actor, serde_json::from_value(body).unwrap(), None, Utc::now()).await.unwrap();
        created.order.order_id().to_string()
    }

    async fn place(store: &MemoryStore, id: &str) {
        let request =
            PlacementRequest { tenant_id: TenantId::parse(TENANT).unwrap(), order_id: OrderId::parse(id).unwrap() };
        let plan = plan(store, &request, RoutingWeights::default()).await.unwrap();
        reserve(store, &plan, Utc::now()).await.unwrap();
    }

    fn event_types(store: &MemoryStore) -> Vec<String> {
        store
            .outbox()
            .iter()
            .filter_map(|m| match m {
                OutboxMessage::Event(e) => Some(e.event.detail_type().to_owned()),
                OutboxMessage::StartWorkflow { .. } => None,
            })
            .collect()
    }

    #[tokio::test]
    async fn the_creator_reads_the_order_and_its_history_others_get_404() {
        let store = store_with_stock("0").await;
        let id = new_order(&store, SALES, "100", false).await;
        let (status, order) = call(&store, request(GET, &id, SALES, None, &[])).await;
        assert_eq!((status, order["order_id"].as_str()), (200, Some(id.as_str())));
        let (_, history) = call(&store, request(HISTORY, &id, SALES, None, &[])).await;
        assert_eq!(history["items"][0]["to"], "DRAFT");
        assert_eq!(call(&store, request(GET, &id, ("rival", "admin", "x"), None, &[])).await.0, 404);
        assert_eq!(call(&store, request(GET, &id, (TENANT, "sales", "colleague"), None, &[])).await.0, 404);
        assert_eq!(call(&store, request(GET, &id, MANAGER, None, &[])).await.0, 200);
    }

    #[tokio::test]
    async fn a_quote_under_list_waits_for_a_manager_who_approves_it() {
        let store = store_with_stock("100").await;
        let id = new_order(&store, SALES, "90", false).await;
        let (status, order) = call(&store, request(SUBMIT, &id, SALES, None, &[])).await;
        assert_eq!((status, order["status"].as_str()), (200, Some("PENDING_PRICE_APPROVAL")));
        let comparison = &order["price_approval"]["lines"][0];
        assert_eq!(
            (
                &comparison["list_unit_price"],
                &comparison["quoted_unit_price"],
                &comparison["difference"],
                &comparison["percent"]
            ),
            (&json!("100"), &json!("90"), &json!("-10"), &json!("-10.00"))
        );
        assert!(event_types(&store).contains(&"PriceApprovalRequested".to_owned()));

        let approve = json!({"approved": true, "notes": "strategic customer"});
        assert_eq!(call(&store, request(APPROVE, &id, SALES, Some(approve.clone()), &[])).await.0, 403);
        assert_eq!(call(&store, request(APPROVE, &id, ADMIN, Some(approve.clone()), &[])).await.0, 403);
        let (status, order) = call(&store, request(APPROVE, &id, MANAGER, Some(approve.clone()), &[])).await;
        assert_eq!((status, order["status"].as_str()), (200, Some("PENDING_ALLOCATION")));
        assert_eq!(order["lines"][0]["approved_unit_price"], "90");
        assert_eq!(order["price_approval"]["decision"]["decided_by"], "dev-manager");
        assert!(store.outbox().iter().any(|m| matches!(m, OutboxMessage::StartWorkflow { .. })), "placement starts");
        assert_eq!(
            call(&store, request(APPROVE, &id, MANAGER, Some(approve), &[])).await.0,
            409,
            "nothing left to approve"
        );
    }

    #[tokio::test]
    async fn a_rejected_quote_is_edited_and_resubmitted() {
        let store = store_with_stock("100").await;
        let id = new_order(&store, SALES, "80", true).await;
        let (_, order) =
            call(&store, request(APPROVE, &id, MANAGER, Some(json!({"approved": false, "notes": "too low"})), &[]))
                .await;
        assert_eq!(order["status"], "PRICE_REJECTED");
        let version = order["version"].to_string();
        let lines = json!({"lines": [{"sku": "PP", "quantity": "10", "quoted_unit_price": "100"}]});
        let (status, edited) = call(&store, request(EDIT, &id, SALES, Some(lines), &[("if-match", &version)])).await;
        assert_eq!((status, edited["totals"]["products"].as_str()), (200, Some("1000")), "{edited}");
        let (_, resubmitted) = call(&store, request(SUBMIT, &id, SALES, None, &[])).await;
        assert_eq!(resubmitted["status"], "PENDING_ALLOCATION");
    }

    #[tokio::test]
    async fn edits_need_the_current_version_and_an_editable_status() {
        let store = store_with_stock("100").await;
        let id = new_order(&store, SALES, "100", true).await;
        let (_, order) = call(&store, request(GET, &id, SALES, None, &[])).await;
        let version = order["version"].to_string();
        let lines = json!({"lines": [{"sku": "PP", "quantity": "1"}]});
        let (status, error) = call(&store, request(EDIT, &id, SALES, Some(lines), &[("if-match", &version)])).await;
        assert_eq!((status, error["error"]["code"].as_str()), (409, Some("not_editable")));
        let (status, _) =
            call(&store, request(EDIT, &id, SALES, Some(json!({"notes": "x"})), &[("if-match", "1")])).await;
        assert_eq!(status, 412);
        let (status, edited) = call(&store, request(EDIT, &id, SALES, None, &[("if-match", &version)])).await;
        assert_eq!((status, edited["notes"].as_str()), (200, Some("Giao hàng buổi sáng")), "the sample's edit");
        assert_eq!(edited["customer"]["contact"]["name"], "Chị Lan");
        let mut no_match: Value = serde_json::from_str(EDIT).unwrap();
        no_match["headers"].as_object_mut().unwrap().remove("if-match");
        no_match["pathParameters"]["id"] = id.clone().into();
        assert_eq!(call(&store, serde_json::from_value(no_match).unwrap()).await.0, 400);
    }

    #[tokio::test]
    async fn cancel_releases_the_reservation_and_is_for_admins_only() {
        let store = store_with_stock("30").await;
        let id = new_order(&store, SALES, "100", true).await;
        place(&store, &id).await;
        let tenant = TenantId::parse(TENANT).unwrap();
        let reserved = || async {
            store.stock_for_skus(&tenant, &[Sku::parse("PP").unwrap()]).await.unwrap()[0].reserved.to_string()
        };
        assert_eq!(reserved().await, "10");
        assert_eq!(call(&store, request(CANCEL, &id, SALES, None, &[])).await.0, 403);
        let (status, order) = call(&store, request(CANCEL, &id, ADMIN, None, &[])).await;
        assert_eq!((status, order["status"].as_str()), (200, Some("CANCELLED")));
        assert_eq!(
            (order["lines"][0]["allocated"].as_str(), order["lines"][0]["cancelled"].as_str()),
            (Some("0"), Some("10"))
        );
        assert_eq!(reserved().await, "0");
        assert!(event_types(&store).contains(&"OrderCancelled".to_owned()));
        assert_eq!(call(&store, request(CANCEL, &id, ADMIN, None, &[])).await.0, 409);
    }

    #[tokio::test]
    async fn holds_are_placed_once_per_code_and_released_once() {
        let store = store_with_stock("30").await;
        let id = new_order(&store, SALES, "100", false).await;
        let (status, order) = call(&store, request(HOLD, &id, ADMIN, None, &[])).await;
        assert_eq!((status, order["on_hold"].as_bool()), (200, Some(true)));
        assert_eq!(call(&store, request(HOLD, &id, ADMIN, None, &[])).await.0, 409, "same code twice");
        assert_eq!(call(&store, request(HOLD, &id, SALES, None, &[])).await.0, 403);
        let fraud = json!({"code": "fraud", "reason": "address mismatch"});
        assert_eq!(call(&store, request(HOLD, &id, ADMIN, Some(fraud), &[])).await.0, 200);
        let (_, order) = call(&store, request(RELEASE, &id, ADMIN, None, &[])).await;
        assert_eq!((order["on_hold"].as_bool(), order["holds"][0]["status"].as_str()), (Some(true), Some("released")));
        assert_eq!(call(&store, request(RELEASE, &id, ADMIN, None, &[])).await.0, 409, "already released");
        let mut second: Value = serde_json::from_str(RELEASE).unwrap();
        second["pathParameters"] = json!({"id": id, "hold_id": "H2"});
        let (_, order) = call(&store, serde_json::from_value(second).unwrap()).await;
        assert_eq!(order["on_hold"], false);
        let mut unknown: Value = serde_json::from_str(RELEASE).unwrap();
        unknown["pathParameters"] = json!({"id": id, "hold_id": "H9"});
        assert_eq!(call(&store, serde_json::from_value(unknown).unwrap()).await.0, 404);
    }

    #[tokio::test]
    async fn a_repeated_submit_with_its_key_replays() {
        let store = store_with_stock("30").await;
        let id = new_order(&store, SALES, "100", false).await;
        let answer = |event| oms_aws::edge::routes::template::answer(route, &store, event);
        let (first, _, _) = answer(request(SUBMIT, &id, SALES, None, &[])).await;
        let (again, _, response) = answer(request(SUBMIT, &id, SALES, None, &[])).await;
        assert_eq!((first, again), (200, 200));
        assert_eq!(response.headers.get("idempotent-replayed").unwrap(), "true");
        let other = new_order(&store, SALES, "100", false).await;
        assert_eq!(call(&store, request(SUBMIT, &other, SALES, None, &[])).await.0, 422, "same key, another order");
    }

    #[tokio::test]
    async fn lists_filter_page_and_show_sales_their_own() {
        let store = store_with_stock("0").await;
        for _ in 0..3 {
            new_order(&store, SALES, "100", true).await;
        }
        new_order(&store, (TENANT, "sales", "colleague"), "100", true).await;
        new_order(&store, SALES, "100", false).await;
        let (status, page) = call(&store, request(LIST, "", MANAGER, None, &[])).await;
        assert_eq!((status, page["items"].as_array().unwrap().len()), (200, 4), "PENDING_ALLOCATION only");

        let mut paged: Value = serde_json::from_str(LIST).unwrap();
        paged["queryStringParameters"] = json!({"limit": "2"});
        let (_, first) = call(&store, request(&paged.to_string(), "", MANAGER, None, &[])).await;
        assert_eq!(first["items"].as_array().unwrap().len(), 2);
        paged["queryStringParameters"]["cursor"] = first["next_cursor"].clone();
        let (_, second) = call(&store, request(&paged.to_string(), "", MANAGER, None, &[])).await;
        paged["queryStringParameters"]["cursor"] = second["next_cursor"].clone();
        let (_, third) = call(&store, request(&paged.to_string(), "", MANAGER, None, &[])).await;
        assert_eq!((third["items"].as_array().unwrap().len(), &third["next_cursor"]), (1, &Value::Null));

        paged["queryStringParameters"] = json!({});
        let (_, own) = call(&store, request(&paged.to_string(), "", SALES, None, &[])).await;
        assert_eq!(own["items"].as_array().unwrap().len(), 4);
        paged["queryStringParameters"] = json!({"q": "po-7"});
        let (_, found) = call(&store, request(&paged.to_string(), "", MANAGER, None, &[])).await;
        assert_eq!(found["items"].as_array().unwrap().len(), 5);
        paged["queryStringParameters"] = json!({"status": "SHIPPING"});
        assert_eq!(call(&store, request(&paged.to_string(), "", MANAGER, None, &[])).await.0, 400);
    }

    #[tokio::test]
    async fn an_admin_allocates_a_manual_order_by_hand_then_confirms_it() {
        let store = store_with_stock("30").await;
        let id = new_order_with(&store, SALES, "100", true, json!({"allocation": "manual"})).await;
        assert_eq!(call(&store, request(CONFIRM, &id, ADMIN, None, &[])).await.0, 409, "nothing allocated yet");
        let six = json!({"order_line_id": "L1", "hub_id": "HCM", "quantity": "6"});
        assert_eq!(call(&store, request(ALLOCATE, &id, SALES, Some(six.clone()), &[])).await.0, 403);
        let (status, order) = call(&store, request(ALLOCATE, &id, ADMIN, Some(six), &[])).await;
        assert_eq!((status, order["lines"][0]["allocated"].as_str()), (200, Some("6")), "{order}");
        let five = json!({"order_line_id": "L1", "hub_id": "HCM", "quantity": "5"});
        let (status, error) = call(&store, request(ALLOCATE, &id, ADMIN, Some(five), &[])).await;
        assert_eq!((status, error["error"]["code"].as_str()), (409, Some("over_allocation")));
        let four = json!({"order_line_id": "L1", "hub_id": "HCM", "quantity": "4"});
        call(&store, request(ALLOCATE, &id, ADMIN, Some(four), &[("idempotency-key", "allocate-4")])).await;
        let (status, order) = call(&store, request(CONFIRM, &id, ADMIN, None, &[])).await;
        assert_eq!((status, order["status"].as_str()), (200, Some("IN_FULFILLMENT")), "{order}");
        let tenant = TenantId::parse(TENANT).unwrap();
        let stock = store.stock_for_skus(&tenant, &[Sku::parse("PP").unwrap()]).await.unwrap();
        assert_eq!(stock[0].reserved.to_string(), "10");
    }

    #[test]
    fn arbitrary_bodies_are_answered_never_a_crash_or_a_500() {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let store = runtime.block_on(store_with_stock("100"));
        let draft = runtime.block_on(new_order(&store, SALES, "90", false));
        let pending = runtime.block_on(new_order(&store, SALES, "90", true));
        for (sample, id, who) in [
            (EDIT, &draft, SALES),
            (APPROVE, &pending, MANAGER),
            (CANCEL, &pending, ADMIN),
            (HOLD, &draft, ADMIN),
            (ALLOCATE, &pending, ADMIN),
        ] {
            oms_domain::arbitrary::check_mutations(oms_domain::arbitrary::body_of(sample), 32, |body| {
                let event = request(sample, id, who, Some(body.clone()), &[]);
                let (status, answer) = runtime.block_on(call(&store, event));
                (status < 500).then_some(()).ok_or_else(|| format!("{body} -> {status} {answer}"))
            });
        }
    }
}
