"""The order API's contract (issue "Orders"), as a client sees it through the local gateway:
the B2B price approval flow, the role matrix, tenant isolation, concurrency, bad input, channel
intake and list paging."""

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import Api, channel_sqs, order_body, tenant_items

ROLES = ["sales", "sales_manager", "admin", "dispatcher"]


def _queue_url(sqs, logical_id: str) -> str:
    return sqs.get_queue_url(QueueName=f"{os.environ.get('OMS_STACK_NAME', 'oms-local')}-{logical_id}")["QueueUrl"]


def test_the_b2b_price_approval_flow_of_the_seed(admin, sales, catalog, tenant):
    # Plastics by the kilo: list 25,000 VND/KG, quoted 23,500, 1,000 KG, shipping 200/KG.
    admin.put("/skus/PP-B2B", {"name": "Hat nhua PP", "unit": "KG", "list_price": "25000", "currency": "VND", "tax_rate": "0.10"})
    admin.put("/inventory/HCM/PP-B2B", {"on_hand": "5000"})
    body = order_body("PP-B2B", "1000")
    body["lines"][0].update({"quoted_unit_price": "23500", "shipping_unit_cost": "200"})
    created = sales.post("/orders", body)
    assert created.status_code == 201, created.text
    order = created.json()
    # By hand: products 23,500 x 1,000 = 23,500,000; shipping 200 x 1,000 = 200,000;
    # tax 10% of 23,700,000 = 2,370,000; total 26,070,000.
    assert order["totals"] == {"products": "23500000", "shipping": "200000", "tax": "2370000", "discount": "0",
                               "grand_total": "26070000"}

    submitted = sales.post(f"/orders/{order['order_id']}/submit").json()
    assert submitted["status"] == "PENDING_PRICE_APPROVAL"
    assert submitted["price_approval"]["lines"] == [{
        "line_id": "L1", "sku": "PP-B2B", "list_unit_price": "25000", "quoted_unit_price": "23500",
        "difference": "-1500", "percent": "-6.00"}]

    assert sales.post(f"/orders/{order['order_id']}/approve-price", {"approved": True}).status_code == 403
    manager = Api(tenant, "sales_manager")
    approved = manager.post(f"/orders/{order['order_id']}/approve-price", {"approved": True, "notes": "key account"})
    assert approved.status_code == 200, approved.text
    assert approved.json()["lines"][0]["approved_unit_price"] == "23500"
    assert approved.json()["totals"]["grand_total"] == "26070000"
    placed = sales.wait_for_status(order["order_id"], {"IN_FULFILLMENT", "BACKORDERED"})
    assert placed["status"] == "IN_FULFILLMENT"
    history = [h["to"] for h in sales.get(f"/orders/{order['order_id']}/history").json()["items"]]
    assert history == ["DRAFT", "PENDING_PRICE_APPROVAL", "PENDING_ALLOCATION", "ALLOCATED", "IN_FULFILLMENT"]


def _routes(order_id: str):
    """Every route with a request that is valid apart from who sends it, and the roles
    SPEC.md lets through (sales, sales_manager, admin, dispatcher)."""
    line = {"lines": [{"sku": "PP-H1", "quantity": "1"}]}
    return [
        ("POST", "/orders", order_body("PP-H1", "1"), {}, {"sales", "sales_manager", "admin"}),
        ("GET", "/orders", None, {}, set(ROLES)),
        ("GET", f"/orders/{order_id}", None, {}, set(ROLES)),
        ("GET", f"/orders/{order_id}/history", None, {}, set(ROLES)),
        ("PATCH", f"/orders/{order_id}", line, {"If-Match": '"1"'}, {"sales", "sales_manager", "admin"}),
        ("POST", f"/orders/{order_id}/submit", None, {}, {"sales", "sales_manager", "admin"}),
        ("POST", f"/orders/{order_id}/approve-price", {"approved": False}, {}, {"sales_manager"}),
        ("POST", f"/orders/{order_id}/holds", {"code": "manual", "reason": "check"}, {}, {"admin"}),
        ("POST", f"/orders/{order_id}/holds/H1/release", None, {}, {"admin"}),
        ("POST", f"/orders/{order_id}/cancel", {"reason": "test"}, {}, {"admin"}),
        ("PUT", "/hubs/HX", {"name": "X", "type": "PORT", "location": {"lat": 1, "lon": 2}, "daily_capacity": 1,
                             "performance_score": "0.5"}, {}, {"admin"}),
        ("GET", "/hubs", None, {}, set(ROLES)),
        ("PUT", "/skus/SX", {"name": "X", "unit": "EA", "list_price": "1"}, {}, {"admin"}),
        ("GET", "/skus", None, {}, set(ROLES)),
        ("PUT", "/inventory/HCM/PP-H1", {"on_hand": "1"}, {}, {"admin"}),
        ("GET", "/inventory", None, {}, set(ROLES)),
    ]


def test_the_role_matrix(sales, catalog, tenant):
    order_id = sales.post("/orders", order_body("PP-H1", "1")).json()["order_id"]
    apis = {role: Api(tenant, role, sub="sales-user" if role == "sales" else None) for role in ROLES}
    for method, path, body, headers, allowed in _routes(order_id):
        for role in ROLES:
            status = apis[role].call(method, path, body, headers=headers).status_code
            if role in allowed:
                assert status != 403, f"{role} {method} {path} must be allowed, got {status}"
            else:
                assert status == 403, f"{role} {method} {path} must be 403, got {status}"


def test_another_tenant_gets_404_everywhere_and_never_sees_it_listed(sales, catalog):
    order = sales.post("/orders", order_body("PP-H1", "1", external_reference="SECRET-1")).json()
    for role in ["sales_manager", "admin", "sales"]:
        outsider = Api("other-tenant-b", role)
        for method, path, body, headers, allowed in _routes(order["order_id"]):
            if "{" in path or order["order_id"] not in path or role not in allowed:
                continue
            status = outsider.call(method, path, body, headers=headers).status_code
            assert status == 404, f"tenant B {role} {method} {path} -> {status}"
        listed = outsider.get("/orders?limit=100").json()["items"] + outsider.get("/orders?q=SECRET").json()["items"]
        assert order["order_id"] not in {o["order_id"] for o in listed}


def test_parallel_edits_with_one_version_have_one_winner_and_one_key_makes_one_order(sales, catalog, tenant):
    order = sales.post("/orders", order_body("PP-H1", "1")).json()
    version = f'"{order["version"]}"'

    def patch(n):
        return sales.call("PATCH", f"/orders/{order['order_id']}", {"notes": f"edit {n}"}, headers={"If-Match": version}).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = sorted(pool.map(patch, range(20)))
    assert statuses.count(200) == 1 and statuses.count(412) == 19, statuses

    body = order_body("PP-H1", "2")
    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(lambda _: sales.post("/orders", body, headers={"Idempotency-Key": "dup-cart"}), range(10)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["order_id"] for r in responses}) == 1
    manager = Api(tenant, "sales_manager")
    assert len(manager.get("/orders?limit=100").json()["items"]) == 2


@pytest.mark.parametrize("case, body, status", [
    ("malformed JSON", '{"customer": ', 400),
    ("missing fields", json.dumps({"lines": [{"sku": "PP-H1", "quantity": "1"}]}), 400),
    ("quantity 0", json.dumps(order_body("PP-H1", "0")), 400),
    ("negative quantity", json.dumps(order_body("PP-H1", "-5")), 400),
    ("four decimals", json.dumps(order_body("PP-H1", "1.2345")), 400),
    ("unknown SKU", json.dumps(order_body("NOPE-1", "1")), 400),
    ("wrong type", json.dumps({**order_body("PP-H1", "1"), "lines": [{"sku": "PP-H1", "quantity": True}]}), 400),
    ("300 KB body", json.dumps({**order_body("PP-H1", "1"), "notes": "x" * 300_000}), 413),
])
def test_bad_input_gets_its_4xx_and_writes_nothing(sales, catalog, dynamodb, tenant, case, body, status):
    before = len(tenant_items(dynamodb, tenant))
    response = sales.post("/orders", raw=body, headers={"Idempotency-Key": f"bad-{case}"})
    assert response.status_code == status, f"{case}: {response.text[:300]}"
    assert response.json()["error"]["code"]
    assert len(tenant_items(dynamodb, tenant)) == before, f"{case} wrote something"


def test_intake_takes_a_channel_order_once_and_dead_letters_a_poison_message(admin, catalog, tenant):
    admin.put("/skus/PP-H1", {"name": "PP", "unit": "KG", "list_price": "32000", "channel_items": {"lazada": "LZ-1"}})
    sqs = channel_sqs()
    queue, dlq = _queue_url(sqs, "ChannelOrdersQueue"), _queue_url(sqs, "ChannelOrdersDeadLetterQueue")

    def channel_order(n):
        return json.dumps({"tenant_id": tenant, "channel": "lazada", "channel_order_id": f"LZ-ORDER-{n}",
                           "customer": {"id": f"buyer-{n}", "name": "Minh", "delivery_address": {"line1": "2 Hung Vuong", "city": "Da Nang", "country": "VN"}},
                           "lines": [{"channel_item_id": "LZ-1", "quantity": "1"}]})

    poison = json.dumps({"tenant_id": tenant, "channel": "lazada", "channel_order_id": "POISON", "lines": "not a list"})
    entries = [("a", channel_order(1)), ("poison", poison), ("b", channel_order(2)), ("c", channel_order(1)), ("d", channel_order(1))]
    sqs.send_message_batch(QueueUrl=queue, Entries=[{"Id": i, "MessageBody": b} for i, b in entries])

    manager = Api(tenant, "sales_manager")
    deadline, dead = time.monotonic() + 90, []
    while time.monotonic() < deadline and not dead:
        dead = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    assert [m["Body"] for m in dead] == [poison]
    orders = manager.get("/orders?limit=100").json()["items"]
    ids = sorted(manager.get(f"/orders/{o['order_id']}").json()["channel_order_id"] for o in orders)
    assert ids == ["LZ-ORDER-1", "LZ-ORDER-2"], "each channel order once; the poison's neighbours went through"


def test_paging_120_orders_by_50_has_no_duplicates_or_gaps_and_filters_combine(sales, catalog, tenant):
    created = []
    for n in range(120):
        body = order_body("PP-H1", "1")
        body["customer"]["id"] = "C1" if n % 2 else "C2"
        created.append(sales.post("/orders", body).json()["order_id"])
    manager = Api(tenant, "sales_manager")
    seen, cursor, pages = [], None, 0
    while True:
        page = manager.get("/orders?limit=50" + (f"&cursor={cursor}" if cursor else "")).json()
        pages += 1
        seen += [o["order_id"] for o in page["items"]]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    assert pages == 3
    assert seen == created[::-1], "newest first, every order exactly once"

    c1_drafts, cursor = [], None
    while True:
        page = manager.get("/orders?status=DRAFT&customer_id=C1&limit=50" + (f"&cursor={cursor}" if cursor else "")).json()
        c1_drafts += [o["order_id"] for o in page["items"]]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    assert c1_drafts == [o for i, o in enumerate(created) if i % 2][::-1]
    assert manager.get("/orders?status=ALLOCATED&customer_id=C1").json()["items"] == []
