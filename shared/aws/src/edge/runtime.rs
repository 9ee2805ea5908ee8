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
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use chrono::{DateTime, Utc};
use lambda_runtime::{Diagnostic, Error, IntoFunctionResponse, LambdaEvent, Service, service_fn};
use oms_domain::AppError;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
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

/// The roots of trust of the AWS endpoints, compiled in: Amazon Trust Services' Amazon Root CA 1–4
/// and the Starfield Services Root Certificate Authority - G2 that cross-signs them
/// (<https://www.amazontrust.com/repository/>). The SDK's default is the system store, which costs
/// every cold start a scan of ~145 certificate files for roots no AWS endpoint chains to.
const AWS_ROOTS: &str = include_str!("aws_roots.pem");

/// Names a PEM file of extra trusted roots, for local runs only (a bench or emulator endpoint
/// with a self-signed certificate); never set on AWS, where [`AWS_ROOTS`] is the whole trust.
pub const LOCAL_CA_FILE: &str = "OMS_LOCAL_CA_FILE";

/// The trust store of [`http_client`]: [`AWS_ROOTS`], plus the roots in the file
/// [`LOCAL_CA_FILE`] names when it is set.
fn trust_store() -> Result<TrustStore, Error> {
    trust_store_with(std::env::var(LOCAL_CA_FILE).ok().as_deref())
}

/// [`AWS_ROOTS`] and the roots in the PEM file `local_ca_file`. A file that cannot be read or
/// holds no valid certificate fails here, at init: the SDK would only see it at the first
/// handshake, and panic there.
fn trust_store_with(local_ca_file: Option<&str>) -> Result<TrustStore, Error> {
    let store = TrustStore::empty().with_pem_certificate(AWS_ROOTS.as_bytes());
    let Some(path) = local_ca_file else {
        return Ok(store);
    };
    let pem = std::fs::read(path).map_err(|e| format!("{LOCAL_CA_FILE}={path}: {e}"))?;
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{LOCAL_CA_FILE}={path}: {e}"))?;
    if certificates.is_empty() {
        return Err(format!("{LOCAL_CA_FILE}={path}: no PEM certificate in it").into());
    }
    Ok(store.with_pem_certificate(pem))
}

/// The SDK's HTTPS client (hyper, rustls on aws-lc) trusting [`trust_store`] only.
pub fn http_client() -> Result<SharedHttpClient, Error> {
    let tls = TlsContext::builder().with_trust_store(trust_store()?).build()?;
    Ok(aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::AwsLc))
        .tls_context(tls)
        .build_https())
}

/// The SDK configuration from the environment (region, credentials, and endpoint overrides such
/// as `AWS_ENDPOINT_URL_DYNAMODB` that the local stack sets), on [`http_client`].
pub async fn aws_config() -> Result<aws_config::SdkConfig, Error> {
    Ok(aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(http_client()?).load().await)
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
    let config: &'static aws_config::SdkConfig = Box::leak(Box::new(aws_config().await?));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_file(name: &str, contents: &[u8]) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!("oms-aws-{}-{name}", std::process::id()));
        std::fs::write(&path, contents).unwrap();
        path
    }

    #[test]
    fn the_compiled_in_roots_are_the_five_aws_roots() {
        let roots = CertificateDer::pem_slice_iter(AWS_ROOTS.as_bytes()).collect::<Result<Vec<_>, _>>().unwrap();
        assert_eq!(roots.len(), 5, "Amazon Root CA 1-4 and Starfield Services Root G2");
    }

    #[test]
    fn without_a_local_ca_file_the_trust_is_the_compiled_in_roots() {
        assert!(trust_store_with(None).is_ok());
        assert!(http_client().is_ok());
    }

    #[test]
    fn a_local_ca_file_of_certificates_is_trusted_too() {
        let path = temp_file("roots.pem", AWS_ROOTS.as_bytes());
        assert!(trust_store_with(path.to_str()).is_ok());
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn a_local_ca_file_that_is_missing_or_holds_no_certificate_fails_at_init() {
        let missing = trust_store_with(Some("/nonexistent/oms-local-ca.pem")).unwrap_err().to_string();
        assert!(missing.contains(LOCAL_CA_FILE), "{missing}");

        let path = temp_file("empty.pem", b"not a certificate\n");
        let empty = trust_store_with(path.to_str()).unwrap_err().to_string();
        std::fs::remove_file(path).unwrap();
        assert!(empty.contains("no PEM certificate"), "{empty}");
    }
}
