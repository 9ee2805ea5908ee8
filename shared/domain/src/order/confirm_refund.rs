//! `confirm_refund`: accounting paid the refund of a received return; it goes `refunded`, with the
//! payment's reference. Emits nothing.

use chrono::{DateTime, Utc};

use crate::kernel::error::AppError;
use crate::kernel::text::non_empty_text;
use crate::order::returns::{ReturnStatus, not_now};
use crate::order::{Change, Order};

impl Order {
    /// The refund was paid: the return goes `refunded`. Emits nothing.
    pub fn confirm_refund(
        &mut self,
        return_id: &str,
        reference: String,
        now: DateTime<Utc>,
    ) -> Result<Change, AppError> {
        let reference = non_empty_text("reference", reference, 200)?;
        let rma = self.return_mut(return_id)?;
        match (&rma.status, &mut rma.refund) {
            (ReturnStatus::Received, Some(refund)) => {
                refund.reference = Some(reference);
                refund.confirmed_at = Some(now);
            }
            _ => return Err(not_now(rma, "confirm a refund")),
        }
        rma.status = ReturnStatus::Refunded;
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
    use crate::order::returns::ReturnStatus;
    use crate::order::returns::given_returns::{approved, received, shipped};
    use crate::order::testing::given;

    #[tokio::test]
    async fn a_paid_refund_is_recorded_with_its_reference_and_tells_no_one() {
        let order = received(shipped().await);
        given(order.clone())
            .when(|o| o.confirm_refund("R1", " ".into(), Utc::now()))
            .then_refused(|e| matches!(e, AppError::Invalid { .. }));
        given(order).when(|o| o.confirm_refund("R1", "BANK-77".into(), Utc::now())).then_emits(&[]).then_order(|o| {
            let rma = o.return_of("R1").unwrap();
            assert_eq!(rma.status, ReturnStatus::Refunded);
            assert_eq!(rma.refund.as_ref().and_then(|r| r.reference.as_deref()), Some("BANK-77"));
        });
    }

    #[tokio::test]
    async fn no_refund_is_confirmed_before_the_goods_are_received() {
        given(approved(shipped().await, dec!(2)))
            .when(|o| o.confirm_refund("R1", "BANK-77".into(), Utc::now()))
            .then_refused(|e| matches!(e, AppError::Conflict { code: ConflictCode::ReturnStatus, .. }));
    }
}
