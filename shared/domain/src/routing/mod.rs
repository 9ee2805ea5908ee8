//! Placement: which hub reserves how much of each line (the plan `assign-hub` makes), and what
//! reserving it does to the order (what `reserve-stock` commits).
//!
//! Hubs are ranked by a weighted score of performance and proximity to the delivery address
//! (weights 0.7 / 0.3 by default). The plan is only a proposal made from a snapshot of stock:
//! the reservation is a conditional write per stock item, so a plan made stale by a concurrent
//! reservation fails as a whole and is re-made, never oversells.
//!
//! A hub that has already been sent its daily capacity of orders today is passed over (the
//! next hub takes the order); the count is kept per hub and day when orders are dispatched.

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::catalog::{Hub, Location};
use crate::kernel::ids::{HubId, LineId, OrderId, Sku, TenantId};
use crate::order::{FulfillmentPolicy, Order};
use crate::stock::StockLevel;

/// How much each factor weighs in a hub's score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoutingWeights {
    /// Weight of the hub's performance score.
    pub performance: f64,
    /// Weight of closeness to the delivery address.
    pub proximity: f64,
}

impl Default for RoutingWeights {
    fn default() -> Self {
        Self { performance: 0.7, proximity: 0.3 }
    }
}

impl RoutingWeights {
    /// Parses `"<performance>,<proximity>"`, e.g. `0.7,0.3` (non-negative, not both zero).
    pub fn parse(value: &str) -> Result<Self, String> {
        let parts: Vec<f64> =
            value.split(',').map(|p| p.trim().parse::<f64>()).collect::<Result<_, _>>().map_err(|e| e.to_string())?;
        match parts[..] {
            [performance, proximity] if performance >= 0.0 && proximity >= 0.0 && performance + proximity > 0.0 => {
                Ok(Self { performance, proximity })
            }
            _ => Err(format!("routing weights must be two non-negative numbers, not {value:?}")),
        }
    }
}

/// Distance at which proximity counts half (km): hubs within a city score near 1, across the
/// country near 0.
const HALF_PROXIMITY_KM: f64 = 300.0;

/// Great-circle distance in km.
pub fn distance_km(a: Location, b: Location) -> f64 {
    let (lat1, lat2) = (a.lat.to_radians(), b.lat.to_radians());
    let dlat = lat2 - lat1;
    let dlon = (b.lon - a.lon).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().asin()
}

/// The hub's score for a delivery to `destination` (unknown destination: performance only).
pub fn hub_score(hub: &Hub, destination: Option<Location>, weights: RoutingWeights) -> f64 {
    let performance: f64 = hub.performance_score.try_into().unwrap_or(0.0);
    let proximity = destination.map_or(0.0, |d| 1.0 / (1.0 + distance_km(hub.location, d) / HALF_PROXIMITY_KM));
    weights.performance * performance + weights.proximity * proximity
}

/// Orders sent to each hub today.
pub type HubLoads = HashMap<HubId, u32>;

/// Active hubs with capacity left today, best first (ties broken by hub id, so plans are
/// deterministic).
pub fn rank_hubs<'a>(
    hubs: &'a [Hub],
    loads: &HubLoads,
    destination: Option<Location>,
    weights: RoutingWeights,
) -> Vec<&'a Hub> {
    let has_capacity = |h: &Hub| loads.get(&h.hub_id).copied().unwrap_or(0) < h.daily_capacity;
    let mut ranked: Vec<(&Hub, f64)> =
        hubs.iter().filter(|h| h.active && has_capacity(h)).map(|h| (h, hub_score(h, destination, weights))).collect();
    ranked.sort_by(|(a, sa), (b, sb)| sb.total_cmp(sa).then_with(|| a.hub_id.cmp(&b.hub_id)));
    ranked.into_iter().map(|(h, _)| h).collect()
}

/// One reservation the plan proposes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedReservation {
    /// The order line.
    pub line_id: LineId,
    /// Its SKU.
    pub sku: Sku,
    /// Where to reserve.
    pub hub_id: HubId,
    /// How much.
    pub quantity: Decimal,
}

/// What `assign-hub` hands to `reserve-stock`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacementPlan {
    /// Owner.
    pub tenant_id: TenantId,
    /// The order.
    pub order_id: OrderId,
    /// The order version the plan was made from: a changed order makes the plan stale.
    pub order_version: u64,
    /// What to reserve.
    pub reservations: Vec<PlannedReservation>,
}

/// Plans reservations for every unallocated quantity of the order from the stock snapshot.
pub fn plan_reservations(
    order: &Order,
    hubs: &[Hub],
    loads: &HubLoads,
    stock: &[StockLevel],
    weights: RoutingWeights,
) -> Vec<PlannedReservation> {
    let address = &order.customer.delivery_address;
    let destination = address.lat.zip(address.lon).map(|(lat, lon)| Location { lat, lon });
    let ranked = rank_hubs(hubs, loads, destination, weights);
    let mut available: HashMap<(&HubId, &Sku), Decimal> =
        stock.iter().map(|s| ((&s.hub_id, &s.sku), s.available().max(Decimal::ZERO))).collect();

    if order.fulfillment_policy == FulfillmentPolicy::ShipComplete {
        // The whole order from the best hub that has all of it, or nothing.
        return ranked
            .iter()
            .find(|hub| {
                order.lines.iter().all(|line| {
                    line.unallocated() <= available.get(&(&hub.hub_id, &line.sku)).copied().unwrap_or_default()
                })
            })
            .map(|hub| {
                order
                    .lines
                    .iter()
                    .filter(|line| line.unallocated() > Decimal::ZERO)
                    .map(|line| PlannedReservation {
                        line_id: line.line_id.clone(),
                        sku: line.sku.clone(),
                        hub_id: hub.hub_id.clone(),
                        quantity: line.unallocated(),
                    })
                    .collect()
            })
            .unwrap_or_default();
    }

    let mut plan = Vec::new();
    for line in &order.lines {
        let mut remaining = line.unallocated();
        for hub in &ranked {
            if remaining <= Decimal::ZERO {
                break;
            }
            let Some(free) = available.get_mut(&(&hub.hub_id, &line.sku)) else { continue };
            let take = remaining.min(*free);
            if take > Decimal::ZERO {
                *free -= take;
                remaining -= take;
                plan.push(PlannedReservation {
                    line_id: line.line_id.clone(),
                    sku: line.sku.clone(),
                    hub_id: hub.hub_id.clone(),
                    quantity: take,
                });
            }
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use rust_decimal_macros::dec;

    use super::*;
    use crate::catalog::HubType;
    use crate::order::status::OrderStatus;
    use crate::order::tests::sample_order;

    fn hub(id: &str, score: Decimal, lat: f64, lon: f64, active: bool) -> Hub {
        Hub {
            hub_id: HubId::parse(id).unwrap(),
            name: id.into(),
            hub_type: HubType::Warehouse,
            location: Location { lat, lon },
            daily_capacity: 100,
            performance_score: score,
            active,
            updated_at: Utc::now(),
        }
    }

    fn stock(hub: &str, sku: &str, on_hand: Decimal, reserved: Decimal) -> StockLevel {
        StockLevel { hub_id: HubId::parse(hub).unwrap(), sku: Sku::parse(sku).unwrap(), on_hand, reserved }
    }

    fn submitted(lines: &[(&str, Decimal)], policy: FulfillmentPolicy) -> Order {
        let rows: Vec<_> = lines.iter().map(|(s, q)| (*s, *q, dec!(100), dec!(100))).collect();
        let mut order = sample_order(&rows);
        order.fulfillment_policy = policy;
        order.status = OrderStatus::PendingAllocation;
        order
    }

    // Delivery is in Ho Chi Minh City (10.77, 106.7).
    fn hubs() -> Vec<Hub> {
        vec![
            hub("HCM", dec!(0.80), 10.82, 106.63, true),
            hub("HAN", dec!(0.95), 21.03, 105.85, true),
            hub("OFF", dec!(1.00), 10.80, 106.70, false),
        ]
    }

    #[test]
    fn the_nearby_good_hub_beats_a_slightly_better_far_one_and_inactive_hubs_never_rank() {
        let destination = Some(Location { lat: 10.77, lon: 106.7 });
        let ranked: Vec<_> = rank_hubs(&hubs(), &HubLoads::new(), destination, RoutingWeights::default())
            .iter()
            .map(|h| h.hub_id.to_string())
            .collect();
        assert_eq!(ranked, ["HCM", "HAN"]);
        let by_performance: Vec<_> = rank_hubs(&hubs(), &HubLoads::new(), None, RoutingWeights::default())
            .iter()
            .map(|h| h.hub_id.to_string())
            .collect();
        assert_eq!(by_performance, ["HAN", "HCM"]);
    }

    #[test]
    fn a_hub_at_its_daily_capacity_is_passed_over_for_the_next() {
        let order = submitted(&[("A", dec!(5))], FulfillmentPolicy::ShipPartial);
        let stock = [stock("HCM", "A", dec!(50), dec!(0)), stock("HAN", "A", dec!(50), dec!(0))];
        let full = HubLoads::from([(HubId::parse("HCM").unwrap(), 100)]);
        let plan = plan_reservations(&order, &hubs(), &full, &stock, RoutingWeights::default());
        assert_eq!(plan.iter().map(|r| r.hub_id.as_str()).collect::<Vec<_>>(), ["HAN"]);
        let almost = HubLoads::from([(HubId::parse("HCM").unwrap(), 99)]);
        let plan = plan_reservations(&order, &hubs(), &almost, &stock, RoutingWeights::default());
        assert_eq!(plan.iter().map(|r| r.hub_id.as_str()).collect::<Vec<_>>(), ["HCM"]);
    }

    #[test]
    fn weights_decide_between_near_and_good() {
        let destination = Some(Location { lat: 10.77, lon: 106.7 });
        let performance_only = RoutingWeights { performance: 1.0, proximity: 0.0 };
        let hubs = hubs();
        let ranked = rank_hubs(&hubs, &HubLoads::new(), destination, performance_only);
        assert_eq!(ranked[0].hub_id.as_str(), "HAN");
    }

    #[test]
    fn a_line_is_split_over_hubs_in_rank_order_when_the_policy_allows() {
        let order = submitted(&[("A", dec!(15))], FulfillmentPolicy::ShipPartial);
        let plan = plan_reservations(
            &order,
            &hubs(),
            &HubLoads::new(),
            &[stock("HCM", "A", dec!(12), dec!(2)), stock("HAN", "A", dec!(50), dec!(0))],
            RoutingWeights::default(),
        );
        let got: Vec<_> = plan.iter().map(|r| (r.hub_id.to_string(), r.quantity)).collect();
        assert_eq!(got, [("HCM".to_string(), dec!(10)), ("HAN".to_string(), dec!(5))]);
    }

    #[test]
    fn ship_complete_takes_one_hub_that_has_everything_or_nothing() {
        let order = submitted(&[("A", dec!(5)), ("B", dec!(5))], FulfillmentPolicy::ShipComplete);
        let all_at_han = [
            stock("HCM", "A", dec!(5), dec!(0)),
            stock("HAN", "A", dec!(5), dec!(0)),
            stock("HAN", "B", dec!(9), dec!(0)),
        ];
        let plan = plan_reservations(&order, &hubs(), &HubLoads::new(), &all_at_han, RoutingWeights::default());
        assert!(plan.iter().all(|r| r.hub_id.as_str() == "HAN") && plan.len() == 2);

        let split_only = [stock("HCM", "A", dec!(5), dec!(0)), stock("HAN", "B", dec!(5), dec!(0))];
        assert!(
            plan_reservations(&order, &hubs(), &HubLoads::new(), &split_only, RoutingWeights::default()).is_empty()
        );
    }

    #[test]
    fn two_lines_of_one_sku_never_plan_the_same_stock_twice() {
        let order = submitted(&[("A", dec!(4)), ("A", dec!(4))], FulfillmentPolicy::ShipPartial);
        let plan = plan_reservations(
            &order,
            &hubs(),
            &HubLoads::new(),
            &[stock("HCM", "A", dec!(6), dec!(0))],
            RoutingWeights::default(),
        );
        assert_eq!(plan.iter().map(|r| r.quantity).sum::<Decimal>(), dec!(6));
    }
}
