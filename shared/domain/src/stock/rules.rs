//! The rules every stock change follows, whatever stores it. Adapters apply them: the memory
//! adapter by calling them, the DynamoDB adapter by turning [`Needs`] into the condition and
//! [`Effect`] into the update of one atomic write (the port contract suite proves the two agree).
//!
//! Invariant: `0 <= reserved <= on_hand`, so `available = on_hand - reserved` is never negative.
//! A change that would break it is refused ([`Refusal::Short`]) and changes nothing. A stock
//! count older than the last count applied (or as old) is stale ([`Refusal::Stale`]): counts
//! arrive out of order, and a late old count must not undo a newer one.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::{MoveKind, StockChange, StockLevel, StockMove};
use crate::kernel::error::{ConflictOn, StoreError};
use crate::kernel::ids::{HubId, Sku};

/// Why a stock rule refuses a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A count no newer than the last one applied.
    Stale,
    /// Not enough stock: on-hand would fall below reserved, or a move needs more available or
    /// reserved than there is (or a stock record that does not exist).
    Short,
}

impl Refusal {
    /// The store conflict reporting it for one hub's stock of one SKU.
    pub fn conflict(self, hub_id: &HubId, sku: &Sku) -> StoreError {
        StoreError::Conflict(match self {
            Self::Stale => ConflictOn::Stale,
            Self::Short => ConflictOn::Stock { hub_id: hub_id.to_string(), sku: sku.to_string() },
        })
    }
}

impl StockChange {
    /// When the count was made, for a count.
    pub fn counted_at(self) -> Option<DateTime<Utc>> {
        match self {
            Self::Counted { at, .. } => Some(at),
            Self::Set(_) | Self::Delta(_) => None,
        }
    }

    /// Whether this is a count no newer than `last_counted`, the last count applied.
    pub fn is_stale(self, last_counted: Option<DateTime<Utc>>) -> bool {
        self.counted_at().zip(last_counted).is_some_and(|(at, last)| last >= at)
    }

    /// The on-hand quantity the change leaves, from `on_hand`.
    pub fn on_hand_after(self, on_hand: Decimal) -> Decimal {
        match self {
            Self::Set(target) | Self::Counted { on_hand: target, .. } => target,
            Self::Delta(delta) => on_hand + delta,
        }
    }
}

/// What a move needs of the stock item it changes, checked atomically with the change. Every
/// move also needs the item to exist: a hub that never held the SKU has nothing to move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// At least this much available (reserving, taking free stock out).
    Available(Decimal),
    /// At least this much reserved (releasing, shipping reserved goods).
    Reserved(Decimal),
    /// Nothing more (goods coming in).
    Record,
}

impl Needs {
    /// How much of the move `level` can take (the whole `wanted` when the move needs nothing
    /// more than the record).
    pub fn room(self, level: &StockLevel, wanted: Decimal) -> Decimal {
        match self {
            Self::Available(_) => level.available().max(Decimal::ZERO),
            Self::Reserved(_) => level.reserved.max(Decimal::ZERO),
            Self::Record => wanted,
        }
    }

    /// Whether `level` meets the need.
    pub fn met_by(self, level: &StockLevel) -> bool {
        match self {
            Self::Available(q) => level.available() >= q,
            Self::Reserved(q) => level.reserved >= q,
            Self::Record => true,
        }
    }
}

/// How a move changes a level: signed amounts added to each quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Effect {
    /// Added to `on_hand`.
    pub on_hand: Decimal,
    /// Added to `reserved`.
    pub reserved: Decimal,
}

impl Effect {
    /// Added to `available`.
    pub fn available(self) -> Decimal {
        self.on_hand - self.reserved
    }
}

impl StockMove {
    /// What the move needs of the stock it changes (see [`Needs`]).
    pub fn needs(&self) -> Needs {
        let q = self.quantity.abs();
        match (self.kind, self.quantity > Decimal::ZERO) {
            (MoveKind::Reservation, true) | (MoveKind::Receipt, false) => Needs::Available(q),
            (MoveKind::Reservation | MoveKind::Shipment, false) => Needs::Reserved(q),
            (MoveKind::Shipment | MoveKind::Receipt, true) => Needs::Record,
        }
    }

    /// How the move changes the level.
    pub fn effect(&self) -> Effect {
        let q = self.quantity;
        match self.kind {
            MoveKind::Reservation => Effect { on_hand: Decimal::ZERO, reserved: q },
            MoveKind::Shipment => Effect { on_hand: q, reserved: q },
            MoveKind::Receipt => Effect { on_hand: q, reserved: Decimal::ZERO },
        }
    }

    /// Whether the move makes more stock available (a release, goods received into free stock).
    pub fn gives_back(&self) -> bool {
        self.effect().available() > Decimal::ZERO
    }
}

impl StockLevel {
    /// Whether the level keeps the invariant `0 <= reserved <= on_hand`.
    pub fn is_sound(&self) -> bool {
        self.reserved >= Decimal::ZERO && self.on_hand >= self.reserved
    }

    /// The level after a stock change (a set, a delta, a count), given when the last count was
    /// applied. What is reserved stays reserved.
    pub fn apply(&self, change: StockChange, last_counted: Option<DateTime<Utc>>) -> Result<StockLevel, Refusal> {
        if change.is_stale(last_counted) {
            return Err(Refusal::Stale);
        }
        let after = StockLevel { on_hand: change.on_hand_after(self.on_hand), ..self.clone() };
        if after.is_sound() { Ok(after) } else { Err(Refusal::Short) }
    }

    /// The level after a move, if it has what the move [needs](StockMove::needs).
    pub fn apply_move(&self, m: &StockMove) -> Result<StockLevel, Refusal> {
        if !m.needs().met_by(self) {
            return Err(Refusal::Short);
        }
        let effect = m.effect();
        Ok(StockLevel {
            on_hand: self.on_hand + effect.on_hand,
            reserved: self.reserved + effect.reserved,
            ..self.clone()
        })
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    fn level(on_hand: Decimal, reserved: Decimal) -> StockLevel {
        StockLevel { hub_id: HubId::parse("H").unwrap(), sku: Sku::parse("S").unwrap(), on_hand, reserved }
    }

    fn quantities(result: Result<StockLevel, Refusal>) -> Result<(Decimal, Decimal), Refusal> {
        result.map(|l| (l.on_hand, l.reserved))
    }

    fn at(minute: u32) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + i64::from(minute) * 60, 0).unwrap()
    }

    #[test]
    fn set_and_delta_change_on_hand_but_never_below_reserved() {
        let l = level(dec!(10), dec!(7));
        assert_eq!(quantities(l.apply(StockChange::Set(dec!(12.5)), None)), Ok((dec!(12.5), dec!(7))));
        assert_eq!(quantities(l.apply(StockChange::Set(dec!(7)), None)), Ok((dec!(7), dec!(7))));
        assert_eq!(l.apply(StockChange::Set(dec!(6)), None), Err(Refusal::Short));
        assert_eq!(quantities(l.apply(StockChange::Delta(dec!(-3)), None)), Ok((dec!(7), dec!(7))));
        assert_eq!(l.apply(StockChange::Delta(dec!(-4)), None), Err(Refusal::Short));
        assert_eq!(level(dec!(0), dec!(0)).apply(StockChange::Delta(dec!(-1)), None), Err(Refusal::Short));
    }

    #[test]
    fn a_count_no_newer_than_the_last_one_changes_nothing() {
        let l = level(dec!(10), dec!(2));
        let count = |minute| StockChange::Counted { on_hand: dec!(5), at: at(minute) };
        assert_eq!(quantities(l.apply(count(2), None)), Ok((dec!(5), dec!(2))), "the first count");
        assert_eq!(quantities(l.apply(count(2), Some(at(1)))), Ok((dec!(5), dec!(2))));
        assert_eq!(l.apply(count(2), Some(at(2))), Err(Refusal::Stale), "the same count again");
        assert_eq!(l.apply(count(1), Some(at(2))), Err(Refusal::Stale));
        assert!(!StockChange::Set(dec!(1)).is_stale(Some(at(9))), "only counts go stale");
        let below = StockChange::Counted { on_hand: dec!(1), at: at(3) };
        assert_eq!(l.apply(below, Some(at(2))), Err(Refusal::Short));
    }

    #[test]
    fn reservation_moves_keep_reserved_within_on_hand() {
        let (hub, sku) = (HubId::parse("H").unwrap(), Sku::parse("S").unwrap());
        let l = level(dec!(10), dec!(4));
        let apply = |m: StockMove| quantities(l.apply_move(&m));
        assert_eq!(apply(StockMove::reserve(hub.clone(), sku.clone(), dec!(6))), Ok((dec!(10), dec!(10))));
        assert_eq!(apply(StockMove::reserve(hub.clone(), sku.clone(), dec!(6.001))), Err(Refusal::Short));
        assert_eq!(apply(StockMove::release(hub.clone(), sku.clone(), dec!(4))), Ok((dec!(10), dec!(0))));
        assert_eq!(apply(StockMove::release(hub.clone(), sku.clone(), dec!(5))), Err(Refusal::Short));
        assert_eq!(apply(StockMove::ship(hub.clone(), sku.clone(), dec!(4))), Ok((dec!(6), dec!(0))));
        assert_eq!(apply(StockMove::ship(hub.clone(), sku.clone(), dec!(5))), Err(Refusal::Short));
        assert_eq!(apply(StockMove::unship(hub.clone(), sku.clone(), dec!(3))), Ok((dec!(13), dec!(7))));
        assert_eq!(apply(StockMove::receive(hub.clone(), sku.clone(), dec!(2))), Ok((dec!(12), dec!(4))));
        assert_eq!(apply(StockMove::receive(hub.clone(), sku.clone(), dec!(-6))), Ok((dec!(4), dec!(4))));
        assert_eq!(apply(StockMove::receive(hub, sku, dec!(-7))), Err(Refusal::Short));
    }

    #[test]
    fn every_accepted_move_leaves_a_sound_level_and_only_releases_and_receipts_give_back() {
        let (hub, sku) = (HubId::parse("H").unwrap(), Sku::parse("S").unwrap());
        let moves = [
            StockMove::reserve(hub.clone(), sku.clone(), dec!(3)),
            StockMove::release(hub.clone(), sku.clone(), dec!(3)),
            StockMove::ship(hub.clone(), sku.clone(), dec!(3)),
            StockMove::unship(hub.clone(), sku.clone(), dec!(3)),
            StockMove::receive(hub.clone(), sku.clone(), dec!(3)),
            StockMove::receive(hub, sku, dec!(-3)),
        ];
        let gives_back: Vec<bool> = moves.iter().map(StockMove::gives_back).collect();
        assert_eq!(gives_back, [false, true, false, false, true, false]);
        for on_hand in [dec!(0), dec!(2), dec!(3), dec!(8)] {
            for reserved in [dec!(0), dec!(2), dec!(3)].into_iter().filter(|r| *r <= on_hand) {
                for m in &moves {
                    if let Ok(after) = level(on_hand, reserved).apply_move(m) {
                        assert!(after.is_sound(), "{m:?} on {on_hand}/{reserved} gave {after:?}");
                    }
                }
            }
        }
    }
}
