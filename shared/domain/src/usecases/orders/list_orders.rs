//! `GET /v1/orders`: the orders the actor may see, filtered and paged.

use crate::kernel::access::{Action, Actor, Role};
use crate::kernel::error::AppError;
use crate::order::status::OrderStatus;
use crate::ports::{OrderPage, OrderQuery, OrderStore};
use chrono::{DateTime, Utc};

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
