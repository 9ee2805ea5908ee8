//! `request_return`: a customer sends shipped goods back (an RMA, `requested`). What may be
//! returned is bounded per line by what shipped minus what other returns already claim. Emits
//! nothing: a manager decides next (`decide_return.rs`).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::kernel::access::Actor;
use crate::kernel::error::{AppError, ConflictCode, InvalidCode};
use crate::kernel::limits::{MAX_LINES, MAX_RETURNS, check_list, check_room};
use crate::kernel::quantity::positive_quantity;
use crate::kernel::text::non_empty_text;
use crate::order::returns::{Return, ReturnLine, ReturnLineRequest, ReturnStatus};
use crate::order::status::OrderStatus;
use crate::order::{Change, Order};
use crate::ports::Lookup;

impl Order {
    /// Opens a return for shipped lines, found by its id from then on. Emits nothing. Each
    /// quantity must be positive and within what the line may still return (409
    /// `over_return`); an unknown line is 400.
    pub fn request_return(
        &mut self,
        return_id: String,
        requested: &[ReturnLineRequest],
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Change, AppError> {
        use OrderStatus::*;
        if !matches!(self.status, PartiallyShipped | Shipped | InTransit | Delivered | Completed) {
            return Err(AppError::conflict(
                ConflictCode::NotReturnable,
                format!("an order in {} has nothing to return", self.status),
            ));
        }
        if requested.is_empty() {
            return Err(AppError::invalid("lines", "a return needs at least one line"));
        }
        check_list("lines", requested.len(), MAX_LINES)?;
        check_room(ConflictCode::TooManyReturns, "returns", self.returns.len(), MAX_RETURNS)?;
        let mut lines: Vec<ReturnLine> = Vec::new();
        for (i, r) in requested.iter().enumerate() {
            let quantity = positive_quantity(&format!("lines[{i}].quantity"), r.quantity)?;
            let reason = non_empty_text(&format!("lines[{i}].reason"), r.reason.clone(), 500)?;
            let field = format!("lines[{i}].order_line_id");
            let unknown = || {
                AppError::invalid_with_code(
                    InvalidCode::UnknownLine,
                    field.clone(),
                    format!("no line {}", r.order_line_id),
                )
            };
            let line = self.line(&r.order_line_id).ok_or_else(unknown)?;
            let hub_id = self.main_hub_of(&r.order_line_id).ok_or_else(|| {
                AppError::conflict(ConflictCode::OverReturn, format!("nothing of line {} has shipped", r.order_line_id))
            })?;
            let already: Decimal =
                lines.iter().filter(|l| l.order_line_id == r.order_line_id).map(|l| l.quantity).sum();
            let left = self.returnable(&r.order_line_id) - already;
            if quantity > left {
                return Err(AppError::conflict(
                    ConflictCode::OverReturn,
                    format!(
                        "line {} may return {left} more (shipped minus other returns); asked {quantity}",
                        r.order_line_id
                    ),
                ));
            }
            lines.push(ReturnLine {
                order_line_id: r.order_line_id.clone(),
                sku: line.sku.clone(),
                unit: line.unit.clone(),
                hub_id,
                quantity,
                reason,
                received: Decimal::ZERO,
                accepted: Decimal::ZERO,
                rejected: Decimal::ZERO,
                disposition: None,
            });
        }
        let lookup = Lookup::Return(return_id.clone());
        self.returns.push(Return {
            return_id,
            status: ReturnStatus::Requested,
            lines,
            rejection_reason: None,
            refund: None,
            applied_events: Vec::new(),
            created_by: actor.sub.clone(),
            created_at: now,
            updated_at: now,
        });
        self.touch(now);
        Ok(Change { lookups: vec![lookup], ..Change::none() })
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use rust_decimal_macros::dec;

    use crate::kernel::access::Role;
    use crate::kernel::error::{AppError, ConflictCode, InvalidCode};
    use crate::kernel::ids::{HubId, LineId, TenantId};
    use crate::memory::MemoryStore;
    use crate::memory::fixtures::allocated_order;
    use crate::order::returns::ReturnStatus;
    use crate::order::returns::given_returns::{ask, requested, shipped};
    use crate::order::status::OrderStatus;
    use crate::order::testing::{actor, given};
    use crate::ports::Lookup;

    #[tokio::test]
    async fn a_return_is_opened_for_what_shipped_and_tells_no_one() {
        let order = shipped().await;
        let sales = actor(&order, Role::Sales);
        let opened = given(order)
            .when(|o| o.request_return("R1".into(), &ask(dec!(6)), &sales, Utc::now()))
            .then_status(OrderStatus::Shipped)
            .then_emits(&[])
            .then_moves(&[])
            .then_order(|o| {
                let rma = o.return_of("R1").expect("opened");
                assert_eq!(rma.status, ReturnStatus::Requested);
                assert_eq!(
                    (rma.lines[0].hub_id.clone(), rma.lines[0].quantity),
                    (HubId::parse("H1").unwrap(), dec!(6))
                );
            });
        assert_eq!(opened.change().lookups, [Lookup::Return("R1".into())]);
        assert_eq!(opened.order().returns[0].created_by, "sales-user");
    }

    #[tokio::test]
    async fn returns_never_claim_more_than_shipped_together() {
        let order = requested(shipped().await, dec!(6));
        let sales = actor(&order, Role::Sales);
        given(order.clone())
            .when(|o| o.request_return("R2".into(), &ask(dec!(5)), &sales, Utc::now()))
            .then_refused(|e| matches!(e, AppError::Conflict { code: ConflictCode::OverReturn, .. }));
        let rejected =
            given(order).when(|o| o.reject_return("R1", "outside the window".into(), Utc::now())).into_order();
        given(rejected)
            .when(|o| o.request_return("R2".into(), &ask(dec!(10)), &sales, Utc::now()))
            .then_order(|o| assert_eq!(o.returnable(&LineId::parse("L1").unwrap()), dec!(0)));
    }

    #[tokio::test]
    async fn nothing_is_returned_before_it_shipped_nor_from_an_unknown_line() {
        let tenant = TenantId::parse("t1").unwrap();
        let store = MemoryStore::with_catalog(&tenant, "H1", "PP-H1", dec!(100)).await;
        let order = allocated_order(&store, &tenant, "H1", "PP-H1", "10").await;
        let sales = actor(&order, Role::Sales);
        given(order)
            .when(|o| o.request_return("R1".into(), &ask(dec!(1)), &sales, Utc::now()))
            .then_refused(|e| matches!(e, AppError::Conflict { code: ConflictCode::NotReturnable, .. }));
        let mut unknown = ask(dec!(1));
        unknown[0].order_line_id = LineId::parse("L9").unwrap();
        given(shipped().await)
            .when(|o| o.request_return("R1".into(), &unknown, &sales, Utc::now()))
            .then_refused(|e| matches!(e, AppError::Invalid { code: InvalidCode::UnknownLine, .. }));
    }
}
