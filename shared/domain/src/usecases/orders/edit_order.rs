//! `PATCH /v1/orders/{id}`: change an order's lines and terms (while they are editable), customer and notes.

use crate::kernel::access::{Action, Actor};
use crate::kernel::error::{AppError, ConflictCode};
use crate::kernel::ids::OrderId;
use crate::order::{Address, AllocationMode, Contact, FulfillmentPolicy, Order, OrderEdit};
use crate::ports::{CatalogStore, OrderStore, StockStore};
use crate::usecases::orders::{
    LineRequest, build_lines, catalog_for, discount, get_order, optional_text, validated_address, validated_contact,
    validated_lines,
};
use crate::usecases::unit_of_work::{commit, load_for};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;

/// The customer fields `PATCH` may change.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CustomerPatch {
    /// Name (only while lines are editable).
    pub name: Option<String>,
    /// Delivery address (until something shipped).
    pub delivery_address: Option<Address>,
    /// Delivery contact (until something shipped).
    pub contact: Option<Contact>,
}

/// The body of `PATCH /orders/{id}`: the fields present are replaced.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OrderPatch {
    /// Replaces every line (only in DRAFT / PRICE_REJECTED).
    pub lines: Option<Vec<LineRequest>>,
    /// Customer details.
    pub customer: Option<CustomerPatch>,
    /// Only while lines are editable.
    pub fulfillment_policy: Option<FulfillmentPolicy>,
    /// Only while lines are editable.
    pub allocation: Option<AllocationMode>,
    /// Only while lines are editable.
    pub discount: Option<Decimal>,
    /// Until something shipped; an empty string clears them.
    pub notes: Option<String>,
    /// Until something shipped; an empty string clears it.
    pub external_reference: Option<String>,
}

impl OrderPatch {
    /// The JSON paths of the fields present.
    fn fields(&self) -> Vec<&'static str> {
        let customer = self.customer.as_ref();
        [
            ("lines", self.lines.is_some()),
            ("customer.name", customer.is_some_and(|c| c.name.is_some())),
            ("customer.delivery_address", customer.is_some_and(|c| c.delivery_address.is_some())),
            ("customer.contact", customer.is_some_and(|c| c.contact.is_some())),
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

/// `PATCH /orders/{id}` with `If-Match: <version>`: 412 when the version is stale; then
/// [`Order::edit`] (409 for a field the status no longer lets change, checked before the values
/// are validated) with the patch's values validated and its lines built against the catalog.
pub async fn edit_order<S: OrderStore + CatalogStore + StockStore>(
    store: &S,
    actor: &Actor,
    id: &OrderId,
    if_match: u64,
    patch: OrderPatch,
    now: DateTime<Utc>,
) -> Result<Order, AppError> {
    let mut order = load_for(store, actor, id, Action::CreateOrder).await?;
    if order.version != if_match {
        return Err(AppError::PreconditionFailed { expected: if_match, current: order.version });
    }
    order.check_editable(&patch.fields())?;
    let edit = validated_edit(store, actor, &order, patch).await?;
    let change = order.edit(edit, now)?;
    match commit(store, actor, None, order, Some(if_match), change, now).await {
        Ok(changed) => Ok(changed.order),
        // Someone else changed it between our read and write: the caller's version is stale.
        Err(AppError::Conflict { code: ConflictCode::ConcurrentUpdate, .. }) => {
            let current = get_order(store, actor, id).await?.version;
            Err(AppError::PreconditionFailed { expected: if_match, current })
        }
        Err(other) => Err(other),
    }
}

/// The patch's values, trimmed and checked in the order of its fields (the first invalid one
/// is reported); lines are built against the catalog in the order's currency.
async fn validated_edit<S: CatalogStore>(
    store: &S,
    actor: &Actor,
    order: &Order,
    patch: OrderPatch,
) -> Result<OrderEdit, AppError> {
    let mut edit = OrderEdit::default();
    if let Some(lines) = patch.lines {
        let lines = validated_lines(lines)?;
        let catalog = catalog_for(store, &actor.tenant_id, &lines).await?;
        edit.lines = Some(build_lines(lines, order.currency, &catalog)?);
    }
    if let Some(customer) = patch.customer {
        edit.customer_name =
            customer.name.map(|name| crate::kernel::text::non_empty_text("customer.name", name, 200)).transpose()?;
        edit.delivery_address = customer
            .delivery_address
            .map(|address| validated_address(address, "customer.delivery_address"))
            .transpose()?;
        edit.contact = customer.contact.map(|contact| validated_contact(contact, "customer.contact")).transpose()?;
    }
    edit.fulfillment_policy = patch.fulfillment_policy;
    edit.allocation = patch.allocation;
    edit.discount = patch.discount.map(|amount| discount(amount, order.currency)).transpose()?;
    edit.notes = patch
        .notes
        .map(|notes| optional_text("notes", Some(notes).filter(|n| !n.trim().is_empty()), 2000))
        .transpose()?;
    edit.external_reference = patch
        .external_reference
        .map(|reference| optional_text("external_reference", Some(reference).filter(|r| !r.trim().is_empty()), 100))
        .transpose()?;
    Ok(edit)
}
