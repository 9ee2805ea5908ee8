//! The edge of what integrations send in: before a use case reads an event from the integration
//! bus, the sender AWS stamped on it must be registered for the tenant the event names, and it
//! must not be dated in the future (`oms_domain::usecases::integrations::admit`).
//!
//! EventBridge puts the sending account in `account`; a sender cannot choose it. An event
//! without one (only a hand-made invocation) is refused like an unregistered one.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use chrono::{DateTime, Utc};
use oms_domain::integrations::IntegrationKind;
use oms_domain::ports::IntegrationStore;
use oms_domain::usecases::integrations::admit;
use oms_domain::{AppError, TenantId};
use serde::Deserialize;

/// What every inbound event's detail names, whatever its type.
#[derive(Deserialize)]
struct Addressed {
    tenant_id: TenantId,
    #[serde(default)]
    occurred_at: Option<DateTime<Utc>>,
}

/// Refuses (with the reason) an event whose sender may not act as `kind` for the tenant in its
/// detail, or whose `occurred_at` or `time` lies in the future; nothing is read further then.
pub async fn admit_event<S: IntegrationStore>(
    store: &S,
    kind: IntegrationKind,
    event: &EventBridgeEvent,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let addressed: Addressed = crate::edge::http::decode(event.detail.clone())?;
    let times = [("occurred_at", addressed.occurred_at), ("time", event.time)];
    admit(store, kind, event.account.as_deref(), &addressed.tenant_id, &times, now).await
}
