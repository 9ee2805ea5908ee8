//! `hello-lambda`: the cold-start baseline. The same runtime, async executor and release profile
//! as the functions, and nothing else at init (no logs, no SDK, no store), so `./dev
//! bench-coldstart` can tell what the functions' own start-up costs on top of the bare Lambda
//! runtime.
//!
//! Its first invocation makes one DynamoDB request (`ListTables`) through the functions' own SDK
//! configuration (`oms_aws::edge::runtime::aws_config`): what a function pays for its first TLS
//! request (trust roots, the TLS library's RNG seeding, the handshake) is paid here too, so
//! comparing the two from spawn to that request's completion leaves the function's own share.

use std::sync::OnceLock;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

/// Built on the first invocation, not at init: the init figure stays the bare runtime's.
static DYNAMODB: OnceLock<aws_sdk_dynamodb::Client> = OnceLock::new();

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let client = match DYNAMODB.get() {
        Some(client) => client,
        None => {
            let config = oms_aws::edge::runtime::aws_config().await?;
            DYNAMODB.get_or_init(|| oms_aws::edge::runtime::dynamodb_client(&config))
        }
    };
    client.list_tables().limit(1).send().await?;
    Ok(event.payload)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(handle)).await
}
