//! `outbox-relay`: publishes outbox items, and what stock changes mean, from the table stream.

#![recursion_limit = "256"]

use aws_lambda_events::dynamodb::Event;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use oms_aws::edge::runtime;
use oms_aws::relay::{AwsPublisher, Unpublished};

mod handler;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let (config, store) = runtime::start().await?;
    let publisher = AwsPublisher::new(
        config,
        runtime::env("OMS_EVENT_BUS_NAME")?,
        runtime::env("OMS_ORDER_PLACEMENT_STATE_MACHINE_ARN")?,
    );
    let publisher = &publisher;
    let unpublished: &'static Unpublished = Box::leak(Box::new(Unpublished::from_env()));
    runtime::run(service_fn(move |event: LambdaEvent<Event>| async move {
        Ok::<_, Error>(handler::handle(store, store, publisher, unpublished, event.payload).await)
    }))
    .await
}
