//! Order changes that move more stock items than one DynamoDB transaction holds, and the
//! reconciler of what a failed one leaves.
//!
//! Such a change runs as several transactions around the order's own:
//! 1. *reservation chunks* ahead of it: moves that do not raise `available` (reservations,
//!    write-offs, shipments), each chunk written with a record of what it moved
//!    (`RESV#<version>#<run>#<i>`);
//! 2. the order's transaction: the order change, the rest of those moves, as many releases as
//!    fit, the removal of every chunk record, and a *pending release* record
//!    (`RELS#<version>#<run>#<i>`) for each chunk of the releases that did not fit;
//! 3. after it commits, each pending release chunk, with the removal of its record.
//!
//! Invariants:
//! - Stock is never held or owed without a record: moves outside the order's transaction are
//!   written with their record, or their record is written in the order's transaction; a record
//!   goes only in a transaction that settles it (the order's, an undo, the owed releases, the
//!   reconciler's).
//! - Nothing raises `available` before the order commits, so a failed change never offers again
//!   stock the order still holds.
//! - Records are unique per run (a ULID per attempt) and put only if absent, and every removal is
//!   conditional on the record: of the run, its undo and the reconciler exactly one settles a
//!   record, and a change whose chunk was already moved back fails (`Conflict(Stale)`) instead
//!   of committing on stock it no longer holds.
//! - Records carry a sparse GSI1 key ([`keys::LEFTOVERS_PK`], by creation time), so the
//!   reconciler finds those older than [`LEFTOVER_GRACE`] with one query, never a Scan.

use aws_sdk_dynamodb::types::{Delete, TransactWriteItem};
use chrono::{DateTime, Duration, Utc};
use oms_domain::stock::StockMove;
use oms_domain::{ConflictOn, OrderId, StoreError, TenantId, TooLarge};

use super::keys::{self, PK, SK};
use super::stock::{ShardMove, stock_conflict, time_key};
use super::{DynamoStore, Item, MAX_TRANSACTION_ITEMS, s, store_error, unexpected};

/// How old a record must be before the reconciler settles it: longer than any run that could
/// still be in flight (Lambda stops a function after 15 minutes at most).
pub const LEFTOVER_GRACE: Duration = Duration::minutes(20);

/// Moves per chunk: the transaction's last item is the chunk's record.
const PER_CHUNK: usize = MAX_TRANSACTION_ITEMS - 1;

/// What a record stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    /// Stock taken ahead of an order change that has not committed: moved back if left over.
    Reservation,
    /// Releases a committed order change still owes: applied if left over.
    PendingRelease,
}

impl RecordKind {
    fn entity(self) -> &'static str {
        match self {
            Self::Reservation => "RESERVATION_CHUNK",
            Self::PendingRelease => "PENDING_RELEASE",
        }
    }

    fn from_entity(entity: &str) -> Option<Self> {
        [Self::Reservation, Self::PendingRelease].into_iter().find(|kind| kind.entity() == entity)
    }
}

/// What the reconciler found in one leftover record and whether it settled it.
#[derive(Debug, Clone, PartialEq)]
pub struct Repair {
    /// The order's partition key (`T#<tenant>#ORDER#<id>`), where the record lives.
    pub order_pk: String,
    /// The record's sort key.
    pub record: String,
    /// What it stood for; `None` if the record could not be read.
    pub kind: Option<RecordKind>,
    /// How many shard moves it held.
    pub moves: usize,
    /// Why it could not be settled (it stays for the next run); `None` when it was.
    pub failure: Option<String>,
}

/// The order change a chunked save belongs to.
pub(super) struct OrderChange {
    pub(super) tenant: TenantId,
    pub(super) order_id: OrderId,
    /// The order's partition key: the records live under it.
    pub(super) pk: String,
    /// The version the change starts from (part of the records' keys).
    pub(super) version: u64,
    pub(super) now: DateTime<Utc>,
}

/// One record: its sort key and the moves it stands for.
struct Record<'a> {
    sk: String,
    moves: &'a [ShardMove],
}

/// Whether a move raises `available` (a release, goods received into free stock). Such moves
/// wait for the order's commit: before it, a failure would offer stock the order still holds.
fn gives_back(m: &ShardMove) -> bool {
    m.as_move().gives_back()
}

/// How many of the taking moves and of the releases go in the order's own transaction; the
/// rest go in chunks of [`PER_CHUNK`], ahead of it and after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Layout {
    taking_in_order: usize,
    releasing_in_order: usize,
}

/// The layout with the fewest transactions (then the fewest releases owed after the order) whose
/// order transaction, with `room` items free, also holds one removal per reservation chunk and
/// one record per pending release chunk. Releases fill the order's transaction first.
fn layout(room: usize, taking: usize, releasing: usize) -> Option<Layout> {
    let mut best: Option<((usize, usize), Layout)> = None;
    for ahead in 0..=taking.div_ceil(PER_CHUNK) {
        for owed in 0..=releasing.div_ceil(PER_CHUNK) {
            let Some(free) = room.checked_sub(ahead + owed) else { continue };
            let must_take = taking.saturating_sub(ahead * PER_CHUNK);
            let must_release = releasing.saturating_sub(owed * PER_CHUNK);
            if must_take + must_release > free {
                continue;
            }
            let releasing_in_order = releasing.min(free - must_take);
            let taking_in_order = taking.min(free - releasing_in_order);
            let rank = (ahead + owed, owed);
            if best.is_none_or(|(b, _)| rank < b) {
                best = Some((rank, Layout { taking_in_order, releasing_in_order }));
            }
        }
    }
    best.map(|(_, layout)| layout)
}

fn text<'a>(item: &'a Item, name: &str) -> Option<&'a String> {
    item.get(name).and_then(|v| v.as_s().ok())
}

impl DynamoStore {
    /// Saves an order change with more stock moves than its transaction holds (see the module
    /// docs). `items` and `on` are the order's own writes.
    pub(super) async fn save_in_chunks(
        &self,
        change: &OrderChange,
        mut items: Vec<TransactWriteItem>,
        mut on: Vec<ConflictOn>,
        moves: Vec<ShardMove>,
    ) -> Result<(), StoreError> {
        let (releasing, taking): (Vec<ShardMove>, Vec<ShardMove>) = moves.into_iter().partition(gives_back);
        let room = MAX_TRANSACTION_ITEMS - items.len();
        let Some(layout) = layout(room, taking.len(), releasing.len()) else {
            let count = taking.len() + releasing.len();
            return Err(StoreError::TooLarge {
                what: TooLarge::Change,
                message: format!(
                    "the change moves {count} stock items, more than one order change can; nothing was changed"
                ),
            });
        };
        let run = ulid::Ulid::new().to_string();
        let (ahead, taking_last) = taking.split_at(taking.len() - layout.taking_in_order);
        let (releasing_now, owed) = releasing.split_at(layout.releasing_in_order);

        let mut reserved: Vec<Record<'_>> = Vec::new();
        for (i, moves) in ahead.chunks(PER_CHUNK).enumerate() {
            let record = Record { sk: keys::reservation_chunk_sk(change.version, &run, i), moves };
            let mut chunk_items = vec![self.record_put(change, RecordKind::Reservation, &record)?];
            let mut chunk_on = vec![ConflictOn::AlreadyExists];
            for m in moves {
                chunk_items.push(self.shard_move(&change.tenant, m)?);
                chunk_on.push(stock_conflict(&m.hub_id, &m.sku));
            }
            if let Err(err) = self.commit(chunk_items, chunk_on).await {
                self.undo(change, &reserved).await;
                return Err(err);
            }
            reserved.push(record);
        }

        let pending: Vec<Record<'_>> = owed
            .chunks(PER_CHUNK)
            .enumerate()
            .map(|(i, moves)| Record { sk: keys::pending_release_sk(change.version, &run, i), moves })
            .collect();
        for m in taking_last.iter().chain(releasing_now) {
            items.push(self.shard_move(&change.tenant, m)?);
            on.push(stock_conflict(&m.hub_id, &m.sku));
        }
        for record in &reserved {
            items.push(self.record_delete(&change.pk, &record.sk)?);
            // Gone only if the reconciler moved the chunk back: the stock is no longer held.
            on.push(ConflictOn::Stale);
        }
        for record in &pending {
            items.push(self.record_put(change, RecordKind::PendingRelease, record)?);
            on.push(ConflictOn::AlreadyExists);
        }
        if let Err(err) = self.commit(items, on).await {
            self.undo(change, &reserved).await;
            return Err(err);
        }

        // Committed: the change stands whatever happens to the releases it owes, which the
        // reconciler applies if this cannot.
        for record in &pending {
            if let Err(err) =
                self.settle(&change.tenant, &change.pk, &record.sk, RecordKind::PendingRelease, record.moves).await
            {
                tracing::error!(order_pk = %change.pk, record = %record.sk, %err, "could not apply owed releases; the record stays for the reconciler");
            }
        }
        Ok(())
    }

    /// Moves back the chunks reserved ahead of a change that then failed. A chunk that cannot be
    /// moved back keeps its record for the reconciler.
    async fn undo(&self, change: &OrderChange, reserved: &[Record<'_>]) {
        for record in reserved {
            if let Err(err) =
                self.settle(&change.tenant, &change.pk, &record.sk, RecordKind::Reservation, record.moves).await
            {
                tracing::error!(order_pk = %change.pk, record = %record.sk, %err, "could not move back a reserved chunk; its record stays for the reconciler");
            }
        }
    }

    /// Settles a record (see [`Self::settle_as_recorded`]). Owed releases whose shards no longer
    /// hold that much reserved are applied to the shards that do: reservations are pooled per
    /// hub, so another order's release may have emptied the shard this one named, while the hub
    /// still holds this order's stock elsewhere. A reservation chunk is always moved back where
    /// it was taken.
    async fn settle(
        &self,
        tenant: &TenantId,
        pk: &str,
        sk: &str,
        kind: RecordKind,
        moves: &[ShardMove],
    ) -> Result<(), StoreError> {
        match self.settle_as_recorded(tenant, pk, sk, kind, moves).await {
            Err(StoreError::Conflict(ConflictOn::Stock { .. })) if kind == RecordKind::PendingRelease => {
                let owed: Vec<StockMove> = moves.iter().map(ShardMove::as_move).collect();
                let seed = pk.bytes().map(usize::from).sum();
                let replanned = self.shard_moves(tenant, &StockMove::net(owed), seed).await?;
                self.settle_as_recorded(tenant, pk, sk, kind, &replanned).await
            }
            other => other,
        }
    }

    /// Settles a record in one transaction with its removal, on the shards it names: a
    /// reservation chunk is moved back, owed releases are applied. The removal comes first, so a
    /// record settled meanwhile is reported as `Conflict(Stale)` before any stock condition.
    async fn settle_as_recorded(
        &self,
        tenant: &TenantId,
        pk: &str,
        sk: &str,
        kind: RecordKind,
        moves: &[ShardMove],
    ) -> Result<(), StoreError> {
        let mut items = vec![self.record_delete(pk, sk)?];
        let mut on = vec![ConflictOn::Stale];
        for m in moves {
            let m = match kind {
                RecordKind::Reservation => ShardMove { quantity: -m.quantity, ..m.clone() },
                RecordKind::PendingRelease => m.clone(),
            };
            items.push(self.shard_move(tenant, &m)?);
            on.push(stock_conflict(&m.hub_id, &m.sku));
        }
        self.commit(items, on).await
    }

    fn record_put(
        &self,
        change: &OrderChange,
        kind: RecordKind,
        record: &Record<'_>,
    ) -> Result<TransactWriteItem, StoreError> {
        let body = serde_json::to_string(record.moves).map_err(unexpected)?;
        let mut item = Item::new();
        item.insert(PK.into(), s(change.pk.clone()));
        item.insert(SK.into(), s(record.sk.clone()));
        item.insert("entity".into(), s(kind.entity()));
        item.insert("tenant_id".into(), s(change.tenant.to_string()));
        item.insert("order_id".into(), s(change.order_id.to_string()));
        item.insert("created_at".into(), s(time_key(change.now)));
        item.insert("moves".into(), s(body));
        item.insert("GSI1PK".into(), s(keys::LEFTOVERS_PK));
        item.insert("GSI1SK".into(), s(keys::leftover_sk(change.now, &change.pk, &record.sk)));
        Ok(self.put(item, Some("attribute_not_exists(PK)")))
    }

    fn record_delete(&self, pk: &str, sk: &str) -> Result<TransactWriteItem, StoreError> {
        let delete = Delete::builder()
            .table_name(self.table())
            .key(PK, s(pk))
            .key(SK, s(sk))
            .condition_expression("attribute_exists(PK)")
            .build()
            .map_err(unexpected)?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// Settles every record created more than `grace` before `now` (use [`LEFTOVER_GRACE`]): a
    /// reservation chunk of a change that never committed is moved back, releases a committed
    /// change owes are applied, each with the record's removal. Returns what it found; a record
    /// settled meanwhile by its own run is not counted.
    pub async fn reconcile_reservations(&self, now: DateTime<Utc>, grace: Duration) -> Result<Vec<Repair>, StoreError> {
        let mut repairs = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(self.table())
                .index_name("GSI1")
                .key_condition_expression("GSI1PK = :pk AND GSI1SK < :before")
                .expression_attribute_values(":pk", s(keys::LEFTOVERS_PK))
                .expression_attribute_values(":before", s(keys::leftovers_before(now - grace)))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(store_error)?;
            for found in out.items.unwrap_or_default() {
                let (Some(pk), Some(sk)) = (text(&found, PK), text(&found, SK)) else { continue };
                // The index projects few attributes and lags the table: read the record itself.
                let Some(record) = self.get(pk.clone(), sk).await? else { continue };
                if let Some(repair) = self.repair(pk, sk, &record).await {
                    repairs.push(repair);
                }
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(repairs);
            }
        }
    }

    /// Settles one leftover record; `None` if it was settled meanwhile.
    async fn repair(&self, pk: &str, sk: &str, record: &Item) -> Option<Repair> {
        let kind = text(record, "entity").and_then(|e| RecordKind::from_entity(e));
        let tenant = text(record, "tenant_id").and_then(|t| TenantId::parse(t.clone()).ok());
        let moves = text(record, "moves").and_then(|m| serde_json::from_str::<Vec<ShardMove>>(m).ok());
        let mut repair = Repair { order_pk: pk.to_owned(), record: sk.to_owned(), kind, moves: 0, failure: None };
        let (Some(kind), Some(tenant), Some(moves)) = (kind, tenant, moves) else {
            repair.failure = Some("unreadable record (entity, tenant_id or moves)".into());
            return Some(repair);
        };
        repair.moves = moves.len();
        match self.settle(&tenant, pk, sk, kind, &moves).await {
            Ok(()) => Some(repair),
            Err(StoreError::Conflict(ConflictOn::Stale)) => None,
            Err(err) => {
                repair.failure = Some(err.to_string());
                Some(repair)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a layout leaves for chunks fits them, and the order's transaction holds its part.
    fn check(room: usize, taking: usize, releasing: usize) -> Layout {
        let l = layout(room, taking, releasing).unwrap_or_else(|| panic!("no layout for {room}/{taking}/{releasing}"));
        let ahead = (taking - l.taking_in_order).div_ceil(PER_CHUNK);
        let owed = (releasing - l.releasing_in_order).div_ceil(PER_CHUNK);
        assert!(l.taking_in_order <= taking && l.releasing_in_order <= releasing);
        assert!(l.taking_in_order + l.releasing_in_order + ahead + owed <= room, "{room}/{taking}/{releasing}: {l:?}");
        l
    }

    #[test]
    fn releases_fill_the_order_transaction_first_and_the_rest_is_owed() {
        assert_eq!(check(97, 0, 120), Layout { taking_in_order: 0, releasing_in_order: 96 });
        assert_eq!(check(97, 120, 0), Layout { taking_in_order: 96, releasing_in_order: 0 });
        assert_eq!(check(97, 30, 90), Layout { taking_in_order: 6, releasing_in_order: 90 });
    }

    #[test]
    fn every_mix_up_to_the_limit_has_a_layout_that_fits() {
        for room in [1, 2, 50, 97, 100] {
            for taking in (0..400).step_by(7) {
                for releasing in (0..400).step_by(11) {
                    if layout(room, taking, releasing).is_some() {
                        check(room, taking, releasing);
                    }
                }
            }
        }
        assert!(layout(97, 4_000, 4_000).is_some());
        assert!(layout(2, 1_000, 0).is_none(), "two free items cannot remove eleven chunk records");
    }
}
