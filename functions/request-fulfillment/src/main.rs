//! `request-fulfillment`: the placement workflow's last task, sending the order to its hubs.

#![recursion_limit = "256"]

use oms_aws::edge::runtime;

mod handler;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let timeout = runtime::reservation_timeout()?;
    runtime::serve(move |store, request, now| handler::handle(store, request, timeout, now)).await
}
