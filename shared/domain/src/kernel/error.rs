//! Errors, grouped by how the caller must react. The HTTP edge maps [`AppError`] to a status code
//! in one place; the workflow edge maps it to a stable Step Functions error name.

use std::error::Error as StdError;

/// What went wrong with a use case, by the reaction it calls for.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request is malformed or breaks a rule on its own (HTTP 400).
    #[error("{message}")]
    Invalid {
        /// Stable machine-readable code.
        code: &'static str,
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
        code: &'static str,
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
        code: &'static str,
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
        Self::Invalid { code: "invalid_request", message: message.into(), field: Some(field.into()) }
    }

    /// A validation error with its own code.
    pub fn invalid_with_code(code: &'static str, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid { code, message: message.into(), field: Some(field.into()) }
    }

    /// A state conflict.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict { code, message: message.into() }
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
        /// `order_too_large`, `event_too_large`, `change_too_large`.
        code: &'static str,
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
                AppError::conflict("concurrent_update", "the record was changed concurrently; retry")
            }
            StoreError::Conflict(on) => AppError::conflict("conflict", format!("conflicting write: {on:?}")),
            StoreError::TooLarge { code, message } => AppError::conflict(code, message),
            StoreError::Rejected(detail) => {
                tracing::warn!(%detail, "the store refused a write");
                AppError::Unprocessable {
                    code: "rejected_by_store",
                    message: "the change could not be stored as sent; nothing was changed".into(),
                }
            }
            StoreError::BadCursor => {
                AppError::invalid_with_code("invalid_cursor", "cursor", "the cursor does not belong to this listing")
            }
            StoreError::Unavailable(msg) => AppError::Unavailable(msg),
            StoreError::Unexpected(source) => AppError::Unexpected(source),
        }
    }
}
