//! `approve_return` and `reject_return`: a manager decides on a requested return. Approving
//! emits `ReturnApproved` (what the warehouse should expect, and where); rejecting emits nothing
//! and frees what the return claimed for other returns.

use chrono::{DateTime, Utc};

use crate::events::DomainEvent;
use crate::kernel::error::AppError;
use crate::kernel::text::non_empty_text;
use crate::order::returns::{ReturnStatus, not_now};
use crate::order::{Change, Order};

impl Order {
    /// Approves a requested return: the warehouse may expect the goods (`ReturnApproved`).
    pub fn approve_return(&mut self, return_id: &str, now: DateTime<Utc>) -> Result<Change, AppError> {
        let rma = self.return_mut(return_id)?;
        if rma.status != ReturnStatus::Requested {
            return Err(not_now(rma, "approve it"));
        }
        rma.status = ReturnStatus::Approved;
        rma.updated_at = now;
        self.touch(now);
        let rma = self.return_of(return_id).expect("found above");
        let mut change = Change::none();
        change.emit(DomainEvent::return_approved(self, rma));
        Ok(change)
    }

    /// Rejects a requested return, with a reason (1 to 500 characters). Emits nothing.
    pub fn reject_return(&mut self, return_id: &str, reason: String, now: DateTime<Utc>) -> Result<Change, AppError> {
        let rma = self.return_mut(return_id)?;
        if rma.status != ReturnStatus::Requested {
            return Err(not_now(rma, "reject it"));
        }
        rma.rejection_reason = Some(non_empty_text("reason", reason, 500)?);
        rma.status = ReturnStatus::Rejected;
        rma.updated_at = now;
        self.touch(now);
        Ok(Change::none())
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use rust_decimal_macros::dec;
    use serde_json::json;

    use crate::kernel::error::{AppError, ConflictCode};
    use crate::order::returns::ReturnStatus;
    use crate::order::returns::given_returns::{requested, shipped};
    use crate::order::testing::given;

    #[tokio::test]
    async fn approving_tells_the_warehouse_what_comes_back_where() {
        let order = requested(shipped().await, dec!(4));
        let approved = given(order)
            .when(|o| o.approve_return("R1", Utc::now()))
            .then_emits(&["ReturnApproved"])
            .then_event(
                "ReturnApproved",
                json!({"return_id": "R1", "customer_name": "ABC", "lines": [{"hub_id": "H1", "sku": "PP-H1", "quantity": "4"}]}),
            )
            .then_moves(&[])
            .then_order(|o| assert_eq!(o.return_of("R1").unwrap().status, ReturnStatus::Approved))
            .into_order();
        given(approved)
            .when(|o| o.approve_return("R1", Utc::now()))
            .then_refused(|e| matches!(e, AppError::Conflict { code: ConflictCode::ReturnStatus, .. }));
    }

    #[tokio::test]
    async fn a_rejection_needs_a_reason_and_tells_no_one() {
        let order = requested(shipped().await, dec!(4));
        given(order.clone())
            .when(|o| o.reject_return("R1", " ".into(), Utc::now()))
            .then_refused(|e| matches!(e, AppError::Invalid { .. }));
        given(order)
            .when(|o| o.reject_return("R1", "outside the window".into(), Utc::now()))
            .then_emits(&[])
            .then_order(|o| {
                let rma = o.return_of("R1").unwrap();
                assert_eq!(rma.status, ReturnStatus::Rejected);
                assert_eq!(rma.rejection_reason.as_deref(), Some("outside the window"));
            });
        given(shipped().await)
            .when(|o| o.reject_return("R9", "no such".into(), Utc::now()))
            .then_refused(|e| matches!(e, AppError::NotFound("return")));
    }
}
