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
//!
//! The commands are in their own files, each with what it emits: `request_return.rs`,
//! `decide_return.rs` (approve, reject), `receive_return.rs`, `confirm_refund.rs`,
//! `close_return.rs`.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::kernel::error::{AppError, ConflictCode};
use crate::kernel::ids::{HubId, LineId, Sku};
use crate::kernel::money::Currency;
use crate::order::Order;

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

pub(super) fn not_now(rma: &Return, what: &str) -> AppError {
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

    pub(super) fn return_mut(&mut self, return_id: &str) -> Result<&mut Return, AppError> {
        self.returns.iter_mut().find(|r| r.return_id == return_id).ok_or(AppError::NotFound("return"))
    }

    /// The hub that shipped most of a line (where its returns go back).
    pub(super) fn main_hub_of(&self, line_id: &LineId) -> Option<HubId> {
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
}

/// Returns in each state, for the commands' tests: made by the commands themselves, from an
/// order shipped through the use cases.
#[cfg(test)]
pub(super) mod given_returns {
    use chrono::Utc;
    use rust_decimal::Decimal;
    use rust_decimal_macros::dec;

    use super::{Disposition, ReceivedLine, ReturnLineRequest};
    use crate::kernel::access::Role;
    use crate::kernel::ids::{LineId, TenantId};
    use crate::memory::MemoryStore;
    use crate::memory::fixtures::shipped_order;
    use crate::order::Order;
    use crate::order::testing::{actor, given};

    /// 10 KG of `PP-H1` (`L1`, 32,000 VND, tax 10%) shipped whole from `H1`: `SHIPPED`.
    pub(crate) async fn shipped() -> Order {
        let tenant = TenantId::parse("t1").unwrap();
        let store = MemoryStore::with_catalog(&tenant, "H1", "PP-H1", dec!(100)).await;
        shipped_order(&store, &tenant, "H1", "PP-H1", "10").await
    }

    /// `quantity` of `L1`, cracked.
    pub(crate) fn ask(quantity: Decimal) -> Vec<ReturnLineRequest> {
        vec![ReturnLineRequest { order_line_id: LineId::parse("L1").unwrap(), quantity, reason: "cracked".into() }]
    }

    /// What the warehouse found of `L1`.
    pub(crate) fn found(accepted: Decimal, rejected: Decimal, disposition: Disposition) -> Vec<ReceivedLine> {
        vec![ReceivedLine {
            order_line_id: LineId::parse("L1").unwrap(),
            quantity_received: accepted + rejected,
            quantity_accepted: accepted,
            quantity_rejected: rejected,
            disposition,
        }]
    }

    /// `order` with return `R1` of `quantity` requested.
    pub(crate) fn requested(order: Order, quantity: Decimal) -> Order {
        let sales = actor(&order, Role::Sales);
        given(order).when(|o| o.request_return("R1".into(), &ask(quantity), &sales, Utc::now())).into_order()
    }

    /// `order` with return `R1` of `quantity` approved.
    pub(crate) fn approved(order: Order, quantity: Decimal) -> Order {
        given(requested(order, quantity)).when(|o| o.approve_return("R1", Utc::now())).into_order()
    }

    /// `order` with return `R1` of 4 received: 3 accepted and restocked, 1 rejected.
    pub(crate) fn received(order: Order) -> Order {
        let found = found(dec!(3), dec!(1), Disposition::Restock);
        given(approved(order, dec!(4))).when(|o| o.receive_return("R1", Some("e1"), &found, Utc::now())).into_order()
    }
}
