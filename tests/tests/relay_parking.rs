//! Parking against DynamoDB Local: an undeliverable message is kept whole as its own item, in
//! its tenant's key space, with no TTL.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::Utc;
use oms_aws::dynamo::keys;
use oms_aws::relay::{ParkedMessage, Parking};
use oms_tests::{client, fresh_tenant, store, table};

async fn parked_item(pk: String) -> std::collections::HashMap<String, AttributeValue> {
    let out = client()
        .await
        .get_item()
        .table_name(table())
        .key(keys::PK, AttributeValue::S(pk))
        .key(keys::SK, AttributeValue::S(keys::PARKED_SK.to_owned()))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    out.item.expect("the parked item exists")
}

fn text<'a>(item: &'a std::collections::HashMap<String, AttributeValue>, name: &str) -> &'a str {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str).unwrap_or_else(|| panic!("{name} is missing"))
}

#[tokio::test]
async fn a_parked_message_is_kept_whole_in_its_tenants_space_until_someone_removes_it() {
    let store = store().await;
    let tenant = fresh_tenant();
    // As big as an event that no PutEvents entry can hold.
    let message = format!("{{\"kind\":\"event\",\"order_number\":\"{}\"}}", "N".repeat(270_000));
    let parked = ParkedMessage {
        tenant_id: Some(tenant.clone()),
        message_id: "evt#1".into(),
        message: message.clone(),
        reason: "the event's PutEvents entry is 270100 bytes".into(),
        sequence_number: "4900000000000000000001".into(),
        parked_at: Utc::now(),
    };
    store.park(&parked).await.unwrap();
    // A redelivered record parks the same message again: one item still.
    store.park(&parked).await.unwrap();

    let item = parked_item(keys::parked_pk(Some(&tenant), "evt#1")).await;
    assert_eq!(text(&item, "entity"), "PARKED_EVENT");
    assert_eq!(text(&item, "message"), message);
    assert_eq!(text(&item, "message_id"), "evt#1");
    assert_eq!(text(&item, "tenant_id"), tenant.to_string());
    assert_eq!(text(&item, "sequence_number"), "4900000000000000000001");
    assert!(text(&item, "reason").contains("270100"));
    assert!(!item.contains_key("expires_at"), "a parked message waits for a person, not a TTL");
}
