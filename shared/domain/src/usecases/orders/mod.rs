//! The order routes other than create: read, list, edit, submit, price approval, cancel and
//! holds. Another tenant's order, or (for sales) a colleague's, answers 404: existence is never
//! leaked. Every change is one atomic write with its history and events, conditional on the
//! version it was computed from.

mod allocate_line;
mod cancel_order;
mod confirm_allocation;
mod create_order;
mod decide_price;
mod edit_order;
mod get_order;
mod list_orders;
mod order_history;
mod place_hold;
mod release_hold;
mod submit_order;

pub use self::allocate_line::{AllocationRequest, allocate_line};
pub use self::cancel_order::{CancelRequest, cancel_order};
pub use self::confirm_allocation::confirm_allocation;
pub use self::create_order::{CreateOrderRequest, LineRequest, create_order};
pub(crate) use self::create_order::{
    build_lines, catalog_for, discount, optional_text, validated_address, validated_contact, validated_lines,
};
pub use self::decide_price::{PriceDecisionRequest, decide_price};
pub use self::edit_order::{CustomerPatch, OrderPatch, edit_order};
pub use self::get_order::get_order;
pub use self::list_orders::{list_orders, matches_query, parse_order_query};
pub use self::order_history::order_history;
pub use self::place_hold::{HoldRequest, place_hold};
pub use self::release_hold::release_hold;
pub use self::submit_order::submit_order;
