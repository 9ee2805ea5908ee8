//! Errors of Step Functions task functions. The ASL matches `errorType` in `Retry`/`Catch`, so
//! every [`AppError`] maps to one of a few stable names here, and nowhere else.

use lambda_runtime::Diagnostic;
use oms_domain::{AppError, ConflictCode};

/// A task failure, reported to Step Functions under a stable name.
#[derive(Debug)]
pub struct TaskError(pub AppError);

impl From<AppError> for TaskError {
    fn from(err: AppError) -> Self {
        Self(err)
    }
}

impl TaskError {
    /// The `errorType` the ASL matches:
    /// - `PlanStale`: stock or the order changed under a placement plan; plan again.
    /// - `OrderNotPlaceable`: the order no longer awaits this step (cancelled, done); stop.
    /// - `Retryable`: a dependency was throttled or unreachable; retry with backoff.
    /// - `InvalidInput`: the task input is wrong; retrying cannot help.
    /// - `Forbidden`: the sender may not do this (an integration acting for a tenant it is not
    ///   registered for); retrying cannot help.
    /// - `Unexpected`: a bug or unknown failure.
    pub fn name(&self) -> &'static str {
        match &self.0 {
            AppError::Conflict { code, .. } => conflict_name(*code),
            AppError::NotFound(_) => "OrderNotPlaceable",
            AppError::Unavailable(_) => "Retryable",
            AppError::Invalid { .. } | AppError::Unprocessable { .. } | AppError::PayloadTooLarge { .. } => {
                "InvalidInput"
            }
            AppError::Forbidden(_) => "Forbidden",
            AppError::Unauthenticated | AppError::PreconditionFailed { .. } | AppError::Unexpected(_) => "Unexpected",
        }
    }
}

/// The `errorType` of a conflict. Exhaustive so that a new code is a decision made here.
fn conflict_name(code: ConflictCode) -> &'static str {
    use ConflictCode::*;
    match code {
        PlanStale => "PlanStale",
        // The order changed between read and write (a hold, an edit): doing it again reads the
        // new state.
        ConcurrentUpdate => "Retryable",
        // The order's state refuses the step: planning or retrying cannot change that.
        Conflict
        | OrderTooLarge
        | EventTooLarge
        | ChangeTooLarge
        | InvalidTransition
        | NotEditable
        | NotCancellable
        | NotHoldable
        | HoldExists
        | HoldReleased
        | TooManyHolds
        | TooManyEvents
        | TooManyShipments
        | TooManyReturns
        | NotPlaceable
        | NotManual
        | OverAllocation
        | AllocationIncomplete
        | HubInactive
        | InsufficientStock
        | StockBelowReserved
        | NotAllocated
        | RequestClosed
        | NotShippable
        | OnHold
        | OverShipment
        | NotReturnable
        | ReturnStatus
        | OverReturn
        | OverReceipt
        | DuplicateChannelOrder
        | ChannelItemTaken => "OrderNotPlaceable",
    }
}

impl From<TaskError> for Diagnostic {
    fn from(err: TaskError) -> Self {
        let name = err.name();
        if name == "Unexpected" {
            tracing::error!(error = ?err.0, "task failed unexpectedly");
        } else {
            tracing::warn!(error_type = name, error = %err.0, "task failed");
        }
        Diagnostic { error_type: name.to_owned(), error_message: err.0.to_string() }
    }
}

/// A task's sample input (`events/placement`) about `order`: its `order_id` (and the
/// `order_version` a plan was made from, where it has one) is the order's; its tenant must be
/// the order's already. For the functions' handler tests.
#[cfg(feature = "template")]
pub fn sample_for<T: serde::de::DeserializeOwned>(sample: &str, order: &oms_domain::order::Order) -> T {
    let mut input: serde_json::Value = serde_json::from_str(sample).expect("a sample is JSON");
    assert_eq!(input["tenant_id"], order.tenant_id().as_str(), "the sample's tenant");
    input["order_id"] = order.order_id().as_str().into();
    if input.get("order_version").is_some() {
        input["order_version"] = order.version().into();
    }
    serde_json::from_value(input).expect("a sample is its task's input")
}

/// What a placement task's test starts from: the sample store (1000 of each SKU everywhere), the
/// order `order` makes in it, and the task's `sample` about that order ([`sample_for`]).
#[cfg(feature = "template")]
pub async fn sample_order<T: serde::de::DeserializeOwned>(
    sample: &str,
    order: impl AsyncFnOnce(&oms_domain::memory::MemoryStore) -> oms_domain::order::Order,
) -> (oms_domain::memory::MemoryStore, oms_domain::order::Order, T) {
    let store = oms_domain::memory::fixtures::sample_store(1000.into()).await;
    let order = order(&store).await;
    let input = sample_for(sample, &order);
    (store, order, input)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_names_the_asl_matches() {
        let name = |e: AppError| TaskError(e).name();
        assert_eq!(name(AppError::conflict(ConflictCode::PlanStale, "x")), "PlanStale");
        assert_eq!(name(AppError::conflict(ConflictCode::NotPlaceable, "x")), "OrderNotPlaceable");
        assert_eq!(name(AppError::NotFound("order")), "OrderNotPlaceable");
        assert_eq!(name(AppError::conflict(ConflictCode::ConcurrentUpdate, "x")), "Retryable");
        assert_eq!(name(AppError::Unavailable("throttled".into())), "Retryable");
        assert_eq!(name(AppError::invalid("x", "y")), "InvalidInput");
        assert_eq!(name(AppError::Forbidden("not registered".into())), "Forbidden");
        assert_eq!(name(AppError::unexpected("boom")), "Unexpected");
        let asl = include_str!("../../../../statemachines/order-placement.asl.json");
        for matched in ["PlanStale", "OrderNotPlaceable", "Retryable"] {
            assert!(asl.contains(&format!("\"{matched}\"")), "the ASL must match {matched}");
        }
    }
}
