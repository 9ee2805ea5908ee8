//! `PUT /v1/hubs/{hub_id}`: create or replace a hub.

use crate::catalog::{Hub, HubInput};
use crate::kernel::access::{Action, Actor};
use crate::kernel::error::AppError;
use crate::kernel::ids::HubId;
use crate::ports::CatalogStore;
use chrono::{DateTime, Utc};

/// Creates or replaces a hub.
pub async fn put_hub<S: CatalogStore>(
    store: &S,
    actor: &Actor,
    hub_id: HubId,
    input: HubInput,
    now: DateTime<Utc>,
) -> Result<Hub, AppError> {
    actor.authorize(Action::WriteInventory)?;
    let hub = input.into_hub(hub_id, now)?;
    store.put_hub(&actor.tenant_id, &hub).await?;
    Ok(hub)
}
