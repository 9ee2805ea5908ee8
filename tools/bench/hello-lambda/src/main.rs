//! `hello-lambda`: the cold-start baseline. The same runtime, async executor and release profile
//! as the functions, and nothing else (no logs, no SDK, no store), so `./dev bench-coldstart` can
//! tell what the functions' own start-up costs on top of the bare Lambda runtime.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move { Ok::<_, Error>(event.payload) })).await
}
