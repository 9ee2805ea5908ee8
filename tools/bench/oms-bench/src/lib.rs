//! Benchmarks of the OMS against a DynamoDB endpoint (DynamoDB Local under `./dev bench`).
//!
//! - [`listing`] (bin `list-latency`): seeds a tenant with orders through the real create path,
//!   times the listing use case, grows the tenant and the table, and times it again.
//! - [`rate`] (bin `dynamo-rate`): the endpoint's raw request rate for the requests an order
//!   needs, at several concurrencies.
//!
//! Both talk to the endpoint with the SDK configuration the functions use ([`dynamo`]), print
//! one JSON object on stdout and a short summary on stderr. How to run them: `README.md`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod args;
pub mod dynamo;
pub mod listing;
pub mod probe;
pub mod rate;
pub mod seed;
pub mod stats;

/// Whatever went wrong; a benchmark only reports it and stops.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// What a bin's `main` returns: the error and its sources on stderr, exit status 1.
pub fn exit(bin: &str, result: Result<(), Error>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            let mut message = format!("{bin}: {error}");
            let mut source = error.source();
            while let Some(cause) = source {
                message.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            eprintln!("{message}");
            std::process::ExitCode::FAILURE
        }
    }
}
