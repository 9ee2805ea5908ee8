//! The registry of integrations (see [`crate::integrations`]): a tenant's admin registers which
//! principals may act for the tenant, and every inbound event or message passes [`admit`] before
//! anything of it is read further.

use chrono::{DateTime, Utc};

use crate::access::{Action, Actor};
use crate::error::AppError;
use crate::ids::TenantId;
use crate::integrations::{Integration, IntegrationInput, IntegrationKind, Principal, Revoked, check_not_in_future};
use crate::ports::IntegrationStore;

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

/// The admin's tenant's integrations.
pub async fn list<S: IntegrationStore>(store: &S, actor: &Actor) -> Result<Vec<Integration>, AppError> {
    actor.authorize(Action::ManageIntegrations)?;
    Ok(store.list_integrations(&actor.tenant_id).await?)
}

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

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::access::Role;
    use crate::memory::MemoryStore;

    fn admin(tenant: &str) -> Actor {
        Actor { sub: "a".into(), tenant_id: TenantId::parse(tenant).unwrap(), role: Role::Admin }
    }

    fn named(name: &str) -> IntegrationInput {
        IntegrationInput { name: name.into() }
    }

    #[tokio::test]
    async fn an_integration_acts_only_for_the_tenants_that_registered_it() {
        let store = MemoryStore::new();
        let now = Utc::now();
        let (a, b) = (TenantId::parse("a").unwrap(), TenantId::parse("b").unwrap());
        register(&store, &admin("a"), "wms", "111122223333", named("HP WMS"), now).await.unwrap();
        let wms = IntegrationKind::Wms;
        admit(&store, wms, Some("111122223333"), &a, &[], now).await.unwrap();

        let other_tenant = admit(&store, wms, Some("111122223333"), &b, &[], now).await.unwrap_err();
        assert!(
            matches!(&other_tenant, AppError::Forbidden(m) if m.contains("not registered for tenant b")),
            "{other_tenant:?}"
        );
        let other_kind = admit(&store, IntegrationKind::Channel, Some("111122223333"), &a, &[], now).await;
        assert!(matches!(other_kind, Err(AppError::Forbidden(_))), "a WMS is not a channel connector");
        for sender in [None, Some(""), Some("999999999999"), Some("a#b")] {
            assert!(
                matches!(admit(&store, wms, sender, &a, &[], now).await, Err(AppError::Forbidden(_))),
                "{sender:?}"
            );
        }

        revoke(&store, &admin("a"), "wms", "111122223333").await.unwrap();
        assert!(admit(&store, wms, Some("111122223333"), &a, &[], now).await.is_err(), "revoked");
        assert!(matches!(revoke(&store, &admin("a"), "wms", "111122223333").await, Err(AppError::NotFound(_))));
    }

    #[tokio::test]
    async fn a_role_acts_whatever_its_session_and_nothing_comes_from_the_future() {
        let store = MemoryStore::new();
        let now = Utc::now();
        let a = TenantId::parse("a").unwrap();
        register(&store, &admin("a"), "channel", "AROAEXAMPLE", named("Shopee"), now).await.unwrap();
        let channel = IntegrationKind::Channel;
        admit(&store, channel, Some("AROAEXAMPLE:session-7"), &a, &[("occurred_at", Some(now))], now).await.unwrap();
        let later = Some(now + Duration::days(30));
        let err = admit(&store, channel, Some("AROAEXAMPLE:s"), &a, &[("occurred_at", None), ("time", later)], now)
            .await
            .unwrap_err();
        assert!(matches!(err, AppError::Invalid { code: "occurred_in_future", .. }), "{err:?}");
    }

    #[tokio::test]
    async fn only_admins_manage_integrations_and_only_their_own_tenants() {
        let store = MemoryStore::new();
        let now = Utc::now();
        let mut sales = admin("a");
        sales.role = Role::Sales;
        let denied = register(&store, &sales, "wms", "111122223333", named("x"), now).await;
        assert!(matches!(denied, Err(AppError::Forbidden(_))));
        assert!(matches!(list(&store, &sales).await, Err(AppError::Forbidden(_))));
        for (kind, principal, name) in [("tms", "1", "x"), ("wms", "a:b", "x"), ("wms", "1", " ")] {
            assert!(
                register(&store, &admin("a"), kind, principal, named(name), now).await.is_err(),
                "{kind} {principal}"
            );
        }
        register(&store, &admin("b"), "wms", "111122223333", named("B's WMS"), now).await.unwrap();
        assert!(list(&store, &admin("a")).await.unwrap().is_empty(), "b's registration is not a's");
        assert!(revoke(&store, &admin("a"), "wms", "111122223333").await.is_err(), "a cannot revoke b's");
        assert_eq!(list(&store, &admin("b")).await.unwrap()[0].name, "B's WMS");
    }
}
