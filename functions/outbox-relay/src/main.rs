//! `outbox-relay`: publishes outbox items from the table stream.

#![recursion_limit = "256"]

use aws_lambda_events::dynamodb::Event;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use oms_aws::relay::{AwsPublisher, outbox_records, relay};
use oms_aws::runtime;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    runtime::init_tracing();
    let config = runtime::aws_config().await;
    let publisher = AwsPublisher::new(
        &config,
        runtime::env("OMS_EVENT_BUS_NAME")?,
        runtime::env("OMS_ORDER_PLACEMENT_STATE_MACHINE_ARN")?,
    );
    let publisher = &publisher;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| async move {
        Ok::<_, Error>(relay(publisher, outbox_records(event.payload)).await)
    }))
    .await
}
