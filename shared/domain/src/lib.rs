//! The OMS domain: orders and their lifecycle, pricing, inventory, placement (which hub serves
//! which line), the events the OMS emits, and the ports (traits) functions need from storage.
//!
//! Pure Rust: no AWS types and no I/O. Money and quantities are `rust_decimal::Decimal`, never
//! floats. Every identifier is scoped by a [`TenantId`]; adapters build keys from both.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(any(test, feature = "memory"))]
pub mod arbitrary;
pub mod catalog;
pub mod events;
pub mod integrations;
pub mod kernel;
#[cfg(any(test, feature = "memory"))]
pub mod memory;
pub mod order;
pub mod ports;
pub mod routing;
pub mod stock;
pub mod usecases;

pub use kernel::access::{Action, Actor, Role};
pub use kernel::error::{AppError, ConflictCode, ConflictOn, InvalidCode, StoreError, TooLarge, UnprocessableCode};
pub use kernel::ids::{HubId, LineId, OrderId, Sku, TenantId};
pub use kernel::money::Currency;
pub use order::status::OrderStatus;
pub use order::{Order, OrderLine};
