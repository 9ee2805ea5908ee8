//! `GET /orders`: pages of order summaries from the list indexes, newest first, never a scan.
//!
//! - status: GSI2, customer: GSI3, otherwise GSI1 (the tenant's orders by date); `from`/`to`
//!   narrow the sort key range; "sales see their own" is a filter expression on `created_by`.
//!   GSI2's entries hold the summary (they move with the status anyway); GSI1's and GSI3's only
//!   `created_by`, so a status change does not rewrite them, and their pages' summaries are read
//!   from the order items (BatchGetItem, eventually consistent, like the index). Status and
//!   customer together read a step of the customer's list first, then race it with the status
//!   list ([`DynamoStore::list`]).
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
use std::pin::pin;

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use futures_util::future::{Either, join_all, select};
use oms_domain::ports::{OrderPage, OrderQuery, OrderSummary};
use oms_domain::usecases::orders::matches_query;
use oms_domain::{OrderId, OrderStatus, Sku, StoreError, TenantId};
use serde::{Deserialize, Serialize};

use super::keys::{self, PK};
use super::{DynamoStore, Item, from_item, item_key, s, store_error, unexpected};

/// How many index entries a filtered page reads per request, over all shards together.
/// DynamoDB applies `Limit` before the filter, so asking only for what the page still misses
/// took a sales rep's page (an eighth of the orders match) 34 round trips; with 400 it takes one
/// request per shard (16 reading ~880 entries of ~300 bytes: a few read units), and when a step
/// finds more than the page shows, the next page starts after the last order shown.
const FILTERED_STEP: usize = 400;

/// How many keys a `q` search reads per index: the newest matches, enough for any page.
const SEARCH_CAP: usize = 200;

/// How many entries of a customer's list are read at a time when their summaries must be
/// checked for a status: one BatchGetItem's worth.
const SUMMARIES_STEP: usize = 100;

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

/// How a listing by status and customer is read ([`DynamoStore::list`]).
#[derive(Clone, Copy, Debug)]
pub enum CustomerInStatus {
    /// A step of the customer's list first; if that does not answer, both ways at once and
    /// the first to fill the page answers (what production does).
    CustomerFirst,
    /// The status list, the customer as a filter.
    StatusList,
    /// The customer's list, each order's status checked.
    CustomerList,
}

/// The part of a list a page may come from: sort keys from `from` to `to`, both included, but
/// the entry a previous page ended with (`shown`).
#[derive(Clone)]
struct Range {
    from: Option<String>,
    to: Option<String>,
    shown: Option<String>,
}

impl Range {
    fn is_empty(&self) -> bool {
        matches!((&self.from, &self.to), (Some(from), Some(to)) if from > to)
    }

    /// The key condition over `#pk` and `#sk`, and its values but `:pk`.
    fn condition(&self) -> (String, HashMap<String, AttributeValue>) {
        let mut values = HashMap::new();
        let condition = match (&self.from, &self.to) {
            (Some(from), Some(to)) => {
                values.insert(":from".into(), s(from.clone()));
                values.insert(":to".into(), s(to.clone()));
                "#pk = :pk AND #sk BETWEEN :from AND :to"
            }
            (Some(from), None) => {
                values.insert(":from".into(), s(from.clone()));
                "#pk = :pk AND #sk >= :from"
            }
            (None, Some(to)) => {
                values.insert(":to".into(), s(to.clone()));
                "#pk = :pk AND #sk <= :to"
            }
            (None, None) => "#pk = :pk",
        };
        (condition.to_owned(), values)
    }
}

/// How far a read of a list that checks each order went: what is left of the range, and the
/// orders found so far.
struct Partial {
    range: Range,
    orders: Vec<OrderSummary>,
}

/// A read that may stop before it answers.
enum Step {
    Done(Found),
    Partway(Partial),
}

impl Step {
    /// The page this read gives: a read stopped partway gives what it found, with a cursor
    /// where it stopped (a short page is still a true one; a read without a step limit does
    /// not stop partway).
    fn found(self) -> Found {
        match self {
            Step::Done(found) => found,
            Step::Partway(Partial { range, orders }) => {
                Found { orders, more: range.shown.is_some(), after: range.shown }
            }
        }
    }
}

/// What a listing asks of whichever list serves it.
struct Page<'a> {
    range: Range,
    /// Only orders this user created ("sales see their own"): every list holds `created_by`.
    created_by: Option<&'a str>,
    limit: usize,
}

/// A page as a list gave it: its orders, the sort key it ended at, and whether the list may
/// hold more after it.
struct Found {
    orders: Vec<OrderSummary>,
    after: Option<String>,
    more: bool,
}

impl DynamoStore {
    pub(super) async fn list(
        &self,
        tenant: &TenantId,
        query: &OrderQuery,
        way: CustomerInStatus,
    ) -> Result<OrderPage, StoreError> {
        if let Some(q) = &query.q {
            return self.search(tenant, query, q).await;
        }
        let by_status = |status: &OrderStatus| {
            keys::every_shard(keys::BY_STATUS_SHARDS, |n| keys::orders_by_status_pk(tenant, status.as_str(), n))
        };
        let by_customer = |customer: &str| {
            keys::every_shard(keys::BY_CUSTOMER_SHARDS, |n| keys::orders_by_customer_pk(tenant, customer, n))
        };
        // The list a cursor is bound to: the status list whenever a status is asked for.
        let shards = match (&query.status, &query.customer_id) {
            (Some(status), _) => by_status(status),
            (None, Some(customer)) => by_customer(customer),
            (None, None) => keys::every_shard(keys::BY_DATE_SHARDS, |n| keys::orders_by_date_pk(tenant, n)),
        };
        let cursor = query.cursor.as_deref().map(|c| decode_cursor(c, &shards[0])).transpose()?;
        // Sort keys are `<time>#<id>` in every list: "~" sorts after every id, so `to` includes
        // its instant. A cursor bounds the range too: entries before the last one shown.
        let upper = [query.to.map(|to| format!("{}~", time_key(to))), cursor.as_ref().map(|c| c.after.clone())]
            .into_iter()
            .flatten()
            .min();
        let range = Range { from: query.from.map(time_key), to: upper, shown: cursor.map(|c| c.after) };
        if range.is_empty() {
            return Ok(OrderPage { items: Vec::new(), next_cursor: None });
        }
        let page = Page { range, created_by: query.created_by.as_deref(), limit: query.limit };
        let found = match (&query.status, &query.customer_id) {
            // Two ways to a customer's orders in a status, and which reads less depends on the
            // data: the status list grows with the tenant (a customer with few orders in a big
            // status means reading most of it), the customer's list with the customer (a big
            // customer with few orders in a small status means reading most of that). Most
            // customers have few orders: a first step of their list answers, whatever the tenant's
            // size. Past it, both are read at once and the first to fill the page answers: the
            // page is the same either way (both lists sort by the same key), the reads at most
            // twice the smaller way's.
            (Some(status), Some(customer)) => {
                let in_status = self.read_list("GSI2", by_status(status), &page, Some(customer));
                let of_customer = |from: Partial, steps| {
                    self.read_customer_in_status(by_customer(customer), &page, *status, from, steps)
                };
                let start = Partial { range: page.range.clone(), orders: Vec::new() };
                match way {
                    CustomerInStatus::StatusList => in_status.await?,
                    CustomerInStatus::CustomerList => of_customer(start, None).await?.found(),
                    CustomerInStatus::CustomerFirst => match of_customer(start, Some(1)).await? {
                        Step::Done(found) => found,
                        Step::Partway(partial) => {
                            let rest = async { Ok(of_customer(partial, None).await?.found()) };
                            match select(pin!(in_status), pin!(rest)).await {
                                Either::Left((found, _)) | Either::Right((found, _)) => found?,
                            }
                        }
                    },
                }
            }
            (Some(_), None) => self.read_list("GSI2", shards.clone(), &page, None).await?,
            (None, Some(_)) => self.read_list("GSI3", shards.clone(), &page, None).await?,
            (None, None) => self.read_list("GSI1", shards.clone(), &page, None).await?,
        };
        let next_cursor =
            found.after.filter(|_| found.more).map(|after| encode_cursor(&Cursor { pk: shards[0].clone(), after }));
        Ok(OrderPage { items: found.orders, next_cursor })
    }

    /// A page of one list (`GSI1`-`GSI3`), optionally of one customer's orders only (the status
    /// list holds the customer): the status list's entries hold the summary (they move with the
    /// status anyway); the others' only `created_by`, and their summaries are read from the
    /// orders (BatchGetItem, eventually consistent, like the index).
    async fn read_list(
        &self,
        index: &str,
        shards: Vec<String>,
        page: &Page<'_>,
        customer: Option<&str>,
    ) -> Result<Found, StoreError> {
        let (condition, mut values) = page.range.condition();
        let mut filters = Vec::new();
        if let Some(customer) = customer {
            filters.push("customer_id = :customer");
            values.insert(":customer".into(), s(customer));
        }
        if let Some(creator) = page.created_by {
            filters.push("created_by = :creator");
            values.insert(":creator".into(), s(creator));
        }
        let wanted = if filters.is_empty() { page.limit } else { page.limit.max(FILTERED_STEP) };
        let merge = Merge {
            index,
            step: Some(per_shard(wanted, shards.len())),
            shards,
            condition,
            filter: (!filters.is_empty()).then(|| filters.join(" AND ")),
            values,
            forward: false,
            shown: page.range.shown.clone(),
        };
        let (entries, more) = merge.take(self, page.limit).await?;
        let after = entries.last().and_then(|item| item.get(&merge.sk_attr())?.as_s().ok().cloned());
        let entries = if index == "GSI2" {
            entries
        } else {
            self.batch_get(entries.iter().filter_map(item_key).collect(), false, &SUMMARY).await?
        };
        let orders = entries.into_iter().map(from_item::<OrderSummary>).collect::<Result<Vec<_>, _>>()?;
        Ok(Found { orders, after, more })
    }

    /// A page of a customer's orders in one status, from the customer's list: it holds no
    /// status (a status change would rewrite it), so it is read a BatchGetItem's worth at a
    /// time and the orders' summaries checked, on `from`, until the page is full or the list
    /// ends, or after `steps` reads if that is set.
    async fn read_customer_in_status(
        &self,
        shards: Vec<String>,
        page: &Page<'_>,
        status: OrderStatus,
        from: Partial,
        steps: Option<usize>,
    ) -> Result<Step, StoreError> {
        let Partial { mut range, mut orders } = from;
        for _ in 0..steps.unwrap_or(usize::MAX) {
            let (condition, mut values) = range.condition();
            let filter = page.created_by.map(|creator| {
                values.insert(":creator".into(), s(creator));
                "created_by = :creator".to_owned()
            });
            let merge = Merge {
                index: "GSI3",
                step: Some(per_shard(SUMMARIES_STEP, shards.len())),
                shards: shards.clone(),
                condition,
                filter,
                values,
                forward: false,
                shown: range.shown.clone(),
            };
            let (entries, more) = merge.take(self, SUMMARIES_STEP).await?;
            let sk_attr = merge.sk_attr();
            let sort_key = |entry: &Item| entry.get(&sk_attr).and_then(|v| v.as_s().ok()).cloned();
            let summaries = self.batch_get(entries.iter().filter_map(item_key).collect(), false, &SUMMARY).await?;
            // An order deleted since its entry was read has no summary: it is left out.
            let mut by_key: HashMap<_, _> =
                summaries.into_iter().filter_map(|item| Some((item_key(&item)?, item))).collect();
            for (position, entry) in entries.iter().enumerate() {
                let Some(item) = item_key(entry).and_then(|key| by_key.remove(&key)) else { continue };
                let summary: OrderSummary = from_item(item)?;
                if summary.status != status {
                    continue;
                }
                orders.push(summary);
                if orders.len() == page.limit {
                    let more = more || position + 1 < entries.len();
                    return Ok(Step::Done(Found { orders, after: sort_key(entry), more }));
                }
            }
            let last = entries.last().and_then(sort_key);
            if !more || last.is_none() {
                return Ok(Step::Done(Found { orders, after: last, more: false }));
            }
            range = Range { to: last.clone(), shown: last, ..range };
        }
        Ok(Step::Partway(Partial { range, orders }))
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
