//! Each message is one channel order, taken in only when its sender (the `SenderId` SQS stamps
//! on it) is registered as a channel connector of the order's tenant. A message that cannot be
//! taken in is reported as a batch item failure (the rest of the batch still goes through); the
//! queue retries it and, after its redrive policy's receive count, moves it to the dead-letter
//! queue. The reason is logged with the message id.

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use chrono::{DateTime, Utc};
use oms_aws::edge::http::decode;
use oms_domain::integrations::IntegrationKind;
use oms_domain::ports::Store;
use oms_domain::usecases::channel_intake::{ChannelOrder, Ingested, ingest};
use oms_domain::usecases::integrations::admit;
use oms_domain::{AppError, InvalidCode};

pub async fn handle<S: Store>(store: &S, event: SqsEvent, now: DateTime<Utc>) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for record in event.records {
        let message_id = record.message_id.unwrap_or_default();
        let result = async {
            let body = record.body.as_deref().unwrap_or_default();
            let value = serde_json::from_str(body).map_err(|e| {
                AppError::invalid_with_code(InvalidCode::MalformedBody, "body", format!("not JSON: {e}"))
            })?;
            let order: ChannelOrder = decode(value)?;
            let sender = record.attributes.get("SenderId").map(String::as_str);
            admit(store, IntegrationKind::Channel, sender, &order.tenant_id, &[], now).await?;
            ingest(store, order, now).await
        }
        .await;
        match result {
            Ok(Ingested::Created(order_id)) => tracing::info!(%message_id, %order_id, "channel order taken in"),
            Ok(Ingested::Duplicate) => tracing::info!(%message_id, "channel order already taken in"),
            Err(error) => {
                tracing::warn!(%message_id, %error, "channel order refused; the queue will retry, then dead-letter it");
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = message_id;
                response.batch_item_failures.push(failure);
            }
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use oms_domain::catalog::SkuInput;
    use oms_domain::memory::{MemoryStore, fixtures};
    use oms_domain::ports::{CatalogStore, OrderQuery, OrderStore};
    use oms_domain::{Currency, Sku, TenantId};
    use serde_json::Value;

    use super::*;

    const SAMPLE: &str = include_str!("../../../events/sqs/channel-order.json");

    async fn store() -> MemoryStore {
        let store = MemoryStore::new();
        let tenant = TenantId::parse("demo").unwrap();
        let input = |name: &str, item: &str| SkuInput {
            name: name.into(),
            unit: "KG".into(),
            list_price: "32000".parse().unwrap(),
            currency: Currency::Vnd,
            tax_rate: None,
            low_stock_threshold: None,
            channel_items: [("shopee".to_owned(), item.to_owned())].into(),
            stock_shards: None,
        };
        for (sku, item) in [("PP-H1", "SP-2219934"), ("HDPE-F2", "SP-2219935")] {
            store
                .put_sku(&tenant, &input(sku, item).into_sku(Sku::parse(sku).unwrap(), Utc::now()).unwrap())
                .await
                .unwrap();
        }
        fixtures::register_sample_integrations(&store, &tenant).await;
        store
    }

    #[tokio::test]
    async fn good_messages_go_through_and_a_bad_one_is_reported_alone() {
        let store = store().await;
        let mut event: Value = serde_json::from_str(SAMPLE).unwrap();
        let good = event["Records"][0].clone();
        let mut bad = good.clone();
        bad["messageId"] = "bad-1".into();
        bad["body"] = "{\"tenant_id\": \"demo\"}".into();
        let mut duplicate = good.clone();
        duplicate["messageId"] = "dup-1".into();
        event["Records"] = Value::Array(vec![good, bad, duplicate]);

        let response = handle(&store, serde_json::from_value(event).unwrap(), Utc::now()).await;
        let failed: Vec<_> = response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
        assert_eq!(failed, ["bad-1"]);
        let tenant = TenantId::parse("demo").unwrap();
        let orders = store.list_orders(&tenant, &OrderQuery { limit: 10, ..Default::default() }).await.unwrap();
        assert_eq!(orders.items.len(), 1, "the duplicate made no second order");
    }

    #[test]
    fn arbitrary_messages_are_taken_or_refused_never_a_crash() {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let store = runtime.block_on(store());
        let event: Value = serde_json::from_str(SAMPLE).unwrap();
        let message: Value = serde_json::from_str(event["Records"][0]["body"].as_str().unwrap()).unwrap();
        oms_domain::arbitrary::check_mutations(message, 64, |message| {
            let mut event = event.clone();
            event["Records"][0]["body"] = message.to_string().into();
            let _ = runtime.block_on(handle(&store, serde_json::from_value(event).unwrap(), Utc::now()));
            Ok(())
        });
    }

    #[tokio::test]
    async fn a_connector_is_taken_at_its_word_only_for_its_own_tenants() {
        let store = store().await;
        let other = TenantId::parse("other").unwrap();
        fixtures::register_sample_integrations(&store, &other).await;
        let mut event: Value = serde_json::from_str(SAMPLE).unwrap();
        let good = event["Records"][0].clone();
        let mut stranger = good.clone();
        stranger["messageId"] = "stranger".into();
        stranger["attributes"]["SenderId"] = "AIDASOMEONEELSE0001:session".into();
        let mut anonymous = good.clone();
        anonymous["messageId"] = "anonymous".into();
        anonymous["attributes"].as_object_mut().unwrap().remove("SenderId");
        event["Records"] = Value::Array(vec![stranger, anonymous]);

        let response = handle(&store, serde_json::from_value(event).unwrap(), Utc::now()).await;
        let failed: Vec<_> = response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
        assert_eq!(failed, ["stranger", "anonymous"]);
        for tenant in [TenantId::parse("demo").unwrap(), other] {
            let orders = store.list_orders(&tenant, &OrderQuery { limit: 10, ..Default::default() }).await.unwrap();
            assert!(orders.items.is_empty(), "no order made in {tenant}");
        }
    }
}
