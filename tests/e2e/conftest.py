"""Fixtures for end-to-end tests: they drive the running local stack the way a client would
(HTTP through the local gateway, the WMS's events on the integration bus, channel orders on the
intake queue) and assert on what a client can see. Every test's fresh tenant has registered the
local WMS and channel connector (`tenant`); a test of an unregistered sender makes a tenant of
its own.

`./dev test` brings the stack up and exports its addresses (OMS_API_URL, ...). Run alone, the
session starts the stack itself with `./dev up --detach` and stops it afterwards.
"""

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import boto3
import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
STACK_ENV = ROOT / ".local" / "run" / "stack.env"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools.local import config as local  # noqa: E402
from tools.local.demo import integration_calls  # noqa: E402
from tools.local.event_schemas import validate_detail  # noqa: E402


def _load_stack_env():
    for line in STACK_ENV.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.removeprefix("export ").split("=", 1)
            os.environ.setdefault(key, value.strip().strip("'\""))


@pytest.fixture(scope="session", autouse=True)
def stack():
    """The running local stack; started here (and stopped after) when nobody else did."""
    started_here = False
    if "OMS_API_URL" not in os.environ:
        subprocess.run([str(ROOT / "dev"), "up", "--detach"], check=True, cwd=ROOT)
        started_here = True
        _load_stack_env()
    yield
    if started_here:
        subprocess.run([str(ROOT / "dev"), "down"], check=False, cwd=ROOT)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_token(tenant: str, role: str, sub: str | None = None, secret: str | None = None) -> str:
    """An HS256 JWT like the ones the local gateway verifies (API Gateway's JWT authorizer in AWS)."""
    secret = secret or os.environ["OMS_JWT_SECRET"]
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {"sub": sub or f"{role}-user", "tenant_id": tenant, "role": role, "exp": int(time.time()) + 3600}
    payload = _b64(json.dumps(claims).encode())
    signature = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


class Api:
    """A client of the OMS HTTP API acting as one user of one tenant."""

    def __init__(self, tenant: str, role: str, sub: str | None = None):
        self.base = os.environ["OMS_API_URL"].rstrip("/")
        self.tenant = tenant
        self.headers = {"Authorization": f"Bearer {make_token(tenant, role, sub)}"}

    def call(self, method: str, path: str, body=None, headers=None, raw: str | None = None):
        merged = {**self.headers, **(headers or {})}
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        if data is not None:
            merged.setdefault("Content-Type", "application/json")
        return requests.request(method, f"{self.base}{path}", data=data, headers=merged, timeout=120)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.call("PUT", path, body, **kw)

    def wait_for_status(self, order_id: str, statuses: set[str], timeout: float = 90.0) -> dict:
        """Polls the order until its status is one of `statuses`."""
        deadline = time.monotonic() + timeout
        order = None
        while time.monotonic() < deadline:
            response = self.get(f"/orders/{order_id}")
            assert response.status_code == 200, response.text
            order = response.json()
            if order["status"] in statuses:
                return order
            time.sleep(0.25)
        raise AssertionError(f"order {order_id} stayed {order and order['status']}, expected one of {statuses}")


def register_integrations(tenant: str) -> None:
    """The tenant's admin lets the local WMS and channel connector act for it (as `./dev demo`
    does for `demo`)."""
    admin = Api(tenant, "admin")
    for path, body in integration_calls():
        response = admin.put(path, body)
        assert response.status_code == 200, f"PUT {path}: {response.status_code} {response.text[:300]}"


@pytest.fixture
def tenant() -> str:
    """A tenant of its own for each test: a fresh key space in the shared table, whose
    integrations are the local WMS and channel connector."""
    name = f"e2e-{uuid.uuid4().hex[:12]}"
    register_integrations(name)
    return name


@pytest.fixture
def admin(tenant) -> Api:
    return Api(tenant, "admin")


@pytest.fixture
def sales(tenant) -> Api:
    return Api(tenant, "sales")


@pytest.fixture
def catalog(admin) -> dict:
    """Two warehouses and one SKU for the tenant: HCM (near the customer) and HAN."""
    hubs = {
        "HCM": {"name": "Kho HCM", "type": "WAREHOUSE", "location": {"lat": 10.82, "lon": 106.63}, "daily_capacity": 500, "performance_score": "0.90"},
        "HAN": {"name": "Kho Ha Noi", "type": "WAREHOUSE", "location": {"lat": 21.03, "lon": 105.85}, "daily_capacity": 300, "performance_score": "0.85"},
    }
    for hub_id, hub in hubs.items():
        assert admin.put(f"/hubs/{hub_id}", hub).status_code == 200
    sku = {"name": "PP Homopolymer", "unit": "KG", "list_price": "32000", "currency": "VND", "tax_rate": "0.10"}
    assert admin.put("/skus/PP-H1", sku).status_code == 200
    return {"hubs": list(hubs), "sku": "PP-H1"}


def order_body(sku: str, quantity: str, **extra) -> dict:
    return {
        "customer": {
            "id": "CUST-001",
            "name": "Cong ty Nhua ABC",
            "delivery_address": {"line1": "12 Nguyen Hue", "city": "Ho Chi Minh City", "country": "VN", "lat": 10.77, "lon": 106.70},
        },
        "lines": [{"sku": sku, "quantity": quantity}],
        **extra,
    }


@pytest.fixture(scope="session")
def dynamodb():
    return boto3.client(
        "dynamodb",
        endpoint_url=os.environ["OMS_DYNAMODB_ENDPOINT"],
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


@pytest.fixture(scope="session")
def sqs():
    return boto3.client(
        "sqs",
        endpoint_url=os.environ["OMS_AWS_ENDPOINT"],
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def events_of(sqs, order_id: str, until: str, timeout: float = 30.0) -> list[dict]:
    """EventBridge events about one order, read from the event tap queue (subscribed to every
    `oms` event), up to and including the first of type `until`. Every event read, about this
    order or not, must match its schema in events/schemas/."""
    url = os.environ["OMS_EVENT_TAP_QUEUE_URL"]
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            event = json.loads(message["Body"])
            validate_detail(event["source"], event["detail-type"], event["detail"])
            detail = event["detail"]
            if detail.get("order_id") == order_id or detail.get("order", {}).get("order_id") == order_id:
                seen.append(event)
                if event["detail-type"] == until:
                    return seen
    raise AssertionError(f"no {until} for {order_id}; saw {[e['detail-type'] for e in seen]}")


def tenant_items(dynamodb, tenant: str) -> list[dict]:
    """Every item whose key belongs to the tenant (a scan: test-only, never on a request path)."""
    items, start = [], None
    while True:
        kwargs = {"TableName": os.environ["OMS_TABLE_NAME"], "FilterExpression": "begins_with(PK, :t)",
                  "ExpressionAttributeValues": {":t": {"S": f"T#{tenant}#"}}}
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = dynamodb.scan(**kwargs)
        items += page["Items"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


def tenant_snapshot(dynamodb, tenant: str) -> list[str]:
    """Every item of the tenant as sorted JSON lines (binary attributes as hex): two snapshots
    are equal when nothing of the tenant changed."""
    return sorted(json.dumps(i, sort_keys=True, default=bytes.hex) for i in tenant_items(dynamodb, tenant))


# -- the outside world: warehouse events, carrier callbacks, queues ------------------------------

def aws(service: str, access_key: str = "test"):
    """A client of the local AWS; `access_key` picks who calls (`local.LOCAL_WMS_ACCESS_KEY`,
    `local.LOCAL_CHANNEL_ACCESS_KEY`: the harness stamps their identity on what they send)."""
    return boto3.client(service, endpoint_url=os.environ["OMS_AWS_ENDPOINT"], region_name="us-east-1",
                        aws_access_key_id=access_key, aws_secret_access_key="test")


def channel_sqs():
    """SQS as the local channel connector: its messages carry its `SenderId`."""
    return aws("sqs", local.LOCAL_CHANNEL_ACCESS_KEY)


def wms(tenant: str, detail_type: str, event_id: str, **detail) -> None:
    """A warehouse event on the integration bus, as the (local) WMS sends it."""
    detail = {"tenant_id": tenant, "event_id": event_id, **detail}
    validate_detail("wms", detail_type, detail)
    answer = aws("events", local.LOCAL_WMS_ACCESS_KEY).put_events(Entries=[{
        "Source": "wms", "DetailType": detail_type, "Detail": json.dumps(detail),
        "EventBusName": os.environ["OMS_INTEGRATION_BUS_NAME"]}])
    assert answer["FailedEntryCount"] == 0, answer


def sign(body: str, at: int | None = None, secret: str | None = None) -> str:
    at = int(time.time()) if at is None else at
    secret = secret or os.environ["OMS_TMS_WEBHOOK_SECRET"]
    digest = hmac.new(secret.encode(), f"{at}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def tms(shipment_id: str, status: str, event_id: str, headers: dict | None = None, valid: bool = True,
        **extra) -> requests.Response:
    """A TMS callback, signed now unless `headers` says otherwise; `valid=False` for a body the
    schema refuses on purpose."""
    body = json.dumps({"event_id": event_id, "shipment_id": shipment_id, "status": status,
                       "occurred_at": "2026-11-22T16:00:00Z", **extra})
    if valid:
        validate_detail("tms", "webhook", json.loads(body))
    sent = {"Content-Type": "application/json", "X-TMS-Signature": sign(body)}
    sent.update(headers or {})
    sent = {k: v for k, v in sent.items() if v is not None}
    return requests.post(f"{os.environ['OMS_API_URL'].rstrip('/')}/webhooks/tms", data=body, headers=sent, timeout=60)


def wait_until(read, done, timeout: float = 60.0):
    deadline, value = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        value = read()
        if done(value):
            return value
        time.sleep(0.3)
    raise AssertionError(f"condition not met; last value: {json.dumps(value, default=str)[:2000]}")


def read_queue(url: str, match, timeout: float = 30.0) -> dict:
    """The first message on the queue whose JSON body `match`es (others are left alone)."""
    sqs = aws("sqs")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                           VisibilityTimeout=0).get("Messages", []):
            body = json.loads(message["Body"])
            if match(body):
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                return body
    raise AssertionError(f"no matching message on {url}")
