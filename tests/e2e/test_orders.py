"""The order API end to end: lifecycle routes, roles, listing and channel intake, through the
local gateway and the real functions."""

import json
import os
import time

from conftest import Api, channel_sqs, events_of, order_body


def _stock(api: Api, sku: str, hub: str) -> dict:
    items = api.get(f"/inventory?sku={sku}&hub_id={hub}").json()["items"]
    return items[0]


def test_a_quote_under_list_is_approved_by_a_manager_then_allocated(admin, sales, catalog, tenant):
    admin.put("/inventory/HCM/PP-H1", {"on_hand": "100"})
    body = order_body("PP-H1", "10")
    body["lines"][0]["quoted_unit_price"] = "30000"
    created = sales.post("/orders", body).json()
    submitted = sales.post(f"/orders/{created['order_id']}/submit")
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "PENDING_PRICE_APPROVAL"
    comparison = submitted.json()["price_approval"]["lines"][0]
    assert (comparison["difference"], comparison["percent"]) == ("-2000", "-6.25")

    assert sales.post(f"/orders/{created['order_id']}/approve-price", {"approved": True}).status_code == 403
    manager = Api(tenant, "sales_manager")
    approved = manager.post(f"/orders/{created['order_id']}/approve-price", {"approved": True, "notes": "loyal customer"})
    assert approved.status_code == 200, approved.text
    order = sales.wait_for_status(created["order_id"], {"IN_FULFILLMENT", "BACKORDERED"})
    assert order["status"] == "IN_FULFILLMENT"
    assert order["lines"][0]["approved_unit_price"] == "30000"


def test_cancel_gives_the_stock_back_and_withdraws_the_warehouse_request(admin, sales, catalog, sqs):
    admin.put("/inventory/HCM/PP-H1", {"on_hand": "20"})
    created = sales.post("/orders", order_body("PP-H1", "8", submit=True)).json()
    sales.wait_for_status(created["order_id"], {"IN_FULFILLMENT"})
    assert _stock(sales, "PP-H1", "HCM")["reserved"] == "8"
    assert sales.post(f"/orders/{created['order_id']}/cancel", {"reason": "changed mind"}).status_code == 403
    cancelled = admin.post(f"/orders/{created['order_id']}/cancel", {"reason": "changed mind"})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "CANCELLED"
    assert _stock(sales, "PP-H1", "HCM")["reserved"] == "0"
    assert [r["status"] for r in cancelled.json()["fulfillment_requests"]] == ["cancelled"]
    history = sales.get(f"/orders/{created['order_id']}/history").json()["items"]
    assert history[-1]["to"] == "CANCELLED" and history[-1]["actor"] == "admin-user"
    types = [e["detail-type"] for e in events_of(sqs, created["order_id"], until="OrderCancelled")]
    assert "FulfillmentCancelled" in types, types


def test_edit_needs_the_current_version(sales, catalog):
    created = sales.post("/orders", order_body("PP-H1", "1"))
    order = created.json()
    etag = created.headers.get("etag") or f'"{order["version"]}"'
    stale = sales.call("PATCH", f"/orders/{order['order_id']}", {"notes": "x"}, headers={"If-Match": '"0"'})
    assert stale.status_code == 412
    edited = sales.call("PATCH", f"/orders/{order['order_id']}", {"lines": [{"sku": "PP-H1", "quantity": "3"}]}, headers={"If-Match": etag})
    assert edited.status_code == 200, edited.text
    assert edited.json()["lines"][0]["quantity"] == "3"


def test_holds_and_listing(admin, sales, catalog, tenant):
    ids = [sales.post("/orders", order_body("PP-H1", "1", external_reference=f"PO-{n}")).json()["order_id"] for n in range(3)]
    held = admin.post(f"/orders/{ids[0]}/holds", {"code": "payment_hold", "reason": "awaiting deposit"})
    assert held.status_code == 200 and held.json()["on_hold"] is True
    released = admin.post(f"/orders/{ids[0]}/holds/H1/release")
    assert released.json()["on_hold"] is False

    page = sales.get("/orders?limit=2").json()
    assert [o["order_id"] for o in page["items"]] == ids[::-1][:2]
    rest = sales.get(f"/orders?limit=2&cursor={page['next_cursor']}").json()
    assert [o["order_id"] for o in rest["items"]] == [ids[0]] and rest.get("next_cursor") is None
    found = sales.get("/orders?q=po-1").json()["items"]
    assert [o["order_id"] for o in found] == [ids[1]]
    assert Api(tenant, "dispatcher").get("/orders?status=DRAFT").json()["items"][0]["status"] == "DRAFT"


def test_a_channel_order_on_the_queue_becomes_one_order(admin, catalog, tenant):
    admin.put("/skus/PP-H1", {"name": "PP Homopolymer", "unit": "KG", "list_price": "32000", "channel_items": {"shopee": "SP-1"}})
    sqs = channel_sqs()
    queue = sqs.get_queue_url(QueueName=f"{os.environ.get('OMS_STACK_NAME', 'oms-local')}-ChannelOrdersQueue")["QueueUrl"]
    message = {"tenant_id": tenant, "channel": "shopee", "channel_order_id": "SO-42",
               "customer": {"id": "buyer-1", "name": "Lan", "delivery_address": {"line1": "1 Hue", "city": "Hue", "country": "VN"}},
               "lines": [{"channel_item_id": "SP-1", "quantity": "2"}]}
    for _ in range(2):  # a connector that sends twice
        sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(message))
    manager = Api(tenant, "sales_manager")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        items = manager.get("/orders").json()["items"]
        if items:
            break
        time.sleep(0.5)
    time.sleep(2)  # give the duplicate its chance to (not) make a second order
    items = manager.get("/orders").json()["items"]
    assert len(items) == 1, items
    order = manager.get(f"/orders/{items[0]['order_id']}").json()
    assert (order["channel"], order["channel_order_id"], order["lines"][0]["sku"]) == ("shopee", "SO-42", "PP-H1")
    assert order["status"] in {"PENDING_ALLOCATION", "ALLOCATED", "IN_FULFILLMENT", "BACKORDERED"}
