//! Two triggers, one use case: an EventBridge event (`detail-type` present) is the warehouse's
//! `ReturnReceived`, applied only when its sender is registered for the event's tenant — a
//! refusal fails the invocation with the reason, so Lambda's retries and the dead-letter queue
//! keep it for a person; anything else is the HTTP route, answered with a status code.

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::eventbridge::EventBridgeEvent;
use chrono::{DateTime, Utc};
use oms_aws::edge::http::{self, ApiRequest, ApiResponse};
use oms_aws::edge::inbound::admit_event;
use oms_aws::edge::routes::Routes;
use oms_aws::edge::task::TaskError;
use oms_domain::AppError;
use oms_domain::integrations::IntegrationKind;
use oms_domain::ports::Store;
use oms_domain::usecases::returns::{receive_return, return_received};
use oms_domain::usecases::wms::Applied;
use serde_json::Value;

oms_aws::http_routes! {
    /// The HTTP route of `return-receive` (its other trigger is the warehouse's event).
    pub enum Route {
        /// A counter clerk records returned goods.
        ReceiveReturn => "POST /v1/returns/{return_id}/receive",
    }
}

pub async fn handle<S: Store>(store: &S, payload: Value, now: DateTime<Utc>) -> Result<Value, TaskError> {
    let unreadable = |e: serde_json::Error| TaskError(AppError::invalid("event", format!("not a known trigger: {e}")));
    if payload.get("detail-type").is_some() {
        let event: EventBridgeEvent = serde_json::from_value(payload).map_err(unreadable)?;
        warehouse(store, event, now).await?;
        return Ok(Value::Null);
    }
    let request: ApiGatewayV2httpRequest = serde_json::from_value(payload).map_err(unreadable)?;
    serde_json::to_value(counter(store, request, now).await).map_err(|e| TaskError(AppError::Unexpected(e.into())))
}

async fn warehouse<S: Store>(store: &S, event: EventBridgeEvent, now: DateTime<Utc>) -> Result<(), TaskError> {
    if event.detail_type != "ReturnReceived" {
        let unknown = format!("no handler for {}", event.detail_type);
        return Err(AppError::invalid("detail-type", unknown).into());
    }
    admit_event(store, IntegrationKind::Wms, &event, now).await?;
    match return_received(store, http::decode(event.detail)?, now).await? {
        Applied::Changed => tracing::info!(id = ?event.id, "return received"),
        Applied::Ignored => tracing::info!(id = ?event.id, "repeat; ignored"),
    }
    Ok(())
}

async fn counter<S: Store>(
    store: &S,
    request: ApiGatewayV2httpRequest,
    now: DateTime<Utc>,
) -> ApiGatewayV2httpResponse {
    http::respond(request, |req: ApiRequest| async move {
        match Route::parse(&req.route)? {
            Route::ReceiveReturn => {
                let return_id = req.path_text("return_id")?;
                let (body, key) = req.keyed_json()?;
                let changed = receive_return(store, &req.actor, &return_id, body, key, now).await?;
                ApiResponse::ok(&changed.order.return_view(&return_id).ok_or(AppError::NotFound("return"))?)
            }
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use oms_domain::kernel::access::{Actor, Role};
    use oms_domain::memory::{MemoryStore, fixtures};
    use oms_domain::ports::{OrderStore, StockStore};
    use oms_domain::stock::StockFilter;
    use oms_domain::usecases::returns::{approve_return, create_return};
    use oms_domain::{Order, TenantId};
    use serde_json::json;

    use super::*;

    const EVENT: &str = include_str!("../../../events/wms/return-received.json");
    const ROUTE: &str = include_str!("../../../events/http/receive-return.json");

    #[test]
    fn the_template_routes_here_what_the_enum_serves_and_every_route_has_a_sample() {
        oms_aws::edge::routes::template::assert_template_routes::<Route>(env!("CARGO_PKG_NAME"), &[ROUTE]);
    }

    /// 10 KG shipped from H1 of tenant `demo`, and an approved return of 4 of them.
    async fn approved_return() -> (MemoryStore, Order, String) {
        let tenant = TenantId::parse("demo").unwrap();
        let store = MemoryStore::with_catalog(&tenant, "H1", "PP-H1", "10".parse().unwrap()).await;
        let order = fixtures::shipped_order(&store, &tenant, "H1", "PP-H1", "10").await;
        let manager = Actor { sub: "m".into(), tenant_id: tenant, role: Role::SalesManager };
        let rma =
            serde_json::from_value(json!({"lines": [{"order_line_id": "L1", "quantity": "4", "reason": "cracked"}]}));
        let order =
            create_return(&store, &manager, order.order_id(), rma.unwrap(), None, Utc::now()).await.unwrap().order;
        let return_id = order.returns()[0].return_id.clone();
        let order = approve_return(&store, &manager, &return_id, None, Utc::now()).await.unwrap().order;
        fixtures::register_sample_integrations(&store, order.tenant_id()).await;
        (store, order, return_id)
    }

    #[tokio::test]
    async fn the_warehouse_event_restocks_once() {
        let (store, order, return_id) = approved_return().await;
        let mut event: Value = serde_json::from_str(EVENT).unwrap();
        event["detail"]["return_id"] = return_id.into();
        for _ in 0..3 {
            handle(&store, event.clone(), Utc::now()).await.unwrap();
        }
        let levels = store.list_stock(order.tenant_id(), &StockFilter::default()).await.unwrap();
        assert_eq!(levels[0].on_hand.to_string(), "3", "10 in, 10 shipped, 3 restocked once");
        let now = store.get_order(order.tenant_id(), order.order_id()).await.unwrap().unwrap();
        assert_eq!(now.lines()[0].returned.to_string(), "3");
    }

    #[tokio::test]
    async fn the_counter_route_answers_with_status_codes() {
        let (store, _, return_id) = approved_return().await;
        let mut request: Value = serde_json::from_str(ROUTE).unwrap();
        request["pathParameters"]["return_id"] = return_id.into();
        let too_many = json!({"lines": [{"order_line_id": "L1", "quantity_received": "5", "quantity_accepted": "5",
                                         "quantity_rejected": "0", "disposition": "restock"}]});
        request["body"] = too_many.to_string().into();
        let answer = handle(&store, request.clone(), Utc::now()).await.unwrap();
        assert_eq!(answer["statusCode"], 409, "{answer}");
        request["requestContext"]["authorizer"]["jwt"]["claims"]["role"] = "sales".into();
        assert_eq!(handle(&store, request, Utc::now()).await.unwrap()["statusCode"], 403);
    }

    #[tokio::test]
    async fn quantities_too_large_to_add_up_are_refused_never_a_crash() {
        let (store, order, return_id) = approved_return().await;
        let huge = "79228162514264337593543950";
        let mut request: Value = serde_json::from_str(ROUTE).unwrap();
        request["pathParameters"]["return_id"] = return_id.clone().into();
        let body = json!({"lines": [{"order_line_id": "L1", "quantity_received": huge, "quantity_accepted": huge,
                                     "quantity_rejected": "0", "disposition": "restock"}]});
        request["body"] = body.to_string().into();
        let answer = handle(&store, request, Utc::now()).await.unwrap();
        assert_eq!(answer["statusCode"], 400, "{answer}");

        let mut event: Value = serde_json::from_str(EVENT).unwrap();
        event["detail"]["return_id"] = return_id.into();
        event["detail"]["lines"][0]["quantity_received"] = huge.into();
        event["detail"]["lines"][0]["quantity_accepted"] = huge.into();
        assert!(handle(&store, event, Utc::now()).await.is_err(), "the event is refused (dead-lettered)");
        let now = store.get_order(order.tenant_id(), order.order_id()).await.unwrap().unwrap();
        assert_eq!((now.version(), now.lines()[0].returned.to_string()), (order.version(), "0".to_owned()));
    }

    #[test]
    fn arbitrary_receipts_are_answered_or_refused_never_a_crash_or_a_500() {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let (store, _, return_id) = runtime.block_on(approved_return());
        let mut route: Value = serde_json::from_str(ROUTE).unwrap();
        route["pathParameters"]["return_id"] = return_id.clone().into();
        oms_domain::arbitrary::check_mutations(oms_domain::arbitrary::body_of(ROUTE), 48, |body| {
            let mut request = route.clone();
            request["body"] = body.to_string().into();
            let answer = runtime.block_on(handle(&store, request, Utc::now())).map_err(|e| format!("{e:?}"))?;
            let status = answer["statusCode"].as_i64().unwrap_or(0);
            (status < 500).then_some(()).ok_or_else(|| format!("{body} -> {answer}"))
        });
        let mut event: Value = serde_json::from_str(EVENT).unwrap();
        event["detail"]["return_id"] = return_id.into();
        oms_domain::arbitrary::check_mutations(event["detail"].clone(), 48, |detail| {
            let mut event = event.clone();
            event["detail"] = detail;
            // Refused events are errors (Lambda retries, then dead-letters them): only a crash fails.
            let _ = runtime.block_on(handle(&store, event, Utc::now()));
            Ok(())
        });
    }

    #[tokio::test]
    async fn a_receipt_from_a_sender_not_registered_for_the_tenant_changes_nothing() {
        let (store, order, return_id) = approved_return().await;
        let mut event: Value = serde_json::from_str(EVENT).unwrap();
        event["detail"]["return_id"] = return_id.into();
        event["account"] = "999988887777".into();
        let err = handle(&store, event, Utc::now()).await.unwrap_err();
        assert_eq!(err.name(), "Forbidden");
        assert!(err.0.to_string().contains("999988887777 is not registered for tenant demo"), "{}", err.0);
        let now = store.get_order(order.tenant_id(), order.order_id()).await.unwrap().unwrap();
        assert_eq!(now.version(), order.version(), "nothing applied");
    }
}
