//! Start-up shared by every function: JSON logs, configuration read once (failing at init when
//! something is missing, not on the first request), one AWS SDK configuration.

use lambda_runtime::Error;

/// JSON logs to stdout (CloudWatch), level from `RUST_LOG` (default `info`).
pub fn init_tracing() {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_target(false)
        .with_current_span(false)
        .without_time() // CloudWatch stamps every line.
        .init();
}

/// A required environment variable.
pub fn env(name: &str) -> Result<String, Error> {
    std::env::var(name).map_err(|_| format!("environment variable {name} must be set").into())
}

/// The SDK configuration from the environment (region, credentials, and endpoint overrides such
/// as `AWS_ENDPOINT_URL_DYNAMODB` that the local stack sets).
pub async fn aws_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// The table every store reads and writes (`OMS_TABLE_NAME`).
pub async fn dynamo_store(config: &aws_config::SdkConfig) -> Result<crate::DynamoStore, Error> {
    Ok(crate::DynamoStore::new(aws_sdk_dynamodb::Client::new(config), env("OMS_TABLE_NAME")?))
}

/// How long an order held at `ALLOCATED` keeps its reservation (`OMS_RESERVATION_TIMEOUT_SECONDS`,
/// default 15 minutes).
pub fn reservation_timeout() -> Result<chrono::Duration, Error> {
    match std::env::var("OMS_RESERVATION_TIMEOUT_SECONDS") {
        Ok(value) => match value.parse::<i64>() {
            Ok(seconds) if seconds > 0 => Ok(chrono::Duration::seconds(seconds)),
            _ => {
                Err(format!("OMS_RESERVATION_TIMEOUT_SECONDS must be a positive number of seconds, not {value:?}")
                    .into())
            }
        },
        Err(_) => Ok(chrono::Duration::minutes(15)),
    }
}

/// What every function starts with: JSON logs, the SDK configuration and the store, built once
/// and kept for the life of the process, so handlers borrow them for `'static`.
pub async fn start() -> Result<(&'static aws_config::SdkConfig, &'static crate::DynamoStore), Error> {
    init_tracing();
    let config: &'static aws_config::SdkConfig = Box::leak(Box::new(aws_config().await));
    let store: &'static crate::DynamoStore = Box::leak(Box::new(dynamo_store(config).await?));
    Ok((config, store))
}
