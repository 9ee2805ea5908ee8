//! `PATCH /v1/orders/{id}`: change an order's lines and terms (while they are editable), customer and notes.

use crate::events::DomainEvent;
use crate::kernel::access::{Action, Actor};
use crate::kernel::error::{AppError, ConflictCode};
use crate::kernel::ids::OrderId;
use crate::order::status::OrderStatus;
use crate::order::{Address, AllocationMode, Contact, FulfillmentPolicy, Order};
use crate::ports::{OrderWrite, Store};
use crate::usecases::orders::{
    LineRequest, build_lines, catalog_for, discount, get_order, optional_text, validated_address, validated_contact,
    validated_lines,
};
use crate::usecases::unit_of_work::{commit, load_for, order_event};
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

/// `PATCH /orders/{id}` with `If-Match: <version>`: 412 when the version is stale, 409 for a
/// field the status no longer lets change.
pub async fn edit_order<S: Store>(
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
    let mut changed: Vec<&str> = Vec::new();
    let pricing_fields = [
        ("lines", patch.lines.is_some()),
        ("fulfillment_policy", patch.fulfillment_policy.is_some()),
        ("allocation", patch.allocation.is_some()),
        ("discount", patch.discount.is_some()),
        ("customer.name", patch.customer.as_ref().is_some_and(|c| c.name.is_some())),
    ];
    if let Some((field, _)) = pricing_fields.iter().find(|(_, present)| *present)
        && !order.status.lines_editable()
    {
        return Err(AppError::conflict(
            ConflictCode::NotEditable,
            format!("{field} cannot change once the order is {}", order.status),
        ));
    }
    let delivery_fields = [
        ("customer.delivery_address", patch.customer.as_ref().is_some_and(|c| c.delivery_address.is_some())),
        ("customer.contact", patch.customer.as_ref().is_some_and(|c| c.contact.is_some())),
        ("notes", patch.notes.is_some()),
        ("external_reference", patch.external_reference.is_some()),
    ];
    if let Some((field, _)) = delivery_fields.iter().find(|(_, present)| *present)
        && (order.anything_shipped() || matches!(order.status, OrderStatus::Cancelled | OrderStatus::Completed))
    {
        return Err(AppError::conflict(
            ConflictCode::NotEditable,
            format!("{field} cannot change once the order has shipped or closed"),
        ));
    }

    if let Some(lines) = patch.lines {
        let lines = validated_lines(lines)?;
        let catalog = catalog_for(store, &actor.tenant_id, &lines).await?;
        order.lines = build_lines(lines, order.currency, &catalog)?;
        changed.push("lines");
    }
    if let Some(customer) = patch.customer {
        if let Some(name) = customer.name {
            order.customer.name = crate::kernel::text::non_empty_text("customer.name", name, 200)?;
            changed.push("customer.name");
        }
        if let Some(address) = customer.delivery_address {
            order.customer.delivery_address = validated_address(address, "customer.delivery_address")?;
            changed.push("customer.delivery_address");
        }
        if let Some(contact) = customer.contact {
            order.customer.contact = validated_contact(contact, "customer.contact")?;
            changed.push("customer.contact");
        }
    }
    if let Some(policy) = patch.fulfillment_policy {
        order.fulfillment_policy = policy;
        changed.push("fulfillment_policy");
    }
    if let Some(mode) = patch.allocation {
        order.allocation = mode;
        changed.push("allocation");
    }
    if let Some(amount) = patch.discount {
        order.discount = discount(amount, order.currency)?;
        changed.push("discount");
    }
    if let Some(notes) = patch.notes {
        order.notes = optional_text("notes", Some(notes).filter(|n| !n.trim().is_empty()), 2000)?;
        changed.push("notes");
    }
    if let Some(reference) = patch.external_reference {
        order.external_reference =
            optional_text("external_reference", Some(reference).filter(|r| !r.trim().is_empty()), 100)?;
        changed.push("external_reference");
    }
    if changed.is_empty() {
        return Err(AppError::invalid("body", "nothing to change"));
    }
    order.reprice()?;
    order.touch(now);
    let modified = DomainEvent::order_modified(&order, &changed);
    let outbox = vec![order_event(&order, now, modified)];
    match commit(store, actor, None, OrderWrite::update(order, if_match, vec![], outbox), &[], now).await {
        Ok(changed) => Ok(changed.order),
        // Someone else changed it between our read and write: the caller's version is stale.
        Err(AppError::Conflict { code: ConflictCode::ConcurrentUpdate, .. }) => {
            let current = get_order(store, actor, id).await?.version;
            Err(AppError::PreconditionFailed { expected: if_match, current })
        }
        Err(other) => Err(other),
    }
}
