//! `shipments-api`: dispatcher shipments over HTTP (create, read, report a status).

#![recursion_limit = "256"]

mod handler;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    oms_aws::edge::runtime::serve_http(handler::route).await
}
