//! Publishes what the table stream brings, each order's in commit order and the rest at once:
//! outbox items (events to the OMS bus, workflow starts) and what stock changes mean
//! (`StockReplenished`, `InventoryLow`). What can never be delivered is parked; what failed for a
//! reason that passes is reported, so the stream redelivers from that record (`oms_aws::relay`
//! says how).

use aws_lambda_events::dynamodb::Event;
use aws_lambda_events::streams::DynamoDbEventResponse;
use oms_aws::relay::{self, Parking, Publisher, Unpublished};
use oms_domain::ports::{CatalogStore, StockStore};

pub async fn handle<C, K, P>(
    store: &C,
    parking: &K,
    publisher: &P,
    unpublished: &Unpublished,
    event: Event,
) -> DynamoDbEventResponse
where
    C: CatalogStore + StockStore,
    K: Parking,
    P: Publisher,
{
    relay::handle(store, parking, publisher, unpublished, event).await
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use oms_aws::relay::fakes::{Bus, Lot};
    use oms_domain::memory::MemoryStore;

    use super::*;

    const SAMPLE: &str = include_str!("../../../events/stream/outbox-relay.json");

    #[tokio::test]
    async fn the_sample_publishes_its_event_then_starts_its_workflow() {
        let (store, lot, bus) = (MemoryStore::new(), Lot::default(), Bus::default());
        let response = handle(&store, &lot, &bus, &Unpublished::default(), serde_json::from_str(SAMPLE).unwrap()).await;
        assert!(response.batch_item_failures.is_empty());
        assert_eq!(bus.published(), ["01JD0Q7M3KZ0000000000000AA"]);
        assert_eq!(*bus.started.lock().unwrap(), ["01JD0Q7M3J6W8Z5Y4X3V2T1S0R-v2"]);
        assert!(lot.parked.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_throttled_event_stops_the_batch_at_its_record_and_the_start_beside_it_goes_out_again() {
        let (store, lot) = (MemoryStore::new(), Lot::default());
        let bus = Bus { throttle: HashSet::from(["01JD0Q7M3KZ0000000000000AA".to_owned()]), ..Default::default() };
        let response = handle(&store, &lot, &bus, &Unpublished::default(), serde_json::from_str(SAMPLE).unwrap()).await;
        let failed: Vec<_> = response.batch_item_failures.iter().map(|f| f.item_identifier.clone().unwrap()).collect();
        assert_eq!(failed, ["000000000000000000100"]);
        // The start waits for no event: it went out, and goes out again with the redelivered
        // batch, where a repeat changes nothing.
        assert_eq!(*bus.started.lock().unwrap(), ["01JD0Q7M3J6W8Z5Y4X3V2T1S0R-v2"]);
    }
}
