//! Integrations: the systems outside the OMS that send it work for a tenant — a warehouse system
//! (WMS) putting events on the integration bus, a sales-channel connector sending orders to the
//! intake queue. Each is known by its *principal*: the identity AWS itself stamps on what it
//! sends (an event's `account` for EventBridge, a message's `SenderId` for SQS), which the sender
//! cannot choose.
//!
//! Invariants:
//! - An integration acts only for the tenants it is registered for: everything it sends naming
//!   another tenant is refused, and nothing is applied ([`crate::usecases::integrations::admit`]).
//! - A registration belongs to one tenant and is made by that tenant's admin, so nobody can let a
//!   principal act for a tenant that is not theirs.
//! - Nothing from outside may be dated more than [`MAX_FUTURE_SKEW`] ahead of the OMS's clock: a
//!   far-future count would outrank every later one.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::kernel::error::{AppError, InvalidCode};
use crate::kernel::ids::TenantId;

/// How far ahead of the OMS's clock an integration's `occurred_at` (or event time) may be: clocks
/// drift, but an event from the future is a mistake or a forgery.
pub const MAX_FUTURE_SKEW: Duration = Duration::minutes(5);

/// Longest principal (an AWS account id is 12 characters, an IAM unique id about 21).
const MAX_PRINCIPAL: usize = 128;
/// Longest integration name.
const MAX_NAME: usize = 200;

/// What kind of system an integration is; a principal registered as one kind is not another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum IntegrationKind {
    /// A warehouse system: events of source `wms` on the integration bus.
    Wms,
    /// A sales-channel connector: messages on the channel orders queue.
    Channel,
}

impl IntegrationKind {
    /// The kind as it appears in routes and keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Wms => "wms",
            Self::Channel => "channel",
        }
    }

    /// `wms` or `channel` (400 otherwise).
    pub fn parse(value: &str) -> Result<Self, AppError> {
        match value {
            "wms" => Ok(Self::Wms),
            "channel" => Ok(Self::Channel),
            other => Err(AppError::invalid("kind", format!("unknown integration kind {other:?}; use wms or channel"))),
        }
    }
}

/// An integration's identity as AWS reports it: an account id (EventBridge's `account`) or an
/// IAM unique id (SQS's `SenderId` of a user `AIDA...`, or of a role `AROA...`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Principal(String);

impl Principal {
    /// A principal as registered: letters, digits, `_`, `.`, `-`; at most 128 characters. A
    /// role's session name is not part of it (see [`Principal::of_sender`]).
    pub fn parse(value: impl Into<String>) -> Result<Self, AppError> {
        let value = value.into();
        let valid = !value.is_empty()
            && value.len() <= MAX_PRINCIPAL
            && value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if valid {
            Ok(Self(value))
        } else {
            Err(AppError::invalid(
                "principal",
                format!(
                    "{value:?} is not an AWS account id or IAM unique id (letters, digits, _ . -; at most {MAX_PRINCIPAL})"
                ),
            ))
        }
    }

    /// The principal who sent something, from what AWS stamped on it. SQS gives a role's sender
    /// as `<role id>:<session name>`; the session changes with every credential refresh, so the
    /// role id alone is the principal.
    pub fn of_sender(sender: &str) -> Result<Self, AppError> {
        Self::parse(sender.split(':').next().unwrap_or_default())
    }

    /// The principal as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Principal {
    type Error = AppError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Principal {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::kernel::ids::text_schema("^[A-Za-z0-9_.-]+$", MAX_PRINCIPAL)
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Principal {}

impl From<Principal> for String {
    fn from(value: Principal) -> Self {
        value.0
    }
}

impl std::fmt::Display for Principal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One principal allowed to act for one tenant as one kind of integration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Integration {
    /// The tenant it may act for.
    pub tenant_id: TenantId,
    /// What it is.
    pub kind: IntegrationKind,
    /// Who it is.
    pub principal: Principal,
    /// What people call it (`Hai Phong WMS`, `Shopee connector`).
    pub name: String,
    /// When it was registered.
    pub registered_at: DateTime<Utc>,
    /// Who registered it (`sub`).
    pub registered_by: String,
}

/// What `DELETE /v1/integrations/{kind}/{principal}` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Revoked {
    /// The kind.
    pub kind: IntegrationKind,
    /// The principal.
    pub principal: String,
    /// Always true: a registration that was not there is a 404.
    pub revoked: bool,
}

/// What `PUT /v1/integrations/{kind}/{principal}` takes.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IntegrationInput {
    /// What people call it.
    pub name: String,
}

impl IntegrationInput {
    /// The integration it registers.
    pub fn into_integration(
        self,
        tenant_id: TenantId,
        kind: IntegrationKind,
        principal: Principal,
        registered_by: &str,
        now: DateTime<Utc>,
    ) -> Result<Integration, AppError> {
        let name = self.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > MAX_NAME {
            return Err(AppError::invalid("name", format!("name must have 1 to {MAX_NAME} characters")));
        }
        Ok(Integration {
            tenant_id,
            kind,
            principal,
            name,
            registered_at: now,
            registered_by: registered_by.to_owned(),
        })
    }
}

/// Refuses a time more than [`MAX_FUTURE_SKEW`] after `now`.
pub fn check_not_in_future(field: &str, at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), AppError> {
    if at > now + MAX_FUTURE_SKEW {
        return Err(AppError::invalid_with_code(
            InvalidCode::OccurredInFuture,
            field,
            format!(
                "{field} {} is more than {} minutes after the OMS's clock ({}); nothing was applied",
                at.to_rfc3339(),
                MAX_FUTURE_SKEW.num_minutes(),
                now.to_rfc3339()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_sender_is_its_role_and_junk_is_no_principal() {
        assert_eq!(Principal::of_sender("AROAEXAMPLE:session-1").unwrap().as_str(), "AROAEXAMPLE");
        assert_eq!(Principal::of_sender("111122223333").unwrap().as_str(), "111122223333");
        for junk in ["", ":x", "a#b", "a b", &"x".repeat(129)] {
            assert!(Principal::of_sender(junk).is_err(), "{junk:?}");
        }
        assert!(IntegrationKind::parse("tms").is_err());
        assert_eq!(IntegrationKind::parse("wms").unwrap().as_str(), "wms");
    }

    #[test]
    fn the_future_starts_after_the_skew() {
        let now = Utc::now();
        assert!(check_not_in_future("occurred_at", now + MAX_FUTURE_SKEW, now).is_ok());
        assert!(check_not_in_future("occurred_at", now - Duration::days(365), now).is_ok());
        let err = check_not_in_future("occurred_at", now + MAX_FUTURE_SKEW + Duration::seconds(1), now).unwrap_err();
        assert!(matches!(err, AppError::Invalid { code: InvalidCode::OccurredInFuture, .. }), "{err:?}");
    }
}
