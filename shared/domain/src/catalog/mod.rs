//! The catalog: hubs (warehouses, stores) and SKUs, and the rules their inputs obey.

use crate::kernel::error::AppError;
use crate::kernel::ids::{HubId, Sku};
use crate::kernel::money::Currency;
use crate::kernel::quantity::non_negative_quantity;
use crate::kernel::text::{channel_name, non_empty_text, parse_unit};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
        if self.list_price < Decimal::ZERO || self.list_price > crate::kernel::limits::MAX_UNIT_PRICE {
            return Err(AppError::invalid(
                "list_price",
                format!("list_price must be 0 to {}", crate::kernel::limits::MAX_UNIT_PRICE),
            ));
        }
        if self.list_price.normalize().scale() > self.currency.minor_units() {
            return Err(AppError::invalid(
                "list_price",
                format!("list_price has more decimals than {} allows", self.currency),
            ));
        }
        if self.channel_items.len() > crate::kernel::limits::MAX_CHANNEL_ITEMS {
            return Err(AppError::invalid(
                "channel_items",
                format!("a SKU maps at most {} channel items", crate::kernel::limits::MAX_CHANNEL_ITEMS),
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

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

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
            (0..=crate::kernel::limits::MAX_CHANNEL_ITEMS).map(|n| (format!("c{n}"), format!("i{n}"))).collect();
        let err = mapped.into_sku(Sku::parse("PP").unwrap(), now).unwrap_err();
        assert!(matches!(&err, AppError::Invalid { field: Some(f), .. } if f == "channel_items"), "{err:?}");
        let past_price = input(crate::kernel::limits::MAX_UNIT_PRICE + Decimal::ONE, Currency::Vnd);
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
