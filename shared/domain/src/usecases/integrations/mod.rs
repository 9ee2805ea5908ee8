//! The registry of integrations (see [`crate::integrations`]): a tenant's admin registers which
//! principals may act for the tenant, and every inbound event or message passes [`admit`] before
//! anything of it is read further.

mod admit;
mod list;
mod register;
mod revoke;

pub use self::admit::admit;
pub use self::list::list;
pub use self::register::register;
pub use self::revoke::revoke;

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use chrono::Utc;

    use super::*;
    use crate::integrations::{IntegrationInput, IntegrationKind};
    use crate::kernel::access::{Actor, Role};
    use crate::kernel::error::{AppError, InvalidCode};
    use crate::kernel::ids::TenantId;
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
        assert!(matches!(err, AppError::Invalid { code: InvalidCode::OccurredInFuture, .. }), "{err:?}");
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
