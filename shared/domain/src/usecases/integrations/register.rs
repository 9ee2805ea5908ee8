//! `PUT /v1/integrations/{kind}/{principal}`: a tenant's admin registers a sender.

use crate::integrations::{Integration, IntegrationInput, IntegrationKind, Principal};
use crate::kernel::access::{Action, Actor};
use crate::kernel::error::AppError;
use crate::ports::IntegrationStore;
use chrono::{DateTime, Utc};

/// Lets `principal` act for the admin's tenant as `kind` (replacing the name of an existing
/// registration).
pub async fn register<S: IntegrationStore>(
    store: &S,
    actor: &Actor,
    kind: &str,
    principal: &str,
    input: IntegrationInput,
    now: DateTime<Utc>,
) -> Result<Integration, AppError> {
    actor.authorize(Action::ManageIntegrations)?;
    let (kind, principal) = (IntegrationKind::parse(kind)?, Principal::parse(principal)?);
    let integration = input.into_integration(actor.tenant_id.clone(), kind, principal, &actor.sub, now)?;
    store.put_integration(&integration).await?;
    Ok(integration)
}
