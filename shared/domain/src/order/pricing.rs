//! Pricing (SPEC.md "Pricing"). Per line: unit price = approved, else quoted; line total =
//! (unit price + shipping unit cost) x quantity; tax = line total x tax rate; each rounded half
//! away from zero to the currency's minor unit. The order's totals are sums of rounded line
//! figures, less the discount, so the lines always add up to the order.
//!
//! The arithmetic is checked: inputs are bounded (`crate::limits`) so it cannot overflow, but if
//! it ever did the change is refused (`amount_too_large`) instead of aborting the function.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::kernel::error::{AppError, InvalidCode};
use crate::kernel::money::Currency;

/// A line's money, rounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LineTotals {
    /// Unit price x quantity.
    pub products: Decimal,
    /// Shipping unit cost x quantity.
    pub shipping: Decimal,
    /// Products + shipping, before tax (SPEC's line_total).
    pub net: Decimal,
    /// Tax on `net`.
    pub tax: Decimal,
    /// `net + tax`.
    pub gross: Decimal,
}

/// An order's money, rounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderTotals {
    /// Sum of line products.
    pub products: Decimal,
    /// Sum of line shipping.
    pub shipping: Decimal,
    /// Sum of line tax.
    pub tax: Decimal,
    /// Order-level discount.
    pub discount: Decimal,
    /// What the customer pays: products + shipping + tax - discount.
    pub grand_total: Decimal,
}

/// What pricing needs to know of a line.
#[derive(Debug, Clone, Copy)]
pub struct PriceInputs {
    /// The price that applies (approved, else quoted).
    pub unit_price: Decimal,
    /// Shipping cost per unit.
    pub shipping_unit_cost: Decimal,
    /// Ordered quantity.
    pub quantity: Decimal,
    /// Tax rate, e.g. 0.10.
    pub tax_rate: Decimal,
}

/// The refusal of an amount too large to compute.
fn too_large() -> AppError {
    AppError::invalid_with_code(InvalidCode::AmountTooLarge, "lines", "the order's amounts are too large to compute")
}

fn add(a: Decimal, b: Decimal) -> Result<Decimal, AppError> {
    a.checked_add(b).ok_or_else(too_large)
}

fn mul(a: Decimal, b: Decimal) -> Result<Decimal, AppError> {
    a.checked_mul(b).ok_or_else(too_large)
}

/// The sum of amounts, refused (not aborted) if it overflows.
pub fn checked_sum(amounts: impl IntoIterator<Item = Decimal>) -> Result<Decimal, AppError> {
    amounts.into_iter().try_fold(Decimal::ZERO, add)
}

/// Prices one line.
pub fn price_line(inputs: PriceInputs, currency: Currency) -> Result<LineTotals, AppError> {
    let products = currency.round(mul(inputs.unit_price, inputs.quantity)?);
    let net = currency.round(mul(add(inputs.unit_price, inputs.shipping_unit_cost)?, inputs.quantity)?);
    // Shipping is what remains of the rounded net, so products + shipping == net exactly.
    let shipping = net.checked_sub(products).ok_or_else(too_large)?;
    let tax = currency.round(mul(net, inputs.tax_rate)?);
    Ok(LineTotals { products, shipping, net, tax, gross: add(net, tax)? })
}

/// Sums priced lines into the order's totals.
pub fn order_totals<'a>(
    lines: impl IntoIterator<Item = &'a LineTotals>,
    discount: Decimal,
    currency: Currency,
) -> Result<OrderTotals, AppError> {
    let mut totals = OrderTotals { discount: currency.round(discount), ..OrderTotals::default() };
    for line in lines {
        totals.products = add(totals.products, line.products)?;
        totals.shipping = add(totals.shipping, line.shipping)?;
        totals.tax = add(totals.tax, line.tax)?;
    }
    let gross = add(add(totals.products, totals.shipping)?, totals.tax)?;
    totals.grand_total = gross.checked_sub(totals.discount).ok_or_else(too_large)?;
    Ok(totals)
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    fn line(unit_price: Decimal, shipping: Decimal, quantity: Decimal, tax_rate: Decimal) -> PriceInputs {
        PriceInputs { unit_price, shipping_unit_cost: shipping, quantity, tax_rate }
    }

    #[test]
    fn vnd_rounds_to_whole_dong_per_line() {
        let t = price_line(line(dec!(32000), dec!(500), dec!(1.5), dec!(0.10)), Currency::Vnd).unwrap();
        assert_eq!(
            (t.products, t.shipping, t.net, t.tax, t.gross),
            (dec!(48000), dec!(750), dec!(48750), dec!(4875), dec!(53625))
        );

        // 33333 x 0.333 = 11099.889 -> 11100; tax 1110.
        let t = price_line(line(dec!(33333), dec!(0), dec!(0.333), dec!(0.10)), Currency::Vnd).unwrap();
        assert_eq!((t.net, t.tax), (dec!(11100), dec!(1110)));

        // 12345 x 0.1 = 1234.5 -> 1235 (half away from zero, not to even); tax 123.5 -> 124.
        let t = price_line(line(dec!(12345), dec!(0), dec!(0.1), dec!(0.10)), Currency::Vnd).unwrap();
        assert_eq!((t.net, t.tax), (dec!(1235), dec!(124)));
    }

    #[test]
    fn usd_rounds_to_cents_per_line() {
        // 1.85 x 3.333 = 6.16605 -> 6.17; tax 0.617 -> 0.62.
        let t = price_line(line(dec!(1.85), dec!(0), dec!(3.333), dec!(0.10)), Currency::Usd).unwrap();
        assert_eq!((t.net, t.tax, t.gross), (dec!(6.17), dec!(0.62), dec!(6.79)));

        // 0.125 -> 0.13 (banker's rounding would give 0.12).
        let t = price_line(line(dec!(0.125), dec!(0), dec!(1), dec!(0)), Currency::Usd).unwrap();
        assert_eq!(t.net, dec!(0.13));
    }

    #[test]
    fn order_totals_are_sums_of_rounded_lines_less_discount() {
        let a = price_line(line(dec!(10.005), dec!(0.50), dec!(1), dec!(0.10)), Currency::Usd).unwrap();
        let b = price_line(line(dec!(2.335), dec!(0), dec!(2), dec!(0.08)), Currency::Usd).unwrap();
        let totals = order_totals([&a, &b], dec!(1.00), Currency::Usd).unwrap();
        assert_eq!(totals.products, a.products + b.products);
        assert_eq!(totals.tax, a.tax + b.tax);
        assert_eq!(totals.grand_total, a.gross + b.gross - dec!(1.00));
        // 10.005 -> 10.01 products; (10.505) -> 10.51 net, shipping 0.50; tax 1.051 -> 1.05.
        assert_eq!((a.products, a.shipping, a.tax), (dec!(10.01), dec!(0.50), dec!(1.05)));
        // 4.67 net; tax 0.3736 -> 0.37.
        assert_eq!((b.net, b.tax), (dec!(4.67), dec!(0.37)));
        assert_eq!(totals.grand_total, dec!(15.60));
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::kernel::limits::{MAX_LINES, MAX_QUANTITY, MAX_UNIT_PRICE};

    fn decimal() -> impl Strategy<Value = Decimal> {
        (any::<i64>(), any::<i64>(), 0u32..=28)
            .prop_map(|(hi, lo, scale)| Decimal::from_i128_with_scale((i128::from(hi) << 32) ^ i128::from(lo), scale))
    }

    fn bounded(max: Decimal, scale: u32) -> impl Strategy<Value = Decimal> {
        (0u64..=u64::MAX).prop_map(move |n| {
            let unit = Decimal::from(n) / Decimal::from(u64::MAX);
            (max * unit).round_dp(scale)
        })
    }

    proptest! {
        #![proptest_config(crate::arbitrary::config(256))]

        #[test]
        fn any_inputs_price_or_refuse_never_panic(
            unit_price in decimal(), shipping in decimal(), quantity in decimal(), tax_rate in decimal(),
            discount in decimal(), currency in proptest::sample::select(&[Currency::Vnd, Currency::Usd][..]),
        ) {
            let inputs = PriceInputs { unit_price, shipping_unit_cost: shipping, quantity, tax_rate };
            if let Ok(line) = price_line(inputs, currency) {
                let _ = order_totals([&line, &line], discount, currency);
            }
        }

        #[test]
        fn inputs_within_the_bounds_always_price_and_add_up(
            unit_price in bounded(MAX_UNIT_PRICE, 6), shipping in bounded(MAX_UNIT_PRICE, 6),
            quantity in bounded(MAX_QUANTITY, 3), tax_rate in bounded(Decimal::ONE, 4),
        ) {
            let inputs = PriceInputs { unit_price, shipping_unit_cost: shipping, quantity, tax_rate };
            let line = price_line(inputs, Currency::Usd).expect("bounded inputs price");
            prop_assert_eq!(line.products + line.shipping, line.net);
            prop_assert_eq!(line.net + line.tax, line.gross);
            let lines = vec![line; MAX_LINES];
            let totals = order_totals(&lines, Decimal::ZERO, Currency::Usd).expect("the worst order adds up");
            prop_assert_eq!(totals.grand_total, line.gross * Decimal::from(MAX_LINES));
        }
    }
}
