//! The Lambda edge every function shares: what comes in (API Gateway requests, Step Functions
//! task inputs, integration messages), what goes out (responses, task errors), and what every
//! `main` does first and last.
//!
//! - [`http`]: API Gateway v2 requests in, responses out; errors mapped to status codes once.
//! - [`routes`]: each HTTP function's routes as an enum, checked against the template.
//! - [`task`]: Step Functions task errors with stable names for the ASL's Retry/Catch.
//! - [`inbound`]: what integrations send in is checked against the registry of integrations.
//! - [`secrets`]: a Secrets Manager secret's current value, errors mapped by reaction.
//! - [`runtime`]: tracing, config, SDK clients, and the run loop.

pub mod http;
pub mod inbound;
pub mod routes;
pub mod runtime;
pub mod secrets;
pub mod task;
