//! The order item: how one order, its recent history and the messages of its latest change are
//! stored, so that a change is usually one plain conditional write of one item.
//!
//! - `doc`: the order as JSON, zlib-compressed (binary). JSON of an order repeats its field
//!   names in every line; compressed it is about a third the size, and DynamoDB bills a write by
//!   the item's size (1 unit per KB), so every change costs a third.
//! - Beside it, uncompressed, what DynamoDB itself must see: `version` (every change is
//!   conditional on it), the index keys `GSI1PK`–`GSI6SK`, and the summary the list indexes
//!   project (`OrderSummary`, plus `skus` and `external_reference`).
//! - `history`: a map from `v<version>` to that version's status changes (JSON arrays without
//!   the order id and version, which the item and the key give: [`KeptChange`]). A
//!   change adds its entries with `SET history.v… = :entries` (no read of what is there) and
//!   drops the version that falls out of what the history keeps ([`StatusChange::kept_at`]:
//!   the creation and the last [`StatusChange::KEPT_VERSIONS`] versions) with `REMOVE`, so the
//!   item stays bounded.
//! - `outbox`: the messages (events, workflow starts) of this change, zlib-compressed JSON,
//!   replaced by every change (absent when it has none). The table's stream carries the item's
//!   new image to the outbox relay, so the messages travel with the change that made them: they
//!   exist if and only if it committed, in commit order, with no item of their own. Messages too
//!   big to ride along ([`OUTBOX_INLINE_BYTES`]) are written as outbox items in the change's
//!   transaction instead, as before.
//!
//! Size: the item holds at most the compressed document ([`MAX_DOC_BYTES`]), the history's
//! [`HISTORY_RESERVE`], the inline messages and the keys and summary; together under DynamoDB's
//! 400 KB. An order whose compressed document would be bigger is refused (`TooLarge::Order`,
//! nothing written); the domain's own limit (`MAX_ORDER_BYTES` of JSON) is reached first by any
//! order that compresses at least 1.75×, which every order does.

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use flate2::Compression;
use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use oms_domain::events::OutboxMessage;
use oms_domain::order::{Order, StatusChange};
use oms_domain::ports::{OrderSummary, OrderWrite};
use oms_domain::{OrderId, OrderStatus, Role, StoreError, TooLarge};
use serde::{Deserialize, Serialize};

use super::keys::{self, PK, SK};
use super::{Item, s, to_item, unexpected, with_keys};

/// Room kept for the history: [`StatusChange::KEPT_VERSIONS`] versions of up to two status
/// changes each, with reasons of up to 500 characters (2.3 KB an entry at worst).
pub const HISTORY_RESERVE: usize = 160 * 1024;
/// Largest compressed message list that rides on the item; bigger ones become outbox items.
pub const OUTBOX_INLINE_BYTES: usize = 64 * 1024;
/// Largest compressed order document: what is left of DynamoDB's 400 KB after the history,
/// the inline messages and 8 KB for the keys and summary.
pub const MAX_DOC_BYTES: usize = 400 * 1024 - HISTORY_RESERVE - OUTBOX_INLINE_BYTES - 8 * 1024;

/// The placeholder of the document in an order item's update.
const DOC_VALUE: &str = ":doc";

/// The order document a write of the order item carries (none for other items).
pub(super) fn document(write: &TransactWriteItem) -> Option<AttributeValue> {
    let is_order = |key: &Item| key.get(SK).and_then(|sk| sk.as_s().ok()).is_some_and(|sk| sk == keys::ORDER_SK);
    match write {
        TransactWriteItem { put: Some(put), .. } if is_order(&put.item) => put.item.get("doc").cloned(),
        TransactWriteItem { update: Some(update), .. } if is_order(&update.key) => {
            update.expression_attribute_values.as_ref()?.get(DOC_VALUE).cloned()
        }
        _ => None,
    }
}

/// Attributes an order item has only sometimes: a change that leaves them out removes them.
const OPTIONAL: [&str; 4] = ["GSI6PK", "GSI6SK", "external_reference", "outbox"];

pub(crate) fn compress(json: &[u8]) -> Vec<u8> {
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(json).expect("writing to memory cannot fail");
    encoder.finish().expect("writing to memory cannot fail")
}

/// The JSON a compressed attribute holds.
pub fn decompress(bytes: &[u8]) -> Result<Vec<u8>, std::io::Error> {
    let mut json = Vec::new();
    ZlibDecoder::new(bytes).read_to_end(&mut json)?;
    Ok(json)
}

/// Reads the order out of its item.
pub(super) fn order_of(item: &Item) -> Result<Order, StoreError> {
    let doc =
        item.get("doc").and_then(|v| v.as_b().ok()).ok_or_else(|| unexpected("an order item without its document"))?;
    serde_json::from_slice(&decompress(doc.as_ref()).map_err(unexpected)?).map_err(unexpected)
}

/// A status change as the item keeps it: the order is the item's and the version the `history`
/// key's, so an entry holds the rest, positionally (a JSON array: about half the bytes of the
/// full form, and every change is billed on the item's whole size).
#[derive(Serialize, Deserialize)]
struct KeptChange(Option<OrderStatus>, OrderStatus, String, String, Role, DateTime<Utc>);

impl KeptChange {
    fn of(change: &StatusChange) -> Self {
        let StatusChange { from, to, reason, actor, role, at, order_id: _, version: _ } = change.clone();
        KeptChange(from, to, reason, actor, role, at)
    }

    fn change(self, order_id: &OrderId, version: u64) -> StatusChange {
        let KeptChange(from, to, reason, actor, role, at) = self;
        StatusChange { order_id: order_id.clone(), from, to, reason, actor, role, at, version }
    }
}

/// The status changes the item of order `id` keeps, oldest first.
pub(super) fn history_of(item: &Item, id: &OrderId) -> Result<Vec<StatusChange>, StoreError> {
    let Some(AttributeValue::M(by_version)) = item.get("history") else { return Ok(Vec::new()) };
    // Keys are zero-padded versions, so a sorted map reads them oldest first.
    let sorted: BTreeMap<_, _> = by_version.iter().collect();
    let mut changes = Vec::new();
    for (key, entries) in sorted {
        let version = keys::history_version(key).ok_or_else(|| unexpected(format!("a history key {key:?}")))?;
        for entry in entries.as_l().map_err(|_| unexpected("a history entry that is not a list"))? {
            let json = entry.as_s().map_err(|_| unexpected("a history entry that is not a string"))?;
            changes.push(serde_json::from_str::<KeptChange>(json).map_err(unexpected)?.change(id, version));
        }
    }
    Ok(changes)
}

/// The messages an order item's stream image carries, if any.
pub fn messages_of(item_outbox: &[u8]) -> Result<Vec<OutboxMessage>, String> {
    let json = decompress(item_outbox).map_err(|e| format!("undecodable outbox: {e}"))?;
    serde_json::from_slice(&json).map_err(|e| format!("undecodable outbox: {e}"))
}

/// What one order change writes to the order item.
pub(super) struct OrderItemWrite {
    /// The item's write: a `Put` for a new order, an `Update` otherwise.
    pub(super) write: TransactWriteItem,
    /// The messages too big to ride on the item (written as outbox items).
    pub(super) spilled: Vec<OutboxMessage>,
}

/// The attributes every write sets: the document, the version, index keys and summary.
fn attributes(order: &Order) -> Result<Item, StoreError> {
    let json = serde_json::to_vec(order).map_err(unexpected)?;
    let doc = compress(&json);
    if doc.len() > MAX_DOC_BYTES {
        return Err(StoreError::TooLarge {
            what: TooLarge::Order,
            message: format!(
                "the change would make the order {} bytes compressed, over the {MAX_DOC_BYTES}-byte limit; nothing was changed",
                doc.len()
            ),
        });
    }
    let t = order.tenant_id();
    let by_date = keys::by_date_sk(order.created_at(), order.order_id());
    let shard = keys::order_shard(order.order_id());
    let mut item = to_item(&OrderSummary::of(order))?;
    item.insert("entity".into(), s("ORDER"));
    item.insert("doc".into(), AttributeValue::B(doc.into()));
    item.insert("version".into(), AttributeValue::N(order.version().to_string()));
    item.insert("GSI1PK".into(), s(keys::orders_by_date_pk(t, shard)));
    item.insert("GSI1SK".into(), s(by_date.clone()));
    item.insert("GSI2PK".into(), s(keys::orders_by_status_pk(t, order.status().as_str(), shard)));
    item.insert("GSI2SK".into(), s(by_date.clone()));
    item.insert("GSI3PK".into(), s(keys::orders_by_customer_pk(t, &order.customer().id, shard)));
    item.insert("GSI3SK".into(), s(by_date.clone()));
    item.insert("GSI4PK".into(), s(keys::order_numbers_pk(t, shard)));
    item.insert("GSI4SK".into(), s(keys::order_number_sk(order.order_number(), &by_date)));
    item.insert("GSI5PK".into(), s(keys::customer_names_pk(t, shard)));
    item.insert("GSI5SK".into(), s(keys::search_sk(&order.customer().name, &by_date)));
    if let Some(reference) = order.external_reference() {
        item.insert("GSI6PK".into(), s(keys::external_references_pk(t, shard)));
        item.insert("GSI6SK".into(), s(keys::search_sk(reference, &by_date)));
        item.insert("external_reference".into(), s(reference));
    }
    // The SKUs ordered, so backordered orders of a SKU are found from the status index.
    let skus: std::collections::BTreeSet<String> = order.lines().iter().map(|l| l.sku.to_string()).collect();
    item.insert("skus".into(), AttributeValue::L(skus.into_iter().map(s).collect()));
    Ok(item)
}

/// The change's status changes by the `history` key of their version.
fn history_entries(changes: &[StatusChange]) -> Result<BTreeMap<String, AttributeValue>, StoreError> {
    let mut by_version: BTreeMap<String, Vec<AttributeValue>> = BTreeMap::new();
    for change in changes {
        let json = serde_json::to_string(&KeptChange::of(change)).map_err(unexpected)?;
        by_version.entry(keys::history_key(change.version)).or_default().push(s(json));
    }
    Ok(by_version.into_iter().map(|(k, v)| (k, AttributeValue::L(v))).collect())
}

/// The messages as the item carries them, or `None` with them all spilled when they are too big.
fn inline_outbox(messages: &[OutboxMessage]) -> Result<Option<AttributeValue>, StoreError> {
    if messages.is_empty() {
        return Ok(None);
    }
    let packed = compress(&serde_json::to_vec(messages).map_err(unexpected)?);
    Ok((packed.len() <= OUTBOX_INLINE_BYTES).then(|| AttributeValue::B(packed.into())))
}

/// The order item's write for `write` on `table`.
pub(super) fn order_item_write(table: &str, write: &OrderWrite) -> Result<OrderItemWrite, StoreError> {
    let order = &write.order;
    let mut attrs = attributes(order)?;
    let outbox = inline_outbox(&write.outbox)?;
    let spilled = if outbox.is_none() { write.outbox.clone() } else { Vec::new() };
    if let Some(outbox) = outbox {
        attrs.insert("outbox".into(), outbox);
    }
    let history = history_entries(&write.history)?;
    let pk = keys::order_pk(order.tenant_id(), order.order_id());
    let Some(expected) = write.expected_version else {
        let mut item = with_keys(attrs, pk, keys::ORDER_SK, "ORDER");
        item.insert("history".into(), AttributeValue::M(history.into_iter().collect()));
        let put = Put::builder()
            .table_name(table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(unexpected)?;
        return Ok(OrderItemWrite { write: TransactWriteItem::builder().put(put).build(), spilled });
    };
    let mut names = HashMap::new();
    let mut values = HashMap::new();
    let mut set = Vec::new();
    let mut remove = Vec::new();
    for name in OPTIONAL.iter().filter(|name| !attrs.contains_key(**name)) {
        remove.push(format!("#r{}", remove.len()));
        names.insert(format!("#r{}", remove.len() - 1), (*name).to_owned());
    }
    // The document under a name of its own, so `document` finds it.
    let doc = attrs.remove("doc").expect("attributes() sets the document");
    set.push(format!("#doc = {DOC_VALUE}"));
    names.insert("#doc".to_owned(), "doc".to_owned());
    values.insert(DOC_VALUE.to_owned(), doc);
    for (i, (name, value)) in attrs.into_iter().enumerate() {
        set.push(format!("#a{i} = :a{i}"));
        names.insert(format!("#a{i}"), name);
        values.insert(format!(":a{i}"), value);
    }
    if !history.is_empty() {
        names.insert("#history".to_owned(), "history".to_owned());
    }
    for (i, (key, entries)) in history.into_iter().enumerate() {
        set.push(format!("#history.#h{i} = :h{i}"));
        names.insert(format!("#h{i}"), key);
        values.insert(format!(":h{i}"), entries);
    }
    // The versions whose entries this change drops: kept at `expected`, not at the new version
    // (`StatusChange::kept_at`; absent keys are no-ops).
    let kept = StatusChange::KEPT_VERSIONS;
    let dropped = (expected + 1).saturating_sub(kept).max(2)..=order.version().saturating_sub(kept);
    for (i, version) in dropped.enumerate() {
        names.insert("#history".to_owned(), "history".to_owned());
        remove.push(format!("#history.#d{i}"));
        names.insert(format!("#d{i}"), keys::history_key(version));
    }
    names.insert("#version".to_owned(), "version".to_owned());
    values.insert(":expected".to_owned(), AttributeValue::N(expected.to_string()));
    let mut expression = format!("SET {}", set.join(", "));
    if !remove.is_empty() {
        expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
    }
    let update = Update::builder()
        .table_name(table)
        .key(PK, s(pk))
        .key(SK, s(keys::ORDER_SK))
        .update_expression(expression)
        .condition_expression("#version = :expected")
        .set_expression_attribute_names(Some(names))
        .set_expression_attribute_values(Some(values))
        .build()
        .map_err(unexpected)?;
    Ok(OrderItemWrite { write: TransactWriteItem::builder().update(update).build(), spilled })
}
