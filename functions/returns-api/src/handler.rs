//! The return routes: open an RMA for shipped lines, read it, approve or reject it, confirm its
//! refund, close it. Receiving the goods is `return-receive`'s (the warehouse's event and the
//! counter route).

use chrono::{DateTime, Utc};
use oms_aws::edge::http::{self, ApiRequest, ApiResponse};
use oms_aws::edge::routes::Routes;
use oms_domain::order::Order;
use oms_domain::ports::Store;
use oms_domain::usecases::IdempotencyKey;
use oms_domain::usecases::returns::{
    approve_return, close_return, confirm_refund, create_return, get_return, reject_return,
};
use oms_domain::{AppError, OrderId};
use serde_json::Value;

oms_aws::http_routes! {
    /// The routes of `returns-api`.
    pub enum Route {
        /// Open an RMA for shipped lines of an order.
        CreateReturn => "POST /v1/orders/{id}/returns",
        /// One return, with its order's id and number.
        GetReturn => "GET /v1/returns/{return_id}",
        /// A manager approves: the warehouse may expect the goods.
        ApproveReturn => "POST /v1/returns/{return_id}/approve",
        /// A manager refuses, with the reason.
        RejectReturn => "POST /v1/returns/{return_id}/reject",
        /// The refund was paid.
        ConfirmRefund => "POST /v1/returns/{return_id}/confirm-refund",
        /// Done.
        CloseReturn => "POST /v1/returns/{return_id}/close",
    }
}

fn return_response(order: &Order, return_id: &str) -> Result<ApiResponse, AppError> {
    ApiResponse::ok(&order.return_view(return_id).ok_or(AppError::NotFound("return"))?)
}

/// What an action on a return is called with: the return, its body (optional: approve and
/// close take none) and the caller's key bound to both.
struct ReturnAction {
    return_id: String,
    body: Value,
    key: Option<IdempotencyKey>,
}

impl ReturnAction {
    fn of(req: &ApiRequest) -> Result<Self, AppError> {
        let return_id = req.path_text("return_id")?;
        let body = req.optional_json_value()?;
        let key = req.idempotency_key(&body)?;
        Ok(Self { return_id, body, key })
    }
}

pub async fn route<S: Store>(store: &S, req: ApiRequest, now: DateTime<Utc>) -> Result<ApiResponse, AppError> {
    let actor = &req.actor;
    let (changed, return_id) = match Route::parse(&req.route)? {
        Route::CreateReturn => {
            let id: OrderId = req.path("id")?;
            let (body, key) = req.keyed_json()?;
            let changed = create_return(store, actor, &id, body, key, now).await?;
            if changed.replayed {
                return ApiResponse::changed(&changed);
            }
            let rma = changed.order.returns().last().ok_or_else(|| AppError::unexpected("no return made"))?;
            return ApiResponse::created_in(&changed.order, format!("/v1/returns/{}", rma.return_id));
        }
        Route::GetReturn => {
            let return_id = req.path_text("return_id")?;
            return return_response(&get_return(store, actor, &return_id).await?, &return_id);
        }
        Route::ApproveReturn => {
            let ReturnAction { return_id, key, .. } = ReturnAction::of(&req)?;
            (approve_return(store, actor, &return_id, key, now).await?, return_id)
        }
        Route::RejectReturn => {
            let ReturnAction { return_id, body, key } = ReturnAction::of(&req)?;
            (reject_return(store, actor, &return_id, http::decode(body)?, key, now).await?, return_id)
        }
        Route::ConfirmRefund => {
            let ReturnAction { return_id, body, key } = ReturnAction::of(&req)?;
            (confirm_refund(store, actor, &return_id, http::decode(body)?, key, now).await?, return_id)
        }
        Route::CloseReturn => {
            let ReturnAction { return_id, key, .. } = ReturnAction::of(&req)?;
            (close_return(store, actor, &return_id, key, now).await?, return_id)
        }
    };
    return_response(&changed.order, &return_id)
}

#[cfg(test)]
mod tests {
    use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
    use oms_domain::TenantId;
    use oms_domain::kernel::access::{Actor, Role};
    use oms_domain::memory::{MemoryStore, fixtures};
    use oms_domain::usecases::returns::receive_return;
    use serde_json::json;

    use oms_aws::edge::routes::template::sample_request as request;

    use super::*;

    const CREATE: &str = include_str!("../../../events/http/create-return.json");
    const GET: &str = include_str!("../../../events/http/get-return.json");
    const APPROVE: &str = include_str!("../../../events/http/approve-return.json");
    const REJECT: &str = include_str!("../../../events/http/reject-return.json");
    const CONFIRM_REFUND: &str = include_str!("../../../events/http/confirm-refund.json");
    const CLOSE: &str = include_str!("../../../events/http/close-return.json");
    /// A sample of every route.
    const SAMPLES: &[&str] = &[CREATE, GET, APPROVE, REJECT, CONFIRM_REFUND, CLOSE];

    #[test]
    fn the_template_routes_here_what_the_enum_serves_and_every_route_has_a_sample() {
        oms_aws::edge::routes::template::assert_template_routes::<Route>(env!("CARGO_PKG_NAME"), SAMPLES);
    }

    async fn call(store: &MemoryStore, event: ApiGatewayV2httpRequest) -> (i64, Value, ApiGatewayV2httpResponse) {
        oms_aws::edge::routes::template::answer(route, store, event).await
    }

    /// 10 KG of PP-H1 shipped from H1 to a customer of tenant `demo`.
    async fn shipped() -> (MemoryStore, String) {
        let tenant = TenantId::parse("demo").unwrap();
        let store = MemoryStore::with_catalog(&tenant, "H1", "PP-H1", "10".parse().unwrap()).await;
        let order = fixtures::shipped_order(&store, &tenant, "H1", "PP-H1", "10").await;
        (store, order.order_id().to_string())
    }

    /// Opens a return of the sample's 4 KG; its id.
    async fn opened(store: &MemoryStore, order_id: &str) -> String {
        let (status, order, _) = call(store, request(CREATE, "id", order_id, None, None)).await;
        assert_eq!(status, 201, "{order}");
        order["returns"][0]["return_id"].as_str().unwrap().to_owned()
    }

    #[tokio::test]
    async fn a_return_is_opened_once_per_key_and_read_by_its_tenant_only() {
        let (store, order_id) = shipped().await;
        assert_eq!(call(&store, request(CREATE, "id", &order_id, Some("dispatcher"), None)).await.0, 403);
        let (status, order, response) = call(&store, request(CREATE, "id", &order_id, None, None)).await;
        assert_eq!(status, 201, "{order}");
        let return_id = order["returns"][0]["return_id"].as_str().unwrap();
        assert_eq!(order["returns"][0]["status"], "requested");
        assert_eq!(response.headers.get("location").unwrap().to_str().unwrap(), format!("/v1/returns/{return_id}"));
        let (status, again, response) = call(&store, request(CREATE, "id", &order_id, None, None)).await;
        assert_eq!((status, again["returns"].as_array().unwrap().len()), (200, 1), "the sample's key replays");
        assert_eq!(response.headers.get("idempotent-replayed").unwrap(), "true");
        let too_many = json!({"lines": [{"order_line_id": "L1", "quantity": "11", "reason": "x"}]});
        assert_eq!(call(&store, request(CREATE, "id", &order_id, None, Some(too_many))).await.0, 409);

        let (status, view, _) = call(&store, request(GET, "return_id", return_id, None, None)).await;
        assert_eq!(
            (status, view["order_id"].as_str(), view["lines"][0]["quantity"].as_str()),
            (200, Some(order_id.as_str()), Some("4"))
        );
        let mut rival: Value = serde_json::from_str(GET).unwrap();
        rival["pathParameters"]["return_id"] = return_id.into();
        rival["requestContext"]["authorizer"]["jwt"]["claims"]["tenant_id"] = "rival".into();
        assert_eq!(call(&store, serde_json::from_value(rival).unwrap()).await.0, 404);
    }

    #[tokio::test]
    async fn a_manager_rejects_or_approves_and_a_received_return_is_refunded_then_closed() {
        let (store, order_id) = shipped().await;
        let rejected = opened(&store, &order_id).await;
        assert_eq!(call(&store, request(REJECT, "return_id", &rejected, Some("sales"), None)).await.0, 403);
        let (status, view, _) = call(&store, request(REJECT, "return_id", &rejected, None, None)).await;
        assert_eq!(
            (status, view["status"].as_str(), view["rejection_reason"].as_str()),
            (200, Some("rejected"), Some("outside the 30-day window"))
        );
        assert_eq!(
            call(&store, request(APPROVE, "return_id", &rejected, None, None)).await.0,
            409,
            "rejected is final"
        );

        let mut second: Value = serde_json::from_str(CREATE).unwrap();
        second["pathParameters"]["id"] = order_id.clone().into();
        second["headers"]["idempotency-key"] = "return-order-2".into();
        let (_, order, _) = call(&store, serde_json::from_value(second).unwrap()).await;
        let return_id = order["returns"][1]["return_id"].as_str().unwrap().to_owned();
        let (status, view, _) = call(&store, request(APPROVE, "return_id", &return_id, None, None)).await;
        assert_eq!((status, view["status"].as_str()), (200, Some("approved")));
        assert_eq!(
            call(&store, request(CONFIRM_REFUND, "return_id", &return_id, None, None)).await.0,
            409,
            "nothing received"
        );

        let clerk =
            Actor { sub: "clerk".into(), tenant_id: TenantId::parse("demo").unwrap(), role: Role::SalesManager };
        let received = json!({"lines": [{"order_line_id": "L1", "quantity_received": "4", "quantity_accepted": "4",
                                         "quantity_rejected": "0", "disposition": "restock"}]});
        receive_return(&store, &clerk, &return_id, serde_json::from_value(received).unwrap(), None, Utc::now())
            .await
            .unwrap();
        assert_eq!(
            call(&store, request(CLOSE, "return_id", &return_id, None, None)).await.0,
            409,
            "the refund is owed"
        );
        let (status, view, _) = call(&store, request(CONFIRM_REFUND, "return_id", &return_id, None, None)).await;
        assert_eq!((status, view["status"].as_str()), (200, Some("refunded")), "{view}");
        assert_eq!(view["refund"]["reference"], "VCB-TRF-20261125-0042");
        let (status, view, _) = call(&store, request(CLOSE, "return_id", &return_id, None, None)).await;
        assert_eq!((status, view["status"].as_str()), (200, Some("closed")));
    }

    #[test]
    fn arbitrary_bodies_are_answered_never_a_crash_or_a_500() {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let (store, order_id) = runtime.block_on(shipped());
        let return_id = runtime.block_on(opened(&store, &order_id));
        for (sample, name, value) in [
            (CREATE, "id", order_id.as_str()),
            (REJECT, "return_id", return_id.as_str()),
            (CONFIRM_REFUND, "return_id", return_id.as_str()),
        ] {
            oms_domain::arbitrary::check_mutations(oms_domain::arbitrary::body_of(sample), 32, |body| {
                let event = request(sample, name, value, None, Some(body.clone()));
                let (status, answer, _) = runtime.block_on(call(&store, event));
                (status < 500).then_some(()).ok_or_else(|| format!("{body} -> {status} {answer}"))
            });
        }
    }
}
