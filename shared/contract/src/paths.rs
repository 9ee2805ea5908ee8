//! One function per route, carrying the route's `#[utoipa::path]`: method, path, parameters,
//! request body and the responses particular to the route (the edge's own statuses are added by
//! the `edge` module). The functions are never called; their doc comments are the operations'
//! summaries.

use oms_domain::catalog::{Hub, HubInput, SkuInput, SkuRecord};
use oms_domain::integrations::{Integration, IntegrationInput, IntegrationKind, Principal, Revoked};
use oms_domain::order::StatusChange;
use oms_domain::order::returns::OrderReturn;
use oms_domain::order::shipment::OrderShipment;
use oms_domain::ports::OrderPage;
use oms_domain::stock::{StockInput, StockView};
use oms_domain::usecases::CreateOrderRequest;
use oms_domain::usecases::orders::{AllocationRequest, CancelRequest, HoldRequest, OrderPatch, PriceDecisionRequest};
use oms_domain::usecases::returns::{ConfirmRefundRequest, ReceiveRequest, RejectReturnRequest, ReturnRequest};
use oms_domain::usecases::shipments::{CallbackAnswer, CarrierCallback, ShipmentRequest, ShipmentStatusRequest};
use oms_domain::{HubId, Order, OrderId, OrderStatus, Sku};

use crate::schemas::{Conflict, Document, Items, NotFound, PreconditionFailed, Unauthorized, Unprocessable};

/// Create an order (and submit it with `"submit": true`).
#[utoipa::path(
    post, path = "/v1/orders", tag = "orders", operation_id = "createOrder",
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request (24 h)", max_length = 255)),
    request_body = CreateOrderRequest,
    responses(
        (status = 201, description = "Created (or the first answer again, with `Idempotent-Replayed: true`)", body = Order,
            headers(("Location" = String, description = "/v1/orders/{id}"), ("Idempotent-Replayed" = Option<String>, description = "true on a replay"))),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = Unprocessable),
    )
)]
pub fn create_order() {}

/// List orders, newest first (sales see their own).
#[utoipa::path(
    get, path = "/v1/orders", tag = "orders", operation_id = "listOrders",
    params(
        ("status" = Option<OrderStatus>, Query, description = "Only orders in this status"),
        ("customer_id" = Option<String>, Query, description = "Only this customer's orders"),
        ("from" = Option<String>, Query, description = "Created at or after: RFC 3339 time or YYYY-MM-DD"),
        ("to" = Option<String>, Query, description = "Created at or before: RFC 3339 time or YYYY-MM-DD (the whole day)"),
        ("q" = Option<String>, Query, description = "Case-insensitive prefix of the order number, customer name or external reference", max_length = 100),
        ("limit" = Option<u32>, Query, description = "Page size", minimum = 1, maximum = 100),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
    ),
    responses((status = 200, description = "A page of orders", body = OrderPage))
)]
pub fn list_orders() {}

/// Read an order.
#[utoipa::path(
    get, path = "/v1/orders/{id}", tag = "orders", operation_id = "getOrder",
    params(("id" = OrderId, Path, description = "The order's id")),
    responses(
        (status = 200, description = "The order", body = Order, headers(("ETag" = String, description = "The order's version, for If-Match"))),
        (status = 404, response = NotFound),
    )
)]
pub fn get_order() {}

/// Edit an order (lines, policy, discount and customer name only in DRAFT / PRICE_REJECTED;
/// delivery details until something shipped).
#[utoipa::path(
    patch, path = "/v1/orders/{id}", tag = "orders", operation_id = "editOrder",
    params(
        ("id" = OrderId, Path, description = "The order's id"),
        ("If-Match" = String, Header, description = "The order's version (its ETag): `3`, `\"3\"` or `W/\"3\"`"),
    ),
    request_body = OrderPatch,
    responses(
        (status = 200, description = "The edited order", body = Order, headers(("ETag" = String, description = "The new version"))),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 412, response = PreconditionFailed),
        (status = 422, response = Unprocessable),
    )
)]
pub fn edit_order() {}

/// An order's status history, oldest first.
#[utoipa::path(
    get, path = "/v1/orders/{id}/history", tag = "orders", operation_id = "getOrderHistory",
    params(("id" = OrderId, Path, description = "The order's id")),
    responses(
        (status = 200, description = "Status changes", body = Items<StatusChange>),
        (status = 404, response = NotFound),
    )
)]
pub fn order_history() {}

/// Submit a draft (or re-submit a rejected quote): to price approval or placement.
#[utoipa::path(
    post, path = "/v1/orders/{id}/submit", tag = "orders", operation_id = "submitOrder",
    params(("id" = OrderId, Path, description = "The order's id"), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer", max_length = 255)),
    responses(
        (status = 200, description = "The submitted order", body = Order, headers(("ETag" = String, description = "The new version"))),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = Unprocessable),
    )
)]
pub fn submit_order() {}

/// Approve or reject the prices of an order waiting for approval (sales managers; never one's own).
#[utoipa::path(
    post, path = "/v1/orders/{id}/approve-price", tag = "orders", operation_id = "approvePrice",
    params(("id" = OrderId, Path, description = "The order's id"), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer", max_length = 255)),
    request_body = PriceDecisionRequest,
    responses(
        (status = 200, description = "The decided order", body = Order, headers(("ETag" = String, description = "The new version"))),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = Unprocessable),
    )
)]
pub fn approve_price() {}

/// Cancel an order (admins): every reservation is given back.
#[utoipa::path(
    post, path = "/v1/orders/{id}/cancel", tag = "orders", operation_id = "cancelOrder",
    params(("id" = OrderId, Path, description = "The order's id"), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer", max_length = 255)),
    request_body = CancelRequest,
    responses(
        (status = 200, description = "The cancelled order", body = Order, headers(("ETag" = String, description = "The new version"))),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = Unprocessable),
    )
)]
pub fn cancel_order() {}

/// Place a hold (admins); one active hold per code.
#[utoipa::path(
    post, path = "/v1/orders/{id}/holds", tag = "orders", operation_id = "placeHold",
    params(("id" = OrderId, Path, description = "The order's id"), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer", max_length = 255)),
    request_body = HoldRequest,
    responses(
        (status = 200, description = "The held order", body = Order, headers(("ETag" = String, description = "The new version"))),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = Unprocessable),
    )
)]
pub fn place_hold() {}

/// Release a hold (admins); the last release sends the order on.
#[utoipa::path(
    post, path = "/v1/orders/{id}/holds/{hold_id}/release", tag = "orders", operation_id = "releaseHold",
    params(
        ("id" = OrderId, Path, description = "The order's id"),
        ("hold_id" = String, Path, description = "`H1`, `H2`, ...", min_length = 1, max_length = 64),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer", max_length = 255),
    ),
    responses(
        (status = 200, description = "The order", body = Order, headers(("ETag" = String, description = "The new version"))),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = Unprocessable),
    )
)]
pub fn release_hold() {}

/// Reserve stock for a line from a chosen hub (admins; manual allocation).
#[utoipa::path(
    post, path = "/v1/orders/{id}/allocations", tag = "orders", operation_id = "allocateLine",
    params(("id" = OrderId, Path, description = "The order's id"), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer", max_length = 255)),
    request_body = AllocationRequest,
    responses(
        (status = 200, description = "The order", body = Order, headers(("ETag" = String, description = "The new version"))),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = Unprocessable),
    )
)]
pub fn allocate_line() {}

/// Confirm a fully allocated manual order: ALLOCATED, to its warehouses.
#[utoipa::path(
    post, path = "/v1/orders/{id}/confirm-allocation", tag = "orders", operation_id = "confirmAllocation",
    params(("id" = OrderId, Path, description = "The order's id"), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer", max_length = 255)),
    responses(
        (status = 200, description = "The order", body = Order, headers(("ETag" = String, description = "The new version"))),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = Unprocessable),
    )
)]
pub fn confirm_allocation() {}

/// Ship allocated quantities (dispatchers); several calls split an order.
#[utoipa::path(
    post, path = "/v1/orders/{id}/shipments", tag = "shipments", operation_id = "createShipment",
    params(("id" = OrderId, Path, description = "The order's id"), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer", max_length = 255)),
    request_body = ShipmentRequest,
    responses(
        (status = 201, description = "The order with its new shipment", body = Order,
            headers(("Location" = String, description = "/v1/shipments/{shipment_id}"), ("ETag" = String, description = "The new version"))),
        (status = 200, description = "A replay: the first answer's order", body = Order, headers(("Idempotent-Replayed" = String, description = "true"))),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = Unprocessable),
    )
)]
pub fn create_shipment() {}

/// Read a shipment, with its order.
#[utoipa::path(
    get, path = "/v1/shipments/{shipment_id}", tag = "shipments", operation_id = "getShipment",
    params(("shipment_id" = String, Path, description = "`SHP-YYYYMMDD-NNNN`", min_length = 1, max_length = 64)),
    responses(
        (status = 200, description = "The shipment", body = OrderShipment),
        (status = 404, response = NotFound),
    )
)]
pub fn get_shipment() {}

/// Report a shipment's status (dispatchers; carriers without a callback).
#[utoipa::path(
    post, path = "/v1/shipments/{shipment_id}/status", tag = "shipments", operation_id = "reportShipment",
    params(("shipment_id" = String, Path, description = "`SHP-YYYYMMDD-NNNN`", min_length = 1, max_length = 64)),
    request_body = ShipmentStatusRequest,
    responses(
        (status = 200, description = "The shipment", body = OrderShipment),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = Unprocessable),
    )
)]
pub fn report_shipment() {}

/// Open a return (RMA) of shipped goods.
#[utoipa::path(
    post, path = "/v1/orders/{id}/returns", tag = "returns", operation_id = "createReturn",
    params(("id" = OrderId, Path, description = "The order's id"), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer", max_length = 255)),
    request_body = ReturnRequest,
    responses(
        (status = 201, description = "The order with its new return", body = Order,
            headers(("Location" = String, description = "/v1/returns/{return_id}"), ("ETag" = String, description = "The new version"))),
        (status = 200, description = "A replay: the first answer's order", body = Order, headers(("Idempotent-Replayed" = String, description = "true"))),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = Unprocessable),
    )
)]
pub fn create_return() {}

/// Read a return, with its order.
#[utoipa::path(
    get, path = "/v1/returns/{return_id}", tag = "returns", operation_id = "getReturn",
    params(("return_id" = String, Path, description = "`RMA-YYYYMMDD-NNNN`", min_length = 1, max_length = 64)),
    responses(
        (status = 200, description = "The return", body = OrderReturn),
        (status = 404, response = NotFound),
    )
)]
pub fn get_return() {}

/// Approve a return (managers, admins): the WMS is told what to expect.
#[utoipa::path(
    post, path = "/v1/returns/{return_id}/approve", tag = "returns", operation_id = "approveReturn",
    params(("return_id" = String, Path, description = "`RMA-YYYYMMDD-NNNN`", min_length = 1, max_length = 64), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer", max_length = 255)),
    responses(
        (status = 200, description = "The return", body = OrderReturn),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = Unprocessable),
    )
)]
pub fn approve_return() {}

/// Reject a return (managers, admins).
#[utoipa::path(
    post, path = "/v1/returns/{return_id}/reject", tag = "returns", operation_id = "rejectReturn",
    params(("return_id" = String, Path, description = "`RMA-YYYYMMDD-NNNN`", min_length = 1, max_length = 64), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer", max_length = 255)),
    request_body = RejectReturnRequest,
    responses(
        (status = 200, description = "The return", body = OrderReturn),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = Unprocessable),
    )
)]
pub fn reject_return() {}

/// Receive returned goods at the counter (the WMS's `ReturnReceived` does the same).
#[utoipa::path(
    post, path = "/v1/returns/{return_id}/receive", tag = "returns", operation_id = "receiveReturn",
    params(("return_id" = String, Path, description = "`RMA-YYYYMMDD-NNNN`", min_length = 1, max_length = 64), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer", max_length = 255)),
    request_body = ReceiveRequest,
    responses(
        (status = 200, description = "The return", body = OrderReturn),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = Unprocessable),
    )
)]
pub fn receive_return() {}

/// Confirm a refund was paid (accounting).
#[utoipa::path(
    post, path = "/v1/returns/{return_id}/confirm-refund", tag = "returns", operation_id = "confirmRefund",
    params(("return_id" = String, Path, description = "`RMA-YYYYMMDD-NNNN`", min_length = 1, max_length = 64), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer", max_length = 255)),
    request_body = ConfirmRefundRequest,
    responses(
        (status = 200, description = "The return", body = OrderReturn),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = Unprocessable),
    )
)]
pub fn confirm_refund() {}

/// Close a return.
#[utoipa::path(
    post, path = "/v1/returns/{return_id}/close", tag = "returns", operation_id = "closeReturn",
    params(("return_id" = String, Path, description = "`RMA-YYYYMMDD-NNNN`", min_length = 1, max_length = 64), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer", max_length = 255)),
    responses(
        (status = 200, description = "The return", body = OrderReturn),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = Unprocessable),
    )
)]
pub fn close_return() {}

/// The carrier's signed status callback (no JWT: `X-TMS-Signature`).
#[utoipa::path(
    post, path = "/v1/webhooks/tms", tag = "shipments", operation_id = "tmsCallback",
    security(("tms_signature" = [])),
    request_body = CarrierCallback,
    responses(
        (status = 200, description = "Applied, or a repeat / late report that changed nothing (`applied: false`)", body = CallbackAnswer),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
    )
)]
pub fn tms_callback() {}

/// The tenant's hubs.
#[utoipa::path(
    get, path = "/v1/hubs", tag = "inventory", operation_id = "listHubs",
    responses((status = 200, description = "Hubs", body = Items<Hub>))
)]
pub fn list_hubs() {}

/// Create or replace a hub (admins).
#[utoipa::path(
    put, path = "/v1/hubs/{hub_id}", tag = "inventory", operation_id = "putHub",
    params(("hub_id" = HubId, Path, description = "The hub's code")),
    request_body = HubInput,
    responses((status = 200, description = "The hub", body = Hub))
)]
pub fn put_hub() {}

/// The tenant's SKUs.
#[utoipa::path(
    get, path = "/v1/skus", tag = "inventory", operation_id = "listSkus",
    responses((status = 200, description = "SKUs", body = Items<SkuRecord>))
)]
pub fn list_skus() {}

/// Create or replace a SKU (admins).
#[utoipa::path(
    put, path = "/v1/skus/{sku}", tag = "inventory", operation_id = "putSku",
    params(("sku" = Sku, Path, description = "The SKU code")),
    request_body = SkuInput,
    responses(
        (status = 200, description = "The SKU", body = SkuRecord),
        (status = 409, response = Conflict),
    )
)]
pub fn put_sku() {}

/// Stock levels (an unknown pair reads as 0).
#[utoipa::path(
    get, path = "/v1/inventory", tag = "inventory", operation_id = "listStock",
    params(
        ("sku" = Option<Sku>, Query, description = "Only this SKU"),
        ("hub_id" = Option<HubId>, Query, description = "Only this hub"),
    ),
    responses((status = 200, description = "Stock levels", body = Items<StockView>))
)]
pub fn list_stock() {}

/// Set on-hand stock (`on_hand`) or change it (`delta`); never below what is reserved.
#[utoipa::path(
    put, path = "/v1/inventory/{hub_id}/{sku}", tag = "inventory", operation_id = "putStock",
    params(("hub_id" = HubId, Path, description = "The hub"), ("sku" = Sku, Path, description = "The SKU")),
    request_body = StockInput,
    responses(
        (status = 200, description = "The stock level", body = StockView),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    )
)]
pub fn put_stock() {}

/// The tenant's registered integrations.
#[utoipa::path(
    get, path = "/v1/integrations", tag = "integrations", operation_id = "listIntegrations",
    responses((status = 200, description = "Integrations", body = Items<Integration>))
)]
pub fn list_integrations() {}

/// Register an integration (admins): the principal may then act for the tenant.
#[utoipa::path(
    put, path = "/v1/integrations/{kind}/{principal}", tag = "integrations", operation_id = "registerIntegration",
    params(("kind" = IntegrationKind, Path, description = "wms or channel"), ("principal" = Principal, Path, description = "An AWS account id or IAM unique id")),
    request_body = IntegrationInput,
    responses((status = 200, description = "The integration", body = Integration))
)]
pub fn register_integration() {}

/// Revoke an integration (admins).
#[utoipa::path(
    delete, path = "/v1/integrations/{kind}/{principal}", tag = "integrations", operation_id = "revokeIntegration",
    params(("kind" = IntegrationKind, Path, description = "wms or channel"), ("principal" = Principal, Path, description = "An AWS account id or IAM unique id")),
    responses((status = 200, description = "Revoked", body = Revoked))
)]
pub fn revoke_integration() {}

/// This document (no authentication).
#[utoipa::path(
    get, path = "/v1/openapi.json", tag = "meta", operation_id = "getOpenApi",
    security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document of this API", body = Document))
)]
pub fn openapi_document() {}
