//! Start-up shared by every function: JSON logs, configuration read once (failing at init when
//! something is missing, not on the first request), one AWS SDK configuration, clients built from
//! it; and the runtime loop every function ends with.
//!
//! A function whose handler needs only the store and the clock is served whole by one call:
//! [`serve_http`] (its routes), [`serve_answers`] (a handler that always answers, like a queue's
//! batch response) or [`serve`] (a handler whose error is the invocation's, like a task's). The
//! others ([`start`], then [`run`]) build what else they need in between.

use std::fmt::Debug;

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use chrono::{DateTime, Utc};
use lambda_runtime::{Diagnostic, Error, IntoFunctionResponse, LambdaEvent, Service, service_fn};
use oms_domain::AppError;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::DynamoStore;
use crate::edge::http::{self, ApiRequest, ApiResponse};
use crate::metering;

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

/// A client of one SDK on the shared configuration, carrying the [`metering::Meter`] when
/// metering is on.
macro_rules! client {
    ($sdk:ident, $config:expr) => {{
        let mut builder = $sdk::config::Builder::from($config);
        if metering::enabled() {
            builder = builder.interceptor(metering::Meter);
        }
        $sdk::Client::from_conf(builder.build())
    }};
}

/// The DynamoDB client every store uses.
pub fn dynamodb_client(config: &aws_config::SdkConfig) -> aws_sdk_dynamodb::Client {
    client!(aws_sdk_dynamodb, config)
}

/// The EventBridge client events are put with.
pub fn eventbridge_client(config: &aws_config::SdkConfig) -> aws_sdk_eventbridge::Client {
    client!(aws_sdk_eventbridge, config)
}

/// The Step Functions client workflows are started with.
pub fn sfn_client(config: &aws_config::SdkConfig) -> aws_sdk_sfn::Client {
    client!(aws_sdk_sfn, config)
}

/// The Secrets Manager client secrets are read with.
pub fn secretsmanager_client(config: &aws_config::SdkConfig) -> aws_sdk_secretsmanager::Client {
    client!(aws_sdk_secretsmanager, config)
}

/// The table every store reads and writes (`OMS_TABLE_NAME`).
pub async fn dynamo_store(config: &aws_config::SdkConfig) -> Result<crate::DynamoStore, Error> {
    Ok(crate::DynamoStore::new(dynamodb_client(config), env("OMS_TABLE_NAME")?))
}

/// A positive number of seconds from the environment variable `name`, `default` when unset.
pub fn seconds(name: &str, default: chrono::Duration) -> Result<chrono::Duration, Error> {
    match std::env::var(name) {
        Ok(value) => match value.parse::<i64>() {
            Ok(seconds) if seconds > 0 => Ok(chrono::Duration::seconds(seconds)),
            _ => Err(format!("{name} must be a positive number of seconds, not {value:?}").into()),
        },
        Err(_) => Ok(default),
    }
}

/// How long an order held at `ALLOCATED` keeps its reservation (`OMS_RESERVATION_TIMEOUT_SECONDS`,
/// default 15 minutes).
pub fn reservation_timeout() -> Result<chrono::Duration, Error> {
    seconds("OMS_RESERVATION_TIMEOUT_SECONDS", chrono::Duration::minutes(15))
}

/// What every function starts with: JSON logs, the SDK configuration and the store, built once
/// and kept for the life of the process, so handlers borrow them for `'static`.
pub async fn start() -> Result<(&'static aws_config::SdkConfig, &'static crate::DynamoStore), Error> {
    init_tracing();
    let config: &'static aws_config::SdkConfig = Box::leak(Box::new(aws_config().await));
    let store: &'static crate::DynamoStore = Box::leak(Box::new(dynamo_store(config).await?));
    Ok((config, store))
}

/// Serves invocations until the process ends: `lambda_runtime::run` (its tracing layer), plus
/// the [`metering::MeterLayer`] so that, when metering is on, each invocation writes its line.
pub async fn run<A, F, R, B, S, D, E>(handler: F) -> Result<(), Error>
where
    F: Service<LambdaEvent<A>, Response = R>,
    F::Future: Future<Output = Result<R, F::Error>>,
    F::Error: Into<Diagnostic> + Debug,
    A: for<'de> Deserialize<'de>,
    R: IntoFunctionResponse<B, S>,
    B: Serialize,
    S: futures_util::Stream<Item = Result<D, E>> + Unpin + Send + 'static,
    D: Into<bytes::Bytes> + Send,
    E: Into<Error> + Send + Debug,
{
    lambda_runtime::Runtime::new(handler)
        .layer(lambda_runtime::layers::TracingLayer::new())
        .layer(metering::MeterLayer::from_env())
        .run()
        .await
}

/// [`start`], then serves each invocation with `handle(store, payload, now)`; an error is the
/// invocation's (a task's error name is what the ASL's Retry/Catch match).
pub async fn serve<A, R, E, H, Fut>(handle: H) -> Result<(), Error>
where
    H: Fn(&'static DynamoStore, A, DateTime<Utc>) -> Fut,
    Fut: Future<Output = Result<R, E>>,
    A: DeserializeOwned,
    R: Serialize,
    E: Into<Diagnostic> + Debug,
{
    let (_, store) = start().await?;
    run(service_fn(move |event: LambdaEvent<A>| handle(store, event.payload, Utc::now()))).await
}

/// [`serve`] for a handler that always answers: what went wrong is in its answer (an HTTP
/// status, a queue's batch item failures), never the invocation's error.
pub async fn serve_answers<A, R, H, Fut>(handle: H) -> Result<(), Error>
where
    H: Fn(&'static DynamoStore, A, DateTime<Utc>) -> Fut,
    Fut: Future<Output = R>,
    A: DeserializeOwned,
    R: Serialize,
{
    serve(move |store, payload: A, now| {
        let answer = handle(store, payload, now);
        async move { Ok::<_, Error>(answer.await) }
    })
    .await
}

/// [`serve_answers`] for an HTTP function: each request is decoded and answered by
/// [`http::respond`], which `route(store, request, now)` serves.
pub async fn serve_http<R, Fut>(route: R) -> Result<(), Error>
where
    R: Fn(&'static DynamoStore, ApiRequest, DateTime<Utc>) -> Fut + Copy,
    Fut: Future<Output = Result<ApiResponse, AppError>>,
{
    serve_answers(move |store, event: ApiGatewayV2httpRequest, now| {
        http::respond(event, move |request| route(store, request, now))
    })
    .await
}
