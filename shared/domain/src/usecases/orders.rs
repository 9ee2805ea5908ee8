//! The order routes other than create: read, list, edit, submit, price approval, cancel and
//! holds. Another tenant's order, or (for sales) a colleague's, answers 404: existence is never
//! leaked. Every change is one atomic write with its history and events, conditional on the
//! version it was computed from.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::access::{Action, Actor, Role};
use crate::error::AppError;
use crate::events::{DomainEvent, OutboxMessage};
use crate::fulfillment::Dispatch;
use crate::ids::OrderId;
use crate::inventory::StockMove;
use crate::order::{Address, AllocationMode, Contact, FulfillmentPolicy, Order, StatusChange};
use crate::ports::{OrderPage, OrderQuery, OrderStore, OrderWrite, Store};
use crate::status::OrderStatus;
use crate::usecases::create_order::{
    LineRequest, build_lines, catalog_for, discount, optional_text, validated_address, validated_contact,
    validated_lines,
};
use crate::usecases::effects::{self, order_event};
use crate::usecases::idempotency::{Changed, IdempotencyKey, commit, replay_if_seen};
use crate::usecases::placement::count_dispatches;

/// An order the actor may see.
pub async fn get_order<S: OrderStore>(store: &S, actor: &Actor, order_id: &OrderId) -> Result<Order, AppError> {
    actor.authorize(Action::ReadOrders)?;
    store
        .get_order(&actor.tenant_id, order_id)
        .await?
        .filter(|order| actor.can_see_order_of(&order.created_by))
        .ok_or(AppError::NotFound("order"))
}

/// The status history of an order the actor may see, oldest first.
pub async fn order_history<S: OrderStore>(
    store: &S,
    actor: &Actor,
    order_id: &OrderId,
) -> Result<Vec<StatusChange>, AppError> {
    get_order(store, actor, order_id).await?;
    Ok(store.order_history(&actor.tenant_id, order_id).await?)
}

/// Orders newest first, one page at a time. Sales see only their own.
pub async fn list_orders<S: OrderStore>(
    store: &S,
    actor: &Actor,
    mut query: OrderQuery,
) -> Result<OrderPage, AppError> {
    actor.authorize(Action::ReadOrders)?;
    if actor.role == Role::Sales {
        query.created_by = Some(actor.sub.clone());
    }
    Ok(store.list_orders(&actor.tenant_id, &query).await?)
}

/// Loads an order the actor may change, refusing roles without `action` first.
async fn load_for<S: OrderStore>(store: &S, actor: &Actor, id: &OrderId, action: Action) -> Result<Order, AppError> {
    actor.authorize(action)?;
    get_order(store, actor, id).await
}

/// What a change of an order brings with it, committed together.
#[derive(Default)]
pub(crate) struct Effects {
    pub(crate) history: Vec<StatusChange>,
    pub(crate) outbox: Vec<OutboxMessage>,
    pub(crate) moves: Vec<StockMove>,
    /// Warehouse requests sent, counted against the hubs' daily capacity once committed.
    pub(crate) dispatched: Vec<crate::fulfillment::FulfillmentRequest>,
    /// Documents created that are found by their own id.
    pub(crate) lookups: Vec<crate::ports::Lookup>,
}

impl Effects {
    /// Sends an allocated order to its warehouses (unless a hold stops it) with this change.
    fn dispatch(&mut self, order: &mut Order, actor: &Actor, now: DateTime<Utc>) -> Result<(), AppError> {
        if let Dispatch::Sent { change, requests } = order.request_fulfillment(actor, now)? {
            self.outbox.extend(effects::after_dispatch(order, &change, &requests, now));
            self.history.push(change);
            self.dispatched = requests;
        }
        Ok(())
    }
}

/// How many times a change is recomputed when a concurrent change of the same order wins (a
/// burst of warehouse events for one order lands on several instances at once).
const ATTEMPTS: usize = 10;

/// Changes an order the actor may change under `action`: replays a repeated `Idempotency-Key`,
/// applies `change` to the current order, and commits the order with its history, events and
/// stock moves, conditional on the version it read. When another change got there first, the
/// change is recomputed from the new state (a few times), so concurrent callers serialize
/// instead of failing. A change that leaves the order's version as it was (a repeated event,
/// a late report) writes nothing and answers as a replay.
pub(crate) async fn change_order<S, F>(
    store: &S,
    actor: &Actor,
    id: &OrderId,
    action: Action,
    key: Option<IdempotencyKey>,
    now: DateTime<Utc>,
    mut change: F,
) -> Result<Changed, AppError>
where
    S: Store,
    F: FnMut(&mut Order) -> Result<Effects, AppError>,
{
    // Authorized before a replay: a key never lets a caller past a check they would fail now.
    actor.authorize(action)?;
    if let Some(done) = replay_if_seen(store, actor, key.as_ref()).await? {
        return Ok(done);
    }
    let mut attempt = 1;
    loop {
        let mut order = load_for(store, actor, id, action).await?;
        let version = order.version;
        let effects = change(&mut order)?;
        if order.version == version {
            return Ok(Changed { order, replayed: true });
        }
        let mut write = OrderWrite::update(order, version, effects.history, effects.outbox);
        write.lookups = effects.lookups;
        match commit(store, actor, key.as_ref(), write, &effects.moves, now).await {
            Ok(changed) => {
                if !changed.replayed {
                    count_dispatches(store, &actor.tenant_id, &effects.dispatched).await;
                }
                return Ok(changed);
            }
            Err(AppError::Conflict { code: "concurrent_update", .. }) if attempt < ATTEMPTS => attempt += 1,
            Err(other) => return Err(other),
        }
    }
}

/// `POST /orders/{id}/submit`.
pub async fn submit_order<S: Store>(
    store: &S,
    actor: &Actor,
    id: &OrderId,
    key: Option<IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Changed, AppError> {
    change_order(store, actor, id, Action::CreateOrder, key, now, |order| {
        let change = order.submit(actor, now)?;
        Ok(Effects { outbox: effects::after_submit(order, &change, now), history: vec![change], ..Effects::default() })
    })
    .await
}

/// The body of `POST /orders/{id}/approve-price`.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PriceDecisionRequest {
    /// Approve (true) or reject (false).
    pub approved: bool,
    /// Why.
    pub notes: Option<String>,
}

/// `POST /orders/{id}/approve-price`.
pub async fn decide_price<S: Store>(
    store: &S,
    actor: &Actor,
    id: &OrderId,
    request: PriceDecisionRequest,
    key: Option<IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Changed, AppError> {
    let notes = optional_text("notes", request.notes, 2000)?;
    change_order(store, actor, id, Action::ApprovePrice, key, now, |order| {
        let change = order.decide_price(request.approved, notes.clone(), actor, now)?;
        Ok(Effects {
            outbox: effects::after_transition(order, &change, now),
            history: vec![change],
            ..Effects::default()
        })
    })
    .await
}

/// The body of `POST /orders/{id}/cancel`.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    /// Why.
    pub reason: String,
}

/// `POST /orders/{id}/cancel`: releases every reservation with the change.
pub async fn cancel_order<S: Store>(
    store: &S,
    actor: &Actor,
    id: &OrderId,
    request: CancelRequest,
    key: Option<IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Changed, AppError> {
    let reason = crate::inventory::non_empty_text("reason", request.reason, 500)?;
    change_order(store, actor, id, Action::ManageOrders, key, now, |order| {
        let cancellation = order.cancel(&reason, actor, now)?;
        let mut outbox = effects::after_transition(order, &cancellation.change, now);
        for request in &cancellation.withdrawn {
            outbox.push(order_event(order, now, DomainEvent::fulfillment_cancelled(order, request, &reason)));
        }
        outbox.push(order_event(order, now, DomainEvent::order_cancelled(order, &reason, &cancellation.released)));
        Ok(Effects {
            history: vec![cancellation.change],
            outbox,
            moves: crate::inventory::StockMove::net(cancellation.released),
            ..Effects::default()
        })
    })
    .await
}

/// The body of `POST /orders/{id}/holds`.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HoldRequest {
    /// `payment_hold`, `fraud`, `manual`, ...: lower-case letters, digits and `_`.
    pub code: String,
    /// Why.
    pub reason: String,
}

/// `POST /orders/{id}/holds`.
pub async fn place_hold<S: Store>(
    store: &S,
    actor: &Actor,
    id: &OrderId,
    request: HoldRequest,
    key: Option<IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Changed, AppError> {
    let code = request.code.trim().to_owned();
    if code.is_empty()
        || code.len() > 32
        || !code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(AppError::invalid(
            "code",
            "code must be 1 to 32 lower-case letters, digits or '_', e.g. payment_hold",
        ));
    }
    let reason = crate::inventory::non_empty_text("reason", request.reason, 500)?;
    change_order(store, actor, id, Action::ManageOrders, key, now, |order| {
        let hold = order.place_hold(&code, &reason, actor, now)?.clone();
        let placed = DomainEvent::hold_placed(order, &hold);
        Ok(Effects { outbox: vec![order_event(order, now, placed)], ..Effects::default() })
    })
    .await
}

/// `POST /orders/{id}/holds/{hold_id}/release`.
pub async fn release_hold<S: Store>(
    store: &S,
    actor: &Actor,
    id: &OrderId,
    hold_id: &str,
    key: Option<IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Changed, AppError> {
    change_order(store, actor, id, Action::ManageOrders, key, now, |order| {
        let hold = order.release_hold(hold_id, actor, now)?.clone();
        let released = DomainEvent::hold_released(order, &hold);
        let mut effects = Effects { outbox: vec![order_event(order, now, released)], ..Effects::default() };
        // The last hold gone, the order continues where the hold stopped it: placed again if
        // its reservation expired meanwhile, or on to its warehouses if it is allocated.
        if !order.on_hold && order.awaits_automatic_placement() {
            effects.outbox.push(crate::events::OutboxMessage::start_placement(order));
        }
        if !order.on_hold && order.status == OrderStatus::Allocated {
            effects.dispatch(order, actor, now)?;
        }
        Ok(effects)
    })
    .await
}

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
            "not_editable",
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
            "not_editable",
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
            order.customer.name = crate::inventory::non_empty_text("customer.name", name, 200)?;
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
        Err(AppError::Conflict { code: "concurrent_update", .. }) => {
            let current = get_order(store, actor, id).await?.version;
            Err(AppError::PreconditionFailed { expected: if_match, current })
        }
        Err(other) => Err(other),
    }
}

/// Reads `GET /orders`' query string: `status`, `customer_id`, `from`, `to` (RFC 3339 or
/// `YYYY-MM-DD`, `to` inclusive of its whole day), `q`, `limit` (1..=100), `cursor`.
pub fn parse_order_query<'a>(param: impl Fn(&str) -> Option<&'a str>) -> Result<OrderQuery, AppError> {
    use crate::ports::{DEFAULT_PAGE, MAX_PAGE};
    let time = |name: &str, end_of_day: bool| -> Result<Option<DateTime<Utc>>, AppError> {
        let Some(raw) = param(name) else { return Ok(None) };
        if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
            return Ok(Some(at.with_timezone(&Utc)));
        }
        let day = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .map_err(|_| AppError::invalid(name, format!("{name} must be an RFC 3339 time or a YYYY-MM-DD date")))?;
        let at = if end_of_day { day.and_hms_milli_opt(23, 59, 59, 999) } else { day.and_hms_opt(0, 0, 0) };
        Ok(at.map(|t| t.and_utc()))
    };
    let status = param("status")
        .map(|s| OrderStatus::parse(s).ok_or_else(|| AppError::invalid("status", format!("unknown status {s:?}"))))
        .transpose()?;
    let limit = match param("limit") {
        None => DEFAULT_PAGE,
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| AppError::invalid("limit", format!("limit must be 1 to {MAX_PAGE}")))?,
    };
    let query = OrderQuery {
        status,
        customer_id: param("customer_id").map(str::to_owned),
        from: time("from", false)?,
        to: time("to", true)?,
        q: param("q").map(|q| q.trim().to_owned()).filter(|q| !q.is_empty()),
        limit,
        cursor: param("cursor").map(str::to_owned),
        created_by: None,
    };
    if let (Some(from), Some(to)) = (query.from, query.to)
        && from > to
    {
        return Err(AppError::invalid("from", "from is after to"));
    }
    if query.q.as_ref().is_some_and(|q| q.chars().count() > 100) {
        return Err(AppError::invalid("q", "q is at most 100 characters"));
    }
    Ok(query)
}

/// Whether an order matches a query's filters (used where an index cannot filter).
pub fn matches_query(order: &crate::ports::OrderSummary, external_reference: Option<&str>, query: &OrderQuery) -> bool {
    let q_matches = |q: &str| {
        let q = q.to_lowercase();
        [Some(order.order_number.as_str()), Some(order.customer_name.as_str()), external_reference]
            .into_iter()
            .flatten()
            .any(|field| field.to_lowercase().starts_with(&q))
    };
    query.status.is_none_or(|s| s == order.status)
        && query.customer_id.as_ref().is_none_or(|c| c == &order.customer_id)
        && query.from.is_none_or(|f| order.created_at >= f)
        && query.to.is_none_or(|t| order.created_at <= t)
        && query.created_by.as_ref().is_none_or(|c| c == &order.created_by)
        && query.q.as_deref().is_none_or(q_matches)
}

/// The body of `POST /orders/{id}/allocations`.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AllocationRequest {
    /// The line.
    pub order_line_id: crate::ids::LineId,
    /// The source hub.
    pub hub_id: crate::ids::HubId,
    /// How much to reserve there.
    pub quantity: Decimal,
}

/// `POST /orders/{id}/allocations`: reserves part of a line at a hub, atomically with the order
/// (409 when the hub has not that much available or the line needs less).
pub async fn allocate_line<S: Store>(
    store: &S,
    actor: &Actor,
    id: &OrderId,
    request: AllocationRequest,
    key: Option<IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Changed, AppError> {
    actor.authorize(Action::ManageOrders)?;
    match store.get_hub(&actor.tenant_id, &request.hub_id).await? {
        Some(hub) if hub.active => {}
        Some(_) => return Err(AppError::conflict("hub_inactive", format!("hub {} is inactive", request.hub_id))),
        None => return Err(AppError::NotFound("hub")),
    }
    change_order(store, actor, id, Action::ManageOrders, key, now, |order| {
        let reserve = order.allocate_manually(&request.order_line_id, &request.hub_id, request.quantity, now)?;
        let reservation = crate::placement::PlannedReservation {
            line_id: request.order_line_id.clone(),
            sku: reserve.sku.clone(),
            hub_id: reserve.hub_id.clone(),
            quantity: reserve.quantity,
        };
        let reserved = DomainEvent::stock_reserved(order, &[reservation]);
        Ok(Effects { outbox: vec![order_event(order, now, reserved)], moves: vec![reserve], ..Effects::default() })
    })
    .await
}

/// `POST /orders/{id}/confirm-allocation`: every line fully allocated, the order goes
/// `ALLOCATED` and on to its warehouses (unless a hold stops it).
pub async fn confirm_allocation<S: Store>(
    store: &S,
    actor: &Actor,
    id: &OrderId,
    key: Option<IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Changed, AppError> {
    change_order(store, actor, id, Action::ManageOrders, key, now, |order| {
        let change = order.confirm_allocation(actor, now)?;
        let mut effects = Effects {
            outbox: effects::after_transition(order, &change, now),
            history: vec![change],
            ..Effects::default()
        };
        effects.dispatch(order, actor, now)?;
        Ok(effects)
    })
    .await
}
