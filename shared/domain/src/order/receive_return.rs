//! `receive_return`: the warehouse (`ReturnReceived`) or a counter clerk records what came back
//! and what inspection found. Recorded once; more than was approved is refused. What it does:
//! accepted goods marked `restock` go back into the hub's free stock (which lets backordered
//! orders for them be placed again); the refund is the accepted quantity at the line's charged
//! price plus its tax, asked for with `RefundRequested`.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::events::DomainEvent;
use crate::kernel::error::{AppError, ConflictCode, InvalidCode};
use crate::kernel::ids::LineId;
use crate::kernel::limits::{MAX_LINES, check_external_id, check_list};
use crate::kernel::money::Currency;
use crate::kernel::quantity::non_negative_quantity;
use crate::order::pricing::{PriceInputs, checked_sum, price_line};
use crate::order::returns::{Disposition, ReceivedLine, Refund, RefundLine, ReturnStatus, not_now};
use crate::order::{Change, Order};
use crate::stock::StockMove;

impl Order {
    /// Records what the warehouse received and found, once: a repeated `event_id` changes
    /// nothing. Accepted goods to restock go back into the hub's free stock; line `returned`
    /// grows by what was accepted; `RefundRequested` asks for the refund of it. Refused, with nothing applied: a return
    /// not approved (or already received), an unknown line, received ≠ accepted + rejected, and
    /// more than approved.
    pub fn receive_return(
        &mut self,
        return_id: &str,
        event_id: Option<&str>,
        received: &[ReceivedLine],
        now: DateTime<Utc>,
    ) -> Result<Change, AppError> {
        if let Some(id) = event_id {
            check_external_id("event_id", id)?;
        }
        check_list("lines", received.len(), MAX_LINES)?;
        let currency = self.currency;
        let rma = self.return_mut(return_id)?;
        if event_id.is_some_and(|id| rma.applied_events.iter().any(|e| e == id)) {
            return Ok(Change::none());
        }
        if rma.status != ReturnStatus::Approved {
            return Err(not_now(rma, "receive it"));
        }
        if received.is_empty() {
            return Err(AppError::invalid("lines", "a receipt needs at least one line"));
        }
        let mut lines = rma.lines.clone();
        for (i, r) in received.iter().enumerate() {
            let at = |name: &str| format!("lines[{i}].{name}");
            let got = non_negative_quantity(&at("quantity_received"), r.quantity_received)?;
            let accepted = non_negative_quantity(&at("quantity_accepted"), r.quantity_accepted)?;
            let rejected = non_negative_quantity(&at("quantity_rejected"), r.quantity_rejected)?;
            if accepted + rejected != got {
                return Err(AppError::invalid(at("quantity_received"), "received must equal accepted plus rejected"));
            }
            let line = lines.iter_mut().find(|l| l.order_line_id == r.order_line_id).ok_or_else(|| {
                AppError::invalid_with_code(
                    InvalidCode::UnknownLine,
                    at("order_line_id"),
                    format!("return {return_id} has no line {}", r.order_line_id),
                )
            })?;
            if line.received + got > line.quantity {
                return Err(AppError::conflict(
                    ConflictCode::OverReceipt,
                    format!(
                        "line {} of return {return_id}: {got} received, {} approved",
                        r.order_line_id, line.quantity
                    ),
                ));
            }
            line.received += got;
            line.accepted += accepted;
            line.rejected += rejected;
            line.disposition = Some(r.disposition);
        }
        let mut moves = Vec::new();
        for r in
            received.iter().filter(|r| r.disposition == Disposition::Restock && r.quantity_accepted > Decimal::ZERO)
        {
            let line = lines.iter().find(|l| l.order_line_id == r.order_line_id).expect("checked above");
            moves.push(StockMove::receive(line.hub_id.clone(), line.sku.clone(), r.quantity_accepted));
        }
        rma.lines = lines;
        rma.status = ReturnStatus::Received;
        rma.updated_at = now;
        rma.applied_events.extend(event_id.map(str::to_owned));
        let accepted: Vec<(LineId, Decimal)> = rma
            .lines
            .iter()
            .filter(|l| l.accepted > Decimal::ZERO)
            .map(|l| (l.order_line_id.clone(), l.accepted))
            .collect();
        let refund = self.refund_for(&accepted, currency, now)?;
        let rma = self.return_mut(return_id)?;
        rma.refund = refund;
        for (line_id, quantity) in accepted {
            if let Some(line) = self.line_mut(&line_id) {
                line.returned += quantity;
            }
        }
        self.touch(now);
        let mut change = Change { moves: StockMove::net(moves), ..Change::none() };
        if let Some(refund) = &self.return_of(return_id).expect("just received").refund {
            change.emit(DomainEvent::refund_requested(self, return_id, refund));
        }
        Ok(change)
    }

    /// The credit memo for accepted quantities: each at the line's charged unit price plus its
    /// tax, rounded per line like the order. `None` when nothing was accepted.
    fn refund_for(
        &self,
        accepted: &[(LineId, Decimal)],
        currency: Currency,
        now: DateTime<Utc>,
    ) -> Result<Option<Refund>, AppError> {
        let mut lines: Vec<RefundLine> = Vec::with_capacity(accepted.len());
        for (line_id, quantity) in accepted {
            let Some(line) = self.line(line_id) else { continue };
            let priced = price_line(
                PriceInputs {
                    unit_price: line.unit_price(),
                    shipping_unit_cost: Decimal::ZERO,
                    quantity: *quantity,
                    tax_rate: line.tax_rate,
                },
                currency,
            )?;
            lines.push(RefundLine {
                order_line_id: line_id.clone(),
                sku: line.sku.clone(),
                quantity: *quantity,
                unit_price: line.unit_price(),
                tax_rate: line.tax_rate,
                net: priced.net,
                tax: priced.tax,
                gross: priced.gross,
            });
        }
        if lines.is_empty() {
            return Ok(None);
        }
        let net = checked_sum(lines.iter().map(|l| l.net))?;
        let tax = checked_sum(lines.iter().map(|l| l.tax))?;
        let total = checked_sum(lines.iter().map(|l| l.gross))?;
        Ok(Some(Refund { currency, lines, net, tax, total, requested_at: now, reference: None, confirmed_at: None }))
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use rust_decimal_macros::dec;
    use serde_json::json;

    use crate::kernel::error::{AppError, ConflictCode};
    use crate::kernel::ids::{HubId, Sku};
    use crate::kernel::money::Currency;
    use crate::order::returns::given_returns::{approved, found, requested, shipped};
    use crate::order::returns::{Disposition, ReturnStatus};
    use crate::order::testing::given;
    use crate::stock::StockMove;

    #[tokio::test]
    async fn receiving_restocks_the_accepted_once_and_asks_for_their_refund_with_tax() {
        let order = shipped().await;
        let receipt = found(dec!(3), dec!(1), Disposition::Restock);
        given(requested(order.clone(), dec!(4)))
            .when(|o| o.receive_return("R1", Some("e1"), &receipt, Utc::now()))
            .then_refused(|e| matches!(e, AppError::Conflict { code: ConflictCode::ReturnStatus, .. }));
        let too_many = found(dec!(4), dec!(1), Disposition::Restock);
        let approved = approved(order, dec!(4));
        given(approved.clone())
            .when(|o| o.receive_return("R1", Some("e0"), &too_many, Utc::now()))
            .then_refused(|e| matches!(e, AppError::Conflict { code: ConflictCode::OverReceipt, .. }));
        let received = given(approved)
            .when(|o| o.receive_return("R1", Some("e1"), &receipt, Utc::now()))
            .then_emits(&["RefundRequested"])
            .then_event(
                "RefundRequested",
                json!({"return_id": "R1", "refund": {"net": "96000", "tax": "9600", "total": "105600"}}),
            )
            .then_moves(&[StockMove::receive(HubId::parse("H1").unwrap(), Sku::parse("PP-H1").unwrap(), dec!(3))])
            .then_order(|o| {
                assert_eq!(o.lines[0].returned, dec!(3));
                assert_eq!(o.return_of("R1").unwrap().status, ReturnStatus::Received);
            })
            .into_order();
        given(received).when(|o| o.receive_return("R1", Some("e1"), &receipt, Utc::now())).then_nothing_changes();
    }

    #[tokio::test]
    async fn disposed_goods_stay_out_of_stock_and_nothing_accepted_asks_no_refund() {
        let order = approved(shipped().await, dec!(2));
        let rejected = found(dec!(0), dec!(2), Disposition::Dispose);
        given(order)
            .when(|o| o.receive_return("R1", None, &rejected, Utc::now()))
            .then_emits(&[])
            .then_moves(&[])
            .then_order(|o| {
                let rma = o.return_of("R1").unwrap();
                assert_eq!((rma.status, rma.refund.is_none()), (ReturnStatus::Received, true));
                assert_eq!(o.lines[0].returned, dec!(0));
            });
    }

    #[tokio::test]
    async fn usd_refunds_round_to_cents_per_line() {
        let mut order = shipped().await;
        order.currency = Currency::Usd;
        order.lines[0].quoted_unit_price = dec!(19.99);
        order.lines[0].list_unit_price = dec!(19.99);
        order.reprice().unwrap();
        let all = found(dec!(3), dec!(0), Disposition::Restock);
        // 3 × 19.99 = 59.97; tax 5.997 → 6.00.
        given(approved(order, dec!(3)))
            .when(|o| o.receive_return("R1", None, &all, Utc::now()))
            .then_event("RefundRequested", json!({"refund": {"net": "59.97", "tax": "6.00", "total": "65.97"}}));
    }
}
