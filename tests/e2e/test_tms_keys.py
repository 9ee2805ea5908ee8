"""Carrier callbacks signed with per-tenant keys (`k=<key id>`), through the gateway, with the key
set in the stack's Secrets Manager secret (moto) as an operator would put it: a key reaches only
its tenant's shipments, a previous key works during its grace period and is refused after it.

The local stack caches the key set for OMS_TMS_KEYS_CACHE_SECONDS (2), so after a change the tests
wait that long (plus a margin) for every function instance to read it again.
"""

import json
import os
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from conftest import Api, aws, order_body, sign, tenant_snapshot, tms


def _secret_id() -> str:
    return os.environ["OMS_TMS_KEYS_SECRET_ARN"]


def _wait_for_the_caches() -> None:
    time.sleep(float(os.environ.get("OMS_TMS_KEYS_CACHE_SECONDS", "2")) + 1.5)


class KeySet:
    """Reads and writes the stack's signing key set; takes out at the end what a test put in."""

    def __init__(self) -> None:
        self.client = aws("secretsmanager")
        self.ours: set[str] = set()

    def read(self) -> dict:
        return json.loads(self.client.get_secret_value(SecretId=_secret_id())["SecretString"])

    def put(self, entry: dict) -> None:
        """Registers one tenant's entry, replacing the one it had."""
        self.ours.add(entry["tenant_id"])
        document = self.read()
        document["keys"] = [k for k in document["keys"] if k["tenant_id"] != entry["tenant_id"]] + [entry]
        self.client.put_secret_value(SecretId=_secret_id(), SecretString=json.dumps(document))
        _wait_for_the_caches()

    def cleanup(self) -> None:
        document = self.read()
        document["keys"] = [k for k in document["keys"] if k["tenant_id"] not in self.ours]
        self.client.put_secret_value(SecretId=_secret_id(), SecretString=json.dumps(document))


@pytest.fixture
def key_set():
    keys = KeySet()
    yield keys
    keys.cleanup()


def keyed(key_id: str, secret: str, shipment_id: str, status: str, event_id: str, **extra):
    """A callback signed with a tenant key (the body is built as `tms` builds it)."""
    body = json.dumps({"event_id": event_id, "shipment_id": shipment_id, "status": status,
                       "occurred_at": "2026-11-22T16:00:00Z", **extra})
    return tms(shipment_id, status, event_id, headers={"X-TMS-Signature": f"k={key_id},{sign(body, secret=secret)}"},
               **extra)


def shipped(tenant: str) -> tuple[Api, str, str]:
    """A tenant with one order shipped by a dispatcher: (sales client, order id, shipment id)."""
    admin, sales = Api(tenant, "admin"), Api(tenant, "sales")
    assert admin.put("/hubs/HCM", {"name": "Kho HCM", "type": "WAREHOUSE", "location": {"lat": 10.82, "lon": 106.63},
                                   "daily_capacity": 500, "performance_score": "0.90"}).status_code == 200
    assert admin.put("/skus/PP-H1", {"name": "PP", "unit": "KG", "list_price": "32000", "currency": "VND",
                                     "tax_rate": "0.10"}).status_code == 200
    assert admin.put("/inventory/HCM/PP-H1", {"on_hand": "50"}).status_code == 200
    oid = sales.post("/orders", order_body("PP-H1", "5", allocation="manual", submit=True)).json()["order_id"]
    assert admin.post(f"/orders/{oid}/allocations", {"order_line_id": "L1", "hub_id": "HCM", "quantity": "5"}).ok
    assert admin.post(f"/orders/{oid}/confirm-allocation").ok
    shipment = Api(tenant, "dispatcher").post(
        f"/orders/{oid}/shipments", {"type": "INTERNAL", "lines": [{"order_line_id": "L1", "quantity": "5", "hub_id": "HCM"}]})
    assert shipment.status_code == 201, shipment.text
    return sales, oid, shipment.headers["Location"].rsplit("/", 1)[1]


def _rfc3339(at: datetime) -> str:
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_tenant_key_reaches_only_its_own_tenants_shipments(key_set, dynamodb):
    tenant_a, tenant_b = f"e2e-{uuid.uuid4().hex[:12]}", f"e2e-{uuid.uuid4().hex[:12]}"
    _, _, shipment_a = shipped(tenant_a)
    sales_b, oid_b, shipment_b = shipped(tenant_b)
    key_a, key_b = f"{tenant_a}-k1", f"{tenant_b}-k1"
    secret_a, secret_b = uuid.uuid4().hex, uuid.uuid4().hex
    key_set.put({"id": key_a, "tenant_id": tenant_a, "secret": secret_a})
    key_set.put({"id": key_b, "tenant_id": tenant_b, "secret": secret_b})

    before = tenant_snapshot(dynamodb, tenant_b)
    refused = [
        (keyed(key_a, secret_a, shipment_b, "DELIVERED", "x1"), 404),  # A's key, B's shipment
        (keyed(key_a, secret_a, shipment_b, "DELIVERED", "x2", tenant_id=tenant_b), 404),
        (keyed(key_b, secret_a, shipment_b, "DELIVERED", "x3"), 401),  # A's secret under B's id
        (keyed(f"unknown-{uuid.uuid4().hex[:8]}", secret_b, shipment_b, "DELIVERED", "x4"), 401),
    ]
    for response, expected in refused:
        assert response.status_code == expected, response.text
    after = tenant_snapshot(dynamodb, tenant_b)
    assert after == before, "nothing written for the refused callbacks"

    assert keyed(key_a, secret_a, shipment_a, "IN_TRANSIT", "a1").status_code == 200
    delivered = keyed(key_b, secret_b, shipment_b, "DELIVERED", "b1")
    assert (delivered.status_code, delivered.json()["applied"]) == (200, True), delivered.text
    assert sales_b.get(f"/orders/{oid_b}").json()["status"] == "COMPLETED"
    wide = tms(shipment_b, "DELIVERED", "b2")
    assert wide.status_code == 200, "the deployment-wide secret (no k=) keeps working"


def test_the_previous_key_is_accepted_during_its_grace_and_refused_after_it(key_set, tenant):
    sales, oid, shipment = shipped(tenant)
    old_id, new_id = f"{tenant}-k1", f"{tenant}-k2"
    old_secret, new_secret = uuid.uuid4().hex, uuid.uuid4().hex
    key_set.put({"id": old_id, "tenant_id": tenant, "secret": old_secret})
    assert keyed(old_id, old_secret, shipment, "ASSIGNED", "r1").status_code == 200

    # Rotation: the new key becomes current, the old one previous, rotated an hour ago.
    rotated = datetime.now(timezone.utc) - timedelta(hours=1)
    key_set.put({"id": new_id, "tenant_id": tenant, "secret": new_secret,
                 "previous": {"id": old_id, "secret": old_secret}, "rotated_at": _rfc3339(rotated)})
    during = keyed(old_id, old_secret, shipment, "IN_TRANSIT", "r2")
    assert (during.status_code, during.json()["applied"]) == (200, True), during.text
    assert keyed(new_id, new_secret, shipment, "IN_TRANSIT", "r3").status_code == 200

    # The grace period (24 h) is over: rotated_at 25 hours ago.
    rotated = datetime.now(timezone.utc) - timedelta(hours=25)
    key_set.put({"id": new_id, "tenant_id": tenant, "secret": new_secret,
                 "previous": {"id": old_id, "secret": old_secret}, "rotated_at": _rfc3339(rotated)})
    before = sales.get(f"/orders/{oid}").json()
    after_grace = keyed(old_id, old_secret, shipment, "DELIVERED", "r4")
    assert after_grace.status_code == 401, after_grace.text
    assert sales.get(f"/orders/{oid}").json() == before, "nothing written"
    delivered = keyed(new_id, new_secret, shipment, "DELIVERED", "r5")
    assert (delivered.status_code, delivered.json()["status"]) == (200, "DELIVERED"), delivered.text
