//! The size backstops against DynamoDB Local: an order right at its document limit is stored
//! (its item is under DynamoDB's 400 KB), a change past it is refused with a typed error and
//! writes nothing, and the order keeps taking changes; DynamoDB's own `ValidationException` for
//! an item too large maps to the same typed error, never to an unexpected one.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use oms_domain::kernel::limits::{MAX_LINES, MAX_ORDER_BYTES};
use oms_domain::order::OrderEdit;
use oms_domain::ports::{OrderStore, OrderWrite};
use oms_domain::usecases::create_order;
use oms_domain::{Currency, Order, Role, StoreError, TooLarge};
use oms_tests::{actor, client, fresh_tenant, sku, store, table};
use rust_decimal::Decimal;
use serde_json::json;

fn json_size(order: &Order) -> usize {
    serde_json::to_vec(order).unwrap().len()
}

/// `order` with its notes edited to `notes`, at `now` (one version later).
fn with_notes(order: &Order, notes: String, now: DateTime<Utc>) -> Order {
    let mut edited = order.clone();
    let edit = OrderEdit { notes: Some(Some(notes)), ..OrderEdit::default() };
    let _modified = edited.edit(edit, now).expect("notes are editable");
    edited
}

/// `order` with notes padded (three-byte characters, as Vietnamese text has) to `bytes` as JSON,
/// two versions later.
fn padded_to(order: &Order, bytes: usize) -> Order {
    // One moment for both edits, so the timestamp's width does not change between them.
    let now = Utc::now();
    let empty = with_notes(order, String::new(), now);
    let room = bytes - json_size(&empty);
    let padded = with_notes(&empty, format!("{}{}", "ệ".repeat(room / 3), "a".repeat(room % 3)), now);
    assert_eq!(json_size(&padded), bytes);
    padded
}

#[tokio::test]
async fn an_order_at_its_size_limit_is_stored_and_past_it_refused_and_it_stays_writable() {
    let (store, tenant) = (store().await, fresh_tenant());
    sku(&store, &tenant, "PP", Decimal::from(32000), Currency::Vnd).await;
    let lines: Vec<_> = (0..MAX_LINES).map(|_| json!({"sku": "PP", "quantity": "1.5"})).collect();
    let body = json!({
        "customer": {"id": "C1", "name": "Nhựa ABC", "delivery_address": {"line1": "1 Lê Lợi", "city": "HCM", "country": "VN"}},
        "allocation": "manual", "lines": lines
    });
    let sales = actor(&tenant, Role::Sales);
    let order =
        create_order(&store, &sales, serde_json::from_value(body).unwrap(), None, Utc::now()).await.unwrap().order;

    let at_limit = padded_to(&order, MAX_ORDER_BYTES);
    store
        .save_order(OrderWrite::update(at_limit.clone(), order.version(), vec![], vec![]))
        .await
        .expect("at the limit");

    let over = padded_to(&at_limit, MAX_ORDER_BYTES + 1);
    let refused = store.save_order(OrderWrite::update(over, at_limit.version(), vec![], vec![])).await;
    assert!(matches!(refused, Err(StoreError::TooLarge { what: TooLarge::Order, .. })), "{refused:?}");
    let stored = store.get_order(&tenant, order.order_id()).await.unwrap().unwrap();
    assert_eq!(stored, at_limit, "the refused change wrote nothing");

    let smaller = with_notes(&stored, "call before delivery".into(), Utc::now());
    store.save_order(OrderWrite::update(smaller, stored.version(), vec![], vec![])).await.expect("still writable");
}

#[tokio::test]
async fn dynamodbs_own_refusal_of_an_item_too_large_is_the_same_typed_error() {
    let item = HashMap::from([
        ("PK".to_owned(), AttributeValue::S(format!("T#{}#PROBE", fresh_tenant()))),
        ("SK".to_owned(), AttributeValue::S("PROBE".into())),
        ("blob".to_owned(), AttributeValue::S("x".repeat(401 * 1024))),
    ]);
    let err = client().await.put_item().table_name(table()).set_item(Some(item)).send().await.unwrap_err();
    let mapped = oms_aws::dynamo::store_error(err);
    assert!(matches!(mapped, StoreError::TooLarge { what: TooLarge::Order, .. }), "{mapped:?}");
}
