//! An in-memory implementation of every port, for fast unit tests of use cases and handlers.
//! It keeps the same promises as the DynamoDB adapter (version checks, the stock rules of
//! [`crate::stock::rules`], all-or-nothing writes); the port contract suite
//! ([`crate::ports::contract`]) runs on both and proves it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::catalog::{Hub, SkuRecord};
use crate::events::OutboxMessage;
use crate::integrations::{Integration, IntegrationKind, Principal};
use crate::kernel::error::{ConflictOn, StoreError};
use crate::kernel::ids::{HubId, OrderId, Sku, TenantId};
use crate::order::{Order, StatusChange};
use crate::ports::{
    CatalogStore, Counter, IdempotencyRecord, IntegrationStore, Lookup, OrderPage, OrderQuery, OrderStore,
    OrderSummary, OrderWrite, ShipmentRef, StockStore,
};
use crate::stock::{Refusal, StockChange, StockFilter, StockLevel, StockMove};
use crate::usecases::orders::matches_query;

#[derive(Default)]
struct State {
    orders: HashMap<(TenantId, OrderId), Order>,
    history: HashMap<(TenantId, OrderId), Vec<StatusChange>>,
    idempotency: HashMap<(TenantId, String, String), IdempotencyRecord>,
    channel_refs: HashMap<(TenantId, String, String), OrderId>,
    sequences: HashMap<(&'static str, Option<TenantId>, NaiveDate), u64>,
    shipments: HashMap<String, ShipmentRef>,
    returns: HashMap<(TenantId, String), OrderId>,
    hubs: BTreeMap<(TenantId, HubId), Hub>,
    skus: BTreeMap<(TenantId, Sku), SkuRecord>,
    stock: BTreeMap<(TenantId, HubId, Sku), StockLevel>,
    loads: BTreeMap<(TenantId, NaiveDate, HubId), u32>,
    counted_at: BTreeMap<(TenantId, HubId, Sku), chrono::DateTime<chrono::Utc>>,
    outbox: Vec<OutboxMessage>,
    integrations: BTreeMap<(TenantId, IntegrationKind, Principal), Integration>,
}

/// Every port, in memory.
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store with one warehouse `hub` and one SKU `sku` (KG, list price 32,000 VND) for
    /// `tenant`, `on_hand` of it in stock: where handler tests start.
    pub async fn with_catalog(tenant: &TenantId, hub: &str, sku: &str, on_hand: Decimal) -> Self {
        let store = Self::new();
        store.stock(tenant, hub, sku, on_hand).await;
        store
    }

    /// Puts warehouse `hub` and SKU `sku` (KG, list price 32,000 VND) for `tenant`, as new, and
    /// sets `on_hand` of it at that hub.
    pub async fn stock(&self, tenant: &TenantId, hub: &str, sku: &str, on_hand: Decimal) {
        use crate::catalog::{HubInput, HubType, Location, SkuInput};
        use crate::ports::{CatalogStore, StockStore};
        let now = chrono::Utc::now();
        let (hub, sku) = (HubId::parse(hub).expect("a hub id"), Sku::parse(sku).expect("a SKU"));
        let hub_input = HubInput {
            name: hub.to_string(),
            hub_type: HubType::Warehouse,
            location: Location { lat: 10.8, lon: 106.6 },
            daily_capacity: 100,
            performance_score: Decimal::new(9, 1),
            active: true,
        };
        self.put_hub(tenant, &hub_input.into_hub(hub.clone(), now).expect("a valid hub")).await.expect("put hub");
        let sku_input = SkuInput {
            name: sku.to_string(),
            unit: "KG".into(),
            list_price: Decimal::new(32_000, 0),
            currency: Default::default(),
            tax_rate: None,
            low_stock_threshold: None,
            channel_items: Default::default(),
            stock_shards: None,
        };
        self.put_sku(tenant, &sku_input.into_sku(sku.clone(), now).expect("a valid SKU")).await.expect("put SKU");
        self.change_stock(tenant, &hub, &sku, StockChange::Set(on_hand)).await.expect("set stock");
    }

    /// Everything written to the outbox so far, oldest first.
    pub fn outbox(&self) -> Vec<OutboxMessage> {
        self.state.lock().unwrap().outbox.clone()
    }

    fn idempotency_key(record: &IdempotencyRecord) -> (TenantId, String, String) {
        (record.tenant_id.clone(), record.user.clone(), record.key.clone())
    }

    fn check_idempotency(state: &State, write: &OrderWrite) -> Result<(), StoreError> {
        match &write.idempotency {
            Some(record) if state.idempotency.contains_key(&Self::idempotency_key(record)) => {
                Err(StoreError::Conflict(ConflictOn::IdempotencyKey))
            }
            _ => Ok(()),
        }
    }

    fn check_shipments(state: &State, write: &OrderWrite) -> Result<(), StoreError> {
        let tenant = &write.order.tenant_id;
        let taken = write.lookups.iter().any(|lookup| match lookup {
            Lookup::Shipment(id) => state.shipments.contains_key(id),
            Lookup::Return(id) => state.returns.contains_key(&(tenant.clone(), id.clone())),
        });
        if taken { Err(StoreError::Conflict(ConflictOn::AlreadyExists)) } else { Ok(()) }
    }

    fn apply_order_write(state: &mut State, write: OrderWrite) {
        let (tenant, order_id) = (&write.order.tenant_id, &write.order.order_id);
        for lookup in &write.lookups {
            match lookup {
                Lookup::Shipment(id) => {
                    let at = ShipmentRef { tenant_id: tenant.clone(), order_id: order_id.clone() };
                    state.shipments.insert(id.clone(), at);
                }
                Lookup::Return(id) => {
                    state.returns.insert((tenant.clone(), id.clone()), order_id.clone());
                }
            }
        }
        if let Some(record) = write.idempotency {
            state.idempotency.insert(Self::idempotency_key(&record), record);
        }
        let key = (write.order.tenant_id.clone(), write.order.order_id.clone());
        state.history.entry(key.clone()).or_default().extend(write.history);
        state.outbox.extend(write.outbox);
        state.orders.insert(key, write.order);
    }

    fn check_version(state: &State, write: &OrderWrite) -> Result<(), StoreError> {
        let key = (write.order.tenant_id.clone(), write.order.order_id.clone());
        match (state.orders.get(&key), write.expected_version) {
            (Some(current), Some(expected)) if current.version == expected => Ok(()),
            _ => Err(StoreError::Conflict(ConflictOn::Version)),
        }
    }
}

impl OrderStore for MemoryStore {
    async fn get_order(&self, tenant: &TenantId, id: &OrderId) -> Result<Option<Order>, StoreError> {
        Ok(self.state.lock().unwrap().orders.get(&(tenant.clone(), id.clone())).cloned())
    }

    async fn list_orders(&self, tenant: &TenantId, query: &OrderQuery) -> Result<OrderPage, StoreError> {
        let state = self.state.lock().unwrap();
        let mut orders: Vec<&Order> = state.orders.values().filter(|o| &o.tenant_id == tenant).collect();
        orders.sort_by(|a, b| (b.created_at, &b.order_id).cmp(&(a.created_at, &a.order_id)));
        let start = match &query.cursor {
            // A cursor names the last order of a page this store handed out for this tenant.
            Some(cursor) => match orders.iter().position(|o| o.order_id.as_str() == cursor) {
                Some(i) => i + 1,
                None => return Err(StoreError::BadCursor),
            },
            None => 0,
        };
        let mut items: Vec<OrderSummary> = orders[start..]
            .iter()
            .filter(|o| matches_query(&OrderSummary::of(o), o.external_reference.as_deref(), query))
            .take(query.limit + 1)
            .map(|o| OrderSummary::of(o))
            .collect();
        let next_cursor = (items.len() > query.limit).then(|| {
            items.truncate(query.limit);
            items.last().expect("a full page").order_id.to_string()
        });
        Ok(OrderPage { items, next_cursor })
    }

    async fn backordered_orders(&self, tenant: &TenantId, sku: &Sku, limit: usize) -> Result<Vec<OrderId>, StoreError> {
        let state = self.state.lock().unwrap();
        let mut orders: Vec<&Order> = state
            .orders
            .values()
            .filter(|o| &o.tenant_id == tenant && o.status == crate::order::status::OrderStatus::Backordered)
            .filter(|o| o.lines.iter().any(|l| &l.sku == sku))
            .collect();
        orders.sort_by(|a, b| (a.created_at, &a.order_id).cmp(&(b.created_at, &b.order_id)));
        Ok(orders.into_iter().take(limit).map(|o| o.order_id.clone()).collect())
    }

    async fn order_history(&self, tenant: &TenantId, id: &OrderId) -> Result<Vec<StatusChange>, StoreError> {
        let state = self.state.lock().unwrap();
        let key = (tenant.clone(), id.clone());
        let Some(version) = state.orders.get(&key).map(|o| o.version) else { return Ok(Vec::new()) };
        let history = state.history.get(&key).into_iter().flatten();
        Ok(history.filter(|change| change.kept_at(version)).cloned().collect())
    }

    async fn next_number(&self, counter: Counter<'_>, day: NaiveDate) -> Result<String, StoreError> {
        let scope = match counter {
            Counter::Orders(t) | Counter::Returns(t) => Some(t.clone()),
            Counter::Shipments => None,
        };
        let mut state = self.state.lock().unwrap();
        let next = state.sequences.entry((counter.prefix(), scope, day)).or_default();
        *next += 1;
        Ok(counter.number(day, *next))
    }

    async fn find_return(&self, tenant: &TenantId, return_id: &str) -> Result<Option<OrderId>, StoreError> {
        Ok(self.state.lock().unwrap().returns.get(&(tenant.clone(), return_id.to_owned())).cloned())
    }

    async fn find_shipment(&self, shipment_id: &str) -> Result<Option<ShipmentRef>, StoreError> {
        Ok(self.state.lock().unwrap().shipments.get(shipment_id).cloned())
    }

    async fn create_order(&self, write: OrderWrite) -> Result<(), StoreError> {
        write.check_limits()?;
        let mut state = self.state.lock().unwrap();
        let order = &write.order;
        if state.orders.contains_key(&(order.tenant_id.clone(), order.order_id.clone())) {
            return Err(StoreError::Conflict(ConflictOn::AlreadyExists));
        }
        Self::check_idempotency(&state, &write)?;
        let channel_ref =
            order.channel.clone().zip(order.channel_order_id.clone()).map(|(c, id)| (order.tenant_id.clone(), c, id));
        if let Some(channel_ref) = &channel_ref
            && state.channel_refs.contains_key(channel_ref)
        {
            return Err(StoreError::Conflict(ConflictOn::ChannelOrder));
        }
        if let Some(channel_ref) = channel_ref {
            state.channel_refs.insert(channel_ref, order.order_id.clone());
        }
        Self::apply_order_write(&mut state, write);
        Ok(())
    }

    async fn save_order(&self, write: OrderWrite) -> Result<(), StoreError> {
        write.check_limits()?;
        let mut state = self.state.lock().unwrap();
        Self::check_version(&state, &write)?;
        Self::check_idempotency(&state, &write)?;
        Self::check_shipments(&state, &write)?;
        Self::apply_order_write(&mut state, write);
        Ok(())
    }

    async fn find_idempotency(
        &self,
        tenant: &TenantId,
        user: &str,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        let found =
            self.state.lock().unwrap().idempotency.get(&(tenant.clone(), user.to_owned(), key.to_owned())).cloned();
        Ok(found)
    }
}

impl CatalogStore for MemoryStore {
    async fn put_hub(&self, tenant: &TenantId, hub: &Hub) -> Result<(), StoreError> {
        self.state.lock().unwrap().hubs.insert((tenant.clone(), hub.hub_id.clone()), hub.clone());
        Ok(())
    }

    async fn list_hubs(&self, tenant: &TenantId) -> Result<Vec<Hub>, StoreError> {
        Ok(self.state.lock().unwrap().hubs.iter().filter(|((t, _), _)| t == tenant).map(|(_, h)| h.clone()).collect())
    }

    async fn get_hub(&self, tenant: &TenantId, hub_id: &HubId) -> Result<Option<Hub>, StoreError> {
        Ok(self.state.lock().unwrap().hubs.get(&(tenant.clone(), hub_id.clone())).cloned())
    }

    async fn hub_loads(&self, tenant: &TenantId, day: NaiveDate) -> Result<crate::routing::HubLoads, StoreError> {
        let state = self.state.lock().unwrap();
        Ok(state
            .loads
            .iter()
            .filter(|((t, d, _), _)| t == tenant && *d == day)
            .map(|((_, _, h), n)| (h.clone(), *n))
            .collect())
    }

    async fn count_dispatches(&self, tenant: &TenantId, day: NaiveDate, hubs: &[HubId]) -> Result<(), StoreError> {
        let mut state = self.state.lock().unwrap();
        for hub in hubs {
            *state.loads.entry((tenant.clone(), day, hub.clone())).or_default() += 1;
        }
        Ok(())
    }

    async fn put_sku(&self, tenant: &TenantId, sku: &SkuRecord) -> Result<(), StoreError> {
        let mut state = self.state.lock().unwrap();
        for (channel, item_id) in &sku.channel_items {
            let taken = state.skus.iter().any(|((t, code), other)| {
                t == tenant && code != &sku.sku && other.channel_items.get(channel) == Some(item_id)
            });
            if taken {
                return Err(StoreError::Conflict(ConflictOn::ChannelItem {
                    channel: channel.clone(),
                    item_id: item_id.clone(),
                }));
            }
        }
        state.skus.insert((tenant.clone(), sku.sku.clone()), sku.clone());
        Ok(())
    }

    async fn list_skus(&self, tenant: &TenantId) -> Result<Vec<SkuRecord>, StoreError> {
        Ok(self.state.lock().unwrap().skus.iter().filter(|((t, _), _)| t == tenant).map(|(_, s)| s.clone()).collect())
    }

    async fn skus_for_channel_items(
        &self,
        tenant: &TenantId,
        channel: &str,
        item_ids: &[String],
    ) -> Result<HashMap<String, Sku>, StoreError> {
        let state = self.state.lock().unwrap();
        Ok(state
            .skus
            .iter()
            .filter(|((t, _), _)| t == tenant)
            .filter_map(|(_, record)| record.channel_items.get(channel).map(|item| (item.clone(), record.sku.clone())))
            .filter(|(item, _)| item_ids.contains(item))
            .collect())
    }

    async fn get_skus(&self, tenant: &TenantId, skus: &[Sku]) -> Result<Vec<SkuRecord>, StoreError> {
        let state = self.state.lock().unwrap();
        Ok(skus.iter().filter_map(|s| state.skus.get(&(tenant.clone(), s.clone())).cloned()).collect())
    }
}

impl StockStore for MemoryStore {
    async fn stock_for_skus(&self, tenant: &TenantId, skus: &[Sku]) -> Result<Vec<StockLevel>, StoreError> {
        let state = self.state.lock().unwrap();
        Ok(state
            .stock
            .iter()
            .filter(|((t, _, s), _)| t == tenant && skus.contains(s))
            .map(|(_, l)| l.clone())
            .collect())
    }

    async fn list_stock(&self, tenant: &TenantId, filter: &StockFilter) -> Result<Vec<StockLevel>, StoreError> {
        let state = self.state.lock().unwrap();
        Ok(state
            .stock
            .iter()
            .filter(|((t, h, s), _)| {
                t == tenant
                    && filter.hub_id.as_ref().is_none_or(|f| f == h)
                    && filter.sku.as_ref().is_none_or(|f| f == s)
            })
            .map(|(_, l)| l.clone())
            .collect())
    }

    async fn change_stock(
        &self,
        tenant: &TenantId,
        hub_id: &HubId,
        sku: &Sku,
        change: StockChange,
    ) -> Result<StockLevel, StoreError> {
        let mut state = self.state.lock().unwrap();
        let key = (tenant.clone(), hub_id.clone(), sku.clone());
        let level = state.stock.get(&key).cloned().unwrap_or_else(|| StockLevel::empty(hub_id.clone(), sku.clone()));
        let after = level.apply(change, state.counted_at.get(&key).copied()).map_err(|r| r.conflict(hub_id, sku))?;
        if let Some(at) = change.counted_at() {
            state.counted_at.insert(key.clone(), at);
        }
        state.stock.insert(key, after.clone());
        Ok(after)
    }

    async fn save_with_stock(&self, write: OrderWrite, moves: &[StockMove]) -> Result<(), StoreError> {
        write.check_limits()?;
        let mut state = self.state.lock().unwrap();
        Self::check_version(&state, &write)?;
        Self::check_idempotency(&state, &write)?;
        Self::check_shipments(&state, &write)?;
        // Netted like every store does, then applied one by one to a copy: all or nothing.
        let tenant = write.order.tenant_id.clone();
        let mut changed = BTreeMap::new();
        for m in StockMove::net(moves.iter().cloned()) {
            let key = (tenant.clone(), m.hub_id.clone(), m.sku.clone());
            let short = || Refusal::Short.conflict(&m.hub_id, &m.sku);
            let level = changed.get(&key).or_else(|| state.stock.get(&key)).ok_or_else(short)?;
            let after = level.apply_move(&m).map_err(|r| r.conflict(&m.hub_id, &m.sku))?;
            changed.insert(key, after);
        }
        state.stock.extend(changed);
        Self::apply_order_write(&mut state, write);
        Ok(())
    }
}

/// Orders in a given state, made through the use cases themselves: what handler tests start from.
pub mod fixtures {
    use serde_json::json;

    use super::MemoryStore;
    use crate::kernel::access::{Actor, Role};
    use crate::kernel::ids::TenantId;
    use crate::order::Order;

    fn as_role(tenant: &TenantId, role: Role) -> Actor {
        Actor { sub: format!("{role:?}-user").to_lowercase(), tenant_id: tenant.clone(), role }
    }

    /// The sender of the samples in `events/wms/` (their `account`) and `events/sqs/` (their
    /// `SenderId`): the local WMS and channel connector.
    pub const SAMPLE_WMS: &str = "111122223333";
    /// See [`SAMPLE_WMS`].
    pub const SAMPLE_CHANNEL: &str = "AIDALOCALCHANNEL0001";

    /// Lets the samples' senders act for `tenant`, as its admin would.
    pub async fn register_sample_integrations(store: &MemoryStore, tenant: &TenantId) {
        use crate::integrations::IntegrationInput;
        use crate::usecases::integrations::register;
        let admin = as_role(tenant, Role::Admin);
        let now = chrono::Utc::now();
        for (kind, principal) in [("wms", SAMPLE_WMS), ("channel", SAMPLE_CHANNEL)] {
            let input = IntegrationInput { name: format!("local {kind}") };
            register(store, &admin, kind, principal, input, now).await.expect("registered");
        }
    }

    /// The tenant the samples in `events/` belong to.
    pub const SAMPLE_TENANT: &str = "demo";

    /// A store with what the samples in `events/` name for [`SAMPLE_TENANT`]: warehouses
    /// `HCM-WH1` and `HN-WH2`, SKUs `PP-H1` and `HDPE-F2`, `on_hand` of each SKU at each hub, and
    /// the samples' senders registered.
    pub async fn sample_store(on_hand: rust_decimal::Decimal) -> MemoryStore {
        let (store, tenant) = (MemoryStore::new(), TenantId::parse(SAMPLE_TENANT).expect("a tenant"));
        for hub in ["HCM-WH1", "HN-WH2"] {
            for sku in ["PP-H1", "HDPE-F2"] {
                store.stock(&tenant, hub, sku, on_hand).await;
            }
        }
        register_sample_integrations(&store, &tenant).await;
        store
    }

    /// The order the samples in `events/placement/` are about, in a [`sample_store`]: 100
    /// `PP-H1` (`L1`) and 25.5 `HDPE-F2` (`L2`), submitted, waiting for automatic placement.
    /// The samples' `order_id` is a placeholder: tests put this order's id in its place.
    pub async fn placement_order(store: &MemoryStore) -> Order {
        let tenant = TenantId::parse(SAMPLE_TENANT).expect("a tenant");
        let request = serde_json::from_value(json!({
            "customer": {"id": "CUST-001", "name": "Cong ty Nhua ABC",
                         "delivery_address": {"line1": "12 Nguyen Hue", "city": "Ho Chi Minh City", "country": "VN"}},
            "lines": [{"sku": "PP-H1", "quantity": "100"}, {"sku": "HDPE-F2", "quantity": "25.5"}],
            "submit": true
        }))
        .expect("a valid order");
        let sales = as_role(&tenant, Role::Sales);
        crate::usecases::create_order(store, &sales, request, None, chrono::Utc::now()).await.expect("created").order
    }

    /// [`placement_order`] placed by the placement tasks' use cases: `ALLOCATED`, its stock
    /// reserved, not yet sent to its warehouses.
    pub async fn placed_order(store: &MemoryStore) -> Order {
        use crate::usecases::placement::{PlacementRequest, plan, reserve};
        let order = placement_order(store).await;
        let request = PlacementRequest { tenant_id: order.tenant_id.clone(), order_id: order.order_id.clone() };
        let plan = plan(store, &request, Default::default()).await.expect("planned");
        reserve(store, &plan, chrono::Utc::now()).await.expect("reserved");
        crate::ports::OrderStore::get_order(store, &order.tenant_id, &order.order_id)
            .await
            .expect("read")
            .expect("the order")
    }

    /// An order of `quantity` of `sku` (one line, `L1`) allocated manually at `hub` and sent to
    /// it (`IN_FULFILLMENT`), ready to ship. The store needs the catalog and the stock
    /// ([`MemoryStore::with_catalog`]).
    pub async fn allocated_order(
        store: &MemoryStore,
        tenant: &TenantId,
        hub: &str,
        sku: &str,
        quantity: &str,
    ) -> Order {
        use crate::usecases::orders::{allocate_line, confirm_allocation};
        let admin = as_role(tenant, Role::Admin);
        let now = chrono::Utc::now();
        let request = serde_json::from_value(json!({
            "customer": {"id": "C1", "name": "ABC", "delivery_address": {"line1": "1", "city": "HCM", "country": "VN"}},
            "lines": [{"sku": sku, "quantity": quantity}], "allocation": "manual", "submit": true
        }))
        .expect("a valid order");
        let id =
            crate::usecases::create_order(store, &admin, request, None, now).await.expect("created").order.order_id;
        let line = json!({"order_line_id": "L1", "hub_id": hub, "quantity": quantity});
        allocate_line(store, &admin, &id, serde_json::from_value(line).expect("valid"), None, now)
            .await
            .expect("allocated");
        confirm_allocation(store, &admin, &id, None, now).await.expect("confirmed").order
    }

    /// An [`allocated_order`] shipped whole from `hub` by a dispatcher in one shipment.
    pub async fn shipped_order(store: &MemoryStore, tenant: &TenantId, hub: &str, sku: &str, quantity: &str) -> Order {
        let id = allocated_order(store, tenant, hub, sku, quantity).await.order_id;
        let ship = json!({"type": "INTERNAL", "lines": [{"order_line_id": "L1", "quantity": quantity, "hub_id": hub}]});
        let dispatcher = as_role(tenant, Role::Dispatcher);
        let ship = serde_json::from_value(ship).expect("valid");
        crate::usecases::shipments::create_shipment(store, &dispatcher, &id, ship, None, chrono::Utc::now())
            .await
            .expect("shipped")
            .order
    }
}

impl IntegrationStore for MemoryStore {
    async fn get_integration(
        &self,
        tenant: &TenantId,
        kind: IntegrationKind,
        principal: &Principal,
    ) -> Result<Option<Integration>, StoreError> {
        Ok(self.state.lock().unwrap().integrations.get(&(tenant.clone(), kind, principal.clone())).cloned())
    }

    async fn put_integration(&self, integration: &Integration) -> Result<(), StoreError> {
        let key = (integration.tenant_id.clone(), integration.kind, integration.principal.clone());
        self.state.lock().unwrap().integrations.insert(key, integration.clone());
        Ok(())
    }

    async fn delete_integration(
        &self,
        tenant: &TenantId,
        kind: IntegrationKind,
        principal: &Principal,
    ) -> Result<bool, StoreError> {
        Ok(self.state.lock().unwrap().integrations.remove(&(tenant.clone(), kind, principal.clone())).is_some())
    }

    async fn list_integrations(&self, tenant: &TenantId) -> Result<Vec<Integration>, StoreError> {
        let state = self.state.lock().unwrap();
        let mut found: Vec<Integration> =
            state.integrations.iter().filter(|((t, _, _), _)| t == tenant).map(|(_, i)| i.clone()).collect();
        found.sort_by(|a, b| (a.kind.as_str(), &a.principal).cmp(&(b.kind.as_str(), &b.principal)));
        Ok(found)
    }
}

/// The port contract suite on this adapter: one test per check.
#[cfg(test)]
mod contract {
    crate::port_contract_tests!(super::MemoryStore::new());
}
