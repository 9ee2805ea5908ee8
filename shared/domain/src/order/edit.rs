//! Edit: change an order's details in place (`PATCH`, with the version the editor saw). What
//! may change depends on how far the order got: the lines and what they cost (lines, discount,
//! fulfillment policy, allocation mode, the customer's name) only while the lines are editable
//! (`DRAFT`, `PRICE_REJECTED`); the delivery details (address, contact, notes, external
//! reference) until something shipped or the order closed. The order is repriced with the
//! change. Values come validated (see [`OrderEdit`]); the rules are the aggregate's.
//!
//! Emits `OrderModified` with the names of the fields changed.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::events::DomainEvent;
use crate::kernel::error::{AppError, ConflictCode};
use crate::order::status::OrderStatus;
use crate::order::{Address, AllocationMode, Change, Contact, FulfillmentPolicy, Order, OrderLine};

/// Fields that change what the order costs or how it is allocated, in the order the rule names
/// the first one refused.
const PRICING_FIELDS: [&str; 5] = ["lines", "fulfillment_policy", "allocation", "discount", "customer.name"];
/// Fields of the delivery, likewise.
const DELIVERY_FIELDS: [&str; 4] = ["customer.delivery_address", "customer.contact", "notes", "external_reference"];

/// The validated new values of an edit; a field left `None` stays as it is.
#[derive(Debug, Clone, Default)]
pub struct OrderEdit {
    /// Every line, replaced (built against the catalog; repriced with the order).
    pub lines: Option<Vec<OrderLine>>,
    /// The customer's name.
    pub customer_name: Option<String>,
    /// The delivery address.
    pub delivery_address: Option<Address>,
    /// The delivery contact.
    pub contact: Option<Contact>,
    /// How the order may be split.
    pub fulfillment_policy: Option<FulfillmentPolicy>,
    /// Who allocates.
    pub allocation: Option<AllocationMode>,
    /// The order-level discount.
    pub discount: Option<Decimal>,
    /// The notes (`Some(None)` clears them).
    pub notes: Option<Option<String>>,
    /// The customer's reference (`Some(None)` clears it).
    pub external_reference: Option<Option<String>>,
}

impl OrderEdit {
    /// The JSON paths of the fields it changes, in the order `OrderModified` lists them.
    pub fn fields(&self) -> Vec<&'static str> {
        [
            ("lines", self.lines.is_some()),
            ("customer.name", self.customer_name.is_some()),
            ("customer.delivery_address", self.delivery_address.is_some()),
            ("customer.contact", self.contact.is_some()),
            ("fulfillment_policy", self.fulfillment_policy.is_some()),
            ("allocation", self.allocation.is_some()),
            ("discount", self.discount.is_some()),
            ("notes", self.notes.is_some()),
            ("external_reference", self.external_reference.is_some()),
        ]
        .into_iter()
        .filter_map(|(field, present)| present.then_some(field))
        .collect()
    }
}

impl Order {
    /// Whether the status still lets these fields (JSON paths) change: 409 `not_editable`
    /// naming the first that may not. Checked before the values are validated, so a request the
    /// order could never take is refused as such.
    pub fn check_editable(&self, fields: &[&str]) -> Result<(), AppError> {
        if let Some(field) = PRICING_FIELDS.iter().find(|f| fields.contains(f))
            && !self.status.lines_editable()
        {
            return Err(AppError::conflict(
                ConflictCode::NotEditable,
                format!("{field} cannot change once the order is {}", self.status),
            ));
        }
        if let Some(field) = DELIVERY_FIELDS.iter().find(|f| fields.contains(f))
            && (self.anything_shipped() || matches!(self.status, OrderStatus::Cancelled | OrderStatus::Completed))
        {
            return Err(AppError::conflict(
                ConflictCode::NotEditable,
                format!("{field} cannot change once the order has shipped or closed"),
            ));
        }
        Ok(())
    }

    /// Applies an edit and reprices: 409 `not_editable` (see [`Self::check_editable`]), 400 for
    /// an empty edit or a discount larger than the order total. A refused edit changes nothing.
    pub fn edit(&mut self, edit: OrderEdit, now: DateTime<Utc>) -> Result<Change, AppError> {
        let fields = edit.fields();
        self.check_editable(&fields)?;
        if fields.is_empty() {
            return Err(AppError::invalid("body", "nothing to change"));
        }
        // Applied to a copy: repricing may refuse the result, and then nothing changed.
        let mut edited = self.clone();
        if let Some(lines) = edit.lines {
            edited.lines = lines;
        }
        if let Some(name) = edit.customer_name {
            edited.customer.name = name;
        }
        if let Some(address) = edit.delivery_address {
            edited.customer.delivery_address = address;
        }
        if let Some(contact) = edit.contact {
            edited.customer.contact = contact;
        }
        if let Some(policy) = edit.fulfillment_policy {
            edited.fulfillment_policy = policy;
        }
        if let Some(mode) = edit.allocation {
            edited.allocation = mode;
        }
        if let Some(discount) = edit.discount {
            edited.discount = discount;
        }
        if let Some(notes) = edit.notes {
            edited.notes = notes;
        }
        if let Some(reference) = edit.external_reference {
            edited.external_reference = reference;
        }
        edited.reprice()?;
        edited.touch(now);
        *self = edited;
        let mut change = Change::none();
        change.emit(DomainEvent::order_modified(self, &fields));
        Ok(change)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use rust_decimal_macros::dec;
    use serde_json::json;

    use super::OrderEdit;
    use crate::kernel::error::{AppError, ConflictCode};
    use crate::kernel::ids::TenantId;
    use crate::memory::MemoryStore;
    use crate::memory::fixtures::{placement_order, sample_store, shipped_order};
    use crate::order::status::OrderStatus;
    use crate::order::testing::given;
    use crate::order::tests::sample_order;
    use crate::order::{Contact, FulfillmentPolicy};

    #[test]
    fn a_draft_changes_its_terms_and_is_repriced() {
        let order = sample_order(&[("A", dec!(2), dec!(100), dec!(100))]);
        let edit = OrderEdit {
            discount: Some(dec!(20)),
            fulfillment_policy: Some(FulfillmentPolicy::ShipComplete),
            notes: Some(Some("call first".into())),
            ..OrderEdit::default()
        };
        given(order)
            .when(|o| o.edit(edit, Utc::now()))
            .then_status(OrderStatus::Draft)
            .then_records(&[])
            .then_emits(&["OrderModified"])
            .then_event("OrderModified", json!({"fields": ["fulfillment_policy", "discount", "notes"]}))
            .then_order(|o| {
                assert_eq!((o.version, o.totals.grand_total), (2, dec!(200)));
                assert_eq!(o.notes.as_deref(), Some("call first"));
            });
    }

    #[tokio::test]
    async fn once_submitted_only_the_delivery_details_change() {
        let store = sample_store(dec!(1000)).await;
        let order = placement_order(&store).await;
        let contact = Contact { phone: Some("0900".into()), ..Contact::default() };
        let delivery = OrderEdit { contact: Some(contact.clone()), ..OrderEdit::default() };
        let submitted = given(order)
            .when(|o| o.edit(delivery, Utc::now()))
            .then_emits(&["OrderModified"])
            .then_event("OrderModified", json!({"fields": ["customer.contact"]}))
            .then_order(|o| assert_eq!(o.customer.contact, contact))
            .into_order();
        given(submitted)
            .when(|o| o.edit(OrderEdit { discount: Some(dec!(1)), ..OrderEdit::default() }, Utc::now()))
            .then_refused(
                |e| matches!(e, AppError::Conflict { code: ConflictCode::NotEditable, message } if message.contains("discount")),
            );
    }

    #[tokio::test]
    async fn nothing_changes_once_shipped() {
        let tenant = TenantId::parse("t1").unwrap();
        let store = MemoryStore::with_catalog(&tenant, "HCM-01", "PP-001", dec!(100)).await;
        let order = shipped_order(&store, &tenant, "HCM-01", "PP-001", "10").await;
        given(order)
            .when(|o| o.edit(OrderEdit { notes: Some(None), ..OrderEdit::default() }, Utc::now()))
            .then_refused(|e| matches!(e, AppError::Conflict { code: ConflictCode::NotEditable, .. }));
    }

    #[test]
    fn an_edit_the_order_cannot_price_changes_nothing() {
        let order = sample_order(&[("A", dec!(1), dec!(100), dec!(100))]);
        given(order.clone())
            .when(|o| o.edit(OrderEdit { discount: Some(dec!(1000)), ..OrderEdit::default() }, Utc::now()))
            .then_refused(|e| matches!(e, AppError::Invalid { .. }));
        given(order)
            .when(|o| o.edit(OrderEdit::default(), Utc::now()))
            .then_refused(|e| matches!(e, AppError::Invalid { .. }));
    }
}
