//! `GET /v1/hubs`.

use crate::catalog::Hub;
use crate::kernel::access::{Action, Actor};
use crate::kernel::error::AppError;
use crate::ports::CatalogStore;

/// Every hub.
pub async fn list_hubs<S: CatalogStore>(store: &S, actor: &Actor) -> Result<Vec<Hub>, AppError> {
    actor.authorize(Action::ReadInventory)?;
    Ok(store.list_hubs(&actor.tenant_id).await?)
}
