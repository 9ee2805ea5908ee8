//! `GET /v1/integrations`.

use crate::integrations::Integration;
use crate::kernel::access::{Action, Actor};
use crate::kernel::error::AppError;
use crate::ports::IntegrationStore;

/// The admin's tenant's integrations.
pub async fn list<S: IntegrationStore>(store: &S, actor: &Actor) -> Result<Vec<Integration>, AppError> {
    actor.authorize(Action::ManageIntegrations)?;
    Ok(store.list_integrations(&actor.tenant_id).await?)
}
