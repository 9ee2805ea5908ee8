//! `GET /v1/skus`.

use crate::catalog::SkuRecord;
use crate::kernel::access::{Action, Actor};
use crate::kernel::error::AppError;
use crate::ports::CatalogStore;

/// Every SKU.
pub async fn list_skus<S: CatalogStore>(store: &S, actor: &Actor) -> Result<Vec<SkuRecord>, AppError> {
    actor.authorize(Action::ReadInventory)?;
    Ok(store.list_skus(&actor.tenant_id).await?)
}
