//! Returns (RMA): a customer sends shipped goods back. `requested` → `approved` | `rejected`;
//! `approved` → `received` (the warehouse inspected: accepted or rejected per line, with a
//! disposition) → `refunded` (the refund was paid) → `closed`.
//!
//! What may be returned is bounded per line by what shipped minus what other returns already
//! claim (any return not rejected counts), so two returns can never together exceed a
//! shipment. Receiving is recorded once: a repeated warehouse event changes nothing, and more than
//! was approved is refused. Accepted goods with disposition `restock` go back into the hub's
//! free stock; the refund is the accepted quantity at the line's charged price plus its tax.
//!
//! Returns live inside the order (an order has a handful), so a return, the line quantities and
//! the stock it restocks change together, atomically.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::kernel::access::Actor;
use crate::kernel::error::{AppError, ConflictCode, InvalidCode};
use crate::kernel::ids::{HubId, LineId, Sku};
use crate::kernel::limits::{MAX_LINES, MAX_RETURNS, check_external_id, check_list, check_room};
use crate::kernel::money::Currency;
use crate::kernel::quantity::{non_negative_quantity, positive_quantity};
use crate::kernel::text::non_empty_text;
use crate::order::Order;
use crate::order::pricing::{PriceInputs, checked_sum, price_line};
use crate::order::status::OrderStatus;
use crate::stock::StockMove;

/// Where a return is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReturnStatus {
    /// Asked for; waits for a manager.
    Requested,
    /// The warehouse may expect the goods.
    Approved,
    /// Refused (final).
    Rejected,
    /// The warehouse received and inspected the goods.
    Received,
    /// The refund was paid.
    Refunded,
    /// Done.
    Closed,
}

/// What happens to received goods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// Back into sellable stock at the hub.
    Restock,
    /// Thrown away.
    Dispose,
    /// Sent for repair.
    Repair,
}

/// One line of a return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReturnLine {
    /// The order line.
    pub order_line_id: LineId,
    /// Its SKU.
    pub sku: Sku,
    /// Unit of measure.
    pub unit: String,
    /// The hub the goods go back to (the one that shipped most of the line).
    pub hub_id: HubId,
    /// Asked to return.
    pub quantity: Decimal,
    /// Why.
    pub reason: String,
    /// Received by the warehouse.
    #[serde(default)]
    pub received: Decimal,
    /// Accepted at inspection (refunded).
    #[serde(default)]
    pub accepted: Decimal,
    /// Rejected at inspection.
    #[serde(default)]
    pub rejected: Decimal,
    /// What the warehouse did with the goods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disposition: Option<Disposition>,
}

/// A refund line: the accepted quantity at the charged price, with its tax.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefundLine {
    /// The order line.
    pub order_line_id: LineId,
    /// Its SKU.
    pub sku: Sku,
    /// Refunded quantity (accepted).
    pub quantity: Decimal,
    /// The price charged per unit.
    pub unit_price: Decimal,
    /// The tax rate charged.
    pub tax_rate: Decimal,
    /// `quantity × unit_price`, rounded.
    pub net: Decimal,
    /// Tax on `net`, rounded.
    pub tax: Decimal,
    /// `net + tax`.
    pub gross: Decimal,
}

/// The money a return gives back: a credit memo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Refund {
    /// Currency.
    pub currency: Currency,
    /// Per line.
    pub lines: Vec<RefundLine>,
    /// Sum of line nets.
    pub net: Decimal,
    /// Sum of line taxes.
    pub tax: Decimal,
    /// What the customer gets back.
    pub total: Decimal,
    /// When it was asked for.
    pub requested_at: DateTime<Utc>,
    /// The payment's reference, once paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// When it was paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmed_at: Option<DateTime<Utc>>,
}

/// A return merchandise authorization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Return {
    /// `RMA-YYYYMMDD-NNNN`, unique per tenant.
    pub return_id: String,
    /// Where it is.
    pub status: ReturnStatus,
    /// What comes back.
    pub lines: Vec<ReturnLine>,
    /// Why it was rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection_reason: Option<String>,
    /// The refund, once the goods were received and some accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund: Option<Refund>,
    /// Warehouse events applied (`event_id`s): a repeat is recognised and ignored.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applied_events: Vec<String>,
    /// Who asked (`sub`).
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A line of a return to create.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReturnLineRequest {
    /// The order line.
    pub order_line_id: LineId,
    /// How much.
    pub quantity: Decimal,
    /// Why.
    pub reason: String,
}

/// What the warehouse found for one line.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReceivedLine {
    /// The order line.
    pub order_line_id: LineId,
    /// Received.
    pub quantity_received: Decimal,
    /// Accepted at inspection.
    pub quantity_accepted: Decimal,
    /// Rejected at inspection.
    pub quantity_rejected: Decimal,
    /// What was done with the goods.
    pub disposition: Disposition,
}

/// A return as its own resource: with the order it returns.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderReturn {
    /// The order.
    pub order_id: crate::kernel::ids::OrderId,
    /// Its number.
    pub order_number: String,
    /// The return.
    #[serde(flatten)]
    pub rma: Return,
}

fn not_now(rma: &Return, what: &str) -> AppError {
    AppError::conflict(
        ConflictCode::ReturnStatus,
        format!("return {} is {:?}; cannot {what}", rma.return_id, rma.status),
    )
}

impl Order {
    /// How much of a line may still be returned: shipped minus what returns not rejected claim.
    pub fn returnable(&self, line_id: &LineId) -> Decimal {
        let Some(line) = self.line(line_id) else { return Decimal::ZERO };
        let claimed: Decimal = self
            .returns
            .iter()
            .filter(|r| r.status != ReturnStatus::Rejected)
            .flat_map(|r| &r.lines)
            .filter(|l| &l.order_line_id == line_id)
            .map(|l| l.quantity)
            .sum();
        line.shipped - claimed
    }

    /// The return with this id.
    pub fn return_of(&self, return_id: &str) -> Option<&Return> {
        self.returns.iter().find(|r| r.return_id == return_id)
    }

    /// The return with this id, with the order it returns.
    pub fn return_view(&self, return_id: &str) -> Option<OrderReturn> {
        Some(OrderReturn {
            order_id: self.order_id.clone(),
            order_number: self.order_number.clone(),
            rma: self.return_of(return_id)?.clone(),
        })
    }

    fn return_mut(&mut self, return_id: &str) -> Result<&mut Return, AppError> {
        self.returns.iter_mut().find(|r| r.return_id == return_id).ok_or(AppError::NotFound("return"))
    }

    /// The hub that shipped most of a line (where its returns go back).
    fn main_hub_of(&self, line_id: &LineId) -> Option<HubId> {
        let mut by_hub: Vec<(HubId, Decimal)> = Vec::new();
        for shipped in self.shipments.iter().filter(|s| s.is_live()).flat_map(|s| &s.lines) {
            if &shipped.order_line_id != line_id {
                continue;
            }
            match by_hub.iter_mut().find(|(h, _)| *h == shipped.hub_id) {
                Some((_, q)) => *q += shipped.quantity,
                None => by_hub.push((shipped.hub_id.clone(), shipped.quantity)),
            }
        }
        by_hub.into_iter().max_by(|a, b| a.1.cmp(&b.1)).map(|(h, _)| h)
    }

    /// Opens a return for shipped lines. Each quantity must be positive and within what the
    /// line may still return (409 `over_return`); an unknown line is 400.
    pub fn request_return(
        &mut self,
        return_id: String,
        requested: &[ReturnLineRequest],
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<&Return, AppError> {
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
        Ok(self.returns.last().expect("just pushed"))
    }

    /// Approves (the warehouse may expect the goods) or rejects (with a reason) a requested return.
    pub fn decide_return(
        &mut self,
        return_id: &str,
        approve: bool,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<&Return, AppError> {
        let rma = self.return_mut(return_id)?;
        if rma.status != ReturnStatus::Requested {
            return Err(not_now(rma, if approve { "approve it" } else { "reject it" }));
        }
        if approve {
            rma.status = ReturnStatus::Approved;
        } else {
            let reason = reason.ok_or_else(|| AppError::invalid("reason", "a rejection needs a reason"))?;
            rma.status = ReturnStatus::Rejected;
            rma.rejection_reason = Some(non_empty_text("reason", reason, 500)?);
        }
        rma.updated_at = now;
        self.touch(now);
        Ok(self.return_of(return_id).expect("found above"))
    }

    /// Records what the warehouse received and found, once. `None` for a repeated `event_id`.
    /// Accepted goods to restock go back into the hub's free stock; line `returned` grows by
    /// what was accepted; a refund is requested for it. Refused, with nothing applied: a return
    /// not approved (or already received), an unknown line, received ≠ accepted + rejected, and
    /// more than approved.
    pub fn receive_return(
        &mut self,
        return_id: &str,
        event_id: Option<&str>,
        received: &[ReceivedLine],
        now: DateTime<Utc>,
    ) -> Result<Option<Vec<StockMove>>, AppError> {
        if let Some(id) = event_id {
            check_external_id("event_id", id)?;
        }
        check_list("lines", received.len(), MAX_LINES)?;
        let currency = self.currency;
        let rma = self.return_mut(return_id)?;
        if event_id.is_some_and(|id| rma.applied_events.iter().any(|e| e == id)) {
            return Ok(None);
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
        Ok(Some(moves))
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

    /// The refund was paid: the return goes `refunded`.
    pub fn confirm_refund(
        &mut self,
        return_id: &str,
        reference: String,
        now: DateTime<Utc>,
    ) -> Result<&Return, AppError> {
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
        Ok(self.return_of(return_id).expect("found above"))
    }

    /// Closes a return that is settled: refunded, or received with nothing to refund.
    pub fn close_return(&mut self, return_id: &str, now: DateTime<Utc>) -> Result<&Return, AppError> {
        let rma = self.return_mut(return_id)?;
        let settled =
            rma.status == ReturnStatus::Refunded || (rma.status == ReturnStatus::Received && rma.refund.is_none());
        if !settled {
            return Err(not_now(rma, "close it"));
        }
        rma.status = ReturnStatus::Closed;
        rma.updated_at = now;
        self.touch(now);
        Ok(self.return_of(return_id).expect("found above"))
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::kernel::access::Role;
    use crate::kernel::ids::TenantId;
    use crate::order::Allocation;
    use crate::order::shipment::{NewShipment, ShipLine, ShipmentType};
    use crate::order::tests::sample_order;

    fn actor() -> Actor {
        Actor { sub: "m".into(), tenant_id: TenantId::parse("t1").unwrap(), role: Role::SalesManager }
    }

    /// 10 units shipped from H1, unit price `price`, tax 10%.
    fn shipped(price: Decimal, currency: Currency) -> Order {
        let mut order = sample_order(&[("A", dec!(10), price, price)]);
        order.currency = currency;
        order.reprice().unwrap();
        order.status = OrderStatus::Allocated;
        order.lines[0].allocations = vec![Allocation { hub_id: HubId::parse("H1").unwrap(), quantity: dec!(10) }];
        order.lines[0].allocated = dec!(10);
        let line = order.lines[0].line_id.clone();
        let new = NewShipment {
            shipment_id: "S1".into(),
            shipment_type: ShipmentType::Internal,
            carrier: None,
            tracking_number: None,
            fulfillment_request_id: None,
            lines: vec![ShipLine { order_line_id: line, quantity: dec!(10), hub_id: HubId::parse("H1").unwrap() }],
            packages: vec![],
        };
        order.ship(new, &actor(), Utc::now()).unwrap();
        order
    }

    fn ask(order: &Order, quantity: Decimal) -> Vec<ReturnLineRequest> {
        vec![ReturnLineRequest { order_line_id: order.lines[0].line_id.clone(), quantity, reason: "cracked".into() }]
    }

    fn found(order: &Order, accepted: Decimal, rejected: Decimal) -> Vec<ReceivedLine> {
        vec![ReceivedLine {
            order_line_id: order.lines[0].line_id.clone(),
            quantity_received: accepted + rejected,
            quantity_accepted: accepted,
            quantity_rejected: rejected,
            disposition: Disposition::Restock,
        }]
    }

    #[test]
    fn returns_never_claim_more_than_shipped_together() {
        let mut order = shipped(dec!(100), Currency::Vnd);
        order.request_return("R1".into(), &ask(&order, dec!(6)), &actor(), Utc::now()).unwrap();
        let err = order.request_return("R2".into(), &ask(&order, dec!(5)), &actor(), Utc::now()).unwrap_err();
        assert!(matches!(err, AppError::Conflict { code: ConflictCode::OverReturn, .. }), "{err}");
        order.decide_return("R1", false, Some("outside the window".into()), Utc::now()).unwrap();
        order.request_return("R2".into(), &ask(&order, dec!(10)), &actor(), Utc::now()).unwrap();
    }

    #[test]
    fn receiving_restocks_the_accepted_once_and_refunds_them_with_tax() {
        let mut order = shipped(dec!(32000), Currency::Vnd);
        order.request_return("R1".into(), &ask(&order, dec!(4)), &actor(), Utc::now()).unwrap();
        assert!(
            order.receive_return("R1", Some("e1"), &found(&order, dec!(3), dec!(1)), Utc::now()).is_err(),
            "approve first"
        );
        order.decide_return("R1", true, None, Utc::now()).unwrap();
        let too_many = found(&order, dec!(4), dec!(1));
        let err = order.receive_return("R1", Some("e0"), &too_many, Utc::now()).unwrap_err();
        assert!(matches!(err, AppError::Conflict { code: ConflictCode::OverReceipt, .. }), "{err}");
        let moves =
            order.receive_return("R1", Some("e1"), &found(&order, dec!(3), dec!(1)), Utc::now()).unwrap().unwrap();
        assert_eq!(moves, [StockMove::receive(HubId::parse("H1").unwrap(), order.lines[0].sku.clone(), dec!(3))]);
        assert!(
            order.receive_return("R1", Some("e1"), &found(&order, dec!(3), dec!(1)), Utc::now()).unwrap().is_none()
        );
        assert_eq!(order.lines[0].returned, dec!(3));
        let refund = order.return_of("R1").unwrap().refund.clone().unwrap();
        assert_eq!((refund.net, refund.tax, refund.total), (dec!(96000), dec!(9600), dec!(105600)));

        order.confirm_refund("R1", "BANK-77".into(), Utc::now()).unwrap();
        order.close_return("R1", Utc::now()).unwrap();
        assert_eq!(order.return_of("R1").unwrap().status, ReturnStatus::Closed);
    }

    #[test]
    fn usd_refunds_round_to_cents_per_line() {
        let mut order = shipped(dec!(19.99), Currency::Usd);
        order.request_return("R1".into(), &ask(&order, dec!(3)), &actor(), Utc::now()).unwrap();
        order.decide_return("R1", true, None, Utc::now()).unwrap();
        order.receive_return("R1", None, &found(&order, dec!(3), dec!(0)), Utc::now()).unwrap();
        let refund = order.return_of("R1").unwrap().refund.clone().unwrap();
        // 3 × 19.99 = 59.97; tax 5.997 → 6.00.
        assert_eq!((refund.net, refund.tax, refund.total), (dec!(59.97), dec!(6.00), dec!(65.97)));
    }
}
