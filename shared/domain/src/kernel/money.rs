//! Currencies and rounding. Amounts are rounded half away from zero to the currency's minor
//! unit, per line (SPEC: VND has 0 decimals, USD/EUR 2).

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::kernel::error::AppError;

/// An ISO 4217 currency the OMS prices in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(try_from = "String", into = "String")]
pub enum Currency {
    /// Vietnamese dong, no minor unit. The default.
    #[default]
    Vnd,
    /// US dollar.
    Usd,
    /// Euro.
    Eur,
    /// Japanese yen, no minor unit.
    Jpy,
    /// Singapore dollar.
    Sgd,
    /// Thai baht.
    Thb,
    /// Pound sterling.
    Gbp,
}

/// The ISO codes, the only strings a currency travels as.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Currency {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(Currency::ALL.iter().map(|(_, code, _)| *code)))
            .description(Some("ISO 4217 code"))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Currency {}

impl Currency {
    const ALL: [(Currency, &'static str, u32); 7] = [
        (Currency::Vnd, "VND", 0),
        (Currency::Usd, "USD", 2),
        (Currency::Eur, "EUR", 2),
        (Currency::Jpy, "JPY", 0),
        (Currency::Sgd, "SGD", 2),
        (Currency::Thb, "THB", 2),
        (Currency::Gbp, "GBP", 2),
    ];

    fn entry(self) -> (Currency, &'static str, u32) {
        Self::ALL.into_iter().find(|(c, _, _)| *c == self).expect("every currency is listed")
    }

    /// The ISO code.
    pub fn code(self) -> &'static str {
        self.entry().1
    }

    /// Decimal places of the minor unit.
    pub fn minor_units(self) -> u32 {
        self.entry().2
    }

    /// Rounds an amount to this currency's minor unit, half away from zero.
    pub fn round(self, amount: Decimal) -> Decimal {
        amount.round_dp_with_strategy(self.minor_units(), RoundingStrategy::MidpointAwayFromZero)
    }
}

impl FromStr for Currency {
    type Err = AppError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|(_, code, _)| code.eq_ignore_ascii_case(s)).map(|(c, _, _)| c).ok_or_else(|| {
            let known: Vec<_> = Self::ALL.iter().map(|(_, code, _)| *code).collect();
            AppError::invalid("currency", format!("unsupported currency {s:?}; one of {}", known.join(", ")))
        })
    }
}

impl TryFrom<String> for Currency {
    type Error = AppError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<Currency> for String {
    fn from(value: Currency) -> String {
        value.code().to_owned()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn rounds_half_away_from_zero_to_the_minor_unit() {
        assert_eq!(Currency::Vnd.round(dec!(1234.5)), dec!(1235));
        assert_eq!(Currency::Vnd.round(dec!(1234.49)), dec!(1234));
        assert_eq!(Currency::Vnd.round(dec!(-0.5)), dec!(-1));
        assert_eq!(Currency::Usd.round(dec!(2.345)), dec!(2.35));
        assert_eq!(Currency::Usd.round(dec!(2.344)), dec!(2.34));
        assert_eq!(Currency::Usd.round(dec!(-2.345)), dec!(-2.35));
    }

    #[test]
    fn parses_codes_case_insensitively_and_rejects_unknown() {
        assert_eq!("usd".parse::<Currency>().unwrap(), Currency::Usd);
        assert_eq!(Currency::default(), Currency::Vnd);
        assert!("XXX".parse::<Currency>().is_err());
    }
}
