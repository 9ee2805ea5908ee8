//! Quantities: decimals with at most three places (SPEC), so 1.5 KG or 0.125 TAN are fine and
//! float noise never reaches storage, and at most [`MAX_QUANTITY`] in size, so no sum of them
//! can overflow.

use rust_decimal::Decimal;

use crate::kernel::error::AppError;
use crate::kernel::limits::MAX_QUANTITY;

/// Most decimal places a quantity may have.
pub const MAX_QUANTITY_SCALE: u32 = 3;

fn within_scale(field: &str, value: Decimal) -> Result<Decimal, AppError> {
    if value.abs() > MAX_QUANTITY {
        return Err(AppError::invalid(field, format!("{field} must be at most {MAX_QUANTITY} in size")));
    }
    let value = value.normalize();
    if value.scale() > MAX_QUANTITY_SCALE {
        return Err(AppError::invalid(field, format!("{field} may have at most {MAX_QUANTITY_SCALE} decimal places")));
    }
    Ok(value)
}

/// A quantity that must be greater than zero.
pub fn positive_quantity(field: &str, value: Decimal) -> Result<Decimal, AppError> {
    if value <= Decimal::ZERO {
        return Err(AppError::invalid(field, format!("{field} must be greater than 0")));
    }
    within_scale(field, value)
}

/// A quantity that may be zero but not negative.
pub fn non_negative_quantity(field: &str, value: Decimal) -> Result<Decimal, AppError> {
    if value < Decimal::ZERO {
        return Err(AppError::invalid(field, format!("{field} must not be negative")));
    }
    within_scale(field, value)
}

/// A signed change of quantity, not zero.
pub fn quantity_delta(field: &str, value: Decimal) -> Result<Decimal, AppError> {
    if value.is_zero() {
        return Err(AppError::invalid(field, format!("{field} must not be 0")));
    }
    within_scale(field, value)
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn three_places_at_most_and_trailing_zeros_do_not_count() {
        assert_eq!(positive_quantity("q", dec!(1.125)).unwrap(), dec!(1.125));
        assert_eq!(positive_quantity("q", dec!(2.50000)).unwrap(), dec!(2.5));
        assert!(positive_quantity("q", dec!(1.0001)).is_err());
        assert!(positive_quantity("q", dec!(0)).is_err());
        assert!(positive_quantity("q", dec!(-1)).is_err());
        assert!(non_negative_quantity("q", dec!(0)).is_ok());
        assert!(quantity_delta("q", dec!(0)).is_err());
        assert_eq!(quantity_delta("q", dec!(-3)).unwrap(), dec!(-3));
    }

    #[test]
    fn magnitudes_are_bounded_both_ways() {
        assert!(positive_quantity("q", MAX_QUANTITY).is_ok());
        assert!(positive_quantity("q", dec!(79228162514264337593543950)).is_err());
        assert!(positive_quantity("q", MAX_QUANTITY + dec!(0.001)).is_err());
        assert!(quantity_delta("q", -MAX_QUANTITY - dec!(1)).is_err());
        assert!(non_negative_quantity("q", Decimal::MAX).is_err());
    }
}
