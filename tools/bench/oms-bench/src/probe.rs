//! Counts what a client asks of DynamoDB, without touching the store: an SDK interceptor that
//! sees every response. "Items read" is what the read cost follows: a Query's `ScannedCount`
//! (items read before any filter expression), the items a BatchGetItem or GetItem returns.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_dynamodb::config::interceptors::AfterDeserializationInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemOutput;
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::query::QueryOutput;

/// Running totals, shared by every clone (the client keeps one).
#[derive(Debug, Clone, Default)]
pub struct Probe(Arc<Totals>);

#[derive(Debug, Default)]
struct Totals {
    requests: AtomicU64,
    items_read: AtomicU64,
}

/// The totals at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    /// Requests answered (each attempt of a retried request counts).
    pub requests: u64,
    /// Items read.
    pub items_read: u64,
}

impl Probe {
    /// The totals now.
    pub fn read(&self) -> Reading {
        Reading {
            requests: self.0.requests.load(Ordering::Relaxed),
            items_read: self.0.items_read.load(Ordering::Relaxed),
        }
    }

    /// What was counted since `before`.
    pub fn since(&self, before: Reading) -> Reading {
        let now = self.read();
        Reading { requests: now.requests - before.requests, items_read: now.items_read - before.items_read }
    }
}

impl Intercept for Probe {
    fn name(&self) -> &'static str {
        "oms-bench-probe"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        self.0.requests.fetch_add(1, Ordering::Relaxed);
        let Ok(output) = context.output_or_error() else { return Ok(()) };
        let read = if let Some(query) = output.downcast_ref::<QueryOutput>() {
            u64::try_from(query.scanned_count()).unwrap_or(0)
        } else if let Some(batch) = output.downcast_ref::<BatchGetItemOutput>() {
            batch.responses().map_or(0, |r| r.values().map(|items| items.len() as u64).sum())
        } else if let Some(get) = output.downcast_ref::<GetItemOutput>() {
            u64::from(get.item().is_some())
        } else {
            0
        };
        self.0.items_read.fetch_add(read, Ordering::Relaxed);
        Ok(())
    }
}
