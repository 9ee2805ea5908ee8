//! The OMS domain: orders and their lifecycle, pricing, inventory, placement (which hub serves
//! which line), the events the OMS emits, and the ports (traits) functions need from storage.
//!
//! Pure Rust: no AWS types and no I/O. Money and quantities are `rust_decimal::Decimal`, never
//! floats. Every identifier is scoped by a [`TenantId`]; adapters build keys from both.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod access;
#[cfg(any(test, feature = "memory"))]
pub mod arbitrary;
pub mod error;
pub mod events;
pub mod fulfillment;
pub mod ids;
pub mod integrations;
pub mod inventory;
pub mod limits;
#[cfg(any(test, feature = "memory"))]
pub mod memory;
pub mod money;
pub mod order;
pub mod placement;
pub mod ports;
pub mod pricing;
pub mod quantity;
pub mod returns;
pub mod shipment;
pub mod status;
pub mod usecases;

pub use access::{Action, Actor, Role};
pub use error::{AppError, ConflictOn, StoreError};
pub use ids::{HubId, LineId, OrderId, Sku, TenantId};
pub use money::Currency;
pub use order::{Order, OrderLine};
pub use status::OrderStatus;
