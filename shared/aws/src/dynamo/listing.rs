//! `GET /orders`: pages of order summaries from the list indexes, newest first, never a scan.
//!
//! - status: GSI2 (with a customer too: a filter), customer: GSI3, otherwise GSI1 (the tenant's
//!   orders by date); `from`/`to` narrow the sort key range; the other filters (and "sales see
//!   their own") are filter expressions on what the index projects. GSI2's entries hold the
//!   summary (they move with the status anyway); GSI1's and GSI3's only `created_by`, so a status
//!   change does not rewrite them, and their pages' summaries are read from the order items
//!   (BatchGetItem, eventually consistent, like the index).
//! - `q`: prefix queries on GSI4 (order number), GSI5 (customer name) and GSI6 (external
//!   reference), keys only; their sort keys end with the order's date key, so the matches are
//!   sorted newest first from the keys, and the orders' summaries are read by BatchGetItem a
//!   page's worth at a time until the page is full; the newest `limit` matches come back in one
//!   page (no cursor: refine `q` to narrow).
//!
//! Every one of these partitions is write-sharded (`keys`, "Write sharding"): a read queries
//! all shards of its partition at once and merges them by the sort key ([`Merge`]), taking an
//! entry only when every shard's next one is known, so the merged sequence is exactly the one
//! partition's it replaces — same entries, same order, pages cut at the same places.
//!
//! The cursor is the sort key of the last entry a page showed, with the first shard's partition
//! key, base64-encoded JSON. That one key is every shard's position: all entries at or after it
//! in reading order were read (shown or filtered out) in every shard, and none before it. A
//! cursor whose partition key is not the one this tenant and filter read is `BadCursor`.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use futures_util::future::join_all;
use oms_domain::ports::{OrderPage, OrderQuery, OrderSummary};
use oms_domain::usecases::orders::matches_query;
use oms_domain::{OrderId, OrderStatus, Sku, StoreError, TenantId};
use serde::{Deserialize, Serialize};

use super::keys::{self, PK};
use super::{DynamoStore, Item, from_item, item_key, s, store_error, unexpected};

/// How many index entries a filtered page reads per request, over all shards together.
/// DynamoDB applies `Limit` before the filter, so asking only for what the page still misses
/// took a sales rep's page (an eighth of the orders match) 34 round trips; a bigger step takes a
/// few, and when a step finds more than the page shows, the next page starts after the last
/// order shown.
const FILTERED_STEP: usize = 200;

/// How many keys a `q` search reads per index: the newest matches, enough for any page.
const SEARCH_CAP: usize = 200;

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

/// What a page's cursor holds (see the module doc).
#[derive(Serialize, Deserialize)]
struct Cursor {
    /// The first shard's partition key: binds the cursor to a tenant, an index and its filter.
    pk: String,
    /// The sort key of the last entry shown.
    after: String,
}

fn encode_cursor(cursor: &Cursor) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(cursor).expect("strings serialize"))
}

fn decode_cursor(cursor: &str, pk: &str) -> Result<Cursor, StoreError> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| StoreError::BadCursor)?;
    let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| StoreError::BadCursor)?;
    if cursor.pk != pk {
        return Err(StoreError::BadCursor);
    }
    Ok(cursor)
}

/// A query over every shard of one sharded index partition, merged by sort key. The key
/// condition and filter are the same on every shard; `:pk` is bound per shard.
struct Merge<'a> {
    index: &'a str,
    shards: Vec<String>,
    /// Key condition on `#pk` and, when set, `#sk`.
    condition: String,
    filter: Option<String>,
    /// Attribute names the filter uses beside `#pk` and `#sk`.
    names: Vec<(String, String)>,
    values: HashMap<String, AttributeValue>,
    /// Oldest (smallest key) first, or newest first.
    forward: bool,
    /// Entries read per shard per request (`None`: DynamoDB's 1 MB pages).
    step: Option<usize>,
    /// The sort key of an entry a previous page showed, left out.
    shown: Option<String>,
}

/// One shard as the merge reads it: entries read and not taken yet, where its next read starts.
struct Shard {
    pk: String,
    read: VecDeque<Item>,
    next: Option<Item>,
    started: bool,
}

impl Shard {
    /// Its next entry is unknown though it may have more: it must be read before the merge may
    /// take anything (the next entry overall could be here).
    fn must_read(&self) -> bool {
        self.read.is_empty() && (!self.started || self.next.is_some())
    }
}

impl Merge<'_> {
    fn sk_attr(&self) -> String {
        format!("{}SK", self.index)
    }

    /// Up to `limit` entries of every shard, in the order of one partition holding them all, and
    /// whether any shard may hold more.
    async fn take(&self, store: &DynamoStore, limit: usize) -> Result<(Vec<Item>, bool), StoreError> {
        let sk_attr = &self.sk_attr();
        let mut shards: Vec<Shard> = self
            .shards
            .iter()
            .map(|pk| Shard { pk: pk.clone(), read: VecDeque::new(), next: None, started: false })
            .collect();
        let mut taken = Vec::new();
        while taken.len() < limit {
            while shards.iter().any(Shard::must_read) {
                let reads = shards.iter_mut().filter(|shard| shard.must_read()).map(|shard| async move {
                    let out = self.read(store, shard).await?;
                    let shown = |item: &Item| {
                        self.shown.is_some() && item.get(sk_attr).and_then(|v| v.as_s().ok()) == self.shown.as_ref()
                    };
                    shard.read.extend(out.items.unwrap_or_default().into_iter().filter(|item| !shown(item)));
                    shard.next = out.last_evaluated_key;
                    shard.started = true;
                    Ok::<_, StoreError>(())
                });
                join_all(reads).await.into_iter().collect::<Result<Vec<()>, _>>()?;
            }
            let sort_key = |shard: &Shard| shard.read.front().and_then(|item| item.get(sk_attr)?.as_s().ok().cloned());
            let candidates = shards.iter_mut().filter_map(|shard| Some((sort_key(shard)?, shard)));
            let best = if self.forward {
                candidates.min_by(|a, b| a.0.cmp(&b.0))
            } else {
                candidates.max_by(|a, b| a.0.cmp(&b.0))
            };
            let Some((_, shard)) = best else { break };
            taken.extend(shard.read.pop_front());
        }
        let more = shards.iter().any(|shard| !shard.read.is_empty() || shard.next.is_some());
        Ok((taken, more))
    }

    async fn read(
        &self,
        store: &DynamoStore,
        shard: &Shard,
    ) -> Result<aws_sdk_dynamodb::operation::query::QueryOutput, StoreError> {
        let mut values = self.values.clone();
        values.insert(":pk".into(), s(shard.pk.clone()));
        let names = [("#pk".to_owned(), format!("{}PK", self.index))]
            .into_iter()
            .chain(self.condition.contains("#sk").then(|| ("#sk".to_owned(), self.sk_attr())))
            .chain(self.names.iter().cloned())
            .collect();
        store
            .client
            .query()
            .table_name(store.table())
            .index_name(self.index)
            .key_condition_expression(&self.condition)
            .set_filter_expression(self.filter.clone())
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .scan_index_forward(self.forward)
            .set_limit(self.step.map(|step| i32::try_from(step).unwrap_or(i32::MAX)))
            .set_exclusive_start_key(shard.next.clone())
            .send()
            .await
            .map_err(store_error)
    }
}

/// A sharded partition's key for a tenant and shard.
type ShardKey = fn(&TenantId, u32) -> String;

/// Entries to read per shard for `wanted` of the merged sequence: twice an even share and a
/// little more, so one request per shard nearly always finds what the page takes from it.
fn per_shard(wanted: usize, shards: usize) -> usize {
    (2 * wanted.div_ceil(shards) + 2).min(wanted.max(1))
}

impl DynamoStore {
    pub(super) async fn list(&self, tenant: &TenantId, query: &OrderQuery) -> Result<OrderPage, StoreError> {
        if let Some(q) = &query.q {
            return self.search(tenant, query, q).await;
        }
        // With a status, the status index (its entries hold the summary: they move with the
        // status anyway), the customer filtered; else the customer's or the tenant's index by
        // date, whose entries hold no status (it would rewrite them at every change): the page's
        // summaries are read from the orders themselves.
        let (index, shards) = match (&query.status, &query.customer_id) {
            (Some(status), _) => (
                "GSI2",
                keys::every_shard(keys::BY_STATUS_SHARDS, |n| keys::orders_by_status_pk(tenant, status.as_str(), n)),
            ),
            (None, Some(customer)) => (
                "GSI3",
                keys::every_shard(keys::BY_CUSTOMER_SHARDS, |n| keys::orders_by_customer_pk(tenant, customer, n)),
            ),
            (None, None) => ("GSI1", keys::every_shard(keys::BY_DATE_SHARDS, |n| keys::orders_by_date_pk(tenant, n))),
        };
        let cursor = query.cursor.as_deref().map(|c| decode_cursor(c, &shards[0])).transpose()?;
        let mut values: HashMap<String, AttributeValue> = HashMap::new();
        // Sort keys are `<time>#<id>`: "~" sorts after every id, so `to` includes its instant.
        // A cursor bounds the range too: entries before the last one shown (newest first).
        let upper = [query.to.map(|to| format!("{}~", time_key(to))), cursor.as_ref().map(|c| c.after.clone())]
            .into_iter()
            .flatten()
            .min();
        let lower = query.from.map(time_key);
        if let (Some(lower), Some(upper)) = (&lower, &upper)
            && lower > upper
        {
            return Ok(OrderPage { items: Vec::new(), next_cursor: None });
        }
        let condition = match (lower, upper) {
            (Some(lower), Some(upper)) => {
                values.insert(":from".into(), s(lower));
                values.insert(":to".into(), s(upper));
                "#pk = :pk AND #sk BETWEEN :from AND :to"
            }
            (Some(lower), None) => {
                values.insert(":from".into(), s(lower));
                "#pk = :pk AND #sk >= :from"
            }
            (None, Some(upper)) => {
                values.insert(":to".into(), s(upper));
                "#pk = :pk AND #sk <= :to"
            }
            (None, None) => "#pk = :pk",
        };
        let mut filters = Vec::new();
        let names = Vec::new();
        if let (Some(_), Some(customer)) = (&query.status, &query.customer_id) {
            filters.push("customer_id = :customer");
            values.insert(":customer".into(), s(customer.clone()));
        }
        if let Some(creator) = &query.created_by {
            filters.push("created_by = :creator");
            values.insert(":creator".into(), s(creator.clone()));
        }
        let wanted = query.limit;
        let step = if filters.is_empty() {
            per_shard(wanted, shards.len())
        } else {
            per_shard(wanted.max(FILTERED_STEP), shards.len())
        };
        let merge = Merge {
            index,
            condition: condition.to_owned(),
            filter: (!filters.is_empty()).then(|| filters.join(" AND ")),
            names,
            values,
            forward: false,
            step: Some(step),
            // The last entry shown is inside the inclusive range (a filter may not name a key).
            shown: cursor.map(|c| c.after),
            shards,
        };
        let (found, more) = merge.take(self, wanted).await?;
        let sk_attr = merge.sk_attr();
        let after = found.last().and_then(|item| item.get(&sk_attr)?.as_s().ok().cloned());
        let found = if index == "GSI2" {
            found
        } else {
            self.batch_get(found.iter().filter_map(item_key).collect(), false, &SUMMARY).await?
        };
        let items = found.into_iter().map(from_item::<OrderSummary>).collect::<Result<Vec<_>, _>>()?;
        let next_cursor =
            after.filter(|_| more).map(|after| encode_cursor(&Cursor { pk: merge.shards[0].clone(), after }));
        Ok(OrderPage { items, next_cursor })
    }

    pub(super) async fn backordered(
        &self,
        tenant: &TenantId,
        sku: &Sku,
        limit: usize,
    ) -> Result<Vec<OrderId>, StoreError> {
        let status = OrderStatus::Backordered.as_str();
        let merge = Merge {
            index: "GSI2",
            shards: keys::every_shard(keys::BY_STATUS_SHARDS, |n| keys::orders_by_status_pk(tenant, status, n)),
            condition: "#pk = :pk".into(),
            filter: Some("contains(skus, :sku)".into()),
            names: Vec::new(),
            values: HashMap::from([(":sku".to_owned(), s(sku.to_string()))]),
            forward: true,
            step: None,
            shown: None,
        };
        let (found, _) = merge.take(self, limit).await?;
        found
            .iter()
            .filter_map(|item| item.get("order_id").and_then(|v| v.as_s().ok()))
            .map(|id| OrderId::parse(id.clone()).map_err(|e| unexpected(e.to_string())))
            .collect()
    }

    async fn search(&self, tenant: &TenantId, query: &OrderQuery, q: &str) -> Result<OrderPage, StoreError> {
        let searchable = keys::searchable(q);
        let searches: [(&str, ShardKey, String); 3] = [
            ("GSI4", keys::order_numbers_pk, q.to_uppercase()),
            ("GSI5", keys::customer_names_pk, searchable.clone()),
            ("GSI6", keys::external_references_pk, searchable),
        ];
        // The newest `limit` matches of the three indexes together are among each index's newest
        // `limit`. The query's other filters may leave fewer: then each index is read further,
        // four times as far, up to SEARCH_CAP; orders already read are not read again.
        let mut wanted = query.limit.max(1);
        let mut read = HashSet::new();
        let mut items = Vec::new();
        loop {
            let merges = searches.each_ref().map(|(index, pk, prefix)| {
                let (from, to) = keys::prefix_range(prefix);
                Merge {
                    index,
                    shards: keys::every_shard(keys::SEARCH_SHARDS, |n| pk(tenant, n)),
                    condition: "#pk = :pk AND #sk BETWEEN :from AND :to".into(),
                    filter: None,
                    names: Vec::new(),
                    values: HashMap::from([(":from".to_owned(), s(from)), (":to".to_owned(), s(to))]),
                    // Sort keys end with the order's date (numbers are dated): newest first.
                    forward: false,
                    step: Some(per_shard(wanted, keys::SEARCH_SHARDS as usize)),
                    shown: None,
                }
            });
            let found = join_all(merges.iter().map(|merge| merge.take(self, wanted))).await;
            // Every search key ends with the order's date key: the matches sort newest first
            // before any order is read, and only as many are read as the page needs.
            let mut candidates = BTreeSet::new();
            let mut more = false;
            for (merge, found) in merges.iter().zip(found) {
                let (entries, more_here) = found?;
                more |= more_here;
                let sk_attr = merge.sk_attr();
                candidates.extend(entries.iter().filter_map(|entry| {
                    let by_date = keys::search_sk_by_date(entry.get(&sk_attr)?.as_s().ok()?)?.to_owned();
                    Some((std::cmp::Reverse(by_date), entry.get(PK)?.as_s().ok()?.clone()))
                }));
            }
            let unread: Vec<(String, String)> = candidates
                .into_iter()
                .filter(|(_, pk)| read.insert(pk.clone()))
                .map(|(_, pk)| (pk, keys::ORDER_SK.to_owned()))
                .collect();
            for chunk in unread.chunks(query.limit.clamp(1, 100)) {
                if items.len() >= query.limit {
                    break;
                }
                for item in self.batch_get(chunk.to_vec(), false, &SUMMARY).await? {
                    let reference = item.get("external_reference").and_then(|v| v.as_s().ok()).cloned();
                    let summary: OrderSummary = from_item(item)?;
                    if matches_query(&summary, reference.as_deref(), query) {
                        items.push(summary);
                    }
                }
            }
            if items.len() >= query.limit || !more || wanted >= SEARCH_CAP {
                break;
            }
            wanted = (wanted * 4).min(SEARCH_CAP);
        }
        items.sort_by(|a, b| (b.created_at, &b.order_id).cmp(&(a.created_at, &a.order_id)));
        items.truncate(query.limit);
        Ok(OrderPage { items, next_cursor: None })
    }
}
