"""Issue 2's end-to-end path: an order placed through the gateway is allocated (or backordered) by
the order-placement state machine running the real functions."""

import json
import os
import time

import requests

from conftest import Api, aws, events_of, order_body, tenant_items, wait_until


def stock_of(api: Api, sku: str) -> dict:
    response = api.get(f"/inventory?sku={sku}")
    assert response.status_code == 200, response.text
    return {item["hub_id"]: item for item in response.json()["items"]}


def test_a_submitted_order_is_allocated_and_its_stock_reserved(admin, sales, catalog, sqs):
    assert admin.put("/inventory/HCM/PP-H1", {"on_hand": "50"}).status_code == 200
    assert admin.put("/inventory/HAN/PP-H1", {"on_hand": "500"}).status_code == 200

    created = sales.post("/orders", order_body("PP-H1", "10", submit=True))
    assert created.status_code == 201, created.text
    order = created.json()
    assert order["status"] == "PENDING_ALLOCATION"
    assert order["order_number"].startswith("ORD-")

    allocated = sales.wait_for_status(order["order_id"], {"IN_FULFILLMENT", "BACKORDERED"})
    assert allocated["status"] == "IN_FULFILLMENT"
    line = allocated["lines"][0]
    # The hub near the customer wins; the whole line comes from it.
    assert line["allocations"] == [{"hub_id": "HCM", "quantity": "10"}]
    assert (line["allocated"], line["backordered"]) == ("10", "0")

    stock = stock_of(sales, "PP-H1")
    assert (stock["HCM"]["on_hand"], stock["HCM"]["reserved"], stock["HCM"]["available"]) == ("50", "10", "40")
    assert stock["HAN"]["reserved"] == "0"

    history = sales.get(f"/orders/{order['order_id']}/history").json()["items"]
    assert [h["to"] for h in history] == ["DRAFT", "PENDING_ALLOCATION", "ALLOCATED", "IN_FULFILLMENT"]
    assert [(r["hub_id"], r["status"]) for r in allocated["fulfillment_requests"]] == [("HCM", "requested")]
    assert history[-1]["role"] == "system"

    events = events_of(sqs, order["order_id"], until="FulfillmentRequested")
    types = [e["detail-type"] for e in events]
    assert {"OrderCreated", "OrderSubmitted", "StockReserved"} <= set(types), types
    requested = events[-1]["detail"]
    assert (requested["hub_id"], requested["lines"][0]["quantity"]) == ("HCM", "10")
    assert all(e["source"] == "oms" and e["detail"]["tenant_id"] == sales.tenant for e in events)
    assert len({e["detail"]["event_id"] for e in events}) == len(events)


def test_too_little_stock_backorders_the_order_and_reserves_nothing(admin, sales, catalog):
    assert admin.put("/inventory/HCM/PP-H1", {"on_hand": "5"}).status_code == 200
    assert admin.put("/inventory/HAN/PP-H1", {"on_hand": "4"}).status_code == 200

    created = sales.post("/orders", order_body("PP-H1", "8", submit=True, fulfillment_policy="ship_complete"))
    assert created.status_code == 201, created.text
    order = sales.wait_for_status(created.json()["order_id"], {"ALLOCATED", "BACKORDERED"})
    assert order["status"] == "BACKORDERED"
    assert (order["lines"][0]["allocated"], order["lines"][0]["backordered"]) == ("0", "8")
    assert all(level["reserved"] == "0" for level in stock_of(sales, "PP-H1").values())


def test_a_draft_is_not_placed(sales, catalog):
    created = sales.post("/orders", order_body("PP-H1", "1"))
    assert created.status_code == 201
    assert created.json()["status"] == "DRAFT"
    assert sales.get(f"/orders/{created.json()['order_id']}").json()["status"] == "DRAFT"


def test_a_request_without_a_valid_token_is_401(sales, catalog):
    url = f"{sales.base}/orders"
    assert requests.post(url, json=order_body("PP-H1", "1"), timeout=30).status_code == 401
    forged = requests.post(url, json=order_body("PP-H1", "1"), headers={"Authorization": "Bearer abc.def.ghi"}, timeout=30)
    assert forged.status_code == 401
    assert forged.json()["error"]["code"] == "unauthorized"


def test_a_malformed_or_invalid_body_is_400_and_writes_nothing(sales, catalog, dynamodb, tenant):
    before = len(tenant_items(dynamodb, tenant))
    malformed = sales.post("/orders", raw="{not json")
    assert malformed.status_code == 400
    assert malformed.json()["error"]["code"] == "malformed_body"
    invalid = sales.post("/orders", order_body("PP-H1", "-1", submit=True))
    assert invalid.status_code == 400
    assert invalid.json()["error"]["field"] == "lines[0].quantity"
    unknown = sales.post("/orders", order_body("NOPE", "1", submit=True))
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (400, "unknown_sku")
    assert len(tenant_items(dynamodb, tenant)) == before


def test_an_idempotency_key_replays_the_same_order(sales, catalog):
    body = order_body("PP-H1", "2")
    first = sales.post("/orders", body, headers={"Idempotency-Key": "cart-7"})
    again = sales.post("/orders", body, headers={"Idempotency-Key": "cart-7"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["order_id"] == first.json()["order_id"]
    assert again.headers.get("idempotent-replayed") == "true"
    other = sales.post("/orders", order_body("PP-H1", "3"), headers={"Idempotency-Key": "cart-7"})
    assert other.status_code == 422


def test_another_tenants_order_is_404(sales, catalog):
    created = sales.post("/orders", order_body("PP-H1", "1")).json()
    outsider = Api("some-other-tenant", "admin")
    assert outsider.get(f"/orders/{created['order_id']}").status_code == 404
    dispatcher = Api(sales.tenant, "dispatcher")
    assert dispatcher.post("/orders", order_body("PP-H1", "1")).status_code == 403


def test_a_held_order_is_allocated_but_not_sent_until_the_hold_is_released(admin, sales, catalog, sqs):
    admin.put("/inventory/HCM/PP-H1", {"on_hand": "50"})
    order = sales.post("/orders", order_body("PP-H1", "5")).json()
    assert admin.post(f"/orders/{order['order_id']}/holds", {"code": "payment_hold", "reason": "deposit"}).status_code == 200
    assert sales.post(f"/orders/{order['order_id']}/submit").status_code == 200
    held = sales.wait_for_status(order["order_id"], {"ALLOCATED", "BACKORDERED"})
    time.sleep(2)  # the workflow has had every chance to send it on
    held = sales.get(f"/orders/{order['order_id']}").json()
    assert (held["status"], held["on_hold"], held["fulfillment_requests"]) == ("ALLOCATED", True, [])

    # The Express placement handed the wait to a Standard timer of its own.
    sfn = aws("stepfunctions")
    hold_machine = os.environ["OMS_RESERVATION_HOLD_STATE_MACHINE_ARN"]
    timers = [e for e in sfn.list_executions(stateMachineArn=hold_machine)["executions"]
              if json.loads(sfn.describe_execution(executionArn=e["executionArn"])["input"])["order_id"] == order["order_id"]]
    assert [t["status"] for t in timers] == ["RUNNING"]
    timer_input = json.loads(sfn.describe_execution(executionArn=timers[0]["executionArn"])["input"])
    assert timer_input["tenant_id"] == sales.tenant and timer_input["dispatch"]["held"] is True
    assert 0 < timer_input["dispatch"]["expires_in_seconds"] <= 900
    # A timer that runs out before the reservation does leaves it in place.
    early = sfn.start_execution(stateMachineArn=hold_machine, input=json.dumps(
        {**timer_input, "dispatch": {**timer_input["dispatch"], "expires_in_seconds": 0}}))
    outcome = wait_until(lambda: sfn.describe_execution(executionArn=early["executionArn"]),
                         lambda e: e["status"] != "RUNNING")
    assert outcome["status"] == "SUCCEEDED", outcome
    assert json.loads(outcome["output"])["expiry"] == {"order_id": order["order_id"], "expired": False, "status": "ALLOCATED"}

    released = admin.post(f"/orders/{order['order_id']}/holds/H1/release")
    assert released.status_code == 200, released.text
    assert released.json()["status"] == "IN_FULFILLMENT"
    events = events_of(sqs, order["order_id"], until="FulfillmentRequested")
    assert events[-1]["detail"]["hub_id"] == "HCM"
