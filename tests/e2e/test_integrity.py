"""Integrity at the edges, end to end: money rules that cannot be skipped, idempotency keys that
belong to their caller, numbers too large to compute and collections at their cap refused with a
4xx that changes nothing (and leaves the order writable)."""

from conftest import Api, order_body


def test_a_discount_needs_a_managers_approval_and_nobody_approves_their_own_order(admin, sales, catalog, tenant):
    admin.put("/inventory/HCM/PP-H1", {"on_hand": "100"})
    discounted = sales.post("/orders", order_body("PP-H1", "10", discount="5000", submit=True))
    assert discounted.status_code == 201, discounted.text
    order = discounted.json()
    assert order["status"] == "PENDING_PRICE_APPROVAL"
    assert order["price_approval"]["discount"] == "5000" and order["price_approval"]["lines"] == []

    lead = Api(tenant, "sales_manager", sub="lead-1")
    own = order_body("PP-H1", "2", submit=True)
    own["lines"][0]["quoted_unit_price"] = "20000"
    created = lead.post("/orders", own).json()
    refused = lead.post(f"/orders/{created['order_id']}/approve-price", {"approved": True})
    assert refused.status_code == 403, refused.text
    assert lead.get(f"/orders/{created['order_id']}").json()["status"] == "PENDING_PRICE_APPROVAL"

    colleague = Api(tenant, "sales_manager", sub="lead-2")
    for order_id in (order["order_id"], created["order_id"]):
        approved = colleague.post(f"/orders/{order_id}/approve-price", {"approved": True})
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] == "PENDING_ALLOCATION"


def test_an_idempotency_key_belongs_to_its_caller(admin, catalog, tenant):
    alice, bob = Api(tenant, "sales", sub="alice"), Api(tenant, "sales", sub="bob")
    body = order_body("PP-H1", "1")
    first = alice.post("/orders", body, headers={"Idempotency-Key": "cart-1"})
    second = bob.post("/orders", body, headers={"Idempotency-Key": "cart-1"})
    assert (first.status_code, second.status_code) == (201, 201), (first.text, second.text)
    assert "idempotent-replayed" not in second.headers
    assert first.json()["order_id"] != second.json()["order_id"]
    assert second.json()["created_by"] == "bob"
    assert bob.get(f"/orders/{first.json()['order_id']}").status_code == 404

    cancel = admin.post(f"/orders/{first.json()['order_id']}/cancel", {"reason": "duplicate"},
                        headers={"Idempotency-Key": "cancel-1"})
    assert cancel.status_code == 200, cancel.text
    replayed = alice.post(f"/orders/{first.json()['order_id']}/cancel", {"reason": "duplicate"},
                          headers={"Idempotency-Key": "cancel-1"})
    assert replayed.status_code == 403, replayed.text


def test_numbers_too_large_are_400_and_change_nothing(admin, sales, catalog):
    huge = "79228162514264337593543950"
    cases = [
        order_body("PP-H1", huge),
        order_body("PP-H1", "1000000000.001"),
        order_body("PP-H1", "1e40"),
        order_body("PP-H1", "1", discount="1000000000000000000000"),
    ]
    priced = order_body("PP-H1", "1")
    priced["lines"][0]["quoted_unit_price"] = "10000000000000"
    cases.append(priced)
    for body in cases:
        response = sales.post("/orders", body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["error"]["code"] in {"invalid_request", "malformed_body"}
    assert sales.get("/orders").json()["items"] == []

    draft = sales.post("/orders", order_body("PP-H1", "1")).json()
    patched = sales.call("PATCH", f"/orders/{draft['order_id']}", {"discount": huge},
                         headers={"If-Match": str(draft["version"])})
    assert patched.status_code == 400, patched.text
    assert sales.get(f"/orders/{draft['order_id']}").json()["version"] == draft["version"]
    assert admin.put("/inventory/HCM/PP-H1", {"on_hand": huge}).status_code == 400
    assert admin.put("/inventory/HCM/PP-H1", {"delta": f"-{huge}"}).status_code == 400
    assert admin.put("/skus/PP-H2", {"name": "x", "unit": "KG", "list_price": huge}).status_code == 400


def test_holds_at_their_cap_are_409_and_the_order_stays_writable(admin, sales, catalog):
    draft = sales.post("/orders", order_body("PP-H1", "1")).json()
    oid = draft["order_id"]
    for n in range(20):
        placed = admin.post(f"/orders/{oid}/holds", {"code": "manual", "reason": f"check {n}"})
        assert placed.status_code == 200, placed.text
        hold_id = [h for h in placed.json()["holds"] if h["status"] == "active"][0]["hold_id"]
        assert admin.post(f"/orders/{oid}/holds/{hold_id}/release").status_code == 200
    before = sales.get(f"/orders/{oid}").json()
    refused = admin.post(f"/orders/{oid}/holds", {"code": "fraud", "reason": "one too many"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "too_many_holds"), refused.text
    assert sales.get(f"/orders/{oid}").json()["version"] == before["version"]
    edited = sales.call("PATCH", f"/orders/{oid}", {"notes": "still writable"},
                        headers={"If-Match": str(before["version"])})
    assert edited.status_code == 200, edited.text
    assert sales.post(f"/orders/{oid}/submit").status_code == 200
