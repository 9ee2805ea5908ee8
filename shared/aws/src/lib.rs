//! Adapters from the OMS ports to AWS, and the Lambda edge every function shares.
//!
//! - [`dynamo`]: the single-table DynamoDB store (every port of `oms_domain::ports`).
//! - [`relay`]: publishes outbox messages to EventBridge and Step Functions.
//! - [`edge`]: what every function shares at its edge: HTTP requests and responses, typed
//!   routes, task errors, inbound integration checks, secrets, and the runtime.
//! - [`metering`]: per-invocation cost lines (handler time, requests, capacity) when asked for.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod dynamo;
pub mod edge;
pub mod metering;
pub mod relay;

pub use dynamo::DynamoStore;
