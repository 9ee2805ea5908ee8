//! Adapters from the OMS ports to AWS, and the Lambda edge every function shares.
//!
//! - [`dynamo`]: the single-table DynamoDB store (every port of `oms_domain::ports`).
//! - [`relay`]: publishes outbox messages to EventBridge and Step Functions.
//! - [`inbound`]: what integrations send in is checked against the registry of integrations.
//! - [`http`]: API Gateway v2 requests in, responses out; errors mapped to status codes once.
//! - [`routes`]: each HTTP function's routes as an enum, checked against the template.
//! - [`task`]: Step Functions task errors with stable names for the ASL's Retry/Catch.
//! - [`secrets`]: a Secrets Manager secret's current value, errors mapped by reaction.
//! - [`runtime`]: what every `main` does first (tracing, config, SDK clients) and last (run).
//! - [`metering`]: per-invocation cost lines (handler time, requests, capacity) when asked for.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod dynamo;
pub mod http;
pub mod inbound;
pub mod metering;
pub mod relay;
pub mod routes;
pub mod runtime;
pub mod secrets;
pub mod task;

pub use dynamo::DynamoStore;
