//! Errors, grouped by how the caller must react. The HTTP edge maps [`AppError`] to a status code
//! in one place; the workflow edge maps it to a stable Step Functions error name.
//!
//! The machine-readable codes are enums, one per reaction ([`InvalidCode`], [`ConflictCode`],
//! [`UnprocessableCode`]), so a conflict can only carry a conflict code and every code is listed
//! here. Each code's wire string is written once, in its enum's `as_str`, and equals its serde
//! serialization; no two codes share a string, so a client can tell them apart without the status.

use std::error::Error as StdError;
use std::fmt;

use serde::Serialize;

/// Codes of `AppError::Invalid` (HTTP 400): the request itself is wrong, whatever the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum InvalidCode {
    /// A field breaks a rule on its own (the default; `field` names it).
    InvalidRequest,
    /// A `PATCH` without `If-Match`, or with one that is not a version.
    IfMatchRequired,
    /// The body is missing, not UTF-8, or not JSON.
    MalformedBody,
    /// A paging cursor this listing did not hand out.
    InvalidCursor,
    /// An order line or a warehouse event names a SKU the tenant's catalog does not have.
    UnknownSku,
    /// A warehouse event names a hub the tenant does not have.
    UnknownHub,
    /// An order line id that is not on the order (or not on the fulfillment request or return).
    UnknownLine,
    /// A return id that is not on the order.
    UnknownReturn,
    /// A fulfillment request id that is not on the order.
    UnknownFulfillmentRequest,
    /// A line's SKU is priced in another currency than the order.
    CurrencyMismatch,
    /// A warehouse reports more of a line than its fulfillment request asked for.
    OverRequested,
    /// The order's amounts overflow the arithmetic.
    AmountTooLarge,
    /// An integration's event claims to have happened in the future.
    OccurredInFuture,
}

impl InvalidCode {
    /// Every code, in declaration order.
    pub const ALL: [Self; 13] = [
        Self::InvalidRequest,
        Self::IfMatchRequired,
        Self::MalformedBody,
        Self::InvalidCursor,
        Self::UnknownSku,
        Self::UnknownHub,
        Self::UnknownLine,
        Self::UnknownReturn,
        Self::UnknownFulfillmentRequest,
        Self::CurrencyMismatch,
        Self::OverRequested,
        Self::AmountTooLarge,
        Self::OccurredInFuture,
    ];

    /// The code on the wire.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::IfMatchRequired => "if_match_required",
            Self::MalformedBody => "malformed_body",
            Self::InvalidCursor => "invalid_cursor",
            Self::UnknownSku => "unknown_sku",
            Self::UnknownHub => "unknown_hub",
            Self::UnknownLine => "unknown_line",
            Self::UnknownReturn => "unknown_return",
            Self::UnknownFulfillmentRequest => "unknown_fulfillment_request",
            Self::CurrencyMismatch => "currency_mismatch",
            Self::OverRequested => "over_requested",
            Self::AmountTooLarge => "amount_too_large",
            Self::OccurredInFuture => "occurred_in_future",
        }
    }
}

/// Codes of `AppError::Conflict` (HTTP 409): the request is fine, the record's state refuses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConflictCode {
    /// A conditional write lost for a reason no use case expected (see [`ConflictOn`]).
    Conflict,
    /// The record changed between read and write; retrying reads the new state.
    ConcurrentUpdate,
    /// The change would make the order document larger than the store takes.
    OrderTooLarge,
    /// The change would emit an event larger than the bus takes.
    EventTooLarge,
    /// The change touches more records than one store transaction takes.
    ChangeTooLarge,
    /// The order's status cannot move to the one asked for (e.g. submitting a cancelled order).
    InvalidTransition,
    /// A field that may no longer change in the order's status.
    NotEditable,
    /// The order is past the statuses in which it may be cancelled.
    NotCancellable,
    /// The order is in a status that takes no holds.
    NotHoldable,
    /// The order already has an active hold with this code.
    HoldExists,
    /// The hold was released already.
    HoldReleased,
    /// The order has as many holds as it may keep.
    TooManyHolds,
    /// A fulfillment request has as many warehouse events as it may keep.
    TooManyEvents,
    /// The order has as many shipments as it may keep.
    TooManyShipments,
    /// The order has as many returns as it may keep.
    TooManyReturns,
    /// The order is not in the status a placement step needs (awaiting allocation, or allocated).
    NotPlaceable,
    /// Stock or the order changed under a placement plan; plan again.
    PlanStale,
    /// A manual allocation on an order that is allocated automatically.
    NotManual,
    /// Allocating more than a line still needs.
    OverAllocation,
    /// Confirming an allocation that does not cover every line.
    AllocationIncomplete,
    /// Allocating to a hub that is inactive.
    HubInactive,
    /// A hub no longer has the quantity a reservation needs.
    InsufficientStock,
    /// Stock on hand would go below what is reserved for orders.
    StockBelowReserved,
    /// Sending an order to a warehouse before it is allocated.
    NotAllocated,
    /// A warehouse report on a fulfillment request that was withdrawn or failed.
    RequestClosed,
    /// A shipment for an order in a status that does not ship.
    NotShippable,
    /// An active hold stops the order from shipping.
    OnHold,
    /// Shipping more of a line than is allocated and not yet shipped at the hub.
    OverShipment,
    /// A return on an order that has not shipped.
    NotReturnable,
    /// A return step that the return's status does not allow.
    ReturnStatus,
    /// Returning more of a line than has shipped and is not already being returned.
    OverReturn,
    /// Receiving more of a line than its return approved.
    OverReceipt,
    /// Another order already has this channel order id.
    DuplicateChannelOrder,
    /// The channel item id is mapped to another SKU already.
    ChannelItemTaken,
}

impl ConflictCode {
    /// Every code, in declaration order.
    pub const ALL: [Self; 34] = [
        Self::Conflict,
        Self::ConcurrentUpdate,
        Self::OrderTooLarge,
        Self::EventTooLarge,
        Self::ChangeTooLarge,
        Self::InvalidTransition,
        Self::NotEditable,
        Self::NotCancellable,
        Self::NotHoldable,
        Self::HoldExists,
        Self::HoldReleased,
        Self::TooManyHolds,
        Self::TooManyEvents,
        Self::TooManyShipments,
        Self::TooManyReturns,
        Self::NotPlaceable,
        Self::PlanStale,
        Self::NotManual,
        Self::OverAllocation,
        Self::AllocationIncomplete,
        Self::HubInactive,
        Self::InsufficientStock,
        Self::StockBelowReserved,
        Self::NotAllocated,
        Self::RequestClosed,
        Self::NotShippable,
        Self::OnHold,
        Self::OverShipment,
        Self::NotReturnable,
        Self::ReturnStatus,
        Self::OverReturn,
        Self::OverReceipt,
        Self::DuplicateChannelOrder,
        Self::ChannelItemTaken,
    ];

    /// The code on the wire.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Conflict => "conflict",
            Self::ConcurrentUpdate => "concurrent_update",
            Self::OrderTooLarge => "order_too_large",
            Self::EventTooLarge => "event_too_large",
            Self::ChangeTooLarge => "change_too_large",
            Self::InvalidTransition => "invalid_transition",
            Self::NotEditable => "not_editable",
            Self::NotCancellable => "not_cancellable",
            Self::NotHoldable => "not_holdable",
            Self::HoldExists => "hold_exists",
            Self::HoldReleased => "hold_released",
            Self::TooManyHolds => "too_many_holds",
            Self::TooManyEvents => "too_many_events",
            Self::TooManyShipments => "too_many_shipments",
            Self::TooManyReturns => "too_many_returns",
            Self::NotPlaceable => "not_placeable",
            Self::PlanStale => "plan_stale",
            Self::NotManual => "not_manual",
            Self::OverAllocation => "over_allocation",
            Self::AllocationIncomplete => "allocation_incomplete",
            Self::HubInactive => "hub_inactive",
            Self::InsufficientStock => "insufficient_stock",
            Self::StockBelowReserved => "stock_below_reserved",
            Self::NotAllocated => "not_allocated",
            Self::RequestClosed => "request_closed",
            Self::NotShippable => "not_shippable",
            Self::OnHold => "on_hold",
            Self::OverShipment => "over_shipment",
            Self::NotReturnable => "not_returnable",
            Self::ReturnStatus => "return_status",
            Self::OverReturn => "over_return",
            Self::OverReceipt => "over_receipt",
            Self::DuplicateChannelOrder => "duplicate_channel_order",
            Self::ChannelItemTaken => "channel_item_taken",
        }
    }
}

/// Codes of `AppError::Unprocessable` (HTTP 422): well-formed, but not processable as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UnprocessableCode {
    /// The `Idempotency-Key` was used before with a different body.
    IdempotencyKeyReused,
    /// The store refused the write as invalid (see [`StoreError::Rejected`]).
    RejectedByStore,
}

impl UnprocessableCode {
    /// Every code, in declaration order.
    pub const ALL: [Self; 2] = [Self::IdempotencyKeyReused, Self::RejectedByStore];

    /// The code on the wire.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::RejectedByStore => "rejected_by_store",
        }
    }
}

macro_rules! display_as_str {
    ($($code:ty),*) => {$(
        impl fmt::Display for $code {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}
display_as_str!(InvalidCode, ConflictCode, UnprocessableCode);

/// What a [`StoreError::TooLarge`] write would have made too large.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TooLarge {
    /// The order document, past [`crate::kernel::limits::MAX_ORDER_BYTES`].
    Order,
    /// An event the change emits, past [`crate::kernel::limits::MAX_EVENT_BYTES`].
    Event,
    /// The change as a whole: more records than one store transaction takes.
    Change,
}

impl TooLarge {
    /// The conflict the caller is answered with.
    pub fn code(self) -> ConflictCode {
        match self {
            Self::Order => ConflictCode::OrderTooLarge,
            Self::Event => ConflictCode::EventTooLarge,
            Self::Change => ConflictCode::ChangeTooLarge,
        }
    }
}

/// What went wrong with a use case, by the reaction it calls for.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request is malformed or breaks a rule on its own (HTTP 400).
    #[error("{message}")]
    Invalid {
        /// Stable machine-readable code.
        code: InvalidCode,
        /// Human-readable explanation.
        message: String,
        /// The offending field, as a JSON path when there is one.
        field: Option<String>,
    },
    /// No or unusable credentials (HTTP 401).
    #[error("authentication required")]
    Unauthenticated,
    /// Authenticated, but the role may not do this (HTTP 403).
    #[error("{0}")]
    Forbidden(String),
    /// The record does not exist for this tenant (HTTP 404). Also what another tenant's id gets.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Not allowed in the current state (HTTP 409).
    #[error("{message}")]
    Conflict {
        /// Stable machine-readable code.
        code: ConflictCode,
        /// Human-readable explanation.
        message: String,
    },
    /// The caller's `If-Match` version is stale (HTTP 412).
    #[error("the order changed since version {expected}; it is now at version {current}")]
    PreconditionFailed {
        /// The version the caller sent.
        expected: u64,
        /// The current version.
        current: u64,
    },
    /// The request is well-formed but cannot be processed as sent (HTTP 422), e.g. an
    /// idempotency key reused with a different body.
    #[error("{message}")]
    Unprocessable {
        /// Stable machine-readable code.
        code: UnprocessableCode,
        /// Human-readable explanation.
        message: String,
    },
    /// The body is larger than the limit (HTTP 413).
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// A dependency is throttled or unreachable; retrying may succeed (HTTP 503, `Retryable`).
    #[error("temporarily unavailable: {0}")]
    Unavailable(String),
    /// A bug or an unexpected dependency failure (HTTP 500; details logged, never shown).
    #[error("unexpected error: {0}")]
    Unexpected(#[source] Box<dyn StdError + Send + Sync>),
}

impl AppError {
    /// A validation error on one field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid { code: InvalidCode::InvalidRequest, message: message.into(), field: Some(field.into()) }
    }

    /// A validation error with its own code.
    pub fn invalid_with_code(code: InvalidCode, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid { code, message: message.into(), field: Some(field.into()) }
    }

    /// A state conflict.
    pub fn conflict(code: ConflictCode, message: impl Into<String>) -> Self {
        Self::Conflict { code, message: message.into() }
    }

    /// A request that cannot be processed as sent.
    pub fn unprocessable(code: UnprocessableCode, message: impl Into<String>) -> Self {
        Self::Unprocessable { code, message: message.into() }
    }

    /// An unexpected failure carrying its cause.
    pub fn unexpected(message: impl Into<String>) -> Self {
        Self::Unexpected(message.into().into())
    }

    /// The same error with its field path prefixed, e.g. `sku` becomes `lines[2].sku`.
    pub fn within(self, prefix: &str) -> Self {
        match self {
            Self::Invalid { code, message, field } => Self::Invalid {
                code,
                message,
                field: Some(match field {
                    Some(f) if f.starts_with('[') => format!("{prefix}{f}"),
                    Some(f) => format!("{prefix}.{f}"),
                    None => prefix.to_owned(),
                }),
            },
            other => other,
        }
    }
}

/// Which condition of a conditional write failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConflictOn {
    /// The record's `version` moved on (optimistic lock lost).
    Version,
    /// The record already exists.
    AlreadyExists,
    /// The idempotency key was taken by a concurrent request.
    IdempotencyKey,
    /// Another order already has this channel order id.
    ChannelOrder,
    /// A newer change was applied already; this one is stale.
    Stale,
    /// A channel item id is already mapped to another SKU.
    ChannelItem {
        /// The channel.
        channel: String,
        /// The channel's item id.
        item_id: String,
    },
    /// Stock at a hub no longer covers the requested quantity.
    Stock {
        /// The hub.
        hub_id: String,
        /// The SKU.
        sku: String,
    },
}

/// What a storage port can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A conditional write lost: the caller decides whether to re-read and retry.
    #[error("conditional write failed on {0:?}")]
    Conflict(ConflictOn),
    /// The write would make a record, or an event it carries, larger than its store or bus
    /// takes: refused before anything is written, so the record stays as it was (and writable).
    #[error("{message}")]
    TooLarge {
        /// What would be too large.
        what: TooLarge,
        /// What is too large, and by how much.
        message: String,
    },
    /// The store refused the write as invalid for a reason other than a condition or its size
    /// (a DynamoDB `ValidationException`): a client's input got somewhere it should not have.
    /// Nothing was written.
    #[error("the store refused the write: {0}")]
    Rejected(String),
    /// A paging cursor that this store did not hand out for this query.
    #[error("invalid cursor")]
    BadCursor,
    /// Throttled or unreachable; retrying may succeed.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Anything else.
    #[error("storage error: {0}")]
    Unexpected(#[source] Box<dyn StdError + Send + Sync>),
}

impl From<StoreError> for AppError {
    /// The default reaction to a storage failure. Use cases that expect a particular conflict
    /// match it before this conversion.
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict(ConflictOn::Version) => {
                AppError::conflict(ConflictCode::ConcurrentUpdate, "the record was changed concurrently; retry")
            }
            StoreError::Conflict(on) => {
                AppError::conflict(ConflictCode::Conflict, format!("conflicting write: {on:?}"))
            }
            StoreError::TooLarge { what, message } => AppError::conflict(what.code(), message),
            StoreError::Rejected(detail) => {
                tracing::warn!(%detail, "the store refused a write");
                AppError::unprocessable(
                    UnprocessableCode::RejectedByStore,
                    "the change could not be stored as sent; nothing was changed",
                )
            }
            StoreError::BadCursor => AppError::invalid_with_code(
                InvalidCode::InvalidCursor,
                "cursor",
                "the cursor does not belong to this listing",
            ),
            StoreError::Unavailable(msg) => AppError::Unavailable(msg),
            StoreError::Unexpected(source) => AppError::Unexpected(source),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire() -> Vec<(String, serde_json::Value)> {
        let invalid = InvalidCode::ALL.iter().map(|c| (c.to_string(), serde_json::to_value(c).unwrap()));
        let conflict = ConflictCode::ALL.iter().map(|c| (c.to_string(), serde_json::to_value(c).unwrap()));
        let unprocessable = UnprocessableCode::ALL.iter().map(|c| (c.to_string(), serde_json::to_value(c).unwrap()));
        invalid.chain(conflict).chain(unprocessable).collect()
    }

    #[test]
    fn every_code_is_its_serialization_and_no_two_codes_share_a_string() {
        let wire = wire();
        for (shown, serialized) in &wire {
            assert_eq!(serialized, &serde_json::Value::from(shown.as_str()));
        }
        let unique: std::collections::BTreeSet<_> = wire.iter().map(|(shown, _)| shown).collect();
        assert_eq!(unique.len(), wire.len(), "a code string is used twice");
    }

    /// `ALL` is written by hand; the schema is derived from the enum, so it lists every variant.
    #[cfg(feature = "openapi")]
    #[test]
    fn all_lists_every_variant() {
        fn values<T: utoipa::PartialSchema>() -> Vec<serde_json::Value> {
            serde_json::to_value(T::schema()).unwrap()["enum"].as_array().unwrap().clone()
        }
        let listed: Vec<_> = wire().into_iter().map(|(_, serialized)| serialized).collect();
        let derived: Vec<_> =
            [values::<InvalidCode>(), values::<ConflictCode>(), values::<UnprocessableCode>()].concat();
        assert_eq!(listed, derived);
    }

    #[test]
    fn a_too_large_write_is_its_conflict() {
        let err = AppError::from(StoreError::TooLarge { what: TooLarge::Event, message: "m".into() });
        assert!(matches!(err, AppError::Conflict { code: ConflictCode::EventTooLarge, .. }), "{err:?}");
    }
}
