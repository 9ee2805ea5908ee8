//! The order aggregate: customer snapshot, lines with their running quantities, holds, totals,
//! and the status changes it records. Every mutation goes through a method here, which checks
//! the lifecycle and returns the [`StatusChange`] to store beside the new state.

pub mod fulfillment;
pub mod pricing;
pub mod returns;
pub mod shipment;
pub mod status;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::kernel::access::{Actor, Role};
use crate::kernel::error::{AppError, ConflictCode};
use crate::kernel::ids::{HubId, LineId, OrderId, Sku, TenantId};
use crate::kernel::money::Currency;
use crate::order::pricing::{LineTotals, OrderTotals, PriceInputs, order_totals, price_line};
use crate::order::status::OrderStatus;
use crate::stock::StockMove;

/// How an order may be split and shipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FulfillmentPolicy {
    /// Ship only when everything can ship, from one hub; reserve nothing until then.
    ShipComplete,
    /// Ship what is available now; the rest is backordered.
    #[default]
    ShipPartial,
    /// Hold what is available and wait for the rest before shipping.
    Backorder,
}

/// Who reserves stock for the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AllocationMode {
    /// The placement workflow, on submit.
    #[default]
    Auto,
    /// An admin, line by line, from chosen hubs.
    Manual,
}

/// Where the order goes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Address {
    /// Street and number.
    pub line1: String,
    /// More street detail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    /// City.
    pub city: String,
    /// Province, state or region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
    /// Latitude, when known: used to route to the nearest hub.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    /// Longitude, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
}

/// Who to call about the delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// Contact name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// The customer as they were when the order was taken (a snapshot, not a reference).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Customer {
    /// The customer's id in the CRM.
    pub id: String,
    /// Name.
    pub name: String,
    /// Delivery address.
    pub delivery_address: Address,
    /// Delivery contact.
    #[serde(default)]
    pub contact: Contact,
}

/// Stock reserved for a line at one hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Allocation {
    /// The hub holding the reservation.
    pub hub_id: HubId,
    /// Reserved quantity.
    pub quantity: Decimal,
}

/// One product line of an order, with its running quantities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderLine {
    /// Unique within the order.
    pub line_id: LineId,
    /// The product.
    pub sku: Sku,
    /// The product's name when ordered.
    pub name: String,
    /// Ordered quantity (> 0, at most 3 decimals).
    pub quantity: Decimal,
    /// Unit of measure.
    pub unit: String,
    /// The price the salesperson quoted.
    pub quoted_unit_price: Decimal,
    /// The SKU's list price when the line was created.
    pub list_unit_price: Decimal,
    /// Set when a sales manager approves a below-list price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_unit_price: Option<Decimal>,
    /// Shipping cost per unit.
    pub shipping_unit_cost: Decimal,
    /// The SKU's tax rate when the line was created.
    pub tax_rate: Decimal,
    /// Reservations by hub.
    #[serde(default)]
    pub allocations: Vec<Allocation>,
    /// Sum of `allocations`.
    pub allocated: Decimal,
    /// Waiting for stock.
    pub backordered: Decimal,
    /// Picked by the warehouse.
    pub picked: Decimal,
    /// Packed by the warehouse.
    pub packed: Decimal,
    /// Shipped.
    pub shipped: Decimal,
    /// Delivered to the customer.
    pub delivered: Decimal,
    /// Returned by the customer.
    pub returned: Decimal,
    /// Cancelled.
    pub cancelled: Decimal,
    /// The line's money.
    pub totals: LineTotals,
}

impl OrderLine {
    /// The price that applies: approved, else quoted.
    pub fn unit_price(&self) -> Decimal {
        self.approved_unit_price.unwrap_or(self.quoted_unit_price)
    }

    /// Whether the quote is under list price and needs a sales manager's approval.
    pub fn below_list_price(&self) -> bool {
        self.quoted_unit_price < self.list_unit_price
    }

    /// Quantity neither reserved nor cancelled yet.
    pub fn unallocated(&self) -> Decimal {
        self.quantity - self.allocated - self.cancelled
    }

    fn reprice(&mut self, currency: Currency) -> Result<(), AppError> {
        self.totals = price_line(
            PriceInputs {
                unit_price: self.unit_price(),
                shipping_unit_cost: self.shipping_unit_cost,
                quantity: self.quantity,
                tax_rate: self.tax_rate,
            },
            currency,
        )?;
        Ok(())
    }
}

/// Whether a hold still applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum HoldStatus {
    /// Stops the order from going to a warehouse or shipping.
    Active,
    /// No longer applies.
    Released,
}

/// A hold on an order (`payment_hold`, `fraud`, `manual`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Hold {
    /// `H1`, `H2`, ... within the order.
    pub hold_id: String,
    /// Why, as a code.
    pub code: String,
    /// Why, in words.
    pub reason: String,
    /// Active or released.
    pub status: HoldStatus,
    /// Who placed it.
    pub placed_by: String,
    /// When.
    pub placed_at: DateTime<Utc>,
    /// Who released it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub released_by: Option<String>,
    /// When.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub released_at: Option<DateTime<Utc>>,
}

/// A line whose quote is under list price, as the approver sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PriceComparison {
    /// The line.
    pub line_id: LineId,
    /// Its SKU.
    pub sku: Sku,
    /// The SKU's list price.
    pub list_unit_price: Decimal,
    /// The quote.
    pub quoted_unit_price: Decimal,
    /// quoted - list (negative: a discount).
    pub difference: Decimal,
    /// difference / list x 100, two decimals.
    pub percent: Decimal,
}

/// A sales manager's answer to a price approval request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PriceDecision {
    /// Approved or rejected.
    pub approved: bool,
    /// The approver's notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Who decided.
    pub decided_by: String,
    /// When.
    pub decided_at: DateTime<Utc>,
}

/// A request for a sales manager to approve below-list prices or an order-level discount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PriceApproval {
    /// Who submitted.
    pub requested_by: String,
    /// When.
    pub requested_at: DateTime<Utc>,
    /// The lines under list price.
    pub lines: Vec<PriceComparison>,
    /// The order-level discount to approve, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount: Option<Decimal>,
    /// The answer, once given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<PriceDecision>,
}

/// What cancelling an order did.
#[derive(Debug)]
pub struct Cancellation {
    /// The status change.
    pub change: StatusChange,
    /// Reservations to give back.
    pub released: Vec<StockMove>,
    /// Warehouse requests withdrawn.
    pub withdrawn: Vec<crate::order::fulfillment::FulfillmentRequest>,
}

/// An order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Order {
    /// Owner.
    pub tenant_id: TenantId,
    /// Id (ULID).
    pub order_id: OrderId,
    /// `ORD-YYYYMMDD-NNNN`, unique per tenant.
    pub order_number: String,
    /// Lifecycle status.
    pub status: OrderStatus,
    /// Increments on every change; the optimistic lock.
    pub version: u64,
    /// Customer snapshot.
    pub customer: Customer,
    /// Currency of every amount.
    pub currency: Currency,
    /// How it may be split.
    pub fulfillment_policy: FulfillmentPolicy,
    /// Who allocates.
    pub allocation: AllocationMode,
    /// The customer's own reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_reference: Option<String>,
    /// The sales channel it came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// The channel's id for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_order_id: Option<String>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Order-level discount amount.
    pub discount: Decimal,
    /// Product lines.
    pub lines: Vec<OrderLine>,
    /// Whether an active hold stops it from going to a warehouse.
    pub on_hold: bool,
    /// Holds, active and released.
    #[serde(default)]
    pub holds: Vec<Hold>,
    /// The latest price approval request and its decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_approval: Option<PriceApproval>,
    /// When stock was last reserved for it (reservations of an order on hold expire).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocated_at: Option<DateTime<Utc>>,
    /// Work sent to warehouses, one request per hub.
    #[serde(default)]
    pub fulfillment_requests: Vec<crate::order::fulfillment::FulfillmentRequest>,
    /// Goods on their way, made by warehouses or dispatchers.
    #[serde(default)]
    pub shipments: Vec<crate::order::shipment::Shipment>,
    /// Returns (RMAs) of shipped goods.
    #[serde(default)]
    pub returns: Vec<crate::order::returns::Return>,
    /// Money.
    pub totals: OrderTotals,
    /// `sub` of the creator (sales see only their own).
    pub created_by: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// One entry of an order's status history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusChange {
    /// The order.
    pub order_id: OrderId,
    /// Previous status; none when the order was created.
    pub from: Option<OrderStatus>,
    /// New status.
    pub to: OrderStatus,
    /// Why.
    pub reason: String,
    /// Who (`sub`).
    pub actor: String,
    /// With which role.
    pub role: Role,
    /// When.
    pub at: DateTime<Utc>,
    /// The order's version after the change.
    pub version: u64,
}

impl Order {
    /// Recomputes every line's and the order's totals; refused when they are too large to
    /// compute or the discount exceeds what the order costs.
    pub fn reprice(&mut self) -> Result<(), AppError> {
        for line in &mut self.lines {
            line.reprice(self.currency)?;
        }
        self.totals = order_totals(self.lines.iter().map(|l| &l.totals), self.discount, self.currency)?;
        if self.totals.grand_total < Decimal::ZERO {
            return Err(AppError::invalid("discount", "discount is larger than the order total"));
        }
        Ok(())
    }

    /// Whether a sales manager must approve the prices: a line quoted under its list price, or
    /// any order-level discount (a discount lowers the price as surely as a low quote does).
    pub fn needs_price_approval(&self) -> bool {
        self.lines.iter().any(OrderLine::below_list_price) || self.discount > Decimal::ZERO
    }

    /// The line with this id.
    pub fn line(&self, line_id: &LineId) -> Option<&OrderLine> {
        self.lines.iter().find(|l| &l.line_id == line_id)
    }

    /// The line with this id, mutably.
    pub fn line_mut(&mut self, line_id: &LineId) -> Option<&mut OrderLine> {
        self.lines.iter_mut().find(|l| &l.line_id == line_id)
    }

    /// The history entry of the order's creation.
    pub fn creation_record(&self, actor: &Actor) -> StatusChange {
        StatusChange {
            order_id: self.order_id.clone(),
            from: None,
            to: self.status,
            reason: "order created".into(),
            actor: actor.sub.clone(),
            role: actor.role,
            at: self.created_at,
            version: self.version,
        }
    }

    /// Moves to `to` if the lifecycle allows it, bumping the version; returns the history entry.
    pub fn change_status(
        &mut self,
        to: OrderStatus,
        reason: impl Into<String>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<StatusChange, AppError> {
        let from = self.status;
        self.status =
            from.transition_to(to).map_err(|e| AppError::conflict(ConflictCode::InvalidTransition, e.to_string()))?;
        self.touch(now);
        Ok(StatusChange {
            order_id: self.order_id.clone(),
            from: Some(from),
            to,
            reason: reason.into(),
            actor: actor.sub.clone(),
            role: actor.role,
            at: now,
            version: self.version,
        })
    }

    /// Submits a draft (or a rejected quote): to price approval when any quote is under list
    /// price, else straight to allocation.
    pub fn submit(&mut self, actor: &Actor, now: DateTime<Utc>) -> Result<StatusChange, AppError> {
        if !self.status.lines_editable() {
            return Err(AppError::conflict(
                ConflictCode::InvalidTransition,
                format!("an order in {} cannot be submitted", self.status),
            ));
        }
        if self.needs_price_approval() {
            let lines: Vec<PriceComparison> =
                self.lines.iter().filter(|l| l.below_list_price()).map(price_comparison).collect();
            let discount = (self.discount > Decimal::ZERO).then_some(self.discount);
            let reason = match (lines.is_empty(), discount.is_some()) {
                (false, true) => "quoted price below list price and an order discount",
                (true, true) => "order discount",
                _ => "quoted price below list price",
            };
            self.price_approval = Some(PriceApproval {
                requested_by: actor.sub.clone(),
                requested_at: now,
                lines,
                discount,
                decision: None,
            });
            self.change_status(OrderStatus::PendingPriceApproval, reason, actor, now)
        } else {
            self.change_status(OrderStatus::PendingAllocation, "submitted", actor, now)
        }
    }

    /// A sales manager's decision on the pending price approval: approved quotes become the
    /// lines' approved prices and the order goes on to allocation; rejected, it goes back to the
    /// salesperson (`PRICE_REJECTED`, editable). Nobody decides on an order they created or
    /// submitted (403): the four-eyes rule that makes the approval worth having.
    pub fn decide_price(
        &mut self,
        approved: bool,
        notes: Option<String>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<StatusChange, AppError> {
        if self.status != OrderStatus::PendingPriceApproval {
            return Err(AppError::conflict(
                ConflictCode::InvalidTransition,
                format!("an order in {} has no price to approve", self.status),
            ));
        }
        let submitted_by = self.price_approval.as_ref().map(|a| a.requested_by.as_str());
        if actor.sub == self.created_by || Some(actor.sub.as_str()) == submitted_by {
            return Err(AppError::Forbidden("nobody approves the prices of an order they created or submitted".into()));
        }
        let to = if approved {
            for line in self.lines.iter_mut().filter(|l| l.below_list_price()) {
                line.approved_unit_price = Some(line.quoted_unit_price);
            }
            self.reprice()?;
            OrderStatus::PendingAllocation
        } else {
            OrderStatus::PriceRejected
        };
        let reason = match (&notes, approved) {
            (Some(n), true) => format!("price approved: {n}"),
            (Some(n), false) => format!("price rejected: {n}"),
            (None, true) => "price approved".to_owned(),
            (None, false) => "price rejected".to_owned(),
        };
        if let Some(approval) = &mut self.price_approval {
            approval.decision = Some(PriceDecision { approved, notes, decided_by: actor.sub.clone(), decided_at: now });
        }
        self.change_status(to, reason, actor, now)
    }

    /// Cancels the order (only before anything shipped), giving back every reservation and
    /// withdrawing open warehouse requests. The caller commits the stock releases with the change.
    pub fn cancel(&mut self, reason: &str, actor: &Actor, now: DateTime<Utc>) -> Result<Cancellation, AppError> {
        if self.anything_shipped() || !self.status.can_transition_to(OrderStatus::Cancelled) {
            return Err(AppError::conflict(
                ConflictCode::NotCancellable,
                format!("an order in {} cannot be cancelled", self.status),
            ));
        }
        let released = self.release_allocations();
        let withdrawn = self.cancel_open_fulfillment();
        for line in &mut self.lines {
            line.cancelled = line.quantity - line.shipped;
            line.backordered = Decimal::ZERO;
        }
        let change = self.change_status(OrderStatus::Cancelled, format!("cancelled: {reason}"), actor, now)?;
        Ok(Cancellation { change, released, withdrawn })
    }

    /// Takes every reservation off the lines and returns what to give back to stock.
    pub fn release_allocations(&mut self) -> Vec<StockMove> {
        let mut releases = Vec::new();
        for line in &mut self.lines {
            for allocation in line.allocations.drain(..) {
                releases.push(StockMove::release(allocation.hub_id, line.sku.clone(), allocation.quantity));
            }
            line.allocated = Decimal::ZERO;
        }
        self.allocated_at = None;
        releases
    }

    /// Places a hold. Refused once the order is finished or fully shipped, and for a code that
    /// already has an active hold.
    pub fn place_hold(
        &mut self,
        code: &str,
        reason: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<&Hold, AppError> {
        use OrderStatus::*;
        if matches!(self.status, Shipped | InTransit | Delivered | Completed | Cancelled) {
            return Err(AppError::conflict(
                ConflictCode::NotHoldable,
                format!("an order in {} cannot be put on hold", self.status),
            ));
        }
        if self.holds.iter().any(|h| h.code == code && h.status == HoldStatus::Active) {
            return Err(AppError::conflict(
                ConflictCode::HoldExists,
                format!("the order already has an active {code} hold"),
            ));
        }
        crate::kernel::limits::check_room(
            ConflictCode::TooManyHolds,
            "holds",
            self.holds.len(),
            crate::kernel::limits::MAX_HOLDS,
        )?;
        self.holds.push(Hold {
            hold_id: format!("H{}", self.holds.len() + 1),
            code: code.to_owned(),
            reason: reason.to_owned(),
            status: HoldStatus::Active,
            placed_by: actor.sub.clone(),
            placed_at: now,
            released_by: None,
            released_at: None,
        });
        self.on_hold = true;
        self.touch(now);
        Ok(self.holds.last().expect("just pushed"))
    }

    /// Releases an active hold; the order is off hold when none is left.
    pub fn release_hold(&mut self, hold_id: &str, actor: &Actor, now: DateTime<Utc>) -> Result<&Hold, AppError> {
        let index = self.holds.iter().position(|h| h.hold_id == hold_id).ok_or(AppError::NotFound("hold"))?;
        let hold = &mut self.holds[index];
        if hold.status != HoldStatus::Active {
            return Err(AppError::conflict(ConflictCode::HoldReleased, format!("hold {hold_id} is already released")));
        }
        hold.status = HoldStatus::Released;
        hold.released_by = Some(actor.sub.clone());
        hold.released_at = Some(now);
        self.on_hold = self.holds.iter().any(|h| h.status == HoldStatus::Active);
        self.touch(now);
        Ok(&self.holds[index])
    }

    /// Gives back the reservations of an allocated order that has been on hold longer than
    /// `timeout` since its stock was reserved: back to `PENDING_ALLOCATION`, to be placed again
    /// when the hold is released. `None` when that does not apply (released meanwhile, sent on,
    /// not yet due).
    pub fn expire_reservation(
        &mut self,
        timeout: chrono::Duration,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Option<(StatusChange, Vec<StockMove>)>, AppError> {
        let due = self.allocated_at.is_some_and(|at| at + timeout <= now);
        if self.status != OrderStatus::Allocated || !self.on_hold || !due {
            return Ok(None);
        }
        let released = self.release_allocations();
        for line in &mut self.lines {
            line.backordered = Decimal::ZERO;
        }
        let minutes = timeout.num_minutes();
        let reason =
            format!("reservation released after {minutes} min on hold; placed again when the hold is released");
        let change = self.change_status(OrderStatus::PendingAllocation, reason, actor, now)?;
        Ok(Some((change, released)))
    }

    /// Whether anything has shipped (after which the delivery details are fixed).
    pub fn anything_shipped(&self) -> bool {
        self.lines.iter().any(|l| l.shipped > Decimal::ZERO)
    }

    /// Records a change that is not a status change: bumps the version and the timestamp.
    pub fn touch(&mut self, now: DateTime<Utc>) {
        self.version += 1;
        self.updated_at = now;
    }

    /// Whether placement should run for it now.
    pub fn awaits_automatic_placement(&self) -> bool {
        self.status.awaits_allocation() && self.allocation == AllocationMode::Auto
    }
}

fn price_comparison(line: &OrderLine) -> PriceComparison {
    let difference = line.quoted_unit_price - line.list_unit_price;
    let percent = if line.list_unit_price.is_zero() {
        Decimal::ZERO
    } else {
        (difference / line.list_unit_price * Decimal::ONE_HUNDRED)
            .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
    };
    PriceComparison {
        line_id: line.line_id.clone(),
        sku: line.sku.clone(),
        list_unit_price: line.list_unit_price,
        quoted_unit_price: line.quoted_unit_price,
        difference,
        percent,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    pub(crate) fn sample_order(lines: &[(&str, Decimal, Decimal, Decimal)]) -> Order {
        let now = Utc::now();
        let mut order = Order {
            tenant_id: TenantId::parse("t1").unwrap(),
            order_id: OrderId::generate(),
            order_number: "ORD-20261122-0001".into(),
            status: OrderStatus::Draft,
            version: 1,
            customer: Customer {
                id: "C1".into(),
                name: "ABC".into(),
                delivery_address: Address {
                    line1: "1 Main".into(),
                    line2: None,
                    city: "HCM".into(),
                    region: None,
                    postal_code: None,
                    country: "VN".into(),
                    lat: Some(10.77),
                    lon: Some(106.7),
                },
                contact: Contact::default(),
            },
            currency: Currency::Vnd,
            fulfillment_policy: FulfillmentPolicy::ShipPartial,
            allocation: AllocationMode::Auto,
            external_reference: None,
            channel: None,
            channel_order_id: None,
            notes: None,
            discount: Decimal::ZERO,
            lines: lines
                .iter()
                .enumerate()
                .map(|(i, (sku, qty, quoted, list))| OrderLine {
                    line_id: LineId::for_position(i),
                    sku: Sku::parse(*sku).unwrap(),
                    name: sku.to_string(),
                    quantity: *qty,
                    unit: "KG".into(),
                    quoted_unit_price: *quoted,
                    list_unit_price: *list,
                    approved_unit_price: None,
                    shipping_unit_cost: Decimal::ZERO,
                    tax_rate: dec!(0.10),
                    allocations: vec![],
                    allocated: Decimal::ZERO,
                    backordered: Decimal::ZERO,
                    picked: Decimal::ZERO,
                    packed: Decimal::ZERO,
                    shipped: Decimal::ZERO,
                    delivered: Decimal::ZERO,
                    returned: Decimal::ZERO,
                    cancelled: Decimal::ZERO,
                    totals: LineTotals::default(),
                })
                .collect(),
            on_hold: false,
            holds: vec![],
            price_approval: None,
            fulfillment_requests: vec![],
            shipments: vec![],
            returns: vec![],
            allocated_at: None,
            totals: OrderTotals::default(),
            created_by: "u1".into(),
            created_at: now,
            updated_at: now,
        };
        order.reprice().unwrap();
        order
    }

    fn sales() -> Actor {
        Actor { sub: "u1".into(), tenant_id: TenantId::parse("t1").unwrap(), role: Role::Sales }
    }

    #[test]
    fn submit_goes_to_price_approval_only_when_a_quote_is_under_list() {
        let mut at_list = sample_order(&[("A", dec!(1), dec!(100), dec!(100))]);
        let change = at_list.submit(&sales(), Utc::now()).unwrap();
        assert_eq!(
            (change.from, change.to, at_list.version),
            (Some(OrderStatus::Draft), OrderStatus::PendingAllocation, 2)
        );

        let mut under = sample_order(&[("A", dec!(1), dec!(100), dec!(100)), ("B", dec!(1), dec!(99), dec!(100))]);
        under.submit(&sales(), Utc::now()).unwrap();
        assert_eq!(under.status, OrderStatus::PendingPriceApproval);

        let mut discounted = sample_order(&[("A", dec!(1), dec!(100), dec!(100))]);
        discounted.discount = dec!(5);
        discounted.reprice().unwrap();
        let change = discounted.submit(&sales(), Utc::now()).unwrap();
        assert_eq!((change.to, change.reason.as_str()), (OrderStatus::PendingPriceApproval, "order discount"));
        let approval = discounted.price_approval.as_ref().unwrap();
        assert_eq!((approval.discount, approval.lines.len()), (Some(dec!(5)), 0));
    }

    #[test]
    fn nobody_approves_the_prices_of_an_order_they_created_or_submitted() {
        let tenant = TenantId::parse("t1").unwrap();
        let manager = |sub: &str| Actor { sub: sub.into(), tenant_id: tenant.clone(), role: Role::SalesManager };
        // Created by u1 (sample_order), submitted by m1.
        let mut order = sample_order(&[("A", dec!(1), dec!(90), dec!(100))]);
        order.submit(&manager("m1"), Utc::now()).unwrap();
        let before = order.clone();
        for who in ["u1", "m1"] {
            let refused = order.decide_price(true, None, &manager(who), Utc::now());
            assert!(matches!(refused, Err(AppError::Forbidden(_))), "{who}: {refused:?}");
            assert_eq!(order, before, "a refused decision changes nothing");
        }
        let change = order.decide_price(true, None, &manager("m2"), Utc::now()).unwrap();
        assert_eq!(change.to, OrderStatus::PendingAllocation);
    }

    #[test]
    fn a_submitted_order_cannot_be_submitted_again_and_stays_unchanged() {
        let mut order = sample_order(&[("A", dec!(1), dec!(100), dec!(100))]);
        order.submit(&sales(), Utc::now()).unwrap();
        let before = order.clone();
        assert!(matches!(order.submit(&sales(), Utc::now()), Err(AppError::Conflict { .. })));
        assert_eq!(order, before);
    }

    #[test]
    fn reprice_uses_the_approved_price_when_there_is_one() {
        let mut order = sample_order(&[("A", dec!(2), dec!(90), dec!(100))]);
        assert_eq!(order.totals.products, dec!(180));
        order.lines[0].approved_unit_price = Some(dec!(95));
        order.reprice().unwrap();
        assert_eq!(
            (order.totals.products, order.totals.tax, order.totals.grand_total),
            (dec!(190), dec!(19), dec!(209))
        );
    }
}

#[cfg(test)]
mod expiry_tests {
    use chrono::Duration;
    use rust_decimal_macros::dec;

    use super::tests::sample_order;
    use super::*;

    #[test]
    fn a_held_reservation_expires_only_when_due() {
        let admin = Actor { sub: "a".into(), tenant_id: TenantId::parse("t1").unwrap(), role: Role::Admin };
        let mut order = sample_order(&[("A", dec!(4), dec!(1), dec!(1))]);
        let reserved_at = Utc::now();
        order.status = OrderStatus::Allocated;
        order.allocated_at = Some(reserved_at);
        order.lines[0].allocations = vec![Allocation { hub_id: HubId::parse("H").unwrap(), quantity: dec!(4) }];
        order.lines[0].allocated = dec!(4);
        let timeout = Duration::minutes(15);

        assert!(
            order.expire_reservation(timeout, &admin, reserved_at + Duration::minutes(16)).unwrap().is_none(),
            "not held"
        );
        order.place_hold("payment_hold", "deposit", &admin, reserved_at).unwrap();
        assert!(
            order.expire_reservation(timeout, &admin, reserved_at + Duration::minutes(14)).unwrap().is_none(),
            "not due"
        );
        let (change, released) =
            order.expire_reservation(timeout, &admin, reserved_at + Duration::minutes(16)).unwrap().unwrap();
        assert_eq!((change.from, change.to), (Some(OrderStatus::Allocated), OrderStatus::PendingAllocation));
        assert!(change.reason.contains("on hold"));
        assert_eq!(released, vec![StockMove::release(HubId::parse("H").unwrap(), Sku::parse("A").unwrap(), dec!(4))]);
        assert_eq!((order.lines[0].allocated, order.allocated_at), (dec!(0), None));
    }
}
