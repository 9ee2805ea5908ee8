//! Hubs, SKUs and stock levels, and the validation of what clients send for them.
//!
//! Invariant of every stock level: `0 <= reserved <= on_hand`, so `available = on_hand -
//! reserved` is never negative. Adapters enforce it with conditional writes.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::ids::{HubId, Sku};
use crate::money::Currency;
use crate::quantity::{non_negative_quantity, quantity_delta};

/// What kind of stock location a hub is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum HubType {
    /// A warehouse that picks, packs and ships.
    Warehouse,
    /// A port holding imported stock.
    Port,
    /// Stock on its way in.
    InTransit,
}

/// A point on the map (WGS84 degrees). Floats are fine here: distances rank hubs, they are not
/// money.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Location {
    /// Latitude, -90..=90.
    pub lat: f64,
    /// Longitude, -180..=180.
    pub lon: f64,
}

impl Location {
    /// Checks the ranges.
    pub fn validate(self, field: &str) -> Result<Self, AppError> {
        if !(-90.0..=90.0).contains(&self.lat) || !(-180.0..=180.0).contains(&self.lon) {
            return Err(AppError::invalid(field, "lat must be within -90..90 and lon within -180..180"));
        }
        Ok(self)
    }
}

/// A place stock is held and shipped from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Hub {
    /// The hub's code.
    pub hub_id: HubId,
    /// Display name.
    pub name: String,
    /// Warehouse, port or in transit.
    #[serde(rename = "type")]
    pub hub_type: HubType,
    /// Where it is.
    pub location: Location,
    /// How many orders a day it can handle.
    pub daily_capacity: u32,
    /// How well it performs, 0..=1 (higher is better).
    pub performance_score: Decimal,
    /// Inactive hubs are never planned.
    pub active: bool,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// The body of `PUT /hubs/{hub_id}`.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HubInput {
    /// Display name.
    pub name: String,
    /// Warehouse, port or in transit.
    #[serde(rename = "type")]
    pub hub_type: HubType,
    /// Where it is.
    pub location: Location,
    /// Orders per day.
    pub daily_capacity: u32,
    /// 0..=1.
    pub performance_score: Decimal,
    /// Defaults to true.
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

impl HubInput {
    /// Validates into a hub.
    pub fn into_hub(self, hub_id: HubId, now: DateTime<Utc>) -> Result<Hub, AppError> {
        let name = non_empty_text("name", self.name, 200)?;
        if self.performance_score < Decimal::ZERO || self.performance_score > Decimal::ONE {
            return Err(AppError::invalid("performance_score", "performance_score must be within 0..1"));
        }
        Ok(Hub {
            hub_id,
            name,
            hub_type: self.hub_type,
            location: self.location.validate("location")?,
            daily_capacity: self.daily_capacity,
            performance_score: self.performance_score,
            active: self.active,
            updated_at: now,
        })
    }
}

/// A product the OMS sells.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SkuRecord {
    /// The SKU code.
    pub sku: Sku,
    /// Display name.
    pub name: String,
    /// Unit of measure (KG, TAN, EA...).
    pub unit: String,
    /// List price per unit, before tax.
    pub list_price: Decimal,
    /// Currency of the list price.
    pub currency: Currency,
    /// Tax rate, e.g. 0.10 for 10%.
    pub tax_rate: Decimal,
    /// `InventoryLow` fires when available stock falls under this.
    pub low_stock_threshold: Decimal,
    /// The item id each sales channel knows this SKU by (channel -> item id).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub channel_items: BTreeMap<String, String>,
    /// How many items each hub's stock of this SKU is spread over: more than 1 for a hot SKU,
    /// so a flash sale is not capped by one item's write rate.
    #[serde(default = "one_shard")]
    pub stock_shards: u16,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// The body of `PUT /skus/{sku}`.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SkuInput {
    /// Display name.
    pub name: String,
    /// Unit of measure.
    pub unit: String,
    /// List price per unit.
    pub list_price: Decimal,
    /// Defaults to VND.
    #[serde(default)]
    pub currency: Currency,
    /// Defaults to 10%.
    pub tax_rate: Option<Decimal>,
    /// Defaults to 0 (never low).
    pub low_stock_threshold: Option<Decimal>,
    /// The item id each sales channel knows this SKU by, e.g. `{"shopee": "2219934"}`.
    #[serde(default)]
    pub channel_items: BTreeMap<String, String>,
    /// Stock items per hub (1 to 16, default 1); see [`SkuRecord::stock_shards`].
    pub stock_shards: Option<u16>,
}

/// Most items a hub's stock of one SKU may be spread over.
pub const MAX_STOCK_SHARDS: u16 = 16;

fn one_shard() -> u16 {
    1
}

/// The tax rate when a SKU does not say (SPEC: 10%).
pub const DEFAULT_TAX_RATE: Decimal = Decimal::from_parts(10, 0, 0, false, 2);

impl SkuInput {
    /// Validates into a SKU record.
    pub fn into_sku(self, sku: Sku, now: DateTime<Utc>) -> Result<SkuRecord, AppError> {
        let tax_rate = self.tax_rate.unwrap_or(DEFAULT_TAX_RATE);
        if tax_rate < Decimal::ZERO || tax_rate > Decimal::ONE {
            return Err(AppError::invalid("tax_rate", "tax_rate must be within 0..1"));
        }
        if self.list_price < Decimal::ZERO || self.list_price > crate::limits::MAX_UNIT_PRICE {
            return Err(AppError::invalid(
                "list_price",
                format!("list_price must be 0 to {}", crate::limits::MAX_UNIT_PRICE),
            ));
        }
        if self.list_price.normalize().scale() > self.currency.minor_units() {
            return Err(AppError::invalid(
                "list_price",
                format!("list_price has more decimals than {} allows", self.currency),
            ));
        }
        if self.channel_items.len() > crate::limits::MAX_CHANNEL_ITEMS {
            return Err(AppError::invalid(
                "channel_items",
                format!("a SKU maps at most {} channel items", crate::limits::MAX_CHANNEL_ITEMS),
            ));
        }
        let mut channel_items = BTreeMap::new();
        for (channel, item) in self.channel_items {
            let field = format!("channel_items.{channel}");
            channel_items.insert(channel_name(&field, &channel)?, non_empty_text(&field, item, 128)?);
        }
        let stock_shards = self.stock_shards.unwrap_or(1);
        if !(1..=MAX_STOCK_SHARDS).contains(&stock_shards) {
            return Err(AppError::invalid("stock_shards", format!("stock_shards must be 1 to {MAX_STOCK_SHARDS}")));
        }
        Ok(SkuRecord {
            sku,
            channel_items,
            stock_shards,
            name: non_empty_text("name", self.name, 200)?,
            unit: parse_unit("unit", &self.unit)?,
            list_price: self.list_price,
            currency: self.currency,
            tax_rate,
            low_stock_threshold: non_negative_quantity(
                "low_stock_threshold",
                self.low_stock_threshold.unwrap_or_default(),
            )?,
            updated_at: now,
        })
    }
}

/// A sales channel's name: 1 to 32 lower-case letters, digits, `-` or `_` (`shopee`, `b2b-portal`).
pub fn channel_name(field: &str, value: &str) -> Result<String, AppError> {
    let ok = !value.is_empty()
        && value.len() <= 32
        && value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !ok {
        return Err(AppError::invalid(field, "a channel is 1 to 32 lower-case letters, digits, '-' or '_'"));
    }
    Ok(value.to_owned())
}

/// A unit of measure: 1 to 8 upper-case letters or digits (KG, TAN, EA, M3).
pub fn parse_unit(field: &str, value: &str) -> Result<String, AppError> {
    let unit = value.trim().to_ascii_uppercase();
    if unit.is_empty() || unit.len() > 8 || !unit.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(AppError::invalid(field, "unit must be 1 to 8 letters or digits, e.g. KG"));
    }
    Ok(unit)
}

/// Trimmed, non-empty text of at most `max` characters.
pub fn non_empty_text(field: &str, value: String, max: usize) -> Result<String, AppError> {
    let value = value.trim().to_owned();
    if value.is_empty() || value.chars().count() > max {
        return Err(AppError::invalid(field, format!("{field} must be 1 to {max} characters")));
    }
    Ok(value)
}

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

/// What a change of one stock level tells the world: `StockReplenished` when more became
/// available (backorders may now be served), `InventoryLow` when available fell under the
/// SKU's threshold (only on the crossing, not on every change below it).
pub fn stock_signals(
    before: Option<&StockLevel>,
    after: &StockLevel,
    threshold: Decimal,
) -> Vec<crate::events::DomainEvent> {
    use crate::events::DomainEvent;
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
    fn replenishment_and_low_stock_fire_on_their_crossings_only() {
        let level = |on_hand, reserved| StockLevel {
            hub_id: HubId::parse("H").unwrap(),
            sku: Sku::parse("S").unwrap(),
            on_hand,
            reserved,
        };
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

    #[test]
    fn sku_defaults_and_limits() {
        let now = Utc::now();
        let input = |price, currency| SkuInput {
            name: "PP".into(),
            unit: "kg".into(),
            list_price: price,
            currency,
            tax_rate: None,
            low_stock_threshold: None,
            channel_items: BTreeMap::new(),
            stock_shards: None,
        };
        let sku = input(dec!(32000), Currency::Vnd).into_sku(Sku::parse("PP").unwrap(), now).unwrap();
        assert_eq!((sku.unit.as_str(), sku.tax_rate), ("KG", dec!(0.10)));
        assert!(input(dec!(1.5), Currency::Vnd).into_sku(Sku::parse("PP").unwrap(), now).is_err());
        assert!(input(dec!(1.85), Currency::Usd).into_sku(Sku::parse("PP").unwrap(), now).is_ok());
        let mut mapped = input(dec!(32000), Currency::Vnd);
        mapped.channel_items =
            (0..=crate::limits::MAX_CHANNEL_ITEMS).map(|n| (format!("c{n}"), format!("i{n}"))).collect();
        let err = mapped.into_sku(Sku::parse("PP").unwrap(), now).unwrap_err();
        assert!(matches!(&err, AppError::Invalid { field: Some(f), .. } if f == "channel_items"), "{err:?}");
        let past_price = input(crate::limits::MAX_UNIT_PRICE + Decimal::ONE, Currency::Vnd);
        assert!(past_price.into_sku(Sku::parse("PP").unwrap(), now).is_err());
    }

    #[test]
    fn hub_score_and_location_are_checked() {
        let input = |score, lat| HubInput {
            name: "HCM".into(),
            hub_type: HubType::Warehouse,
            location: Location { lat, lon: 106.0 },
            daily_capacity: 10,
            performance_score: score,
            active: true,
        };
        let id = || HubId::parse("H1").unwrap();
        assert!(input(dec!(0.9), 10.0).into_hub(id(), Utc::now()).is_ok());
        assert!(input(dec!(1.1), 10.0).into_hub(id(), Utc::now()).is_err());
        assert!(input(dec!(0.9), 91.0).into_hub(id(), Utc::now()).is_err());
    }
}
