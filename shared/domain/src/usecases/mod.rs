//! Use cases: what each function does, generic over the ports so the same code runs on DynamoDB
//! and in memory. Each takes an authenticated [`crate::Actor`] (or runs as the system) and the
//! current time, validates before it writes, and writes each change atomically.

pub mod create_order;
pub mod effects;
pub mod idempotency;
pub mod intake;
pub mod integrations;
pub mod inventory;
pub mod orders;
pub mod placement;
pub mod returns;
pub mod shipping;
pub mod wms;

#[cfg(test)]
mod caps_tests;

pub use create_order::{CreateOrderRequest, create_order};
pub use idempotency::{Changed, IdempotencyKey};
