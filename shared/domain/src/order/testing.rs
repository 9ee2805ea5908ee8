//! Given/when/then for the aggregate's commands: given an order (from `memory::fixtures`, or one
//! a previous step left), when a command runs on it, then its status, history, events, stock
//! moves and workflow starts are what the command promises, or it was refused and the order is
//! as it was. Every assertion names what it expected and what it got.
//!
//! ```ignore
//! given(order)
//!     .when(|o| o.cancel("customer called", &admin, now))
//!     .then_status(OrderStatus::Cancelled)
//!     .then_emits(&["OrderStatusChanged", "OrderCancelled"])
//!     .then_event("OrderCancelled", json!({"reason": "customer called"}))
//!     .then_moves(&[]);
//! ```

use serde_json::Value;

use crate::kernel::access::{Actor, Role};
use crate::kernel::error::AppError;
use crate::order::status::OrderStatus;
use crate::order::{Change, Order};
use crate::stock::StockMove;

/// The order a command starts from.
pub fn given(order: Order) -> Given {
    Given { order }
}

/// Someone of `role` in the order's tenant, named after the role (`admin-user`, ...), as the
/// fixtures name them: the order's creator is `sales-user` or `admin-user`.
pub fn actor(order: &Order, role: Role) -> Actor {
    Actor { sub: format!("{role:?}-user").to_lowercase(), tenant_id: order.tenant_id.clone(), role }
}

/// An order before a command.
#[derive(Debug)]
pub struct Given {
    order: Order,
}

impl Given {
    /// Runs the command on the order.
    pub fn when(self, command: impl FnOnce(&mut Order) -> Result<Change, AppError>) -> Then {
        let before = self.order;
        let mut after = before.clone();
        let outcome = command(&mut after);
        Then { before, after, outcome }
    }
}

/// What a command did, to assert on.
#[derive(Debug)]
pub struct Then {
    before: Order,
    after: Order,
    outcome: Result<Change, AppError>,
}

impl Then {
    /// The change the command returned; panics if it was refused.
    pub fn change(&self) -> &Change {
        match &self.outcome {
            Ok(change) => change,
            Err(err) => panic!("expected the command to succeed, it was refused: {err:?}"),
        }
    }

    /// The order after the command.
    pub fn order(&self) -> &Order {
        &self.after
    }

    /// The order after the command, to start the next step from.
    pub fn into_order(self) -> Order {
        self.after
    }

    /// The command succeeded and left the order in `status`.
    pub fn then_status(self, status: OrderStatus) -> Self {
        self.change();
        assert_eq!(self.after.status, status, "status after the command");
        self
    }

    /// The history entries recorded, as the statuses they moved to, oldest first.
    pub fn then_records(self, statuses: &[OrderStatus]) -> Self {
        let recorded: Vec<OrderStatus> = self.change().history.iter().map(|c| c.to).collect();
        assert_eq!(recorded, statuses, "history entries recorded (their `to`)");
        self
    }

    /// The events emitted, by `detail-type`, in order.
    pub fn then_emits(self, detail_types: &[&str]) -> Self {
        assert_eq!(self.change().event_types(), detail_types, "events emitted");
        self
    }

    /// The first event of `detail_type` carries at least the fields of `expected` with these
    /// values (objects are compared field by field, so `expected` names only what matters).
    pub fn then_event(self, detail_type: &str, expected: Value) -> Self {
        let change = self.change();
        let event = change
            .events
            .iter()
            .find(|e| e.detail_type() == detail_type)
            .unwrap_or_else(|| panic!("no {detail_type} among the events emitted: {:?}", change.event_types()));
        let actual = serde_json::to_value(event).expect("an event serializes");
        assert!(
            contains(&actual, &expected),
            "{detail_type} payload\n  expected at least: {expected}\n  got: {actual}"
        );
        self
    }

    /// The stock moves committed with the change, in order.
    pub fn then_moves(self, moves: &[StockMove]) -> Self {
        assert_eq!(self.change().moves, moves, "stock moves");
        self
    }

    /// Whether the change starts the placement workflow.
    pub fn then_starts_placement(self, starts: bool) -> Self {
        assert_eq!(self.change().start_placement, starts, "placement workflow started");
        self
    }

    /// The hubs warehouse requests were sent to, in order.
    pub fn then_dispatches_to(self, hubs: &[&str]) -> Self {
        let sent: Vec<String> = self.change().dispatched.iter().map(|r| r.hub_id.to_string()).collect();
        assert_eq!(sent, hubs, "hubs sent a fulfillment request");
        self
    }

    /// Any other check of the order after the command.
    pub fn then_order(self, check: impl FnOnce(&Order)) -> Self {
        self.change();
        check(&self.after);
        self
    }

    /// The command succeeded, changed nothing and has nothing to commit (a repeat).
    pub fn then_nothing_changes(self) -> Self {
        assert!(self.change().is_empty(), "expected an empty change, got {:?}", self.change());
        assert_eq!(self.after, self.before, "the order changed");
        self
    }

    /// The command was refused with an error `expected` accepts, and left the order as it was.
    pub fn then_refused(self, expected: impl FnOnce(&AppError) -> bool) -> Self {
        match &self.outcome {
            Ok(change) => panic!("expected a refusal, the command succeeded with {change:?}"),
            Err(err) => assert!(expected(err), "refused with an unexpected error: {err:?}"),
        }
        assert_eq!(self.after, self.before, "a refused command changed the order");
        self
    }
}

/// Whether `actual` has everything `expected` has: objects field by field (extra fields
/// allowed), arrays element by element (same length), anything else equal.
fn contains(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Object(actual), Value::Object(expected)) => {
            expected.iter().all(|(k, v)| actual.get(k).is_some_and(|a| contains(a, v)))
        }
        (Value::Array(actual), Value::Array(expected)) => {
            actual.len() == expected.len() && actual.iter().zip(expected).all(|(a, e)| contains(a, e))
        }
        _ => actual == expected,
    }
}
