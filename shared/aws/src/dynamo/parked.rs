//! Messages the outbox relay could never deliver, one item each (`PARKED_EVENT`), kept without a
//! TTL until someone re-drives and deletes them.

use chrono::SecondsFormat;

use super::{DynamoStore, Item, keys, s, store_error, with_keys};
use crate::relay::{ParkedMessage, Parking};

impl Parking for DynamoStore {
    async fn park(&self, parked: &ParkedMessage) -> Result<(), oms_domain::StoreError> {
        let pk = keys::parked_pk(parked.tenant_id.as_ref(), &parked.message_id);
        let mut item = with_keys(Item::new(), pk, keys::PARKED_SK, "PARKED_EVENT");
        if let Some(tenant) = &parked.tenant_id {
            item.insert("tenant_id".into(), s(tenant.to_string()));
        }
        item.insert("message_id".into(), s(parked.message_id.clone()));
        item.insert("message".into(), s(parked.message.clone()));
        item.insert("reason".into(), s(parked.reason.clone()));
        item.insert("sequence_number".into(), s(parked.sequence_number.clone()));
        item.insert("parked_at".into(), s(parked.parked_at.to_rfc3339_opts(SecondsFormat::Millis, true)));
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(store_error)?;
        Ok(())
    }
}
