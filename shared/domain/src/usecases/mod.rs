//! Use cases: what each function does, generic over the ports so the same code runs on DynamoDB
//! and in memory. Each takes an authenticated [`crate::Actor`] (or runs as the system) and the
//! current time, validates before it writes, and writes each change atomically.

pub mod catalog;
pub mod channel_intake;
pub mod integrations;
pub mod orders;
pub mod placement;
pub mod returns;
pub mod shipments;
pub mod unit_of_work;
pub mod wms;

#[cfg(test)]
mod caps_tests;

pub use orders::{CreateOrderRequest, create_order};
pub use unit_of_work::{Changed, IdempotencyKey};
