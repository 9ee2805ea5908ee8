//! What a change of stock means to the world, decided here from the levels before and after; the
//! relay only carries the stored images to it (see `usecases::catalog::stock_change_signals`).

use rust_decimal::Decimal;

use super::StockLevel;
use crate::events::DomainEvent;

/// What a change of one stock level tells the world: `StockReplenished` when more became
/// available (backorders may now be served), `InventoryLow` when available fell under the
/// SKU's threshold (only on the crossing, not on every change below it).
pub fn stock_signals(before: Option<&StockLevel>, after: &StockLevel, threshold: Decimal) -> Vec<DomainEvent> {
    let was = before.map(StockLevel::available).unwrap_or_default();
    let now = after.available();
    let mut signals = Vec::new();
    if now > was && now > Decimal::ZERO {
        signals.push(DomainEvent::stock_replenished(after));
    }
    if threshold > Decimal::ZERO && was >= threshold && now < threshold {
        signals.push(DomainEvent::inventory_low(after, threshold));
    }
    signals
}

/// A change of one part of a hub's stock (a store may keep it in several parts, e.g. DynamoDB
/// shards) as a change of the hub's total: the total before is the total after (`hub_after`, read
/// after the change; the part itself when nothing is read) less what the part changed. The total
/// before is `None` when the stock did not exist before: the part is new and nothing else was on
/// hand.
pub fn hub_change(
    part_before: Option<&StockLevel>,
    part_after: &StockLevel,
    hub_after: Option<StockLevel>,
) -> (Option<StockLevel>, StockLevel) {
    let after = hub_after.unwrap_or_else(|| part_after.clone());
    let (was_on_hand, was_reserved) = part_before.map_or((Decimal::ZERO, Decimal::ZERO), |b| (b.on_hand, b.reserved));
    let before = StockLevel {
        on_hand: after.on_hand - (part_after.on_hand - was_on_hand),
        reserved: after.reserved - (part_after.reserved - was_reserved),
        ..after.clone()
    };
    let existed = part_before.is_some() || before.on_hand > Decimal::ZERO;
    (existed.then_some(before), after)
}

/// Whether the change can cross a low-stock threshold (available fell), so the threshold is
/// worth looking up.
pub fn may_run_low(before: Option<&StockLevel>, after: &StockLevel) -> bool {
    after.available() < before.map(StockLevel::available).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::kernel::ids::{HubId, Sku};

    fn level(on_hand: Decimal, reserved: Decimal) -> StockLevel {
        StockLevel { hub_id: HubId::parse("H").unwrap(), sku: Sku::parse("S").unwrap(), on_hand, reserved }
    }

    #[test]
    fn replenishment_and_low_stock_fire_on_their_crossings_only() {
        let names = |before: Option<&StockLevel>, after: &StockLevel| -> Vec<&'static str> {
            stock_signals(before, after, dec!(10)).iter().map(|e| e.detail_type()).collect()
        };
        assert_eq!(names(None, &level(dec!(50), dec!(0))), ["StockReplenished"]);
        assert_eq!(names(Some(&level(dec!(50), dec!(0))), &level(dec!(50), dec!(45))), ["InventoryLow"]);
        assert!(names(Some(&level(dec!(50), dec!(45))), &level(dec!(50), dec!(47))).is_empty(), "already low");
        assert_eq!(
            names(Some(&level(dec!(50), dec!(45))), &level(dec!(50), dec!(40))),
            ["StockReplenished"],
            "a release"
        );
        assert!(names(Some(&level(dec!(5), dec!(5))), &level(dec!(4), dec!(4))).is_empty());
    }

    #[test]
    fn a_parts_change_is_judged_on_the_hubs_total() {
        // One of three shards reserved 4 more; the hub holds 30 on hand, 10 reserved after it.
        let (before, after) =
            hub_change(Some(&level(dec!(10), dec!(2))), &level(dec!(10), dec!(6)), Some(level(dec!(30), dec!(10))));
        assert_eq!(
            (before.as_ref().map(|b| (b.on_hand, b.reserved)), after.available()),
            (Some((dec!(30), dec!(6))), dec!(20))
        );
        assert!(may_run_low(before.as_ref(), &after));
        // A new shard beside stock on hand elsewhere: the stock existed.
        let (before, _) = hub_change(None, &level(dec!(0), dec!(0)), Some(level(dec!(5), dec!(0))));
        assert_eq!(before.map(|b| b.on_hand), Some(dec!(5)));
        // The first stock of a hub: nothing before.
        let (before, after) = hub_change(None, &level(dec!(7), dec!(0)), None);
        assert_eq!((before, after.on_hand), (None, dec!(7)));
        assert!(!may_run_low(None, &after));
    }
}
