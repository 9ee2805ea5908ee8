//! `placement-failed`: the placement workflow's failure path, recording why in the order.

#![recursion_limit = "256"]

mod handler;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    oms_aws::edge::runtime::serve(handler::handle).await
}
