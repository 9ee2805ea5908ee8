//! Stock items, reservations and hot-SKU shards.
//!
//! A hub's stock of a SKU is one or more *shard* items (`HUB#<hub>#S00`, `#S01`, ...; the SKU's
//! `stock_shards`, 1 by default). Each shard holds `on_hand`, `reserved` and `available`
//! (= on_hand - reserved) as numbers. `available` exists because a condition expression cannot
//! subtract: every write that could oversell is conditional on it, so no interleaving of writers
//! can take a shard below zero, and `reserved <= on_hand` holds per shard and so in total.
//!
//! Why shards: one DynamoDB item takes about 1,000 writes a second. A flash sale on one SKU
//! would queue on that item; spread over N shards it takes N times that. A reservation reads
//! the shards (eventually consistent; the conditional write is what protects) and takes from
//! them starting at a shard chosen by the order, so concurrent orders land on different items.
//! Stock counts and receipts rewrite every shard of the hub at once, spreading the available
//! quantity evenly again (the rebalance), conditional on each shard being as read.
//!
//! Readers see a hub's stock as the sum of its shards.

use std::collections::BTreeMap;
use std::str::FromStr;

use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
use chrono::{DateTime, SubsecRound, Utc};
use futures_util::future::try_join_all;
use oms_domain::ports::{CatalogStore, OrderWrite, StockStore};
use oms_domain::stock::{MoveKind, Needs, StockChange, StockFilter, StockLevel, StockMove};
use oms_domain::{ConflictOn, HubId, Sku, StoreError, TenantId};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::keys::{self, PK, SK};
use super::{DynamoStore, Item, MAX_TRANSACTION_ITEMS, decimal, item_key, s, store_error, unexpected};

/// How many times a stock count retries when reservations keep changing the shards it read.
const REBALANCE_ATTEMPTS: usize = 8;

fn number(item: &Item, name: &str) -> Result<Decimal, StoreError> {
    let raw = item.get(name).and_then(|v| v.as_n().ok()).map(String::as_str).unwrap_or("0");
    Decimal::from_str(raw)
        .or_else(|_| Decimal::from_scientific(raw))
        .map_err(|e| unexpected(format!("stock attribute {name}={raw}: {e}")))
}

fn text<T: TryFrom<String>>(item: &Item, name: &str) -> Result<T, StoreError> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .and_then(|v| T::try_from(v.clone()).ok())
        .ok_or_else(|| unexpected(format!("stock item without a valid {name}")))
}

/// One shard as read.
#[derive(Debug, Clone, PartialEq)]
struct Shard {
    index: u16,
    on_hand: Decimal,
    reserved: Decimal,
    counted_at: Option<String>,
}

impl Shard {
    fn available(&self) -> Decimal {
        self.on_hand - self.reserved
    }

    fn from_item(item: &Item) -> Result<(HubId, Sku, Shard), StoreError> {
        let index = item.get("shard").and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok()).unwrap_or(0);
        let shard = Shard {
            index,
            on_hand: number(item, "on_hand")?,
            reserved: number(item, "reserved")?,
            counted_at: item.get("counted_at").and_then(|v| v.as_s().ok()).cloned(),
        };
        Ok((text(item, "hub_id")?, text(item, "sku")?, shard))
    }
}

/// Sums shard items into one level per hub and SKU, in the order first seen.
fn levels(items: &[Item]) -> Result<Vec<StockLevel>, StoreError> {
    let mut order: Vec<(HubId, Sku)> = Vec::new();
    let mut sums: BTreeMap<(HubId, Sku), StockLevel> = BTreeMap::new();
    for item in items {
        let (hub_id, sku, shard) = Shard::from_item(item)?;
        let key = (hub_id.clone(), sku.clone());
        let level = sums.entry(key.clone()).or_insert_with(|| {
            order.push(key);
            StockLevel::empty(hub_id, sku)
        });
        level.on_hand += shard.on_hand;
        level.reserved += shard.reserved;
    }
    Ok(order.into_iter().map(|k| sums.remove(&k).expect("summed above")).collect())
}

pub(super) fn stock_conflict(hub_id: &HubId, sku: &Sku) -> ConflictOn {
    ConflictOn::Stock { hub_id: hub_id.to_string(), sku: sku.to_string() }
}

pub(super) fn time_key(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn parse_time_key(key: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(key)
        .map(|at| at.to_utc())
        .map_err(|e| unexpected(format!("stock attribute counted_at={key}: {e}")))
}

/// A reservation or release on one shard; what chunk records keep so they can be undone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct ShardMove {
    pub(super) hub_id: HubId,
    pub(super) sku: Sku,
    pub(super) shard: u16,
    /// Positive: reserve. Negative: release.
    pub(super) quantity: Decimal,
    /// What moves (see [`MoveKind`]).
    #[serde(default)]
    pub(super) kind: MoveKind,
}

impl ShardMove {
    /// The move as the domain states it, on this shard alone.
    pub(super) fn as_move(&self) -> StockMove {
        StockMove { hub_id: self.hub_id.clone(), sku: self.sku.clone(), quantity: self.quantity, kind: self.kind }
    }
}

/// Splits `amount` over `n` shards: equal parts in the amount's own precision (whole units for
/// a whole amount, at most thousandths), the rest on shard 0.
fn spread(amount: Decimal, n: u16) -> Vec<Decimal> {
    let n = n.max(1);
    let scale = amount.normalize().scale().min(3);
    let part = (amount / Decimal::from(n)).trunc_with_scale(scale);
    let mut parts = vec![part; usize::from(n)];
    parts[0] = amount - part * Decimal::from(n - 1);
    parts
}

impl DynamoStore {
    /// The shards of a hub's stock of a SKU, by index.
    async fn shards(
        &self,
        tenant: &TenantId,
        sku: &Sku,
        hub: &HubId,
        consistent: bool,
    ) -> Result<Vec<Shard>, StoreError> {
        let mut shards = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(self.table())
                .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
                .expression_attribute_values(":pk", s(keys::stock_pk(tenant, sku)))
                .expression_attribute_values(":prefix", s(keys::stock_shards_prefix(hub)))
                .consistent_read(consistent)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(store_error)?;
            for item in out.items.unwrap_or_default() {
                shards.push(Shard::from_item(&item)?.2);
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                shards.sort_by_key(|s| s.index);
                return Ok(shards);
            }
        }
    }

    /// A whole shard item, written only if the shard is still as it was read.
    fn shard_put(
        &self,
        tenant: &TenantId,
        hub: &HubId,
        sku: &Sku,
        shard: &Shard,
        was: Option<&Shard>,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut item = Item::new();
        item.insert(PK.into(), s(keys::stock_pk(tenant, sku)));
        item.insert(SK.into(), s(keys::stock_shard_sk(hub, shard.index)));
        item.insert("entity".into(), s("STOCK"));
        item.insert("tenant_id".into(), s(tenant.to_string()));
        item.insert("hub_id".into(), s(hub.to_string()));
        item.insert("sku".into(), s(sku.to_string()));
        item.insert("shard".into(), aws_sdk_dynamodb::types::AttributeValue::N(shard.index.to_string()));
        item.insert("on_hand".into(), decimal(shard.on_hand));
        item.insert("reserved".into(), decimal(shard.reserved));
        item.insert("available".into(), decimal(shard.available()));
        let index_shard = keys::stock_item_shard(hub, sku, shard.index);
        item.insert("GSI1PK".into(), s(keys::stock_by_hub_pk(tenant, index_shard)));
        item.insert("GSI1SK".into(), s(keys::stock_by_hub_sk(hub, sku, shard.index)));
        if let Some(at) = &shard.counted_at {
            item.insert("counted_at".into(), s(at.clone()));
        }
        let put = Put::builder().table_name(self.table()).set_item(Some(item));
        let put = match was {
            None => put.condition_expression("attribute_not_exists(PK)"),
            Some(was) => put
                .condition_expression("on_hand = :was_on_hand AND reserved = :was_reserved")
                .expression_attribute_values(":was_on_hand", decimal(was.on_hand))
                .expression_attribute_values(":was_reserved", decimal(was.reserved)),
        };
        Ok(TransactWriteItem::builder().put(put.build().map_err(unexpected)?).build())
    }

    /// The conditional update of one shard move: the domain's rule for the move
    /// ([`StockMove::needs`], [`StockMove::effect`]) on the shard, as one atomic write. The
    /// condition is what the move needs (and, like every condition on a missing item, that the
    /// shard exists); the update adds the move's effect to `on_hand`, `reserved` and `available`
    /// together. A shard that meets the need keeps `0 <= reserved <= on_hand`, so the hub's
    /// total does too, whatever the interleaving of writers.
    pub(super) fn shard_move(&self, tenant: &TenantId, m: &ShardMove) -> Result<TransactWriteItem, StoreError> {
        let domain_move = m.as_move();
        let (condition, need) = match domain_move.needs() {
            Needs::Available(q) => ("available >= :need", Some(q)),
            Needs::Reserved(q) => ("reserved >= :need", Some(q)),
            Needs::Record => ("attribute_exists(PK)", None),
        };
        let effect = domain_move.effect();
        let update = Update::builder()
            .table_name(self.table())
            .key(PK, s(keys::stock_pk(tenant, &m.sku)))
            .key(SK, s(keys::stock_shard_sk(&m.hub_id, m.shard)))
            .update_expression(
                "SET on_hand = on_hand + :on_hand, reserved = reserved + :reserved, available = available + :available",
            )
            .condition_expression(condition)
            .expression_attribute_values(":on_hand", decimal(effect.on_hand))
            .expression_attribute_values(":reserved", decimal(effect.reserved))
            .expression_attribute_values(":available", decimal(effect.available()));
        let update = match need {
            Some(q) => update.expression_attribute_values(":need", decimal(q)),
            None => update,
        };
        let update = update.build().map_err(unexpected)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Which shards each move takes from: reservations from shards with stock available,
    /// releases from shards with stock reserved, starting at a shard picked by `seed` so
    /// concurrent orders spread over the shards. Too little to take is a stock conflict.
    pub(super) async fn shard_moves(
        &self,
        tenant: &TenantId,
        moves: &[StockMove],
        seed: usize,
    ) -> Result<Vec<ShardMove>, StoreError> {
        let reads = moves.iter().map(|m| self.shards(tenant, &m.sku, &m.hub_id, false));
        let all_shards = try_join_all(reads).await?;
        let mut out = Vec::new();
        for (m, shards) in moves.iter().zip(all_shards) {
            let reserving = m.quantity > Decimal::ZERO;
            let mut remaining = m.quantity.abs();
            let n = shards.len();
            for k in 0..n {
                if remaining.is_zero() {
                    break;
                }
                let shard = &shards[(seed + k) % n];
                let level = StockLevel {
                    on_hand: shard.on_hand,
                    reserved: shard.reserved,
                    ..StockLevel::empty(m.hub_id.clone(), m.sku.clone())
                };
                let room = m.needs().room(&level, remaining);
                let take = remaining.min(room.max(Decimal::ZERO));
                if take > Decimal::ZERO {
                    let quantity = if reserving { take } else { -take };
                    let (hub_id, sku, kind) = (m.hub_id.clone(), m.sku.clone(), m.kind);
                    out.push(ShardMove { hub_id, sku, shard: shard.index, quantity, kind });
                    remaining -= take;
                }
            }
            if remaining > Decimal::ZERO {
                return Err(StoreError::Conflict(stock_conflict(&m.hub_id, &m.sku)));
            }
        }
        Ok(out)
    }
}

impl StockStore for DynamoStore {
    async fn stock_for_skus(&self, tenant: &TenantId, skus: &[Sku]) -> Result<Vec<StockLevel>, StoreError> {
        let queries = skus.iter().map(|sku| self.query_all(None, PK, keys::stock_pk(tenant, sku), None));
        let pages = try_join_all(queries).await?;
        levels(&pages.into_iter().flatten().collect::<Vec<_>>())
    }

    async fn list_stock(&self, tenant: &TenantId, filter: &StockFilter) -> Result<Vec<StockLevel>, StoreError> {
        let items = match (&filter.sku, &filter.hub_id) {
            (Some(sku), Some(hub_id)) => {
                let prefix = (SK, keys::stock_shards_prefix(hub_id));
                self.query_all(None, PK, keys::stock_pk(tenant, sku), Some(prefix)).await?
            }
            (Some(sku), None) => self.query_all(None, PK, keys::stock_pk(tenant, sku), None).await?,
            (None, hub_id) => {
                // Every shard of the index partition, sorted back into one partition's order.
                let prefix = hub_id.as_ref().map(|h| ("GSI1SK", keys::stock_by_hub_prefix(h)));
                let shards = keys::every_shard(keys::STOCKS_SHARDS, |n| keys::stock_by_hub_pk(tenant, n));
                let reads = shards.into_iter().map(|pk| self.query_all(Some("GSI1"), "GSI1PK", pk, prefix.clone()));
                let mut entries: Vec<Item> = try_join_all(reads).await?.into_iter().flatten().collect();
                let sort_key = |item: &Item| item.get("GSI1SK").and_then(|v| v.as_s().ok()).cloned();
                entries.sort_by_key(sort_key);
                // The index holds the shards' keys, not their counts (projecting counts would
                // rewrite the entry at every reservation): the counts are read from the items.
                self.batch_get(entries.iter().filter_map(item_key).collect(), false, &[]).await?
            }
        };
        levels(&items)
    }

    async fn change_stock(
        &self,
        tenant: &TenantId,
        hub_id: &HubId,
        sku: &Sku,
        change: StockChange,
    ) -> Result<StockLevel, StoreError> {
        let wanted = self.get_skus(tenant, std::slice::from_ref(sku)).await?.first().map_or(1, |s| s.stock_shards);
        // Count times are kept to the microsecond: a count is judged at the precision it is kept
        // at, so the same count arriving twice is stale.
        let change = match change {
            StockChange::Counted { on_hand, at } => StockChange::Counted { on_hand, at: at.trunc_subsecs(6) },
            other => other,
        };
        for _ in 0..REBALANCE_ATTEMPTS {
            let current = self.shards(tenant, sku, hub_id, true).await?;
            let level = StockLevel {
                on_hand: current.iter().map(|s| s.on_hand).sum(),
                reserved: current.iter().map(|s| s.reserved).sum(),
                ..StockLevel::empty(hub_id.clone(), sku.clone())
            };
            // The domain's rule on the hub's total; the write below is conditional on every shard
            // being as read, so the rule holds on what is actually there when it commits.
            let last_counted = current.iter().filter_map(|s| s.counted_at.as_deref()).max().map(parse_time_key);
            let after = level.apply(change, last_counted.transpose()?).map_err(|r| r.conflict(hub_id, sku))?;
            let (target, reserved) = (after.on_hand, after.reserved);
            let counted_at = change.counted_at().map(time_key);
            // Every shard rewritten: what is reserved stays where it is, what is available is
            // spread evenly again.
            let n = wanted.max(u16::try_from(current.len()).unwrap_or(u16::MAX)).max(1);
            let shares = spread(target - reserved, n);
            let mut items = Vec::with_capacity(usize::from(n));
            for (index, share) in (0..n).zip(shares) {
                let was = current.iter().find(|s| s.index == index);
                let kept = was.map_or(Decimal::ZERO, |s| s.reserved);
                let counted = counted_at.clone().or_else(|| was.and_then(|s| s.counted_at.clone()));
                let shard = Shard { index, on_hand: kept + share, reserved: kept, counted_at: counted };
                items.push(self.shard_put(tenant, hub_id, sku, &shard, was)?);
            }
            let on = vec![ConflictOn::Version; items.len()];
            match self.commit(items, on).await {
                Ok(()) => return Ok(after),
                // A reservation moved a shard since it was read: read again.
                Err(StoreError::Conflict(ConflictOn::Version)) => continue,
                Err(other) => return Err(other),
            }
        }
        Err(StoreError::Unavailable(format!("stock of {sku} at {hub_id} kept changing; retry")))
    }

    async fn save_with_stock(&self, write: OrderWrite, moves: &[StockMove]) -> Result<(), StoreError> {
        let tenant = write.order.tenant_id().clone();
        let seed = write.order.order_id().as_str().bytes().map(usize::from).sum();
        // Netted here too, whatever the caller did: a hub's stock both released and reserved by
        // one change would be two writes of one item (refused in a transaction), or, in a big
        // change, a reservation ahead of the order and a release after it, both for nothing.
        let moves = self.shard_moves(&tenant, &StockMove::net(moves.iter().cloned()), seed).await?;
        let now = Utc::now();
        let order = super::chunks::OrderChange {
            pk: keys::order_pk(&tenant, write.order.order_id()),
            order_id: write.order.order_id().clone(),
            version: write.expected_version.unwrap_or_default(),
            tenant,
            now,
        };
        let (mut items, mut on) = self.order_write_items(write, now)?;
        if moves.len() <= MAX_TRANSACTION_ITEMS - items.len() {
            for m in &moves {
                items.push(self.shard_move(&order.tenant, m)?);
                on.push(stock_conflict(&m.hub_id, &m.sku));
            }
            return self.commit(items, on).await;
        }
        self.save_in_chunks(&order, items, on, moves).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn available_stock_spreads_evenly_to_the_thousandth() {
        assert_eq!(spread(Decimal::new(10, 0), 3), [Decimal::new(4, 0), Decimal::new(3, 0), Decimal::new(3, 0)]);
        assert_eq!(spread(Decimal::new(105, 1), 2), [Decimal::new(53, 1), Decimal::new(52, 1)]);
        assert_eq!(spread(Decimal::new(7, 0), 1), [Decimal::new(7, 0)]);
        assert_eq!(spread(Decimal::ZERO, 4).iter().sum::<Decimal>(), Decimal::ZERO);
    }
}
