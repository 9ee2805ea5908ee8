//! Stock items and reservations.
//!
//! A stock item holds `on_hand`, `reserved` and `available` (= on_hand - reserved) as numbers.
//! `available` exists because a condition expression cannot subtract: every write that could
//! oversell is conditional on it, so no interleaving of writers can take it below zero and
//! `reserved <= on_hand` always holds.

use std::str::FromStr;

use aws_sdk_dynamodb::types::{Delete, ReturnValue, TransactWriteItem, Update};
use chrono::Utc;
use futures_util::future::try_join_all;
use oms_domain::inventory::{StockChange, StockFilter, StockLevel, StockMove};
use oms_domain::ports::{OrderWrite, StockStore};
use oms_domain::{ConflictOn, HubId, Sku, StoreError, TenantId};
use rust_decimal::Decimal;

use super::keys::{self, PK, SK};
use super::{DynamoStore, Item, MAX_TRANSACTION_ITEMS, decimal, s, store_error};

fn number(item: &Item, name: &str) -> Result<Decimal, StoreError> {
    let raw = item.get(name).and_then(|v| v.as_n().ok()).map(String::as_str).unwrap_or("0");
    Decimal::from_str(raw)
        .or_else(|_| Decimal::from_scientific(raw))
        .map_err(|e| StoreError::Unexpected(format!("stock attribute {name}={raw}: {e}").into()))
}

fn text<T: TryFrom<String>>(item: &Item, name: &str) -> Result<T, StoreError> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .and_then(|v| T::try_from(v.clone()).ok())
        .ok_or_else(|| StoreError::Unexpected(format!("stock item without a valid {name}").into()))
}

fn stock_level(item: &Item) -> Result<StockLevel, StoreError> {
    Ok(StockLevel {
        hub_id: text(item, "hub_id")?,
        sku: text(item, "sku")?,
        on_hand: number(item, "on_hand")?,
        reserved: number(item, "reserved")?,
    })
}

fn stock_conflict(hub_id: &HubId, sku: &Sku) -> ConflictOn {
    ConflictOn::Stock { hub_id: hub_id.to_string(), sku: sku.to_string() }
}

impl DynamoStore {
    fn stock_update(
        &self,
        tenant: &TenantId,
        hub_id: &HubId,
        sku: &Sku,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(self.table())
            .key(PK, s(keys::stock_pk(tenant, sku)))
            .key(SK, s(keys::stock_sk(hub_id)))
            .expression_attribute_values(":zero", decimal(Decimal::ZERO))
            .expression_attribute_values(":tenant", s(tenant.to_string()))
            .expression_attribute_values(":hub", s(hub_id.to_string()))
            .expression_attribute_values(":sku", s(sku.to_string()))
            .expression_attribute_values(":entity", s("STOCK"))
            .expression_attribute_values(":gsi1pk", s(keys::stock_by_hub_pk(tenant)))
            .expression_attribute_values(":gsi1sk", s(keys::stock_by_hub_sk(hub_id, sku)))
            .return_values(ReturnValue::AllNew)
    }
}

impl DynamoStore {
    /// The conditional update of one stock move: reserving needs that much available,
    /// releasing needs that much reserved.
    fn stock_move(&self, tenant: &TenantId, m: &StockMove) -> Result<TransactWriteItem, StoreError> {
        let (update, condition, amount) = if m.quantity > Decimal::ZERO {
            ("SET reserved = reserved + :q, available = available - :q", "available >= :q", m.quantity)
        } else {
            ("SET reserved = reserved - :q, available = available + :q", "reserved >= :q", -m.quantity)
        };
        let update = Update::builder()
            .table_name(self.table())
            .key(PK, s(keys::stock_pk(tenant, &m.sku)))
            .key(SK, s(keys::stock_sk(&m.hub_id)))
            .update_expression(update)
            .condition_expression(condition)
            .expression_attribute_values(":q", decimal(amount))
            .build()
            .map_err(|e| StoreError::Unexpected(e.into()))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    fn reservation_record(&self, order_pk: &str, record_sk: &str, moves: &[StockMove]) -> Result<Item, StoreError> {
        let body = serde_json::to_string(moves).map_err(|e| StoreError::Unexpected(e.into()))?;
        let mut item = Item::new();
        item.insert(PK.into(), s(order_pk));
        item.insert(SK.into(), s(record_sk));
        item.insert("entity".into(), s("RESERVATION_CHUNK"));
        item.insert("moves".into(), s(body));
        Ok(item)
    }

    fn delete(&self, pk: &str, sk: &str) -> Result<TransactWriteItem, StoreError> {
        let delete = Delete::builder()
            .table_name(self.table())
            .key(PK, s(pk))
            .key(SK, s(sk))
            .build()
            .map_err(|e| StoreError::Unexpected(e.into()))?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// Moves back chunks reserved ahead of a change that then failed, each with the removal of
    /// its record. A chunk that cannot be moved back keeps its record for reconciliation.
    async fn undo(&self, tenant: &TenantId, order_pk: &str, done: &[(String, &[StockMove])]) {
        for (record_sk, moves) in done {
            let reversed: Result<Vec<TransactWriteItem>, StoreError> = moves
                .iter()
                .map(|m| self.stock_move(tenant, &StockMove { quantity: -m.quantity, ..m.clone() }))
                .chain(std::iter::once(self.delete(order_pk, record_sk)))
                .collect();
            let result = match reversed {
                Ok(items) => {
                    let on = vec![ConflictOn::AlreadyExists; items.len()];
                    self.transact(items, on).await
                }
                Err(err) => Err(err),
            };
            if let Err(err) = result {
                tracing::error!(%order_pk, %record_sk, %err, "could not move back a reserved chunk; its record stays for reconciliation");
            }
        }
    }
}

/// The identity attributes every stock write sets, so the first write creates a whole item.
const STOCK_IDENTITY: &str = "tenant_id = :tenant, hub_id = :hub, sku = :sku, entity = :entity, GSI1PK = :gsi1pk, GSI1SK = :gsi1sk, reserved = if_not_exists(reserved, :zero)";

impl StockStore for DynamoStore {
    async fn stock_for_skus(&self, tenant: &TenantId, skus: &[Sku]) -> Result<Vec<StockLevel>, StoreError> {
        let queries = skus.iter().map(|sku| self.query_all(None, PK, keys::stock_pk(tenant, sku), None));
        let pages = try_join_all(queries).await?;
        pages.iter().flatten().map(stock_level).collect()
    }

    async fn list_stock(&self, tenant: &TenantId, filter: &StockFilter) -> Result<Vec<StockLevel>, StoreError> {
        let items = match (&filter.sku, &filter.hub_id) {
            (Some(sku), Some(hub_id)) => {
                self.get(keys::stock_pk(tenant, sku), &keys::stock_sk(hub_id)).await?.into_iter().collect()
            }
            (Some(sku), None) => self.query_all(None, PK, keys::stock_pk(tenant, sku), None).await?,
            (None, hub_id) => {
                let prefix = hub_id.as_ref().map(|h| ("GSI1SK", keys::stock_by_hub_prefix(h)));
                self.query_all(Some("GSI1"), "GSI1PK", keys::stock_by_hub_pk(tenant), prefix).await?
            }
        };
        items.iter().map(stock_level).collect()
    }

    async fn change_stock(
        &self,
        tenant: &TenantId,
        hub_id: &HubId,
        sku: &Sku,
        change: StockChange,
    ) -> Result<StockLevel, StoreError> {
        let update = self.stock_update(tenant, hub_id, sku);
        let update = match change {
            StockChange::Set(on_hand) => update
                .update_expression(format!(
                    "SET {STOCK_IDENTITY}, on_hand = :on_hand, available = :on_hand - if_not_exists(reserved, :zero)"
                ))
                .condition_expression("attribute_not_exists(PK) OR reserved <= :on_hand")
                .expression_attribute_values(":on_hand", decimal(on_hand)),
            StockChange::Counted { on_hand, at } => update
                .update_expression(format!(
                    "SET {STOCK_IDENTITY}, on_hand = :on_hand, available = :on_hand - if_not_exists(reserved, :zero), counted_at = :at"
                ))
                .condition_expression(
                    "(attribute_not_exists(counted_at) OR counted_at < :at) AND (attribute_not_exists(PK) OR reserved <= :on_hand)",
                )
                .expression_attribute_values(":on_hand", decimal(on_hand))
                .expression_attribute_values(":at", s(at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()))
                .return_values_on_condition_check_failure(
                    aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld,
                ),
            StockChange::Delta(delta) => {
                let update = update
                    .update_expression(format!(
                        "SET {STOCK_IDENTITY}, on_hand = if_not_exists(on_hand, :zero) + :delta, available = if_not_exists(available, :zero) + :delta"
                    ))
                    .expression_attribute_values(":delta", decimal(delta));
                if delta < Decimal::ZERO {
                    // Taking stock away may not eat into what is reserved.
                    update
                        .condition_expression("available >= :needed")
                        .expression_attribute_values(":needed", decimal(-delta))
                } else {
                    update
                }
            }
        };
        let out = update.send().await.map_err(|e| {
            // A count older than the one applied is stale; any other failed condition means
            // on-hand would fall below what is reserved.
            let newer_count_applied = match (&change, e.as_service_error()) {
                (
                    StockChange::Counted { at, .. },
                    Some(aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(c)),
                ) => c
                    .item()
                    .and_then(|old| old.get("counted_at"))
                    .and_then(|v| v.as_s().ok())
                    .is_some_and(|last| last.as_str() >= at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string().as_str()),
                _ => false,
            };
            match store_error(e) {
                StoreError::Conflict(_) if newer_count_applied => StoreError::Conflict(ConflictOn::Stale),
                StoreError::Conflict(_) => StoreError::Conflict(stock_conflict(hub_id, sku)),
                other => other,
            }
        })?;
        stock_level(&out.attributes.unwrap_or_default())
    }

    async fn save_with_stock(&self, write: OrderWrite, moves: &[StockMove]) -> Result<(), StoreError> {
        let tenant = write.order.tenant_id.clone();
        let order_pk = keys::order_pk(&tenant, &write.order.order_id);
        let version = write.expected_version.unwrap_or_default();
        let (mut items, mut on) = self.order_write_items(write, Utc::now())?;
        let room = MAX_TRANSACTION_ITEMS - items.len();
        if moves.len() <= room {
            for m in moves {
                items.push(self.stock_move(&tenant, m)?);
                on.push(stock_conflict(&m.hub_id, &m.sku));
            }
            return self.transact(items, on).await;
        }

        // More stock items than one transaction holds: reserve the first ones in chunks, each
        // written with a record of what it moved, then the rest with the order. If a later
        // chunk fails, the earlier ones are moved back; a crash in between leaves the records,
        // so nothing is ever held without a trace.
        // The last transaction also deletes one record per chunk: find how many chunks that takes.
        let per_chunk = MAX_TRANSACTION_ITEMS - 1;
        let mut chunks = 1;
        while moves.len() - (room - chunks).min(moves.len()) > chunks * per_chunk {
            chunks += 1;
        }
        if chunks >= room {
            return Err(StoreError::Unexpected(
                format!("{} stock moves are too many for one order change", moves.len()).into(),
            ));
        }
        let (early, last) = moves.split_at(moves.len() - (room - chunks));
        let mut done: Vec<(String, &[StockMove])> = Vec::new();
        for (i, chunk) in early.chunks(per_chunk).enumerate() {
            let record_sk = format!("{}{version:010}#{i:03}", keys::RESERVATION_PREFIX);
            let mut chunk_items = Vec::with_capacity(chunk.len() + 1);
            let mut chunk_on = Vec::with_capacity(chunk.len() + 1);
            for m in chunk {
                chunk_items.push(self.stock_move(&tenant, m)?);
                chunk_on.push(stock_conflict(&m.hub_id, &m.sku));
            }
            chunk_items.push(self.put(self.reservation_record(&order_pk, &record_sk, chunk)?, None));
            chunk_on.push(ConflictOn::AlreadyExists);
            if let Err(err) = self.transact(chunk_items, chunk_on).await {
                self.undo(&tenant, &order_pk, &done).await;
                return Err(err);
            }
            done.push((record_sk, chunk));
        }
        for m in last {
            items.push(self.stock_move(&tenant, m)?);
            on.push(stock_conflict(&m.hub_id, &m.sku));
        }
        for (record_sk, _) in &done {
            items.push(self.delete(&order_pk, record_sk)?);
            on.push(ConflictOn::AlreadyExists);
        }
        if let Err(err) = self.transact(items, on).await {
            self.undo(&tenant, &order_pk, &done).await;
            return Err(err);
        }
        Ok(())
    }
}
