//! `DELETE /v1/integrations/{kind}/{principal}`.

use crate::integrations::{IntegrationKind, Principal, Revoked};
use crate::kernel::access::{Action, Actor};
use crate::kernel::error::AppError;
use crate::ports::IntegrationStore;

/// Stops `principal` acting for the admin's tenant as `kind` (404 if it could not).
pub async fn revoke<S: IntegrationStore>(
    store: &S,
    actor: &Actor,
    kind: &str,
    principal: &str,
) -> Result<Revoked, AppError> {
    actor.authorize(Action::ManageIntegrations)?;
    let (kind, principal) = (IntegrationKind::parse(kind)?, Principal::parse(principal)?);
    if store.delete_integration(&actor.tenant_id, kind, &principal).await? {
        Ok(Revoked { kind, principal: principal.as_str().to_owned(), revoked: true })
    } else {
        Err(AppError::NotFound("integration"))
    }
}
