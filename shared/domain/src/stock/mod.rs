//! Stock: levels per hub and SKU, the moves that change them ([`rules`]: what every store
//! enforces), and the signals their crossings raise ([`signals`]).

pub mod rules;
pub mod signals;

pub use rules::{Effect, Needs, Refusal};
pub use signals::{hub_change, stock_signals};

use crate::kernel::error::AppError;
use crate::kernel::ids::{HubId, Sku};
use crate::kernel::quantity::{non_negative_quantity, quantity_delta};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A stock level as clients see it (`GET /v1/inventory`, `PUT /v1/inventory/...`): the level,
/// with `available` spelled out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StockView {
    /// The level.
    #[serde(flatten)]
    pub level: StockLevel,
    /// `on_hand - reserved`.
    pub available: Decimal,
}

impl From<StockLevel> for StockView {
    fn from(level: StockLevel) -> Self {
        let available = level.available();
        Self { level, available }
    }
}

/// Stock of one SKU at one hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StockLevel {
    /// The hub.
    pub hub_id: HubId,
    /// The SKU.
    pub sku: Sku,
    /// Physically there.
    pub on_hand: Decimal,
    /// Promised to orders.
    pub reserved: Decimal,
}

impl StockLevel {
    /// A pair never written reads as zero.
    pub fn empty(hub_id: HubId, sku: Sku) -> Self {
        Self { hub_id, sku, on_hand: Decimal::ZERO, reserved: Decimal::ZERO }
    }

    /// What can still be reserved.
    pub fn available(&self) -> Decimal {
        self.on_hand - self.reserved
    }
}

/// A change of what is reserved at one hub for one SKU, made together with an order change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockMove {
    /// The hub.
    pub hub_id: HubId,
    /// The SKU.
    pub sku: Sku,
    /// How much; the sign's meaning depends on the kind.
    pub quantity: Decimal,
    /// What moves.
    #[serde(default, skip_serializing_if = "MoveKind::is_reservation")]
    pub kind: MoveKind,
}

/// What a stock move changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MoveKind {
    /// Only the reservation: positive reserves (needs that much available), negative releases.
    #[default]
    Reservation,
    /// Goods with their reservation: negative is a shipment leaving the hub (reserved and
    /// on-hand both fall, available stays), positive a cancelled shipment coming back.
    Shipment,
    /// Goods received into free stock (a restocked return): on-hand and available rise.
    Receipt,
}

impl MoveKind {
    fn is_reservation(&self) -> bool {
        *self == Self::Reservation
    }
}

impl StockMove {
    /// Reserve `quantity`.
    pub fn reserve(hub_id: HubId, sku: Sku, quantity: Decimal) -> Self {
        Self { hub_id, sku, quantity, kind: MoveKind::Reservation }
    }

    /// Give back `quantity`.
    pub fn release(hub_id: HubId, sku: Sku, quantity: Decimal) -> Self {
        Self { hub_id, sku, quantity: -quantity, kind: MoveKind::Reservation }
    }

    /// `quantity` reserved goods left the hub in a shipment.
    pub fn ship(hub_id: HubId, sku: Sku, quantity: Decimal) -> Self {
        Self { hub_id, sku, quantity: -quantity, kind: MoveKind::Shipment }
    }

    /// A cancelled shipment's goods are back at the hub, reserved for the order again.
    pub fn unship(hub_id: HubId, sku: Sku, quantity: Decimal) -> Self {
        Self { hub_id, sku, quantity, kind: MoveKind::Shipment }
    }

    /// `quantity` came into the hub's free stock (a restocked return).
    pub fn receive(hub_id: HubId, sku: Sku, quantity: Decimal) -> Self {
        Self { hub_id, sku, quantity, kind: MoveKind::Receipt }
    }

    /// Nets moves of the same hub, SKU and kind into one, dropping those that cancel out, so
    /// each stock item is written once per kind. (One change never mixes kinds on a stock
    /// item: a transaction may touch an item once.)
    pub fn net(moves: impl IntoIterator<Item = StockMove>) -> Vec<StockMove> {
        let mut netted: std::collections::BTreeMap<(HubId, Sku, MoveKind), Decimal> = Default::default();
        for m in moves {
            *netted.entry((m.hub_id, m.sku, m.kind)).or_default() += m.quantity;
        }
        netted
            .into_iter()
            .filter(|(_, q)| !q.is_zero())
            .map(|((hub_id, sku, kind), quantity)| StockMove { hub_id, sku, quantity, kind })
            .collect()
    }
}

/// How `PUT /inventory/{hub_id}/{sku}` changes stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockChange {
    /// Set `on_hand` (a stock count). Refused if it would fall below `reserved`.
    Set(Decimal),
    /// Add to `on_hand` (receipts positive, write-offs negative). Refused if `available` would
    /// go negative.
    Delta(Decimal),
    /// A count the warehouse made at `at` (WMS `StockAdjusted`): like `Set`, but a count older
    /// than the last one applied is stale and changes nothing.
    Counted {
        /// Counted on hand.
        on_hand: Decimal,
        /// When it was counted.
        at: DateTime<Utc>,
    },
}

/// The body of `PUT /inventory/{hub_id}/{sku}`: exactly one of the two fields.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StockInput {
    /// New on-hand quantity.
    pub on_hand: Option<Decimal>,
    /// Change to on-hand.
    pub delta: Option<Decimal>,
}

impl StockInput {
    /// Validates into a change.
    pub fn into_change(self) -> Result<StockChange, AppError> {
        match (self.on_hand, self.delta) {
            (Some(on_hand), None) => Ok(StockChange::Set(non_negative_quantity("on_hand", on_hand)?)),
            (None, Some(delta)) => Ok(StockChange::Delta(quantity_delta("delta", delta)?)),
            _ => Err(AppError::invalid("on_hand", "send exactly one of on_hand or delta")),
        }
    }
}

/// A view of the stock a client asked for with `GET /inventory`.
#[derive(Debug, Clone, Default)]
pub struct StockFilter {
    /// Only this SKU.
    pub sku: Option<Sku>,
    /// Only this hub.
    pub hub_id: Option<HubId>,
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    #[test]
    fn stock_input_needs_exactly_one_field() {
        let both = StockInput { on_hand: Some(dec!(1)), delta: Some(dec!(1)) };
        assert!(both.into_change().is_err());
        let none = StockInput { on_hand: None, delta: None };
        assert!(none.into_change().is_err());
        let negative = StockInput { on_hand: Some(dec!(-1)), delta: None };
        assert!(negative.into_change().is_err());
        let delta = StockInput { on_hand: None, delta: Some(dec!(-2.5)) };
        assert_eq!(delta.into_change().unwrap(), StockChange::Delta(dec!(-2.5)));
    }
}
