//! Dispatches a WMS event to its use case by `detail-type`, once its sender is known to act for
//! the event's tenant and its times are not in the future. A refused event fails the invocation
//! with the reason, so Lambda's retries and the function's failure destination (a dead-letter
//! queue) keep it for a person.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use chrono::{DateTime, Utc};
use oms_aws::edge::http::decode;
use oms_aws::edge::inbound::admit_event;
use oms_aws::edge::task::TaskError;
use oms_domain::AppError;
use oms_domain::integrations::IntegrationKind;
use oms_domain::ports::Store;
use oms_domain::usecases::wms::{
    Applied, fulfillment_accepted, pack_completed, pick_completed, ship_completed, stock_adjusted,
};

pub async fn handle<S: Store>(store: &S, event: EventBridgeEvent, now: DateTime<Utc>) -> Result<(), TaskError> {
    admit_event(store, IntegrationKind::Wms, &event, now).await?;
    let sent_at = event.time.unwrap_or(now);
    let applied = match event.detail_type.as_str() {
        "StockAdjusted" => stock_adjusted(store, decode(event.detail)?, sent_at).await?,
        "FulfillmentAccepted" => fulfillment_accepted(store, decode(event.detail)?, now).await?,
        "PickCompleted" => pick_completed(store, decode(event.detail)?, now).await?,
        "PackCompleted" => pack_completed(store, decode(event.detail)?, now).await?,
        "ShipCompleted" => ship_completed(store, decode(event.detail)?, now).await?,
        other => return Err(AppError::invalid("detail-type", format!("no handler for WMS event {other}")).into()),
    };
    match applied {
        Applied::Changed => tracing::info!(detail_type = %event.detail_type, id = ?event.id, "applied"),
        Applied::Ignored => {
            tracing::info!(detail_type = %event.detail_type, id = ?event.id, "repeat or stale; ignored")
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use oms_domain::memory::{MemoryStore, fixtures};
    use oms_domain::ports::StockStore;
    use oms_domain::stock::StockFilter;
    use oms_domain::{InvalidCode, TenantId};

    use super::*;

    const SAMPLE: &str = include_str!("../../../events/wms/stock-adjusted.json");

    #[tokio::test]
    async fn the_sample_count_applies_once() {
        let tenant = TenantId::parse("demo").unwrap();
        let store = MemoryStore::with_catalog(&tenant, "HCM-WH1", "PP-H1", 0.into()).await;
        fixtures::register_sample_integrations(&store, &tenant).await;
        for _ in 0..2 {
            handle(&store, serde_json::from_str(SAMPLE).unwrap(), Utc::now()).await.unwrap();
        }
        let levels = store.list_stock(&tenant, &StockFilter::default()).await.unwrap();
        assert_eq!(levels[0].on_hand.to_string(), "1850");

        let mut unknown: serde_json::Value = serde_json::from_str(SAMPLE).unwrap();
        unknown["detail"]["sku"] = "NOPE".into();
        let err = handle(&store, serde_json::from_value(unknown).unwrap(), Utc::now()).await.unwrap_err();
        assert_eq!(err.name(), "InvalidInput");
    }

    #[tokio::test]
    async fn fulfillment_samples_reach_their_use_case() {
        // The samples name a request of an order this store does not have: each is routed,
        // decoded and refused for that reason (and would go to the dead-letter queue).
        let samples = [
            include_str!("../../../events/wms/fulfillment-accepted.json"),
            include_str!("../../../events/wms/pick-completed.json"),
            include_str!("../../../events/wms/pack-completed.json"),
            include_str!("../../../events/wms/ship-completed.json"),
        ];
        let store = MemoryStore::new();
        fixtures::register_sample_integrations(&store, &TenantId::parse("demo").unwrap()).await;
        for sample in samples {
            let err = handle(&store, serde_json::from_str(sample).unwrap(), Utc::now()).await.unwrap_err();
            assert!(
                matches!(err.0, AppError::Invalid { code: InvalidCode::UnknownFulfillmentRequest, .. }),
                "{:?}",
                err.0
            );
        }
    }

    #[test]
    fn arbitrary_details_are_applied_or_refused_never_a_crash() {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let tenant = TenantId::parse("demo").unwrap();
        let store = runtime.block_on(MemoryStore::with_catalog(&tenant, "HCM-WH1", "PP-H1", "10".parse().unwrap()));
        runtime.block_on(fixtures::register_sample_integrations(&store, &tenant));
        for sample in [
            SAMPLE,
            include_str!("../../../events/wms/pick-completed.json"),
            include_str!("../../../events/wms/pack-completed.json"),
            include_str!("../../../events/wms/ship-completed.json"),
        ] {
            let event: serde_json::Value = serde_json::from_str(sample).unwrap();
            oms_domain::arbitrary::check_mutations(event["detail"].clone(), 32, |detail| {
                let mut event = event.clone();
                event["detail"] = detail;
                // A refused event is an error (retried, then dead-lettered): only a crash fails.
                let _ = runtime.block_on(handle(&store, serde_json::from_value(event).unwrap(), Utc::now()));
                Ok(())
            });
        }
    }

    #[tokio::test]
    async fn an_event_for_a_tenant_its_sender_may_not_act_for_changes_nothing() {
        let tenant = TenantId::parse("demo").unwrap();
        let store = MemoryStore::with_catalog(&tenant, "HCM-WH1", "PP-H1", "10".parse().unwrap()).await;
        let on_hand = || async { store.list_stock(&tenant, &StockFilter::default()).await.unwrap()[0].on_hand };
        let before = on_hand().await;

        // Registered for no tenant yet, then for another tenant only.
        let refused = handle(&store, serde_json::from_str(SAMPLE).unwrap(), Utc::now()).await.unwrap_err();
        assert_eq!(refused.name(), "Forbidden");
        assert!(refused.0.to_string().contains("not registered for tenant demo"), "{}", refused.0);
        fixtures::register_sample_integrations(&store, &TenantId::parse("other").unwrap()).await;
        let mut unsigned: serde_json::Value = serde_json::from_str(SAMPLE).unwrap();
        unsigned.as_object_mut().unwrap().remove("account");
        for event in [serde_json::from_str(SAMPLE).unwrap(), unsigned] {
            let err = handle(&store, serde_json::from_value(event).unwrap(), Utc::now()).await.unwrap_err();
            assert_eq!(err.name(), "Forbidden", "{}", err.0);
        }
        assert_eq!(on_hand().await, before, "nothing applied");
    }

    #[tokio::test]
    async fn a_count_from_the_future_is_refused_and_freezes_nothing() {
        let tenant = TenantId::parse("demo").unwrap();
        let store = MemoryStore::with_catalog(&tenant, "HCM-WH1", "PP-H1", "10".parse().unwrap()).await;
        fixtures::register_sample_integrations(&store, &tenant).await;
        let now = Utc::now();
        let count = |on_hand: &str, occurred_at: DateTime<Utc>, time: DateTime<Utc>| {
            let mut event: serde_json::Value = serde_json::from_str(SAMPLE).unwrap();
            event["detail"]["hub_id"] = "HCM-WH1".into();
            event["detail"]["on_hand"] = on_hand.into();
            event["detail"]["occurred_at"] = occurred_at.to_rfc3339().into();
            event["time"] = time.to_rfc3339().into();
            serde_json::from_value::<EventBridgeEvent>(event).unwrap()
        };
        let far = now + chrono::Duration::days(3650);
        for forged in [count("999", far, now), count("999", now, far)] {
            let err = handle(&store, forged, now).await.unwrap_err();
            assert!(matches!(err.0, AppError::Invalid { code: InvalidCode::OccurredInFuture, .. }), "{:?}", err.0);
        }
        handle(&store, count("7", now, now), now).await.unwrap();
        let level = store.list_stock(&tenant, &StockFilter::default()).await.unwrap();
        assert_eq!(level[0].on_hand.to_string(), "7", "the honest count after the forged ones applies");
    }
}
