//! Every key of the single table, built here and nowhere else, and this doc is the one
//! statement of the key schema (the template and the README point here).
//!
//! Keys start with the tenant (`T#<tenant>#...`), so no query can reach another tenant's
//! items; the exceptions are the shipment counter and lookup, which hold no tenant data but the
//! owner's id; the GSI1 partition of reservation records ([`LEFTOVERS_PK`]), which only the
//! reconciler reads; and a parked item that named no tenant itself (see [`parked_pk`]).
//! Client-supplied segments are escaped so a `#` in them cannot forge a key. Every item carries
//! an `entity` attribute naming its kind; items with a TTL keep it in `expires_at` (epoch
//! seconds).
//!
//! | item (`entity`) | PK | SK | indexes, TTL |
//! |---|---|---|---|
//! | order (`ORDER`: document, recent history, the latest change's messages; see `order_item`) | `T#t#ORDER#<id>` ([`order_pk`]) | `ORDER` | GSI1–GSI6 below; the stream relays its `outbox` |
//! | reserved chunk of a big order change (`RESERVATION_CHUNK`) | `T#t#ORDER#<id>` | `RESV#<version>#<run>#<nnn>` ([`reservation_chunk_sk`]) | GSI1 leftovers; deleted by the change |
//! | releases a big change owes (`PENDING_RELEASE`) | `T#t#ORDER#<id>` | `RELS#<version>#<run>#<nnn>` ([`pending_release_sk`]) | GSI1 leftovers; deleted as applied |
//! | channel order id (`CHANNEL_REF`, uniqueness) | `T#t#CHANNEL#<channel>#<channel order id>` | `CHANNEL_REF` | |
//! | idempotency record (`IDEMPOTENCY`) | `T#t#IDEM#<sub>#<key>` | `IDEM` | TTL 24 h |
//! | order / return counter shard (`SEQUENCE`) | `T#t#SEQ#ORDER#<yyyymmdd>#<nn>`, `T#t#SEQ#RETURN#<yyyymmdd>#<nn>` ([`sequence_pk`]) | `SEQ` | TTL 3 days after the day |
//! | shipment counter shard (`SEQUENCE`, all tenants) | `SEQ#SHIPMENT#<yyyymmdd>#<nn>` | `SEQ` | TTL 3 days after the day |
//! | shipment lookup (`SHIPMENT_REF`) | `SHIPMENT#<shipment id>` | `SHIPMENT_REF` | |
//! | return lookup (`RETURN_REF`) | `T#t#RETURN#<return id>` | `RETURN_REF` | |
//! | hub (`HUB`) | `T#t#HUBS` | `HUB#<hub>` | |
//! | hub load shard: orders sent on a day (`HUB_LOAD`) | `T#t#HUBLOAD#<yyyymmdd>#<nn>` ([`hub_loads_pk`]) | `HUB#<hub>` | TTL 3 days after the day |
//! | SKU (`SKU`) | `T#t#SKUS` | `SKU#<sku>` | |
//! | channel item → SKU (`CHANNEL_ITEM`) | `T#t#CHANNELITEM#<channel>#<item id>` | `MAP` | |
//! | stock shard (`STOCK`) | `T#t#STOCK#<sku>` | `HUB#<hub>#S<nn>` ([`stock_shard_sk`]) | GSI1 stock by hub |
//! | integration (`INTEGRATION`) | `T#t#INTEGRATIONS` | `INTEGRATION#<kind>#<principal>` | |
//! | outbox message too big to ride on its order item (`OUTBOX`) | `T#t#ORDER#<id>` (its order's partition: relayed in order with it) | `OUTBOX#<event id or execution name>` ([`outbox_sk`]) | TTL 24 h; the stream relays inserts |
//! | parked message (`PARKED_EVENT`) | `T#t#PARKED#<id>`, or `PARKED#<id>` without a tenant | `PARKED` | no TTL |
//!
//! Indexes (attributes `GSI<n>PK`/`GSI<n>SK`; an item without them is not in the index):
//!
//! | index | PK | SK | holds, for |
//! |---|---|---|---|
//! | GSI1 | `T#t#ORDERS#<nn>` ([`orders_by_date_pk`]) | `<created_at>#<order id>` ([`by_date_sk`]) | orders: the list by date |
//! | GSI1 | `T#t#STOCKS#<nn>` ([`stock_by_hub_pk`]) | `<hub>#<sku>#S<nn>` ([`stock_by_hub_sk`]) | stock shards: a tenant's stock, by hub |
//! | GSI1 | `RESV_PENDING` ([`LEFTOVERS_PK`]) | `<created_at>#<PK>#<SK>` ([`leftover_sk`]) | big-change records: the reconciler's leftovers older than a cutoff |
//! | GSI2 | `T#t#STATUS#<status>#<nn>` ([`orders_by_status_pk`]) | `<created_at>#<order id>` | orders: the list by status (and backorders to re-place) |
//! | GSI3 | `T#t#CUSTOMER#<customer id>#<nn>` ([`orders_by_customer_pk`]) | `<created_at>#<order id>` | orders: the list by customer |
//! | GSI4 | `T#t#ORDERNOS#<nn>` ([`order_numbers_pk`]) | `<order number>#<created_at>#<order id>` ([`search_sk`], not lower-cased) | orders: `q` by number prefix (keys only) |
//! | GSI5 | `T#t#CUSTOMERNAMES#<nn>` ([`customer_names_pk`]) | `<lower-cased name>#<created_at>#<order id>` ([`search_sk`]) | orders: `q` by customer name prefix (keys only) |
//! | GSI6 | `T#t#EXTREFS#<nn>` ([`external_references_pk`]) | `<lower-cased reference>#<created_at>#<order id>` | orders with an external reference: `q` by its prefix (keys only) |
//!
//! `<created_at>` is fixed-width UTC with microseconds (`2026-11-22T10:00:00.000000Z`), so
//! keys sort in time order. What GSI1–GSI3 project is in `infra/template.yaml`.
//!
//! ## Write sharding
//!
//! One partition (of the table or of an index) takes about 1,000 write units a second. A
//! partition every order of a tenant writes to would cap the tenant, so those end in a shard
//! number `<nn>` (two digits): an order's index entries go to shard [`order_shard`] (a stable
//! hash of its id) modulo the index's shard count, and readers query every shard and merge by
//! the sort key (`listing`), so a page is exactly what one partition would give. Counters are
//! bumped on a random shard and read as the sum of their shards (hub loads), or number
//! documents so that shards never collide ([`Counter`] numbers, see `next_number`). The counts
//! come from the writes one order lifecycle makes to each partition (README, "The table"), for
//! 2,000 orders a second per tenant at no more than 3/4 of a partition's limit:
//!
//! | partition | writes per order | shards |
//! |---|---|---|
//! | GSI1 orders by date | 1 (at create: it projects nothing a change rewrites) | [`BY_DATE_SHARDS`] 16 |
//! | GSI1 stock by hub | 0 (an entry is written when its stock shard is; counts are not projected) | [`STOCKS_SHARDS`] 16, by [`stock_item_shard`] |
//! | GSI2 one status | 2 (the entry arrives, then leaves) | [`BY_STATUS_SHARDS`] 8 |
//! | GSI3 one customer | 1 (at create, like GSI1) | [`BY_CUSTOMER_SHARDS`] 8 |
//! | GSI4–GSI6 search | 1 (at create) | [`SEARCH_SHARDS`] 4 |
//! | order / return / shipment counter | 1 | [`COUNTER_SHARDS`] 8 (shipments: all tenants together) |
//! | hub loads of a day | 1 | [`HUB_LOAD_SHARDS`] 4 |
//!
//! A shard count is part of the key schema: changing one re-homes existing entries (a
//! migration), except the counters', which only change on a day boundary.

use chrono::{DateTime, NaiveDate, Utc};
use oms_domain::integrations::{IntegrationKind, Principal};
use oms_domain::ports::Counter;
use oms_domain::{HubId, OrderId, Sku, TenantId};
use sha2::{Digest, Sha256};

/// Partition key attribute.
pub const PK: &str = "PK";
/// Sort key attribute.
pub const SK: &str = "SK";

/// Escapes a free-text key segment (`%` and `#`).
fn seg(value: &str) -> String {
    value.replace('%', "%25").replace('#', "%23")
}

fn tenant(t: &TenantId) -> String {
    format!("T#{t}")
}

/// The partition of an order: its item, and the records of a change too big for one transaction.
pub fn order_pk(t: &TenantId, id: &OrderId) -> String {
    format!("{}#ORDER#{id}", tenant(t))
}
/// Sort key of the order item.
pub const ORDER_SK: &str = "ORDER";
/// The key, in the order item's `history` map, of the status changes made at `version`
/// (zero-padded so keys sort by version).
pub fn history_key(version: u64) -> String {
    format!("v{version:010}")
}
/// The version a [`history_key`] names.
pub fn history_version(key: &str) -> Option<u64> {
    key.strip_prefix('v')?.parse().ok()
}

/// Sort key prefix of the records of stock reserved ahead of an order change too large for one
/// transaction (`RESV#<version>#<run>#<chunk>`).
pub const RESERVATION_PREFIX: &str = "RESV#";
/// Sort key of chunk `chunk` reserved ahead of the change from `version` by the run `run` (one
/// id per attempt, so two attempts at the same change never share a record).
pub fn reservation_chunk_sk(version: u64, run: &str, chunk: usize) -> String {
    format!("{RESERVATION_PREFIX}{version:010}#{run}#{chunk:03}")
}
/// Sort key prefix of the records of releases a committed order change still owes
/// (`RELS#<version>#<run>#<chunk>`).
pub const PENDING_RELEASE_PREFIX: &str = "RELS#";
/// Sort key of chunk `chunk` of the releases the change from `version` (run `run`) owes.
pub fn pending_release_sk(version: u64, run: &str, chunk: usize) -> String {
    format!("{PENDING_RELEASE_PREFIX}{version:010}#{run}#{chunk:03}")
}
/// GSI1 partition of every reservation-chunk and pending-release record, across tenants: only
/// the reconciler (a system function) queries it. Records live seconds unless a run crashed, so
/// one partition never gets hot.
pub const LEFTOVERS_PK: &str = "RESV_PENDING";
/// GSI1 sort key of such a record: its creation time first, so records older than a cutoff are
/// one key-range query ([`leftovers_before`]), then its own keys so equal times stay distinct.
pub fn leftover_sk(created_at: DateTime<Utc>, pk: &str, sk: &str) -> String {
    format!("{}#{pk}#{sk}", leftovers_before(created_at))
}
/// The GSI1 sort key every record created before `at` sorts under.
pub fn leftovers_before(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Shards of a tenant's orders by date (GSI1).
pub const BY_DATE_SHARDS: u32 = 16;
/// Shards of a tenant's orders in one status (GSI2).
pub const BY_STATUS_SHARDS: u32 = 8;
/// Shards of a customer's orders (GSI3).
pub const BY_CUSTOMER_SHARDS: u32 = 8;
/// Shards of each search index (GSI4–GSI6).
pub const SEARCH_SHARDS: u32 = 4;
/// Shards of each document counter of a day.
pub const COUNTER_SHARDS: u32 = 8;
/// Shards of a tenant's hub loads of a day.
pub const HUB_LOAD_SHARDS: u32 = 4;

/// The shard an order's index entries go to (modulo each index's count): the first four bytes
/// of SHA-256 of its id, so it never changes and ids spread evenly whatever their shape (ULIDs
/// share their leading time digits).
pub fn order_shard(id: &OrderId) -> u32 {
    let digest = Sha256::digest(id.as_str().as_bytes());
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// `base#<nn>`: shard `shard` of a partition written `shards` ways.
fn sharded(base: String, shard: u32, shards: u32) -> String {
    format!("{base}#{:02}", shard % shards)
}

/// GSI1: shard `shard` (any number: taken modulo the count) of a tenant's orders by creation
/// time.
pub fn orders_by_date_pk(t: &TenantId, shard: u32) -> String {
    sharded(format!("{}#ORDERS", tenant(t)), shard, BY_DATE_SHARDS)
}
/// GSI2: shard `shard` of a tenant's orders in one status.
pub fn orders_by_status_pk(t: &TenantId, status: &str, shard: u32) -> String {
    sharded(format!("{}#STATUS#{status}", tenant(t)), shard, BY_STATUS_SHARDS)
}
/// GSI3: shard `shard` of a customer's orders.
pub fn orders_by_customer_pk(t: &TenantId, customer_id: &str, shard: u32) -> String {
    sharded(format!("{}#CUSTOMER#{}", tenant(t), seg(customer_id)), shard, BY_CUSTOMER_SHARDS)
}
/// GSI4: shard `shard` of a tenant's orders by number (lookup and prefix search).
pub fn order_numbers_pk(t: &TenantId, shard: u32) -> String {
    sharded(format!("{}#ORDERNOS", tenant(t)), shard, SEARCH_SHARDS)
}
/// GSI5: shard `shard` of a tenant's orders by lower-cased customer name (prefix search).
pub fn customer_names_pk(t: &TenantId, shard: u32) -> String {
    sharded(format!("{}#CUSTOMERNAMES", tenant(t)), shard, SEARCH_SHARDS)
}
/// GSI6: shard `shard` of a tenant's orders by lower-cased external reference (prefix search).
pub fn external_references_pk(t: &TenantId, shard: u32) -> String {
    sharded(format!("{}#EXTREFS", tenant(t)), shard, SEARCH_SHARDS)
}
/// Every shard of a partition, in shard order: what a reader queries and merges.
pub fn every_shard(shards: u32, key: impl Fn(u32) -> String) -> Vec<String> {
    (0..shards).map(key).collect()
}
/// Sort key of the GSI5 and GSI6 search indexes: the [`searchable`] text, then the date key so
/// equal texts stay distinct and a match's date is known from its key.
pub fn search_sk(text: &str, by_date: &str) -> String {
    format!("{}#{by_date}", searchable(text))
}
/// The greatest character (UTF-8 sorts by code point). No search key holds it ([`searchable`]
/// replaces it; order numbers and date keys are ASCII), so every key that starts with a prefix
/// sorts at or before that prefix followed by it.
const LAST_CHAR: char = '\u{10FFFF}';
/// Text as the search indexes hold it and as a search looks for it: lower-cased (a search
/// ignores case), [`LAST_CHAR`] (a noncharacter) replaced by U+FFFD.
pub fn searchable(text: &str) -> String {
    text.to_lowercase().replace(LAST_CHAR, "\u{FFFD}")
}
/// The sort key range, `BETWEEN` its two ends, of exactly the search keys that start with
/// `prefix`: what `begins_with` reads. DynamoDB seeks to either; DynamoDB Local answers
/// `begins_with` by walking the whole partition and a range by seeking, so a search there would
/// slow down with the tenant's size for no reason AWS has (tools/bench/oms-bench/README.md).
pub fn prefix_range(prefix: &str) -> (String, String) {
    (prefix.to_owned(), format!("{prefix}{LAST_CHAR}"))
}
/// Sort key of the GSI4 number index: the order number as it is (numbers are upper case),
/// then the date key.
pub fn order_number_sk(number: &str, by_date: &str) -> String {
    format!("{number}#{by_date}")
}
/// The date key (`<created_at>#<order id>`, [`by_date_sk`]) that ends a search sort key: its
/// last two segments (neither a time nor an order id holds a `#`; the text before may).
pub fn search_sk_by_date(sk: &str) -> Option<&str> {
    let (at, _) = sk.rmatch_indices('#').nth(1)?;
    Some(&sk[at + 1..])
}
/// Sort key of the date-ordered GSIs: fixed-width time, then id, so newest-first is a reverse
/// query and equal times stay distinct.
pub fn by_date_sk(created_at: DateTime<Utc>, id: &OrderId) -> String {
    format!("{}#{id}", created_at.format("%Y-%m-%dT%H:%M:%S%.6fZ"))
}

/// Uniqueness of a channel's order id.
pub fn channel_ref_pk(t: &TenantId, channel: &str, channel_order_id: &str) -> String {
    format!("{}#CHANNEL#{}#{}", tenant(t), seg(channel), seg(channel_order_id))
}
/// Sort key of a channel reference.
pub const CHANNEL_REF_SK: &str = "CHANNEL_REF";

/// An idempotency record: a key belongs to its caller (tenant and user), so another user's
/// identical key is another request.
pub fn idempotency_pk(t: &TenantId, user: &str, key: &str) -> String {
    format!("{}#IDEM#{}#{}", tenant(t), seg(user), seg(key))
}
/// Sort key of an idempotency record.
pub const IDEMPOTENCY_SK: &str = "IDEM";

/// Shard `shard` of a day's document counter: per tenant for orders and returns; across
/// tenants for shipments, whose ids must name one shipment on their own (the one key outside a
/// tenant's space).
pub fn sequence_pk(counter: Counter<'_>, day: NaiveDate, shard: u32) -> String {
    let day = day.format("%Y%m%d");
    let base = match counter {
        Counter::Orders(t) => format!("{}#SEQ#ORDER#{day}", tenant(t)),
        Counter::Returns(t) => format!("{}#SEQ#RETURN#{day}", tenant(t)),
        Counter::Shipments => format!("SEQ#SHIPMENT#{day}"),
    };
    sharded(base, shard, COUNTER_SHARDS)
}

/// Which tenant and order a shipment belongs to: carriers call back with the shipment id only.
/// Shipment ids are unique across tenants (see [`sequence_pk`]).
pub fn shipment_ref_pk(shipment_id: &str) -> String {
    format!("SHIPMENT#{}", seg(shipment_id))
}
/// Sort key of a shipment lookup.
pub const SHIPMENT_REF_SK: &str = "SHIPMENT_REF";

/// Which order a return belongs to.
pub fn return_ref_pk(t: &TenantId, return_id: &str) -> String {
    format!("{}#RETURN#{}", tenant(t), seg(return_id))
}
/// Sort key of a return lookup.
pub const RETURN_REF_SK: &str = "RETURN_REF";
/// Sort key of a counter.
pub const SEQUENCE_SK: &str = "SEQ";

/// All hubs of a tenant share a partition (a tenant has tens of hubs, not millions).
pub fn hubs_pk(t: &TenantId) -> String {
    format!("{}#HUBS", tenant(t))
}
/// Sort key of a hub.
pub fn hub_sk(hub: &HubId) -> String {
    format!("HUB#{hub}")
}

/// The integrations registered for a tenant share a partition (a handful per tenant); an
/// inbound event's check is one read of its sender's item.
pub fn integrations_pk(t: &TenantId) -> String {
    format!("{}#INTEGRATIONS", tenant(t))
}
/// Sort key of the registration of `principal` as `kind`.
pub fn integration_sk(kind: IntegrationKind, principal: &Principal) -> String {
    format!("INTEGRATION#{}#{}", kind.as_str(), seg(principal.as_str()))
}

/// Which SKU a channel's item id maps to.
pub fn channel_item_pk(t: &TenantId, channel: &str, item_id: &str) -> String {
    format!("{}#CHANNELITEM#{}#{}", tenant(t), seg(channel), seg(item_id))
}
/// Sort key of a channel item mapping.
pub const CHANNEL_ITEM_SK: &str = "MAP";

/// Shard `shard` of the orders sent to each hub on a day (one item per hub and shard; a hub's
/// load is the sum over the shards).
pub fn hub_loads_pk(t: &TenantId, day: NaiveDate, shard: u32) -> String {
    sharded(format!("{}#HUBLOAD#{}", tenant(t), day.format("%Y%m%d")), shard, HUB_LOAD_SHARDS)
}

/// All SKUs of a tenant.
pub fn skus_pk(t: &TenantId) -> String {
    format!("{}#SKUS", tenant(t))
}
/// Sort key of a SKU.
pub fn sku_sk(sku: &Sku) -> String {
    format!("SKU#{sku}")
}

/// Stock of one SKU, one item per hub: placement reads a SKU's stock everywhere in one query.
pub fn stock_pk(t: &TenantId, sku: &Sku) -> String {
    format!("{}#STOCK#{sku}", tenant(t))
}
/// Sort key of one shard of a hub's stock of the SKU (`HUB#<hub>#S00`, `#S01`, ...; an
/// unsharded SKU has shard 0 only).
pub fn stock_shard_sk(hub: &HubId, shard: u16) -> String {
    format!("{}{shard:02}", stock_shards_prefix(hub))
}
/// Sort-key prefix of every shard of a hub's stock of the SKU. Hub ids contain no `#`, so the
/// prefix of hub `A` never matches hub `AB`.
pub fn stock_shards_prefix(hub: &HubId) -> String {
    format!("HUB#{hub}#S")
}
/// Shards of a tenant's stock by hub (GSI1).
pub const STOCKS_SHARDS: u32 = 16;
/// The GSI1 shard of a stock item (modulo [`STOCKS_SHARDS`]): a stable hash of the item's
/// key, so a hot SKU's items, and its hubs, land on different shards.
pub fn stock_item_shard(hub: &HubId, sku: &Sku, shard: u16) -> u32 {
    let digest = Sha256::digest(stock_by_hub_sk(hub, sku, shard).as_bytes());
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}
/// GSI1: shard `shard` of a tenant's stock, by hub then SKU.
pub fn stock_by_hub_pk(t: &TenantId, shard: u32) -> String {
    sharded(format!("{}#STOCKS", tenant(t)), shard, STOCKS_SHARDS)
}
/// GSI1 sort key of a stock shard; a hub's prefix is `stock_by_hub_prefix`.
pub fn stock_by_hub_sk(hub: &HubId, sku: &Sku, shard: u16) -> String {
    format!("{hub}#{sku}#S{shard:02}")
}
/// GSI1 sort-key prefix of one hub's stock.
pub fn stock_by_hub_prefix(hub: &HubId) -> String {
    format!("{hub}#")
}

/// Sort key of an outbox item: its event id or execution name.
pub fn outbox_sk(id: &str) -> String {
    format!("OUTBOX#{}", seg(id))
}

/// A message the relay could never deliver, kept whole until someone re-drives it (`id` is the
/// event id or execution name; the stream sequence number for an item that could not be read).
/// An item whose own key names no tenant was not written by the OMS: it is parked outside every
/// tenant's space (`PARKED#<id>`), the one other key without a tenant.
pub fn parked_pk(t: Option<&TenantId>, id: &str) -> String {
    match t {
        Some(t) => format!("{}#PARKED#{}", tenant(t), seg(id)),
        None => format!("PARKED#{}", seg(id)),
    }
}
/// Sort key of a parked message.
pub const PARKED_SK: &str = "PARKED";

/// The tenant a key belongs to (`T#<tenant>#...`); tenant ids hold no `#`, so the first segment
/// is the whole id.
pub fn tenant_of(key: &str) -> Option<TenantId> {
    let (tenant, _) = key.strip_prefix("T#")?.split_once('#')?;
    TenantId::parse(tenant).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_starts_with_its_tenant_and_free_text_cannot_forge_one() {
        let t = TenantId::parse("acme").unwrap();
        assert_eq!(order_pk(&t, &OrderId::parse("01H").unwrap()), "T#acme#ORDER#01H");
        assert_ne!(channel_ref_pk(&t, "a#b", "c"), channel_ref_pk(&t, "a", "b#c"));
        assert_eq!(idempotency_pk(&t, "u#1", "k#T#other"), "T#acme#IDEM#u%231#k%23T%23other");
    }

    #[test]
    fn a_parked_message_is_kept_in_its_tenants_space_read_back_from_the_outbox_key() {
        let t = TenantId::parse("acme").unwrap();
        let outbox = order_pk(&t, &OrderId::parse("01H").unwrap());
        assert_eq!(tenant_of(&outbox), Some(t.clone()));
        assert_eq!(parked_pk(tenant_of(&outbox).as_ref(), "evt#1"), "T#acme#PARKED#evt%231");
        assert_eq!(tenant_of("SHIPMENT#S1"), None);
        assert_eq!(parked_pk(None, "seq-1"), "PARKED#seq-1");
    }

    #[test]
    fn history_and_date_keys_sort_in_time_order() {
        assert!(history_key(9) < history_key(10));
        assert_eq!(history_version(&history_key(12)), Some(12));
        let id = OrderId::parse("X").unwrap();
        let a = by_date_sk("2026-11-22T10:00:00Z".parse().unwrap(), &id);
        let b = by_date_sk("2026-11-22T10:00:00.5Z".parse().unwrap(), &id);
        assert!(a < b, "{a} < {b}");
        assert_eq!(search_sk_by_date(&search_sk("A#B", &a)), Some(a.as_str()));
        assert_eq!(search_sk_by_date(&order_number_sk("ORD-20261122-0001", &b)), Some(b.as_str()));
        assert_eq!(search_sk_by_date("no-date"), None);
    }

    #[test]
    fn a_prefix_range_holds_exactly_the_search_keys_that_start_with_the_prefix() {
        let at = by_date_sk("2026-11-22T10:00:00Z".parse().unwrap(), &OrderId::parse("X").unwrap());
        // Whatever follows the prefix: ASCII, the separator, accents, the BMP's last characters,
        // emoji, and the greatest character itself (which the key replaces).
        let names = [
            "ab",
            "abc",
            "ab#",
            "abé",
            "ab\u{E000}",
            "ab\u{FFFD}",
            "ab\u{FFFF}",
            "ab😀",
            "ab\u{10FFFF}z",
            "ab\u{10FFFF}",
        ];
        let outside = ["a", "aa", "ac", "b", "a\u{10FFFF}"];
        let prefix = searchable("AB");
        let (from, to) = prefix_range(&prefix);
        let in_range = |key: &str| (from.as_str()..=to.as_str()).contains(&key);
        for name in names {
            let key = search_sk(name, &at);
            assert!(in_range(&key) && key.starts_with(&prefix), "{name:?} -> {key:?} is in [{from:?}, {to:?}]");
        }
        for name in outside {
            let key = search_sk(name, &at);
            assert!(!in_range(&key) && !key.starts_with(&prefix), "{name:?} is outside");
        }
        let (from, to) = prefix_range("ORD-2026");
        let numbers = from.as_str()..=to.as_str();
        assert!(numbers.contains(&order_number_sk("ORD-20261122-0001", &at).as_str()));
        assert!(!numbers.contains(&order_number_sk("ORD-20271122-0001", &at).as_str()));
    }

    #[test]
    fn order_ids_spread_evenly_over_every_shard_count() {
        // 64,000 ULIDs made in a burst share their leading (time) characters: the hash must
        // spread them anyway. With n shards each expects 64,000 / n; allow 5 standard deviations.
        let ids: Vec<OrderId> = (0..64_000).map(|_| OrderId::parse(ulid::Ulid::new().to_string()).unwrap()).collect();
        for shards in [BY_DATE_SHARDS, BY_STATUS_SHARDS, BY_CUSTOMER_SHARDS, SEARCH_SHARDS] {
            let mut counts = vec![0_u32; shards as usize];
            for id in &ids {
                counts[(order_shard(id) % shards) as usize] += 1;
            }
            let expected = 64_000.0 / f64::from(shards);
            let sd = (expected * (1.0 - 1.0 / f64::from(shards))).sqrt();
            for (shard, count) in counts.iter().enumerate() {
                assert!((f64::from(*count) - expected).abs() < 5.0 * sd, "{shards} shards: shard {shard} has {count}");
            }
        }
    }

    #[test]
    fn an_orders_entries_keep_their_shard_and_every_shard_key_is_distinct() {
        let t = TenantId::parse("acme").unwrap();
        let id = OrderId::parse("01HX").unwrap();
        assert_eq!(order_shard(&id), order_shard(&OrderId::parse("01HX").unwrap()), "stable");
        assert_eq!(orders_by_date_pk(&t, 3), "T#acme#ORDERS#03");
        assert_eq!(orders_by_date_pk(&t, BY_DATE_SHARDS + 3), "T#acme#ORDERS#03", "taken modulo the count");
        assert_eq!(orders_by_status_pk(&t, "BACKORDERED", 1), "T#acme#STATUS#BACKORDERED#01");
        let customers = every_shard(BY_CUSTOMER_SHARDS, |n| orders_by_customer_pk(&t, "C#1", n));
        assert_eq!(customers.iter().collect::<std::collections::BTreeSet<_>>().len(), BY_CUSTOMER_SHARDS as usize);
        assert_ne!(orders_by_customer_pk(&t, "C#01", 0), orders_by_customer_pk(&t, "C", 1), "escaped");
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        assert_eq!(sequence_pk(Counter::Orders(&t), day, 7), "T#acme#SEQ#ORDER#20261122#07");
        assert_eq!(sequence_pk(Counter::Shipments, day, 0), "SEQ#SHIPMENT#20261122#00");
        assert_eq!(hub_loads_pk(&t, day, 2), "T#acme#HUBLOAD#20261122#02");
    }

    #[test]
    fn a_record_sorts_under_every_cutoff_after_its_creation_and_no_earlier_one() {
        let at: DateTime<Utc> = "2026-11-22T10:00:00Z".parse().unwrap();
        let key = leftover_sk(at, "T#acme#ORDER#01H", &reservation_chunk_sk(3, "01RUN", 0));
        assert!(key < leftovers_before(at + chrono::Duration::microseconds(1)));
        assert!(key > leftovers_before(at));
        assert_ne!(reservation_chunk_sk(3, "01A", 0), reservation_chunk_sk(3, "01B", 0));
    }
}
