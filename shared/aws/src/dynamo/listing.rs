//! `GET /orders`: pages of order summaries from the list indexes, newest first, never a scan.
//!
//! - status: GSI2, customer: GSI3, otherwise GSI1 (the tenant's orders by date); `from`/`to`
//!   narrow the sort key range; the other filters (and "sales see their own") are filter
//!   expressions on the index's projected summary.
//! - `q`: prefix queries on GSI4 (order number), GSI5 (customer name) and GSI6 (external
//!   reference), keys only, then the orders' summaries by BatchGetItem; the newest `limit`
//!   matches come back in one page (no cursor: refine `q` to narrow).
//!
//! The cursor is the index's LastEvaluatedKey, base64-encoded, and is checked to belong to the
//! same tenant and index before it is used.

use std::collections::{BTreeSet, HashMap};

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use oms_domain::ports::{OrderPage, OrderQuery, OrderSummary};
use oms_domain::usecases::orders::matches_query;
use oms_domain::{OrderId, OrderStatus, Sku, StoreError, TenantId};

use super::keys::{self, PK, SK};
use super::{DynamoStore, Item, from_item, s, store_error};

/// How many index entries a filtered page reads per request. DynamoDB applies `Limit` before the
/// filter, so asking only for what the page still misses took a sales rep's page (an eighth of
/// the orders match) 34 round trips; a bigger step takes a few, and when a step finds more than
/// the page shows, the next page starts after the last order shown.
const FILTERED_STEP: usize = 200;

/// How many keys a `q` search reads per index: the newest matches, enough for any page.
const SEARCH_CAP: i32 = 200;

/// Attributes a summary is read from (all projected into the list indexes).
const SUMMARY: [&str; 11] = [
    "order_id",
    "order_number",
    "status",
    "customer_id",
    "customer_name",
    "currency",
    "grand_total",
    "created_at",
    "on_hold",
    "created_by",
    "external_reference",
];

fn time_key(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// An index entry's position, as DynamoDB's `LastEvaluatedKey` gives it for that index.
fn index_key(item: &Item, pk_attr: &str, sk_attr: &str) -> Item {
    [PK, SK, pk_attr, sk_attr]
        .into_iter()
        .filter_map(|attr| item.get(attr).map(|value| (attr.to_owned(), value.clone())))
        .collect()
}

fn encode_cursor(key: &Item) -> String {
    let plain: HashMap<&String, &str> =
        key.iter().filter_map(|(k, v)| v.as_s().ok().map(|v| (k, v.as_str()))).collect();
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&plain).expect("strings serialize"))
}

fn decode_cursor(cursor: &str, pk_attr: &str, pk: &str) -> Result<Item, StoreError> {
    let bad = || StoreError::BadCursor;
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let plain: HashMap<String, String> = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if plain.get(pk_attr).map(String::as_str) != Some(pk) {
        return Err(bad());
    }
    Ok(plain.into_iter().map(|(k, v)| (k, s(v))).collect())
}

impl DynamoStore {
    pub(super) async fn list(&self, tenant: &TenantId, query: &OrderQuery) -> Result<OrderPage, StoreError> {
        if let Some(q) = &query.q {
            return self.search(tenant, query, q).await;
        }
        let (index, pk) = match (&query.status, &query.customer_id) {
            (Some(status), _) => ("GSI2", keys::orders_by_status_pk(tenant, status.as_str())),
            (None, Some(customer)) => ("GSI3", keys::orders_by_customer_pk(tenant, customer)),
            (None, None) => ("GSI1", keys::orders_by_date_pk(tenant)),
        };
        let (pk_attr, sk_attr) = (format!("{index}PK"), format!("{index}SK"));
        let mut values: HashMap<String, AttributeValue> = HashMap::from([(":pk".to_owned(), s(pk.clone()))]);
        let mut condition = "#pk = :pk".to_owned();
        // Sort keys are `<time>#<id>`: "~" sorts after every id, so `to` includes its instant.
        match (query.from, query.to) {
            (Some(from), Some(to)) => {
                condition.push_str(" AND #sk BETWEEN :from AND :to");
                values.insert(":from".into(), s(time_key(from)));
                values.insert(":to".into(), s(format!("{}~", time_key(to))));
            }
            (Some(from), None) => {
                condition.push_str(" AND #sk >= :from");
                values.insert(":from".into(), s(time_key(from)));
            }
            (None, Some(to)) => {
                condition.push_str(" AND #sk <= :to");
                values.insert(":to".into(), s(format!("{}~", time_key(to))));
            }
            (None, None) => {}
        }
        let mut filters = Vec::new();
        if let (Some(_), Some(customer)) = (&query.status, &query.customer_id) {
            filters.push("customer_id = :customer");
            values.insert(":customer".into(), s(customer.clone()));
        }
        if let Some(creator) = &query.created_by {
            filters.push("created_by = :creator");
            values.insert(":creator".into(), s(creator.clone()));
        }

        let mut start = query.cursor.as_deref().map(|c| decode_cursor(c, &pk_attr, &pk)).transpose()?;
        let mut items = Vec::new();
        loop {
            let remaining = query.limit - items.len();
            let step = if filters.is_empty() { remaining } else { remaining.max(FILTERED_STEP) };
            let out = self
                .client
                .query()
                .table_name(self.table())
                .index_name(index)
                .key_condition_expression(&condition)
                .set_filter_expression((!filters.is_empty()).then(|| filters.join(" AND ")))
                .set_expression_attribute_names(Some(
                    [("#pk".to_owned(), pk_attr.clone())]
                        .into_iter()
                        .chain(condition.contains("#sk").then(|| ("#sk".to_owned(), sk_attr.clone())))
                        .collect(),
                ))
                .set_expression_attribute_values(Some(values.clone()))
                .scan_index_forward(false)
                .limit(i32::try_from(step).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(store_error)?;
            let found = out.items.unwrap_or_default();
            // A filtered step may find more than the page shows: the next page starts after
            // the last order shown, not after the last entry read.
            let overshoot = found.len() > remaining;
            let mut last_shown = None;
            for item in found.into_iter().take(remaining) {
                last_shown = Some(index_key(&item, &pk_attr, &sk_attr));
                items.push(from_item::<OrderSummary>(item)?);
            }
            start = if overshoot { last_shown } else { out.last_evaluated_key };
            if items.len() >= query.limit || start.is_none() {
                break;
            }
        }
        Ok(OrderPage { items, next_cursor: start.as_ref().map(encode_cursor) })
    }

    pub(super) async fn backordered(
        &self,
        tenant: &TenantId,
        sku: &Sku,
        limit: usize,
    ) -> Result<Vec<OrderId>, StoreError> {
        let mut ids = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(self.table())
                .index_name("GSI2")
                .key_condition_expression("GSI2PK = :pk")
                .filter_expression("contains(skus, :sku)")
                .expression_attribute_values(
                    ":pk",
                    s(keys::orders_by_status_pk(tenant, OrderStatus::Backordered.as_str())),
                )
                .expression_attribute_values(":sku", s(sku.to_string()))
                .scan_index_forward(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(store_error)?;
            for item in out.items.unwrap_or_default() {
                if let Some(id) = item.get("order_id").and_then(|v| v.as_s().ok()) {
                    ids.push(OrderId::parse(id.clone()).map_err(|e| StoreError::Unexpected(e.to_string().into()))?);
                }
            }
            start = out.last_evaluated_key;
            if ids.len() >= limit || start.is_none() {
                ids.truncate(limit);
                return Ok(ids);
            }
        }
    }

    async fn search(&self, tenant: &TenantId, query: &OrderQuery, q: &str) -> Result<OrderPage, StoreError> {
        let lower = q.to_lowercase();
        let searches = [
            ("GSI4", keys::order_numbers_pk(tenant), q.to_uppercase()),
            ("GSI5", keys::customer_names_pk(tenant), lower.clone()),
            ("GSI6", keys::external_references_pk(tenant), lower),
        ];
        let mut order_keys = BTreeSet::new();
        for (index, pk, prefix) in searches {
            // Matches beyond what a page can show are not needed: only the newest `limit` are.
            let out = self
                .client
                .query()
                .table_name(self.table())
                .index_name(index)
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#pk", format!("{index}PK"))
                .expression_attribute_names("#sk", format!("{index}SK"))
                .expression_attribute_values(":pk", s(pk))
                .expression_attribute_values(":prefix", s(prefix))
                // Sort keys end with the order's date (numbers are dated): newest first.
                .scan_index_forward(false)
                .limit(SEARCH_CAP)
                .send()
                .await
                .map_err(store_error)?;
            for item in out.items.unwrap_or_default() {
                if let Some(pk) = item.get(PK).and_then(|v| v.as_s().ok()) {
                    order_keys.insert(pk.clone());
                }
            }
        }
        let mut items = Vec::new();
        let keys: Vec<String> = order_keys.into_iter().collect();
        for chunk in keys.chunks(100) {
            let names: HashMap<String, String> = SUMMARY.iter().map(|a| (format!("#{a}"), (*a).to_owned())).collect();
            let request = KeysAndAttributes::builder()
                .set_keys(Some(
                    chunk
                        .iter()
                        .map(|pk| HashMap::from([(PK.to_owned(), s(pk.clone())), (SK.to_owned(), s(keys::ORDER_SK))]))
                        .collect(),
                ))
                .projection_expression(SUMMARY.iter().map(|a| format!("#{a}")).collect::<Vec<_>>().join(", "))
                .set_expression_attribute_names(Some(names))
                .build()
                .map_err(|e| StoreError::Unexpected(e.into()))?;
            let out =
                self.client.batch_get_item().request_items(self.table(), request).send().await.map_err(store_error)?;
            if out.unprocessed_keys.as_ref().is_some_and(|u| !u.is_empty()) {
                return Err(StoreError::Unavailable("order lookups were throttled".into()));
            }
            for item in out.responses.and_then(|mut r| r.remove(self.table())).unwrap_or_default() {
                let reference = item.get("external_reference").and_then(|v| v.as_s().ok()).cloned();
                let summary: OrderSummary = from_item(item)?;
                if matches_query(&summary, reference.as_deref(), query) {
                    items.push(summary);
                }
            }
        }
        items.sort_by(|a, b| (b.created_at, &b.order_id).cmp(&(a.created_at, &a.order_id)));
        items.truncate(query.limit);
        Ok(OrderPage { items, next_cursor: None })
    }
}
