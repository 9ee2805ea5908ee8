//! An order change that moves more stock than one transaction holds writes records of what it
//! moved outside the order's own transaction, and removes them as it settles them. A record
//! older than [`LEFTOVER_GRACE`] belongs to a run that died: its reservation chunk is moved back,
//! or the releases it owes are applied (the store does both conditionally on the record, so a
//! run finishing late and this function never both settle one). Every record found is counted
//! in the `LeftoverReservations` metric, which an alarm watches: a leftover means a change
//! failed halfway, even when it was repaired.

use chrono::{DateTime, Utc};
use oms_aws::DynamoStore;
use oms_aws::dynamo::{LEFTOVER_GRACE, RecordKind, Repair};
use oms_aws::metering::report_alarm_metric;
use oms_domain::StoreError;
use serde::Serialize;

/// The alarm's metric (namespace `OMS`, in `infra/template.yaml`).
const METRIC: &str = "LeftoverReservations";

/// What one run did; the invocation's result.
#[derive(Debug, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Leftover records found.
    pub found: usize,
    /// Of those, settled now.
    pub settled: usize,
    /// Of those, still there (the next run tries again).
    pub failed: usize,
}

pub async fn handle(store: &DynamoStore, now: DateTime<Utc>) -> Result<Summary, StoreError> {
    let repairs = store.reconcile_reservations(now, LEFTOVER_GRACE).await?;
    repairs.iter().for_each(log);
    report_alarm_metric(METRIC, repairs.len() as u64);
    Ok(summarize(&repairs))
}

fn log(repair: &Repair) {
    let (order_pk, record, moves) = (&repair.order_pk, &repair.record, repair.moves);
    match (&repair.failure, repair.kind) {
        (None, Some(RecordKind::Reservation)) => {
            tracing::warn!(%order_pk, %record, moves, "moved back stock a failed order change had reserved")
        }
        (None, Some(RecordKind::PendingRelease)) => {
            tracing::warn!(%order_pk, %record, moves, "applied releases a committed order change still owed")
        }
        (failure, kind) => {
            tracing::error!(%order_pk, %record, ?kind, ?failure, "could not settle a leftover reservation record")
        }
    }
}

fn summarize(repairs: &[Repair]) -> Summary {
    let failed = repairs.iter().filter(|r| r.failure.is_some()).count();
    Summary { found: repairs.len(), settled: repairs.len() - failed, failed }
}

#[cfg(test)]
mod tests {
    use aws_lambda_events::eventbridge::EventBridgeEvent;

    use super::*;

    const SAMPLE: &str = include_str!("../../../events/scheduled/reconcile-reservations.json");

    #[test]
    fn the_schedule_sample_is_the_event_the_function_is_invoked_with() {
        // The trigger carries nothing the run reads; the run itself is DynamoDB's work, tested
        // against DynamoDB Local (`reconcile_reservations` in tests/tests/dynamo_adapter.rs).
        let event: EventBridgeEvent = serde_json::from_str(SAMPLE).unwrap();
        assert_eq!((event.source.as_str(), event.detail_type.as_str()), ("aws.events", "Scheduled Event"));
    }

    #[test]
    fn a_record_that_could_not_be_settled_counts_as_found_and_failed() {
        let repair = |failure: Option<&str>| Repair {
            order_pk: "T#demo#ORDER#01J".into(),
            record: "RESV#0000000003#01RUN#000".into(),
            kind: Some(RecordKind::Reservation),
            moves: 99,
            failure: failure.map(str::to_owned),
        };
        let summary = summarize(&[repair(None), repair(Some("stock conflict"))]);
        assert_eq!(summary, Summary { found: 2, settled: 1, failed: 1 });
        assert_eq!(summarize(&[]), Summary::default());
    }
}
