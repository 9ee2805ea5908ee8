//! Who may do what (SPEC.md roles table), decided in one place. Handlers name the [`Action`];
//! [`Actor::authorize`] answers.

use serde::{Deserialize, Serialize};

use crate::kernel::error::AppError;
use crate::kernel::ids::TenantId;

/// A caller's role, from the JWT `role` claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Creates and edits their own orders.
    Sales,
    /// Sees every order, approves prices.
    SalesManager,
    /// Runs the warehouse side: allocation, holds, cancel, stock.
    Admin,
    /// Creates shipments and updates their status.
    Dispatcher,
    /// Internal callers: workflow tasks, WMS/TMS integrations, channel intake.
    System,
}

impl Role {
    /// Parses the claim value.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "sales" => Some(Self::Sales),
            "sales_manager" => Some(Self::SalesManager),
            "admin" => Some(Self::Admin),
            "dispatcher" => Some(Self::Dispatcher),
            "system" => Some(Self::System),
            _ => None,
        }
    }
}

/// Something a caller wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Create an order, edit one's own editable order, submit it.
    CreateOrder,
    /// Read orders (sales: their own only; see [`Actor::can_see_order_of`]).
    ReadOrders,
    /// Approve or reject a below-list price.
    ApprovePrice,
    /// Allocate manually, confirm allocation, place and release holds, cancel.
    ManageOrders,
    /// Read hubs, SKUs and stock.
    ReadInventory,
    /// Create or change hubs, SKUs and stock.
    WriteInventory,
    /// Create shipments and update their status.
    Ship,
    /// Open a return.
    CreateReturn,
    /// Approve, reject, receive and close returns.
    ManageReturns,
    /// Register, list and remove the integrations (WMS, channel connectors) that may act for the
    /// tenant.
    ManageIntegrations,
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// User id (`sub`).
    pub sub: String,
    /// The caller's tenant: every read and write is scoped to it.
    pub tenant_id: TenantId,
    /// The caller's role.
    pub role: Role,
}

impl Actor {
    /// The actor internal callers (workflow tasks, relays) act as.
    pub fn system(tenant_id: TenantId, component: &str) -> Self {
        Self { sub: component.to_owned(), tenant_id, role: Role::System }
    }

    /// Whether this role may perform `action` at all.
    pub fn may(&self, action: Action) -> bool {
        use Action::*;
        use Role::*;
        if self.role == System {
            return true;
        }
        match action {
            CreateOrder | CreateReturn => matches!(self.role, Sales | SalesManager | Admin),
            ReadOrders | ReadInventory => true,
            ApprovePrice => self.role == SalesManager,
            ManageOrders | WriteInventory | ManageIntegrations => self.role == Admin,
            Ship => self.role == Dispatcher,
            ManageReturns => matches!(self.role, SalesManager | Admin),
        }
    }

    /// `Ok` when allowed, else a 403.
    pub fn authorize(&self, action: Action) -> Result<(), AppError> {
        if self.may(action) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!("role {:?} may not {action:?}", self.role)))
        }
    }

    /// Sales see only the orders they created; every other role sees all of its tenant's.
    pub fn can_see_order_of(&self, created_by: &str) -> bool {
        self.role != Role::Sales || self.sub == created_by
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role) -> Actor {
        Actor { sub: "u1".into(), tenant_id: TenantId::parse("t1").unwrap(), role }
    }

    #[test]
    fn the_roles_table() {
        use Action::*;
        use Role::*;
        // SPEC.md's table, columns: sales, sales_manager, admin, dispatcher.
        let table = [
            (CreateOrder, [true, true, true, false]),
            (ReadOrders, [true, true, true, true]),
            (ApprovePrice, [false, true, false, false]),
            (ManageOrders, [false, false, true, false]),
            (ReadInventory, [true, true, true, true]),
            (WriteInventory, [false, false, true, false]),
            (Ship, [false, false, false, true]),
            (CreateReturn, [true, true, true, false]),
            (ManageReturns, [false, true, true, false]),
            (ManageIntegrations, [false, false, true, false]),
        ];
        for (action, allowed) in table {
            for (role, expected) in [Sales, SalesManager, Admin, Dispatcher].into_iter().zip(allowed) {
                assert_eq!(actor(role).may(action), expected, "{role:?} {action:?}");
            }
        }
        assert!(matches!(actor(Dispatcher).authorize(CreateOrder), Err(AppError::Forbidden(_))));
    }

    #[test]
    fn sales_see_only_their_own_orders() {
        assert!(actor(Role::Sales).can_see_order_of("u1"));
        assert!(!actor(Role::Sales).can_see_order_of("u2"));
        assert!(actor(Role::SalesManager).can_see_order_of("u2"));
    }

    #[test]
    fn unknown_roles_do_not_parse() {
        assert_eq!(Role::parse("sales_manager"), Some(Role::SalesManager));
        assert_eq!(Role::parse("root"), None);
    }
}
