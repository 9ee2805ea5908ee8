//! Verifies the callback's signature over the raw body before reading anything, then applies
//! the shipment status. Answers: 200 (applied, or a repeat/late report that changed nothing),
//! 400 malformed, 401 unsigned/stale/wrong (or an unknown key, or a previous key past its grace),
//! 404 unknown shipment or another tenant's — the body's `tenant_id` or the signing key's tenant,
//! the same answer either way, so a key cannot probe other tenants' shipment ids — and 5xx when
//! storage or the key set could not be read, so the TMS retries and no update is lost.

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use chrono::{DateTime, Utc};
use oms_aws::edge::http::{self, ApiResponse, SignedRequest};
use oms_aws::edge::routes::Routes;
use oms_domain::order::shipment::{ShipmentReport, ShipmentStatus};
use oms_domain::ports::Store;
use oms_domain::usecases::shipments::{CallbackAnswer, CarrierCallback, Reporter, report_shipment};
use oms_domain::{AppError, ConflictCode};

use crate::keys::{KeySource, Signers};

oms_aws::http_routes! {
    /// The route of `tms-webhook`.
    pub enum Route {
        /// The carrier's signed status callback (no JWT).
        TmsCallback => "POST /v1/webhooks/tms",
    }
}

pub async fn handle<S: Store, K: KeySource>(
    store: &S,
    signers: &Signers<K>,
    event: ApiGatewayV2httpRequest,
    now: DateTime<Utc>,
) -> ApiGatewayV2httpResponse {
    http::to_response(receive(store, signers, event, now).await)
}

async fn receive<S: Store, K: KeySource>(
    store: &S,
    signers: &Signers<K>,
    event: ApiGatewayV2httpRequest,
    now: DateTime<Utc>,
) -> Result<ApiResponse, AppError> {
    let request = SignedRequest::from_event(event)?;
    match Route::parse(&request.route)? {
        Route::TmsCallback => callback(store, signers, request, now).await,
    }
}

async fn callback<S: Store, K: KeySource>(
    store: &S,
    signers: &Signers<K>,
    request: SignedRequest,
    now: DateTime<Utc>,
) -> Result<ApiResponse, AppError> {
    let key_tenant = signers.authenticate(request.header("x-tms-signature"), &request.body, now).await?;
    let callback: CarrierCallback = request.json()?;
    let tenant_id = match (key_tenant, callback.tenant_id) {
        (Some(key), Some(claimed)) if key != claimed => return Err(AppError::NotFound("shipment")),
        (key, claimed) => key.or(claimed),
    };
    if callback.event_id.trim().is_empty() || callback.event_id.len() > 200 {
        return Err(AppError::invalid("event_id", "event_id must be 1 to 200 characters"));
    }
    if callback.status == ShipmentStatus::Created {
        return Err(AppError::invalid("status", "status must be ASSIGNED, IN_TRANSIT, DELIVERED or CANCELLED"));
    }
    let report = ShipmentReport {
        status: callback.status,
        occurred_at: callback.occurred_at,
        event_id: Some(callback.event_id),
        tms_order_id: callback.tms_order_id,
    };
    let reporter = Reporter::Carrier { tenant_id };
    let changed = report_shipment(store, reporter, &callback.shipment_id, report, now).await.map_err(|e| match e {
        // Other updates of the order kept winning: a retry will get through.
        AppError::Conflict { code: ConflictCode::ConcurrentUpdate, message } => AppError::Unavailable(message),
        other => other,
    })?;
    let status = changed.order.shipment(&callback.shipment_id).map(|s| s.status);
    ApiResponse::ok(&CallbackAnswer { shipment_id: callback.shipment_id, status, applied: !changed.replayed })
}

#[cfg(test)]
mod tests {
    use aws_lambda_events::encodings::Body;
    use oms_domain::OrderStatus;
    use oms_domain::memory::{MemoryStore, fixtures};
    use oms_domain::order::Order;
    use oms_domain::ports::OrderStore;
    use serde_json::{Value, json};

    use super::*;
    use crate::keys::KeyCache;
    use crate::keys::fake::FakeSource;
    use crate::signature;

    const SECRET: &[u8] = b"oms-local-tms-secret";
    const SAMPLE: &str = include_str!("../../../events/http/tms-webhook.json");

    #[test]
    fn the_template_routes_here_what_the_enum_serves_and_every_route_has_a_sample() {
        oms_aws::edge::routes::template::assert_template_routes::<Route>(env!("CARGO_PKG_NAME"), &[SAMPLE]);
    }
    const DEMO_KEY: &[u8] = b"demo-tms-key-two-000";
    const DEMO_PREVIOUS: &[u8] = b"demo-tms-key-one-000";
    const ACME_KEY: &[u8] = b"acme-tms-key-one-000";

    /// Tenant `demo`: key `demo-2`, rotated from `demo-1` at `rotated_at`; tenant `acme`: `acme-1`.
    fn key_set(rotated_at: DateTime<Utc>) -> FakeSource {
        FakeSource::new(&json!({"keys": [
            {"id": "demo-2", "tenant_id": "demo", "secret": "demo-tms-key-two-000",
             "previous": {"id": "demo-1", "secret": "demo-tms-key-one-000"}, "rotated_at": rotated_at},
            {"id": "acme-1", "tenant_id": "acme", "secret": "acme-tms-key-one-000"},
        ]}))
    }

    fn signers(source: &FakeSource) -> Signers<&FakeSource> {
        Signers::new(
            Some(SECRET.to_vec()),
            Some(KeyCache::new(source, chrono::Duration::minutes(5), chrono::Duration::hours(24))),
        )
    }

    /// The sample event with `body` signed at `at` with the deployment-wide secret (or with
    /// `signature` as the header).
    fn callback(body: &Value, at: DateTime<Utc>, signature: Option<&str>) -> ApiGatewayV2httpRequest {
        let raw = body.to_string();
        let header = signature.map(str::to_owned).unwrap_or_else(|| signature::sign(SECRET, at.timestamp(), &raw));
        event(raw, header)
    }

    /// The sample event with `body` signed now with the tenant key `key_id`.
    fn keyed(body: &Value, key_id: &str, secret: &[u8]) -> ApiGatewayV2httpRequest {
        let raw = body.to_string();
        let header = signature::sign_with_key(key_id, secret, Utc::now().timestamp(), &raw);
        event(raw, header)
    }

    fn event(raw: String, header: String) -> ApiGatewayV2httpRequest {
        let mut event: Value = serde_json::from_str(SAMPLE).unwrap();
        event["headers"]["x-tms-signature"] = header.into();
        event["body"] = raw.into();
        serde_json::from_value(event).unwrap()
    }

    async fn call(store: &MemoryStore, event: ApiGatewayV2httpRequest) -> (i64, Value) {
        call_with(store, &signers(&key_set(Utc::now())), event).await
    }

    async fn call_with(
        store: &MemoryStore,
        signers: &Signers<&FakeSource>,
        event: ApiGatewayV2httpRequest,
    ) -> (i64, Value) {
        let response = handle(store, signers, event, Utc::now()).await;
        let Some(Body::Text(text)) = response.body else { panic!("a text body") };
        (response.status_code, serde_json::from_str(&text).unwrap())
    }

    /// An order of 10 KG shipped from hub H1 of tenant `demo` by a dispatcher.
    async fn shipped() -> (MemoryStore, Order, String) {
        let tenant = oms_domain::TenantId::parse("demo").unwrap();
        let store = MemoryStore::with_catalog(&tenant, "H1", "PP-H1", "10".parse().unwrap()).await;
        let order = fixtures::shipped_order(&store, &tenant, "H1", "PP-H1", "10").await;
        let shipment_id = order.shipments()[0].shipment_id.clone();
        (store, order, shipment_id)
    }

    fn body(shipment_id: &str, event_id: &str, status: &str) -> Value {
        json!({"event_id": event_id, "shipment_id": shipment_id, "status": status, "occurred_at": Utc::now()})
    }

    #[tokio::test]
    async fn signed_callbacks_deliver_and_complete_the_order() {
        let (store, order, shipment) = shipped().await;
        let (status, answer) = call(&store, callback(&body(&shipment, "t1", "IN_TRANSIT"), Utc::now(), None)).await;
        assert_eq!((status, answer["applied"].clone()), (200, json!(true)), "{answer}");
        call(&store, callback(&body(&shipment, "t2", "DELIVERED"), Utc::now(), None)).await;
        let (status, answer) = call(&store, callback(&body(&shipment, "t3", "IN_TRANSIT"), Utc::now(), None)).await;
        assert_eq!(
            (status, answer["applied"].clone(), answer["status"].clone()),
            (200, json!(false), json!("DELIVERED"))
        );
        let now = store.get_order(order.tenant_id(), order.order_id()).await.unwrap().unwrap();
        assert_eq!(now.status(), OrderStatus::Completed);
        let outbox = store.outbox();
        assert!(outbox.iter().any(
            |m| matches!(m, oms_domain::events::OutboxMessage::Event(e) if e.event.detail_type() == "OrderCompleted")
        ));
    }

    #[tokio::test]
    async fn bad_callbacks_are_refused_and_change_nothing() {
        let (store, order, shipment) = shipped().await;
        let good = body(&shipment, "t1", "DELIVERED");
        let mut foreign = good.clone();
        foreign["tenant_id"] = "another".into();
        let cases = [
            (callback(&good, Utc::now(), Some("")), 401),
            (callback(&good, Utc::now(), Some("t=1,v1=abcd")), 401),
            (callback(&good, Utc::now() - chrono::Duration::minutes(10), None), 401),
            (callback(&body("SHP-20991231-0001", "t1", "DELIVERED"), Utc::now(), None), 404),
            (callback(&foreign, Utc::now(), None), 404),
            (callback(&body(&shipment, "t1", "LOST"), Utc::now(), None), 400),
            (callback(&json!({"event_id": "t1"}), Utc::now(), None), 400),
        ];
        for (event, expected) in cases {
            let (status, answer) = call(&store, event).await;
            assert_eq!(status, expected, "{answer}");
        }
        let now = store.get_order(order.tenant_id(), order.order_id()).await.unwrap().unwrap();
        assert_eq!(now, order);
    }

    #[tokio::test]
    async fn a_tenant_key_reaches_its_tenants_shipments_only_and_refusals_write_nothing() {
        let (store, order, shipment) = shipped().await;
        let source = key_set(Utc::now());
        let signers = signers(&source);
        let good = body(&shipment, "k1", "IN_TRANSIT");
        let mut claims_acme = good.clone();
        claims_acme["tenant_id"] = "acme".into();
        let cases = [
            (keyed(&good, "acme-1", ACME_KEY), 404), // another tenant's key: as if unknown
            (keyed(&claims_acme, "demo-2", DEMO_KEY), 404), // the body claims another tenant
            (keyed(&good, "acme-1", DEMO_KEY), 401), // demo's secret under acme's id
            (keyed(&good, "nobody-1", DEMO_KEY), 401), // unknown key id
            (keyed(&body("SHP-20991231-0001", "k1", "IN_TRANSIT"), "demo-2", DEMO_KEY), 404),
        ];
        let outbox_before = store.outbox().len();
        for (event, expected) in cases {
            let (status, answer) = call_with(&store, &signers, event).await;
            assert_eq!(status, expected, "{answer}");
        }
        assert_eq!(store.get_order(order.tenant_id(), order.order_id()).await.unwrap().unwrap(), order);
        assert_eq!(store.outbox().len(), outbox_before, "no event either");
        let (status, answer) = call_with(&store, &signers, keyed(&good, "demo-2", DEMO_KEY)).await;
        assert_eq!((status, answer["applied"].clone()), (200, json!(true)), "{answer}");
    }

    #[tokio::test]
    async fn the_previous_key_works_during_its_grace_and_is_refused_after_it() {
        let (store, order, shipment) = shipped().await;
        let late = key_set(Utc::now() - chrono::Duration::hours(25));
        let (status, _) =
            call_with(&store, &signers(&late), keyed(&body(&shipment, "p1", "IN_TRANSIT"), "demo-1", DEMO_PREVIOUS))
                .await;
        assert_eq!(status, 401, "past the grace");
        assert_eq!(store.get_order(order.tenant_id(), order.order_id()).await.unwrap().unwrap(), order);
        let rotating = key_set(Utc::now() - chrono::Duration::hours(1));
        let (status, answer) = call_with(
            &store,
            &signers(&rotating),
            keyed(&body(&shipment, "p2", "IN_TRANSIT"), "demo-1", DEMO_PREVIOUS),
        )
        .await;
        assert_eq!((status, answer["applied"].clone()), (200, json!(true)), "{answer}");
    }

    #[test]
    fn arbitrary_signed_bodies_are_answered_never_a_crash_or_a_500() {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let (store, _, shipment_id) = runtime.block_on(shipped());
        oms_domain::arbitrary::check_mutations(body(&shipment_id, "tms-1", "IN_TRANSIT"), 64, |body| {
            let (status, answer) = runtime.block_on(call(&store, callback(&body, Utc::now(), None)));
            (status < 500).then_some(()).ok_or_else(|| format!("{body} -> {status} {answer}"))
        });
    }
}
