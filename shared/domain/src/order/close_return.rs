//! `close_return`: a settled return (refunded, or received with nothing to refund) is done.
//! Emits nothing.

use chrono::{DateTime, Utc};

use crate::kernel::error::AppError;
use crate::order::returns::{ReturnStatus, not_now};
use crate::order::{Change, Order};

impl Order {
    /// Closes a return that is settled: refunded, or received with nothing to refund. Emits
    /// nothing.
    pub fn close_return(&mut self, return_id: &str, now: DateTime<Utc>) -> Result<Change, AppError> {
        let rma = self.return_mut(return_id)?;
        let settled =
            rma.status == ReturnStatus::Refunded || (rma.status == ReturnStatus::Received && rma.refund.is_none());
        if !settled {
            return Err(not_now(rma, "close it"));
        }
        rma.status = ReturnStatus::Closed;
        rma.updated_at = now;
        self.touch(now);
        Ok(Change::none())
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use rust_decimal_macros::dec;

    use crate::kernel::error::{AppError, ConflictCode};
    use crate::order::returns::given_returns::{approved, found, received, shipped};
    use crate::order::returns::{Disposition, ReturnStatus};
    use crate::order::testing::given;

    #[tokio::test]
    async fn a_return_closes_once_settled() {
        let received = received(shipped().await);
        given(received.clone())
            .when(|o| o.close_return("R1", Utc::now()))
            .then_refused(|e| matches!(e, AppError::Conflict { code: ConflictCode::ReturnStatus, .. }));
        let refunded = given(received).when(|o| o.confirm_refund("R1", "BANK-77".into(), Utc::now())).into_order();
        given(refunded)
            .when(|o| o.close_return("R1", Utc::now()))
            .then_emits(&[])
            .then_order(|o| assert_eq!(o.return_of("R1").unwrap().status, ReturnStatus::Closed));
    }

    #[tokio::test]
    async fn a_return_with_nothing_to_refund_closes_once_received() {
        let rejected = found(dec!(0), dec!(2), Disposition::Dispose);
        let received = given(approved(shipped().await, dec!(2)))
            .when(|o| o.receive_return("R1", None, &rejected, Utc::now()))
            .into_order();
        given(received)
            .when(|o| o.close_return("R1", Utc::now()))
            .then_order(|o| assert_eq!(o.return_of("R1").unwrap().status, ReturnStatus::Closed));
    }
}
