"""Fulfillment and delivery end to end, as the outside world drives it: warehouse events put on
the bus (source `wms`), dispatchers through the HTTP API, and the TMS through its signed webhook.
"""

import json
import os
import random
import re
import time

import pytest
import requests

from conftest import Api, events_of, order_body, read_queue, sign, tenant_items, tenant_snapshot, tms, wait_until, wms
from tools.local.event_schemas import validate_detail


@pytest.fixture
def two_skus(admin, catalog) -> dict:
    """PP-H1 in stock only at HCM and PE-F2 only at HAN: an order for both splits over two hubs."""
    assert admin.put("/skus/PE-F2", {"name": "PE Film", "unit": "KG", "list_price": "41000", "tax_rate": "0.08"}).status_code == 200
    assert admin.put("/inventory/HCM/PP-H1", {"on_hand": "100"}).status_code == 200
    assert admin.put("/inventory/HAN/PE-F2", {"on_hand": "100"}).status_code == 200
    return catalog


def split_order(sales: Api) -> dict:
    body = order_body("PP-H1", "10", submit=True)
    body["lines"].append({"sku": "PE-F2", "quantity": "5"})
    created = sales.post("/orders", body)
    assert created.status_code == 201, created.text
    order = sales.wait_for_status(created.json()["order_id"], {"IN_FULFILLMENT", "BACKORDERED"})
    assert order["status"] == "IN_FULFILLMENT", order
    return order


def request_at(order: dict, hub: str) -> dict:
    (request,) = [r for r in order["fulfillment_requests"] if r["hub_id"] == hub]
    return request


def warehouse_run(order: dict, hub: str) -> list[tuple]:
    """The events a warehouse sends for its request, in the order it does the work."""
    request = request_at(order, hub)
    rid = request["fulfillment_request_id"]
    lines = [{"order_line_id": l["order_line_id"], "quantity": l["quantity"]} for l in request["lines"]]
    halves = [{"order_line_id": l["order_line_id"], "quantity": str(int(l["quantity"]) // 2)} for l in request["lines"]]
    rests = [{"order_line_id": l["order_line_id"], "quantity": str(int(l["quantity"]) - int(l["quantity"]) // 2)}
             for l in request["lines"]]
    package = {"package_number": f"PKG-{hub}-1", "weight_kg": "11.5",
               "dimensions_cm": {"length": "60", "width": "40", "height": "30"},
               "label_url": f"https://labels.example.com/{hub}-1.pdf"}
    return [
        ("FulfillmentAccepted", f"{hub}-accepted", {"fulfillment_request_id": rid}),
        ("PickCompleted", f"{hub}-pick-1", {"fulfillment_request_id": rid, "lines": halves}),
        ("PickCompleted", f"{hub}-pick-2", {"fulfillment_request_id": rid, "lines": rests}),
        ("PackCompleted", f"{hub}-pack", {"fulfillment_request_id": rid, "lines": lines, "packages": [package]}),
        ("ShipCompleted", f"{hub}-ship", {"fulfillment_request_id": rid, "carrier": "GHN", "tracking_number": f"GHN-{hub}",
                                          "packages": [{**package, "tracking_number": f"GHN-{hub}"}], "lines": lines}),
    ]


def send(tenant: str, run: list[tuple]) -> None:
    for detail_type, event_id, detail in run:
        wms(tenant, detail_type, event_id, **detail)


def test_an_order_split_over_two_hubs_is_shipped_by_both_delivered_and_completed(admin, sales, two_skus, sqs, tenant):
    order = split_order(sales)
    oid = order["order_id"]
    assert sorted(r["hub_id"] for r in order["fulfillment_requests"]) == ["HAN", "HCM"]

    send(tenant, warehouse_run(order, "HCM"))
    partly = sales.wait_for_status(oid, {"PARTIALLY_SHIPPED"})
    hcm = request_at(partly, "HCM")
    assert hcm["status"] == "shipped" and hcm["packages"][0]["package_number"] == "PKG-HCM-1"
    pp = next(l for l in partly["lines"] if l["sku"] == "PP-H1")
    assert (pp["picked"], pp["packed"], pp["shipped"], pp["delivered"]) == ("10", "10", "10", "0")
    assert request_at(partly, "HAN")["status"] == "requested"
    stock = admin.get("/inventory?sku=PP-H1&hub_id=HCM").json()["items"][0]
    assert (stock["on_hand"], stock["reserved"], stock["available"]) == ("90", "0", "90"), "the goods left the hub"

    send(tenant, warehouse_run(order, "HAN"))
    shipped = sales.wait_for_status(oid, {"SHIPPED"})
    shipments = shipped["shipments"]
    assert len(shipments) == 2 and all(re.fullmatch(r"SHP-\d{8}-\d{4,}", s["shipment_id"]) for s in shipments)
    assert {(s["carrier"], s["tracking_number"], s["status"]) for s in shipments} == {
        ("GHN", "GHN-HCM", "CREATED"), ("GHN", "GHN-HAN", "CREATED")}

    for i, s in enumerate(shipments):
        response = tms(s["shipment_id"], "IN_TRANSIT", f"tms-{oid}-t{i}", tms_order_id=f"TMS-{i}")
        assert (response.status_code, response.json()["applied"]) == (200, True), response.text
    assert sales.get(f"/orders/{oid}").json()["status"] == "IN_TRANSIT"
    assert tms(shipments[0]["shipment_id"], "DELIVERED", f"tms-{oid}-d0").status_code == 200
    assert sales.get(f"/orders/{oid}").json()["status"] == "IN_TRANSIT", "one shipment is still on the road"
    assert tms(shipments[1]["shipment_id"], "DELIVERED", f"tms-{oid}-d1").status_code == 200

    done = sales.get(f"/orders/{oid}").json()
    assert done["status"] == "COMPLETED"
    assert all(l["delivered"] == l["quantity"] for l in done["lines"])
    history = [h["to"] for h in sales.get(f"/orders/{oid}/history").json()["items"]]
    assert history[-6:] == ["IN_FULFILLMENT", "PARTIALLY_SHIPPED", "SHIPPED", "IN_TRANSIT", "DELIVERED", "COMPLETED"]

    completed = read_queue(os.environ["OMS_ACCOUNTING_QUEUE_URL"], lambda e: e["detail"].get("order_id") == oid)
    assert completed["detail-type"] == "OrderCompleted"
    validate_detail("oms", "OrderCompleted", completed["detail"])
    detail = completed["detail"]
    assert (detail["totals"], detail["customer"]["id"], detail["currency"]) == (done["totals"], "CUST-001", "VND")
    assert sorted(detail["shipment_ids"]) == sorted(s["shipment_id"] for s in shipments)

    seen = [e["detail-type"] for e in events_of(sqs, oid, until="OrderCompleted")]
    assert seen.count("ShipmentCreated") == 2 and seen.count("ShipmentStatusChanged") == 4


def test_the_b2b_flow_two_dispatcher_shipments_delivered_complete_the_order_and_a_third_is_409(
        admin, sales, catalog, dynamodb, tenant):
    admin.put("/inventory/HCM/PP-H1", {"on_hand": "700"})
    admin.put("/inventory/HAN/PP-H1", {"on_hand": "450"})
    oid = sales.post("/orders", order_body("PP-H1", "1000", allocation="manual", submit=True)).json()["order_id"]
    for hub, quantity in [("HCM", "600"), ("HAN", "400")]:
        allocated = admin.post(f"/orders/{oid}/allocations", {"order_line_id": "L1", "hub_id": hub, "quantity": quantity})
        assert allocated.status_code == 200, allocated.text
    assert admin.post(f"/orders/{oid}/confirm-allocation").json()["status"] == "IN_FULFILLMENT"

    dispatcher = Api(tenant, "dispatcher")
    truck = {"type": "INTERNAL", "lines": [{"order_line_id": "L1", "quantity": "600", "hub_id": "HCM"}]}
    assert sales.post(f"/orders/{oid}/shipments", truck).status_code == 403
    assert Api("someone-else", "dispatcher").post(f"/orders/{oid}/shipments", truck).status_code == 404
    first = dispatcher.post(f"/orders/{oid}/shipments", truck, headers={"Idempotency-Key": f"{oid}-truck-1"})
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "PARTIALLY_SHIPPED"
    replay = dispatcher.post(f"/orders/{oid}/shipments", truck, headers={"Idempotency-Key": f"{oid}-truck-1"})
    assert (replay.status_code, len(replay.json()["shipments"])) == (200, 1), "a retried request ships once"
    first_id = first.headers["Location"].rsplit("/", 1)[1]
    assert dispatcher.get(f"/shipments/{first_id}").json()["lines"][0]["quantity"] == "600"
    assert Api("someone-else", "dispatcher").get(f"/shipments/{first_id}").status_code == 404

    carrier = {"type": "EXTERNAL", "lines": [{"order_line_id": "L1", "quantity": "400", "hub_id": "HAN"}]}
    no_tracking = dispatcher.post(f"/orders/{oid}/shipments", {**carrier, "carrier": "Viettel Post"})
    assert no_tracking.status_code == 400, no_tracking.text
    second = dispatcher.post(f"/orders/{oid}/shipments", {**carrier, "carrier": "Viettel Post", "tracking_number": "VTP-1"})
    assert second.status_code == 201, second.text
    assert second.json()["status"] == "SHIPPED"
    assert all(r["status"] == "shipped" for r in second.json()["fulfillment_requests"]), "nothing left for the WMS"

    before = len(tenant_items(dynamodb, tenant))
    third = dispatcher.post(f"/orders/{oid}/shipments",
                            {"type": "INTERNAL", "lines": [{"order_line_id": "L1", "quantity": "1", "hub_id": "HCM"}]})
    assert (third.status_code, third.json()["error"]["code"]) == (409, "over_shipment"), third.text
    assert len(tenant_items(dynamodb, tenant)) == before, "a refused shipment writes nothing"

    stock = {i["hub_id"]: i for i in admin.get("/inventory?sku=PP-H1").json()["items"]}
    assert (stock["HCM"]["on_hand"], stock["HCM"]["reserved"]) == ("100", "0")
    assert (stock["HAN"]["on_hand"], stock["HAN"]["reserved"]) == ("50", "0")

    second_id = second.headers["Location"].rsplit("/", 1)[1]
    assert tms(first_id, "DELIVERED", f"{oid}-d1").status_code == 200
    # An external carrier without a callback: the dispatcher reports the delivery.
    reported = dispatcher.post(f"/shipments/{second_id}/status", {"status": "DELIVERED"})
    assert reported.status_code == 200, reported.text
    assert reported.json()["order_status"] == "COMPLETED"
    history = [h["to"] for h in sales.get(f"/orders/{oid}/history").json()["items"]]
    assert history[-5:] == ["PARTIALLY_SHIPPED", "SHIPPED", "IN_TRANSIT", "DELIVERED", "COMPLETED"]


def comparable(order: dict) -> dict:
    """What the warehouse events decide, without ids and times that differ between orders."""
    return {
        "status": order["status"],
        "lines": [{k: l[k] for k in ("picked", "packed", "shipped", "delivered")} for l in order["lines"]],
        "requests": sorted((r["hub_id"], r["status"], json.dumps(r["lines"]), json.dumps(r.get("packages", [])),
                            sorted(r.get("applied_events", []))) for r in order["fulfillment_requests"]),
        "shipments": sorted((s["carrier"], s["tracking_number"], s["status"], json.dumps(s["lines"]),
                             json.dumps(s["packages"])) for s in order["shipments"]),
    }


def test_warehouse_events_twice_and_shuffled_end_where_the_in_order_run_ends(sales, two_skus, tenant):
    in_order, shuffled = split_order(sales), split_order(sales)
    send(tenant, warehouse_run(in_order, "HCM") + warehouse_run(in_order, "HAN"))
    run = (warehouse_run(shuffled, "HCM") + warehouse_run(shuffled, "HAN")) * 2
    random.Random(7).shuffle(run)
    send(tenant, run)

    def settled(oid):
        return wait_until(lambda: sales.get(f"/orders/{oid}").json(),
                          lambda o: o["status"] == "SHIPPED"
                          and all(len(r.get("applied_events", [])) == 5 for r in o["fulfillment_requests"]))

    reference = settled(in_order["order_id"])
    result = settled(shuffled["order_id"])
    time.sleep(2)  # let the repeats arrive
    result = sales.get(f"/orders/{shuffled['order_id']}").json()
    assert comparable(result) == comparable(reference)
    assert len(result["shipments"]) == 2


def test_refused_warehouse_events_go_to_the_dead_letter_queue_with_the_reason_and_change_nothing(
        admin, sales, two_skus, tenant):
    order = split_order(sales)
    oid = order["order_id"]
    before = sales.get(f"/orders/{oid}").json()
    rid = request_at(order, "HCM")["fulfillment_request_id"]
    line = request_at(order, "HCM")["lines"][0]["order_line_id"]
    other_line = request_at(order, "HAN")["lines"][0]["order_line_id"]
    wms(tenant, "PickCompleted", f"{oid}-too-much", fulfillment_request_id=rid,
        lines=[{"order_line_id": line, "quantity": "11"}])
    wms(tenant, "PickCompleted", f"{oid}-wrong-line", fulfillment_request_id=rid,
        lines=[{"order_line_id": other_line, "quantity": "1"}])

    dlq = os.environ["OMS_WMS_EVENTS_DEAD_LETTER_QUEUE_URL"]
    for event_id, reason in [(f"{oid}-too-much", "10 requested"), (f"{oid}-wrong-line", f"has no line {other_line}")]:
        record = read_queue(dlq, lambda r: r["requestPayload"]["detail"]["event_id"] == event_id)
        assert record["requestContext"]["condition"] == "RetriesExhausted"
        assert reason in record["responsePayload"]["errorMessage"], record["responsePayload"]
    assert sales.get(f"/orders/{oid}").json() == before


def test_a_hold_stops_shipping_until_it_is_released(admin, sales, two_skus, tenant):
    order = split_order(sales)
    oid = order["order_id"]
    assert admin.post(f"/orders/{oid}/holds", {"code": "fraud", "reason": "address check"}).status_code == 200
    dispatcher = Api(tenant, "dispatcher")
    line = request_at(order, "HCM")["lines"][0]["order_line_id"]
    truck = {"type": "INTERNAL", "lines": [{"order_line_id": line, "quantity": "10", "hub_id": "HCM"}]}
    held = dispatcher.post(f"/orders/{oid}/shipments", truck)
    assert (held.status_code, held.json()["error"]["code"]) == (409, "on_hold")

    ship = warehouse_run(order, "HCM")[-1]
    send(tenant, [ship])
    record = read_queue(os.environ["OMS_WMS_EVENTS_DEAD_LETTER_QUEUE_URL"],
                        lambda r: r["requestPayload"]["detail"]["event_id"] == ship[1])
    assert "hold" in record["responsePayload"]["errorMessage"]
    assert sales.get(f"/orders/{oid}").json()["shipments"] == []

    assert admin.post(f"/orders/{oid}/holds/H1/release").status_code == 200
    assert dispatcher.post(f"/orders/{oid}/shipments", truck).status_code == 201


def test_the_webhook_refuses_unsigned_stale_unknown_and_foreign_callbacks_and_ignores_late_ones(
        admin, sales, catalog, dynamodb, tenant):
    admin.put("/inventory/HCM/PP-H1", {"on_hand": "50"})
    oid = sales.post("/orders", order_body("PP-H1", "5", allocation="manual", submit=True)).json()["order_id"]
    admin.post(f"/orders/{oid}/allocations", {"order_line_id": "L1", "hub_id": "HCM", "quantity": "5"})
    admin.post(f"/orders/{oid}/confirm-allocation")
    shipped = Api(tenant, "dispatcher").post(
        f"/orders/{oid}/shipments", {"type": "INTERNAL", "lines": [{"order_line_id": "L1", "quantity": "5", "hub_id": "HCM"}]})
    shipment_id = shipped.headers["Location"].rsplit("/", 1)[1]

    before_items = tenant_snapshot(dynamodb, tenant)
    body = json.dumps({"event_id": "x", "shipment_id": shipment_id, "status": "DELIVERED",
                       "occurred_at": "2026-11-22T16:00:00Z"})
    refused = [
        (tms(shipment_id, "DELIVERED", "e1", headers={"X-TMS-Signature": None}), 401),
        (tms(shipment_id, "DELIVERED", "e2", headers={"X-TMS-Signature": sign(body, secret="not-the-secret")}), 401),
        (tms(shipment_id, "DELIVERED", "e3", headers={"X-TMS-Signature": sign(body)}), 401),  # signs another body
        (tms(shipment_id, "DELIVERED", "e4", headers={"X-TMS-Signature": "t=1,v1=00"}), 401),
        (tms("SHP-20991231-9999", "DELIVERED", "e6"), 404),
        (tms(shipment_id, "DELIVERED", "e7", tenant_id="another-tenant"), 404),
        (tms(shipment_id, "LOST", "e8", valid=False), 400),
    ]
    stale_body = json.dumps({"event_id": "e5", "shipment_id": shipment_id, "status": "DELIVERED",
                             "occurred_at": "2026-11-22T16:00:00Z"})
    stale = requests.post(f"{os.environ['OMS_API_URL'].rstrip('/')}/webhooks/tms", data=stale_body, timeout=60,
                          headers={"Content-Type": "application/json",
                                   "X-TMS-Signature": sign(stale_body, at=int(time.time()) - 600)})
    refused.append((stale, 401))
    for response, expected in refused:
        assert response.status_code == expected, response.text
    after_items = tenant_snapshot(dynamodb, tenant)
    assert after_items == before_items, "refused callbacks wrote nothing"

    assert tms(shipment_id, "DELIVERED", "d1", tenant_id=tenant).status_code == 200
    completed = sales.get(f"/orders/{oid}").json()
    assert completed["status"] == "COMPLETED"
    late = tms(shipment_id, "IN_TRANSIT", "late-1")
    assert (late.status_code, late.json()["applied"], late.json()["status"]) == (200, False, "DELIVERED")
    repeat = tms(shipment_id, "DELIVERED", "d1", tenant_id=tenant)
    assert (repeat.status_code, repeat.json()["applied"]) == (200, False)
    assert sales.get(f"/orders/{oid}").json() == completed
