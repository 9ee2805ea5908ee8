"""Allocation end to end: the B2B seed's manual allocation from several sources."""

from conftest import Api, order_body, tenant_items


def test_the_seeds_manual_flow_600_from_a_warehouse_and_400_from_a_port(admin, sales, catalog, dynamodb, tenant):
    admin.put("/hubs/HPH-PORT", {"name": "Cang Hai Phong", "type": "PORT", "location": {"lat": 20.84, "lon": 106.69},
                                 "daily_capacity": 2000, "performance_score": "0.75"})
    admin.put("/inventory/HCM/PP-H1", {"on_hand": "700"})
    admin.put("/inventory/HPH-PORT/PP-H1", {"on_hand": "450"})
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
    more_than_available = allocate("HPH-PORT", "460")
    assert (more_than_available.status_code, more_than_available.json()["error"]["code"]) == (409, "insufficient_stock")
    more_than_needed = allocate("HCM", "401")
    assert (more_than_needed.status_code, more_than_needed.json()["error"]["code"]) == (409, "over_allocation")
    assert len(tenant_items(dynamodb, tenant)) == before, "refused allocations wrote nothing"

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
