"""Returns end to end: RMAs through the API, the warehouse's ReturnReceived on the bus, restock,
refunds on the accounting queue."""

import os

from conftest import Api, order_body, read_queue, tenant_items, tms, wait_until, wms
from tools.local.event_schemas import validate_detail


def delivered(admin: Api, sales: Api, tenant: str, sku: str = "PP-H1", quantity: str = "10", **extra) -> dict:
    """An order of `quantity` shipped from HCM by a dispatcher and delivered (COMPLETED)."""
    oid = sales.post("/orders", order_body(sku, quantity, allocation="manual", submit=True, **extra)).json()["order_id"]
    allocated = admin.post(f"/orders/{oid}/allocations", {"order_line_id": "L1", "hub_id": "HCM", "quantity": quantity})
    assert allocated.status_code == 200, allocated.text
    assert admin.post(f"/orders/{oid}/confirm-allocation").status_code == 200
    shipped = Api(tenant, "dispatcher").post(
        f"/orders/{oid}/shipments", {"type": "INTERNAL", "lines": [{"order_line_id": "L1", "quantity": quantity, "hub_id": "HCM"}]})
    assert shipped.status_code == 201, shipped.text
    shipment_id = shipped.headers["Location"].rsplit("/", 1)[1]
    assert tms(shipment_id, "DELIVERED", f"{oid}-delivered").status_code == 200
    order = sales.get(f"/orders/{oid}").json()
    assert order["status"] == "COMPLETED", order["status"]
    return order


def on_hand(api: Api, sku: str, hub: str = "HCM") -> str:
    return api.get(f"/inventory?sku={sku}&hub_id={hub}").json()["items"][0]["on_hand"]


def received(tenant: str, return_id: str, event_id: str, accepted: str, rejected: str, disposition: str = "restock"):
    total = str(int(accepted) + int(rejected))
    wms(tenant, "ReturnReceived", event_id, return_id=return_id,
        lines=[{"order_line_id": "L1", "quantity_received": total, "quantity_accepted": accepted,
                "quantity_rejected": rejected, "disposition": disposition}])


def rma_for(sales: Api, manager: Api, oid: str, quantity: str) -> str:
    created = sales.post(f"/orders/{oid}/returns", {"lines": [{"order_line_id": "L1", "quantity": quantity, "reason": "cracked"}]})
    assert created.status_code == 201, created.text
    return_id = created.headers["Location"].rsplit("/", 1)[1]
    assert sales.post(f"/returns/{return_id}/approve").status_code == 403, "sales cannot approve"
    approved = manager.post(f"/returns/{return_id}/approve")
    assert (approved.status_code, approved.json()["status"]) == (200, "approved"), approved.text
    return return_id


def test_a_return_of_4_with_3_accepted_restocks_3_and_refunds_them_in_vnd_and_usd(admin, sales, catalog, tenant):
    manager = Api(tenant, "sales_manager")
    assert admin.put("/skus/PP-US", {"name": "PP export grade", "unit": "KG", "list_price": "19.99", "currency": "USD",
                                     "tax_rate": "0.10"}).status_code == 200
    admin.put("/inventory/HCM/PP-H1", {"on_hand": "10"})
    admin.put("/inventory/HCM/PP-US", {"on_hand": "10"})
    cases = [("PP-H1", {}, {"net": "96000", "tax": "9600", "total": "105600"}),
             ("PP-US", {"currency": "USD"}, {"net": "59.97", "tax": "6.00", "total": "65.97"})]
    for sku, extra, money in cases:
        order = delivered(admin, sales, tenant, sku, **extra)
        oid = order["order_id"]
        return_id = rma_for(sales, manager, oid, "4")
        before = on_hand(admin, sku)
        received(tenant, return_id, f"{return_id}-received", accepted="3", rejected="1")
        rma = wait_until(lambda: sales.get(f"/returns/{return_id}").json(), lambda r: r["status"] == "received")
        assert (rma["lines"][0]["accepted"], rma["lines"][0]["rejected"], rma["lines"][0]["disposition"]) == ("3", "1", "restock")
        assert int(on_hand(admin, sku)) == int(before) + 3
        line = sales.get(f"/orders/{oid}").json()["lines"][0]
        assert line["returned"] == "3"
        assert [r["return_id"] for r in sales.get(f"/orders/{oid}").json()["returns"]] == [return_id]

        refund = read_queue(os.environ["OMS_ACCOUNTING_QUEUE_URL"],
                            lambda e: e["detail-type"] == "RefundRequested" and e["detail"]["return_id"] == return_id)
        validate_detail("oms", "RefundRequested", refund["detail"])
        memo = refund["detail"]["refund"]
        assert {k: memo[k] for k in money} == money, memo
        assert (memo["currency"], memo["lines"][0]["quantity"]) == (extra.get("currency", "VND"), "3")

        confirmed = manager.post(f"/returns/{return_id}/confirm-refund", {"reference": "BANK-0042"})
        assert (confirmed.status_code, confirmed.json()["status"]) == (200, "refunded"), confirmed.text
        closed = manager.post(f"/returns/{return_id}/close")
        assert (closed.status_code, closed.json()["status"]) == (200, "closed"), closed.text


def test_the_same_receipt_three_times_restocks_once(admin, sales, catalog, tenant):
    admin.put("/inventory/HCM/PP-H1", {"on_hand": "10"})
    order = delivered(admin, sales, tenant)
    return_id = rma_for(sales, Api(tenant, "sales_manager"), order["order_id"], "4")
    for _ in range(3):
        received(tenant, return_id, f"{return_id}-once", accepted="4", rejected="0")
    wait_until(lambda: sales.get(f"/returns/{return_id}").json(), lambda r: r["status"] == "received")
    wait_until(lambda: on_hand(admin, "PP-H1"), lambda v: v == "4")
    import time
    time.sleep(2)  # the repeats have arrived
    assert on_hand(admin, "PP-H1") == "4"
    assert sales.get(f"/orders/{order['order_id']}").json()["lines"][0]["returned"] == "4"


def test_over_returns_over_receipts_roles_and_tenants_are_refused_and_write_nothing(admin, sales, catalog, dynamodb, tenant):
    manager = Api(tenant, "sales_manager")
    admin.put("/inventory/HCM/PP-H1", {"on_hand": "10"})
    oid = delivered(admin, sales, tenant)["order_id"]

    def ask(quantity):
        return sales.post(f"/orders/{oid}/returns", {"lines": [{"order_line_id": "L1", "quantity": quantity, "reason": "x"}]})

    before = len(tenant_items(dynamodb, tenant))
    too_many = ask("11")
    assert (too_many.status_code, too_many.json()["error"]["code"]) == (409, "over_return"), too_many.text
    assert len(tenant_items(dynamodb, tenant)) == before, "a refused return writes nothing"
    first = ask("6")
    assert first.status_code == 201
    together = ask("5")
    assert (together.status_code, together.json()["error"]["code"]) == (409, "over_return"), "6 + 5 > 10 shipped"
    assert ask("4").status_code == 201

    return_id = first.headers["Location"].rsplit("/", 1)[1]
    assert Api("another-tenant", "sales_manager").get(f"/returns/{return_id}").status_code == 404
    assert Api("another-tenant", "sales_manager").post(f"/returns/{return_id}/approve").status_code == 404
    assert manager.post(f"/returns/{return_id}/approve").status_code == 200
    order_before = sales.get(f"/orders/{oid}").json()
    stock_before = on_hand(admin, "PP-H1")

    counter = manager.post(f"/returns/{return_id}/receive", {"lines": [
        {"order_line_id": "L1", "quantity_received": "7", "quantity_accepted": "7", "quantity_rejected": "0",
         "disposition": "restock"}]})
    assert (counter.status_code, counter.json()["error"]["code"]) == (409, "over_receipt"), counter.text
    received(tenant, return_id, f"{return_id}-too-many", accepted="7", rejected="0")
    record = read_queue(os.environ["OMS_WMS_EVENTS_DEAD_LETTER_QUEUE_URL"],
                        lambda r: r["requestPayload"]["detail"].get("event_id") == f"{return_id}-too-many")
    assert "6 approved" in record["responsePayload"]["errorMessage"], record["responsePayload"]
    assert sales.get(f"/orders/{oid}").json() == order_before
    assert on_hand(admin, "PP-H1") == stock_before

    # The counter clerk's receipt, with nothing to restock.
    done = manager.post(f"/returns/{return_id}/receive", {"lines": [
        {"order_line_id": "L1", "quantity_received": "6", "quantity_accepted": "6", "quantity_rejected": "0",
         "disposition": "dispose"}]})
    assert (done.status_code, done.json()["status"]) == (200, "received"), done.text
    assert on_hand(admin, "PP-H1") == stock_before, "disposed goods do not come back into stock"


def test_a_restock_that_covers_a_backordered_order_places_it(admin, sales, catalog, tenant):
    admin.put("/inventory/HCM/PP-H1", {"on_hand": "10"})
    order = delivered(admin, sales, tenant)
    waiting = sales.post("/orders", order_body("PP-H1", "3", submit=True)).json()
    assert sales.wait_for_status(waiting["order_id"], {"BACKORDERED"})["status"] == "BACKORDERED"

    return_id = rma_for(sales, Api(tenant, "sales_manager"), order["order_id"], "3")
    received(tenant, return_id, f"{return_id}-restock", accepted="3", rejected="0")
    placed = sales.wait_for_status(waiting["order_id"], {"IN_FULFILLMENT", "ALLOCATED"})
    assert placed["lines"][0]["allocations"] == [{"hub_id": "HCM", "quantity": "3"}]
