"""Allocation end to end: the B2B seed's manual allocation from several sources."""

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor

from conftest import order_body, tenant_items, wms


def test_the_seeds_manual_flow_600_from_a_warehouse_and_400_from_a_port(admin, sales, catalog, dynamodb, tenant):
    admin.put("/hubs/HPH-PORT", {"name": "Cang Hai Phong", "type": "PORT", "location": {"lat": 20.84, "lon": 106.69},
                                 "daily_capacity": 2000, "performance_score": "0.75"})
    admin.put("/inventory/HCM/PP-H1", {"on_hand": "700"})
    admin.put("/inventory/HPH-PORT/PP-H1", {"on_hand": "350"})
    order = sales.post("/orders", order_body("PP-H1", "1000", allocation="manual", submit=True)).json()
    assert order["status"] == "PENDING_ALLOCATION"
    oid = order["order_id"]

    def allocate(hub, quantity, who=admin):
        return who.post(f"/orders/{oid}/allocations", {"order_line_id": "L1", "hub_id": hub, "quantity": quantity})

    assert allocate("HCM", "600", who=sales).status_code == 403
    first = allocate("HCM", "600")
    assert first.status_code == 200, first.text
    assert admin.post(f"/orders/{oid}/confirm-allocation").status_code == 409, "400 KG still unallocated"

    before = len(tenant_items(dynamodb, tenant))
    more_than_available = allocate("HPH-PORT", "400")
    assert (more_than_available.status_code, more_than_available.json()["error"]["code"]) == (409, "insufficient_stock")
    more_than_needed = allocate("HCM", "401")
    assert (more_than_needed.status_code, more_than_needed.json()["error"]["code"]) == (409, "over_allocation")
    assert len(tenant_items(dynamodb, tenant)) == before, "refused allocations wrote nothing"

    assert admin.put("/inventory/HPH-PORT/PP-H1", {"delta": "100"}).status_code == 200  # a receipt at the port
    assert allocate("HPH-PORT", "400").status_code == 200
    confirmed = admin.post(f"/orders/{oid}/confirm-allocation")
    assert confirmed.status_code == 200, confirmed.text
    body = confirmed.json()
    assert body["status"] == "IN_FULFILLMENT"
    assert sorted((a["hub_id"], a["quantity"]) for a in body["lines"][0]["allocations"]) == [("HCM", "600"), ("HPH-PORT", "400")]
    assert sorted(r["hub_id"] for r in body["fulfillment_requests"]) == ["HCM", "HPH-PORT"]
    stock = {i["hub_id"]: i for i in sales.get("/inventory?sku=PP-H1").json()["items"]}
    assert (stock["HCM"]["reserved"], stock["HPH-PORT"]["reserved"]) == ("600", "400")
    assert (stock["HCM"]["available"], stock["HPH-PORT"]["available"]) == ("100", "50")
    history = [h["to"] for h in sales.get(f"/orders/{oid}/history").json()["items"]]
    assert history == ["DRAFT", "PENDING_ALLOCATION", "ALLOCATED", "IN_FULFILLMENT"]


def test_30_parallel_orders_for_12_units_then_5_more_serve_the_5_oldest_backorders(admin, sales, catalog):
    admin.put("/inventory/HCM/PP-H1", {"on_hand": "12"})
    with ThreadPoolExecutor(max_workers=10) as pool:
        created = list(pool.map(lambda _: sales.post("/orders", order_body("PP-H1", "1", submit=True)).json(), range(30)))
    placed = [sales.wait_for_status(o["order_id"], {"IN_FULFILLMENT", "BACKORDERED"}, timeout=180) for o in created]
    statuses = [o["status"] for o in placed]
    assert (statuses.count("IN_FULFILLMENT"), statuses.count("BACKORDERED")) == (12, 18)
    stock = sales.get("/inventory?sku=PP-H1&hub_id=HCM").json()["items"][0]
    assert (stock["reserved"], stock["available"]) == ("12", "0")

    backordered = sorted((o for o in placed if o["status"] == "BACKORDERED"), key=lambda o: (o["created_at"], o["order_id"]))
    assert admin.put("/inventory/HCM/PP-H1", {"delta": "5"}).status_code == 200
    for order in backordered[:5]:
        assert sales.wait_for_status(order["order_id"], {"IN_FULFILLMENT"}, timeout=60)["status"] == "IN_FULFILLMENT"
    time.sleep(2)
    rest = [sales.get(f"/orders/{o['order_id']}").json()["status"] for o in backordered[5:]]
    assert rest == ["BACKORDERED"] * 13
    stock = sales.get("/inventory?sku=PP-H1&hub_id=HCM").json()["items"][0]
    assert (stock["on_hand"], stock["reserved"], stock["available"]) == ("17", "17", "0")
    history = [h["to"] for h in sales.get(f"/orders/{backordered[0]['order_id']}/history").json()["items"]]
    assert history == ["DRAFT", "PENDING_ALLOCATION", "BACKORDERED", "PENDING_ALLOCATION", "ALLOCATED", "IN_FULFILLMENT"]


def test_a_warehouse_count_on_the_bus_sets_on_hand_once_and_a_late_older_one_is_ignored(admin, sales, catalog, tenant):
    def count(on_hand, at, event_id):
        wms(tenant, "StockAdjusted", event_id, hub_id="HCM", sku="PP-H1", on_hand=on_hand, occurred_at=at)

    count("80", "2026-11-22T10:00:00Z", "c1")
    count("80", "2026-11-22T10:00:00Z", "c1")
    count("30", "2026-11-22T09:00:00Z", "c0")  # older, arrives late
    deadline = time.monotonic() + 30
    level = None
    while time.monotonic() < deadline:
        items = sales.get("/inventory?sku=PP-H1&hub_id=HCM").json()["items"]
        level = items[0]["on_hand"] if items else None
        if level == "80":
            break
        time.sleep(0.3)
    time.sleep(2)
    assert sales.get("/inventory?sku=PP-H1&hub_id=HCM").json()["items"][0]["on_hand"] == "80"


def test_inventory_low_fires_when_a_reservation_takes_available_under_the_threshold(admin, sales, catalog, tenant, sqs):
    admin.put("/skus/PP-H1", {"name": "PP Homopolymer", "unit": "KG", "list_price": "32000", "low_stock_threshold": "10"})
    admin.put("/inventory/HCM/PP-H1", {"on_hand": "15"})
    order = sales.post("/orders", order_body("PP-H1", "8", submit=True)).json()
    sales.wait_for_status(order["order_id"], {"IN_FULFILLMENT"})
    url, deadline = os.environ["OMS_EVENT_TAP_QUEUE_URL"], time.monotonic() + 30
    low = None
    while time.monotonic() < deadline and low is None:
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            event = json.loads(message["Body"])
            if event["detail-type"] == "InventoryLow" and event["detail"]["tenant_id"] == tenant:
                low = event["detail"]
    assert low is not None, "no InventoryLow"
    assert (low["hub_id"], low["sku"], low["available"], low["threshold"]) == ("HCM", "PP-H1", "7", "10")
