//! `return-receive`: returned goods, from the warehouse (`ReturnReceived` on the bus) or a
//! counter clerk (`POST /v1/returns/{id}/receive`).

#![recursion_limit = "256"]

mod handler;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    oms_aws::edge::runtime::serve(handler::handle).await
}
