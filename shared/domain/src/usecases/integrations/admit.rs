//! What integrations send in is admitted only from a sender the tenant registered.

use crate::integrations::{IntegrationKind, Principal, check_not_in_future};
use crate::kernel::error::AppError;
use crate::kernel::ids::TenantId;
use crate::ports::IntegrationStore;
use chrono::{DateTime, Utc};

/// Whether something an integration sent may be applied: `sender` (what AWS stamped on it) must
/// be registered as `kind` for `tenant`, and none of `times` (its `occurred_at`, the event's
/// time) may lie in the future. A refusal is `Forbidden` (not registered) or `Invalid`
/// (`occurred_in_future`), with a message that names the reason for the dead-letter queue.
pub async fn admit<S: IntegrationStore>(
    store: &S,
    kind: IntegrationKind,
    sender: Option<&str>,
    tenant: &TenantId,
    times: &[(&str, Option<DateTime<Utc>>)],
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let refused = |why: String| AppError::Forbidden(format!("{why}; nothing was applied"));
    let sender =
        sender.filter(|s| !s.is_empty()).ok_or_else(|| refused(format!("the {} sender is unknown", kind.as_str())))?;
    let principal = Principal::of_sender(sender)
        .map_err(|_| refused(format!("the {} sender {sender:?} is not a principal", kind.as_str())))?;
    if store.get_integration(tenant, kind, &principal).await?.is_none() {
        return Err(refused(format!(
            "{} integration {principal} is not registered for tenant {tenant}",
            kind.as_str()
        )));
    }
    for (field, at) in times {
        if let Some(at) = at {
            check_not_in_future(field, *at, now)?;
        }
    }
    Ok(())
}
