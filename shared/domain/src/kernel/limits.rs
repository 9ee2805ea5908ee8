//! Every cap on what a caller can make a record hold, and the magnitude bounds of numbers, in one
//! place (README "Limits" lists them in SPEC terms; a test keeps the two in step).
//!
//! Why caps: an order is one DynamoDB item (400 KB at most) and each event one EventBridge entry
//! (256 KB at most). A collection that any caller — a sales rep, a warehouse, a carrier — can
//! grow without bound would one day make the order unwritable for everyone. Each cap is far above
//! what a real order needs and gives its own clear error; [`MAX_ORDER_BYTES`] and
//! [`MAX_EVENT_BYTES`] are the backstops that no combination of caps can get past.
//!
//! Why bounds on numbers: every quantity and amount is a `rust_decimal::Decimal` (96-bit
//! mantissa, about 7.9e28). With quantities at most 1e9 and unit prices at most 1e12, a line is at
//! most ~2e21 and 250 lines with tax ~1e24, far inside it, so the arithmetic cannot overflow; it is
//! still done with checked operations (see `pricing`), so a bug refuses the change instead of
//! aborting the function.

use rust_decimal::Decimal;

use crate::kernel::error::{AppError, ConflictCode};

/// Largest quantity of anything: an order line, a pick, a return, a stock count or adjustment
/// (one billion units).
pub const MAX_QUANTITY: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);
/// Largest unit price, list price or shipping unit cost (one trillion in the currency's major
/// unit: enough for đồng per tonne).
pub const MAX_UNIT_PRICE: Decimal = Decimal::from_parts(3_567_587_328, 232, 0, false, 0);
/// Largest order-level discount (one quadrillion).
pub const MAX_DISCOUNT: Decimal = Decimal::from_parts(2_764_472_320, 232_830, 0, false, 0);

/// Lines of an order.
pub const MAX_LINES: usize = 250;
/// Holds an order may ever have (active and released).
pub const MAX_HOLDS: usize = 20;
/// Shipments of one order (warehouse and dispatcher ones, cancelled ones included).
pub const MAX_SHIPMENTS: usize = 100;
/// Returns (RMAs) of one order, rejected ones included.
pub const MAX_RETURNS: usize = 20;
/// Packages on one fulfillment request or one shipment.
pub const MAX_PACKAGES: usize = 100;
/// Warehouse events applied to one fulfillment request (accept, picks, packs, ships).
pub const MAX_REQUEST_EVENTS: usize = 100;
/// Channel item ids mapped to one SKU.
pub const MAX_CHANNEL_ITEMS: usize = 20;
/// Characters of an integration's id for something (`event_id`, `tms_order_id`, carrier,
/// tracking number, package number).
pub const MAX_EXTERNAL_ID: usize = 128;

/// Largest order document, as its JSON serialization. The DynamoDB item is smaller than the JSON
/// (one byte of overhead per attribute against JSON's quotes, colons and commas; numbers and
/// booleans shorter), plus under 12 KB of index and search attributes, so an order at this size
/// is still well under DynamoDB's 400 KB item limit.
pub const MAX_ORDER_BYTES: usize = 350 * 1024;
/// EventBridge's limit on a `PutEvents` entry (and request): 256 KB, counted as AWS counts it
/// (see [`crate::events::EventEnvelope::entry_size`]).
pub const MAX_EVENT_BYTES: usize = 256 * 1024;

/// A list in a request with at most `max` entries (400 with the field otherwise).
pub fn check_list(field: &str, len: usize, max: usize) -> Result<(), AppError> {
    if len > max {
        return Err(AppError::invalid(field, format!("{field} has {len} entries; at most {max} are allowed")));
    }
    Ok(())
}

/// Room for one more entry in a collection the order keeps (409 with `code` otherwise: the
/// request may be fine, the order has simply taken all it can of these).
pub fn check_room(code: ConflictCode, what: &str, len: usize, max: usize) -> Result<(), AppError> {
    if len >= max {
        return Err(AppError::conflict(code, format!("the order has {len} {what}, the most it may have")));
    }
    Ok(())
}

/// An integration's id (an `event_id`, a carrier's order id, a tracking or package number):
/// not empty, at most [`MAX_EXTERNAL_ID`] characters.
pub fn check_external_id(field: &str, value: &str) -> Result<(), AppError> {
    if value.trim().is_empty() || value.chars().count() > MAX_EXTERNAL_ID {
        return Err(AppError::invalid(field, format!("{field} must be 1 to {MAX_EXTERNAL_ID} characters")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bounds_are_the_round_numbers_they_claim() {
        assert_eq!(MAX_QUANTITY, Decimal::from(1_000_000_000u64));
        assert_eq!(MAX_UNIT_PRICE, Decimal::from(1_000_000_000_000u64));
        assert_eq!(MAX_DISCOUNT, Decimal::from(1_000_000_000_000_000u64));
    }

    #[test]
    fn the_worst_order_cannot_overflow() {
        let line = (MAX_UNIT_PRICE + MAX_UNIT_PRICE).checked_mul(MAX_QUANTITY).unwrap();
        let all = line.checked_mul(Decimal::from(MAX_LINES)).unwrap();
        assert!(all.checked_mul(Decimal::TWO).is_some(), "tax at 100% still fits");
    }

    #[test]
    fn readme_lists_every_limit() {
        let readme = include_str!("../../../../README.md");
        for (name, value) in [
            ("MAX_LINES", MAX_LINES),
            ("MAX_HOLDS", MAX_HOLDS),
            ("MAX_SHIPMENTS", MAX_SHIPMENTS),
            ("MAX_RETURNS", MAX_RETURNS),
            ("MAX_PACKAGES", MAX_PACKAGES),
            ("MAX_REQUEST_EVENTS", MAX_REQUEST_EVENTS),
            ("MAX_CHANNEL_ITEMS", MAX_CHANNEL_ITEMS),
            ("MAX_EXTERNAL_ID", MAX_EXTERNAL_ID),
        ] {
            let row = readme.lines().find(|l| l.contains(&format!("`{name}`"))).unwrap_or_else(|| {
                panic!("README's Limits table has no row for {name}");
            });
            assert!(row.contains(&format!("| {value} |")), "README says otherwise for {name}: {row}");
        }
    }
}
