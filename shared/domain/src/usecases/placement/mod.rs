//! The two placement tasks of the `order-placement` workflow.
//!
//! `plan` (assign-hub) reads the order, hubs and stock and proposes reservations. `reserve`
//! (reserve-stock) applies the plan to the order and commits it together with a conditional
//! reservation per stock item. A plan that no longer fits (stock taken, order changed) fails as
//! `plan_stale` and the workflow plans again from fresh data.

mod assign_hub;
mod expire_reservation;
mod placement_failed;
mod replace_backorders;
mod request_fulfillment;
mod reserve_stock;

pub(crate) use self::assign_hub::COMPONENT;
pub use self::assign_hub::{PlacementRequest, plan};
pub use self::expire_reservation::{ExpiryResult, expire};
pub use self::placement_failed::{PlacementFailure, record_failure};
pub use self::replace_backorders::replace_backorders;
pub use self::request_fulfillment::{DispatchResult, dispatch};
pub(crate) use self::request_fulfillment::{count_dispatches, today};
pub use self::reserve_stock::{PlacementResult, reserve};
