//! `tms-webhook`: `POST /v1/webhooks/tms`, the carrier's signed status callback (no JWT).
//!
//! Signers (`keys`): the deployment-wide secret `OMS_TMS_WEBHOOK_SECRET` and/or the tenant keys
//! in the Secrets Manager secret `OMS_TMS_KEYS_SECRET_ARN` (cached `OMS_TMS_KEYS_CACHE_SECONDS`,
//! default 300; a previous key accepted `OMS_TMS_KEY_GRACE_SECONDS` after its rotation, default
//! 86400). Either may be empty, not both.

#![recursion_limit = "256"]

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use oms_aws::edge::runtime;
use oms_aws::edge::secrets::SecretString;

mod handler;
mod keys;
mod signature;

/// An environment variable that may be unset or empty, meaning "not configured".
fn optional(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let (config, store) = runtime::start().await?;
    let deployment_secret = optional("OMS_TMS_WEBHOOK_SECRET").map(String::into_bytes);
    let tenant_keys = match optional("OMS_TMS_KEYS_SECRET_ARN") {
        Some(arn) => Some(keys::KeyCache::new(
            SecretString::new(runtime::secretsmanager_client(config), arn),
            runtime::seconds("OMS_TMS_KEYS_CACHE_SECONDS", chrono::Duration::minutes(5))?,
            runtime::seconds("OMS_TMS_KEY_GRACE_SECONDS", chrono::Duration::hours(24))?,
        )),
        None => None,
    };
    if deployment_secret.is_none() && tenant_keys.is_none() {
        return Err("set OMS_TMS_WEBHOOK_SECRET, OMS_TMS_KEYS_SECRET_ARN or both: no callback could be verified".into());
    }
    let signers: &'static keys::Signers<SecretString> =
        Box::leak(Box::new(keys::Signers::new(deployment_secret, tenant_keys)));
    runtime::run(service_fn(move |event: LambdaEvent<ApiGatewayV2httpRequest>| async move {
        Ok::<_, Error>(handler::handle(store, signers, event.payload, chrono::Utc::now()).await)
    }))
    .await
}
