"""Playing the warehouse and the carrier for a running local stack, so an order can be followed to
COMPLETED by hand: `./dev warehouse <order_id>` puts the WMS events on the integration bus, `./dev carrier
<shipment_id> <status> [--key <key id>]` posts a signed TMS callback (with the deployment-wide
secret, or a tenant key read from the stack's signing key set in Secrets Manager).

Building the events and the signature is pure (unit tested in tests/tooling/test_simulate.py);
only `warehouse` and `carrier` talk to the stack. Everything is sent the way the real systems send
it (events of source `wms` on the integration bus, signed with the local WMS's access key so
they carry its account; the webhook through the gateway), so the functions run exactly as they
do for the e2e tests. The WMS acts only for tenants that registered it (`./dev demo` does for
`demo`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import shlex
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from . import config, procs, tokens
from .config import STACK_ENV_FILE
from .event_schemas import EventSchemaError, validate_detail
from .stack import read_state

CARRIER = "GHN"
CARRIER_STATUSES = ("ASSIGNED", "IN_TRANSIT", "DELIVERED", "CANCELLED")
# Requests the warehouse cannot report on any more (the OMS refuses reports on cancelled and
# failed ones, and a shipped one has nothing left).
CLOSED_REQUESTS = {"shipped", "cancelled", "failed"}
# Order statuses on the way to IN_FULFILLMENT: worth waiting for, the placement is still running.
PLACING = {"PENDING_ALLOCATION", "ALLOCATED"}
POLL_SECONDS = 30.0

Event = tuple[str, dict[str, Any]]  # (detail-type, detail)


class SimulationError(Exception):
    """The stack or the order is not in a state to simulate on; the message says what to do."""


# -- pure: the events and the signature ------------------------------------------------------------

def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value if value is not None else "0"))
    except InvalidOperation:
        return Decimal(0)


def remaining(request: dict[str, Any], stage: str) -> list[dict[str, str]]:
    """What is left to report for `stage` (picked, packed, shipped) per line: the OMS refuses more
    than requested, so a rerun after part of the work was reported sends only the rest."""
    out = []
    for line in request.get("lines", []):
        left = _decimal(line["quantity"]) - _decimal(line.get(stage))
        if left > 0:
            out.append({"order_line_id": line["order_line_id"], "quantity": format(left, "f")})
    return out


def open_requests(order: dict[str, Any], hub: str | None = None) -> list[dict[str, Any]]:
    """The fulfillment requests a warehouse still works on (only the one at `hub` if given)."""
    return [r for r in order.get("fulfillment_requests", [])
            if r.get("status") not in CLOSED_REQUESTS and (hub is None or r.get("hub_id") == hub)]


def _package(request: dict[str, Any], tag: str, lines: list[dict[str, str]]) -> dict[str, Any]:
    package: dict[str, Any] = {"package_number": f"PKG-{tag}",
                               "label_url": f"https://labels.example.com/{tag}.pdf"}
    units = {line.get("unit") for line in request.get("lines", [])}
    if units == {"KG"}:  # the goods' weight is known only when they are counted in kilograms
        weight = sum((_decimal(line["quantity"]) for line in lines), Decimal(0))
        package["weight_kg"] = format(weight, "f")
    return package


def request_events(request: dict[str, Any], tenant: str, run_id: str) -> list[Event]:
    """A warehouse's work on one request, in the order it does it: accept, pick, pack, ship.

    `run_id` makes the event ids, package number and tracking number unique per run, so a rerun
    is not taken for a repeat. A stage with nothing left is skipped (an empty report is refused).
    """
    rid = request["fulfillment_request_id"]
    tag = f"{run_id}-{rid.rsplit('-', 1)[-1]}"  # <order_id>-F<n>: F<n> tells the requests apart

    def detail(stage: str, **extra: Any) -> dict[str, Any]:
        return {"tenant_id": tenant, "event_id": f"sim-{tag}-{stage}",
                "fulfillment_request_id": rid, **extra}

    events: list[Event] = [("FulfillmentAccepted", detail("accepted"))]
    if picks := remaining(request, "picked"):
        events.append(("PickCompleted", detail("pick", lines=picks)))
    if packs := remaining(request, "packed"):
        events.append(("PackCompleted", detail("pack", lines=packs,
                                               packages=[_package(request, tag, packs)])))
    if ships := remaining(request, "shipped"):
        tracking = f"{CARRIER}-{tag}".upper()
        package = {**_package(request, tag, ships), "tracking_number": tracking}
        events.append(("ShipCompleted", detail("ship", carrier=CARRIER, tracking_number=tracking,
                                               packages=[package], lines=ships)))
    return events


def warehouse_events(order: dict[str, Any], tenant: str, run_id: str,
                     hub: str | None = None) -> list[Event]:
    """Every open request's events (see `request_events`), request after request."""
    return [event for request in open_requests(order, hub)
            for event in request_events(request, tenant, run_id)]


def tms_signature(secret: str, body: str, at: int, key_id: str | None = None) -> str:
    """The X-TMS-Signature header: HMAC-SHA256 over "<t>.<raw body>", as the TMS signs; with a
    tenant key, `k=<key id>` names it."""
    digest = hmac.new(secret.encode(), f"{at}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"{f'k={key_id},' if key_id else ''}t={at},v1={digest}"


def key_secret(key_set: dict[str, Any], key_id: str) -> str:
    """The secret of key `key_id` in a signing key set (current or previous key of a tenant)."""
    for entry in key_set.get("keys", []):
        for key in (entry, entry.get("previous") or {}):
            if key.get("id") == key_id:
                return str(key["secret"])
    known = sorted(k["id"] for e in key_set.get("keys", []) for k in (e, e.get("previous") or {})
                   if "id" in k)
    raise SimulationError(f"no key {key_id!r} in the signing key set (keys: "
                          f"{', '.join(known) or 'none'})")


def resign_sample(event: dict[str, Any], secret: str, at: int,
                  key_id: str | None = None) -> dict[str, Any]:
    """An API Gateway event of the TMS webhook (`events/http/tms-webhook.json`) with its
    X-TMS-Signature made anew at `at`: a stored signature goes stale after 300 s by design."""
    signed = json.loads(json.dumps(event))
    signed["headers"]["x-tms-signature"] = tms_signature(secret, signed.get("body") or "", at,
                                                         key_id)
    return signed


def sign(path: str, key: str | None = None) -> int:
    """Prints the webhook sample at `path`, signed now with the local secret (or the running
    stack's tenant key `key`), for
    `cargo lambda invoke tms-webhook --data-ascii "$(./dev sign events/http/tms-webhook.json)"`."""
    event = json.loads(Path(path).read_text())
    try:
        secret = read_key(running_target(), key) if key else config.load().tms_webhook_secret
    except SimulationError as exc:
        print(f"sign: {exc}", flush=True)
        return 1
    print(json.dumps(resign_sample(event, secret, int(time.time()), key)))
    return 0


def tms_callback(shipment_id: str, status: str, tenant: str | None, event_id: str,
                 occurred_at: datetime) -> dict[str, Any]:
    """The callback body. `tenant_id` scopes it to one tenant's shipments, as a TMS may."""
    body: dict[str, Any] = {
        "event_id": event_id, "shipment_id": shipment_id, "status": status,
        "occurred_at": occurred_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
    if tenant:
        body["tenant_id"] = tenant
    return body


# -- the running stack -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """Where the running stack listens, and what to sign with: from its stack.env, which is what
    it actually started with (the shell's OMS_* may differ)."""

    api_url: str
    aws_endpoint: str
    region: str
    # Where the WMS puts its events: the integration bus.
    event_bus: str
    jwt_secret: str
    tms_secret: str
    admin_token: str
    keys_secret: str = ""  # the signing key set's secret ARN (OMS_TMS_KEYS_SECRET_ARN)

    def token_for(self, tenant: str) -> str:
        """The dev admin token is for tenant `demo`; another tenant gets one like it."""
        claims = tokens.decode(self.admin_token, self.jwt_secret)
        if claims.get("tenant_id") == tenant:
            return self.admin_token
        aud = claims.get("aud")
        return tokens.dev_token(self.jwt_secret, tenant, "admin", "dev-admin",
                             issuer=claims.get("iss"),
                             audience=[aud] if isinstance(aud, str) else aud)


def read_stack_env(text: str) -> dict[str, str]:
    """`export K='v'` lines (as stack.py writes them) into a dict."""
    env = {}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("export ") and "=" in line:
            key, _, value = line.removeprefix("export ").partition("=")
            env[key] = "".join(shlex.split(value)) if value else ""
    return env


def running_target() -> Target:
    state = read_state()
    if not state or not procs.alive(state.get("supervisor_pid")):
        raise SimulationError("no stack running: ./dev up --detach first")
    if state.get("status") != "ready" or not STACK_ENV_FILE.is_file():
        raise SimulationError(f"the stack is {state.get('status')}, not ready yet: wait for "
                              f"`./dev up` to print its banner (./dev status)")
    env = read_stack_env(STACK_ENV_FILE.read_text())
    settings = config.load()
    try:
        return Target(api_url=env["OMS_API_URL"], aws_endpoint=env["OMS_AWS_ENDPOINT"],
                      region=env.get("AWS_REGION", settings.region),
                      event_bus=env["OMS_INTEGRATION_BUS_NAME"],
                      jwt_secret=env.get("OMS_JWT_SECRET", settings.jwt_secret),
                      tms_secret=env.get("OMS_TMS_WEBHOOK_SECRET", settings.tms_webhook_secret),
                      admin_token=env["OMS_DEV_TOKEN_ADMIN"],
                      keys_secret=env.get("OMS_TMS_KEYS_SECRET_ARN", ""))
    except KeyError as exc:
        raise SimulationError(f"{STACK_ENV_FILE} has no {exc.args[0]}: restart the stack "
                              f"(./dev up --detach --fresh)") from exc


def http(method: str, url: str, body: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """(status, JSON answer or text); SimulationError when nothing answers."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
        raise SimulationError(f"the HTTP API does not answer at {url} ({exc}): "
                              f"./dev status") from exc
    text = raw.decode("utf-8", "replace")
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def get_order(target: Target, tenant: str, order_id: str) -> dict[str, Any]:
    status, body = http("GET", f"{target.api_url}/orders/{order_id}",
                        headers={"Authorization": f"Bearer {target.token_for(tenant)}"})
    if status == 404:
        raise SimulationError(f"order {order_id} not found in tenant {tenant}")
    if status != 200 or not isinstance(body, dict):
        raise SimulationError(f"GET /orders/{order_id} answered {status}: {body}")
    return body


def _client(target: Target, service: str) -> Any:
    import boto3

    return boto3.client(service, endpoint_url=target.aws_endpoint, region_name=target.region,
                        aws_access_key_id=config.DUMMY_ACCESS_KEY,
                        aws_secret_access_key=config.DUMMY_SECRET_KEY)


def wms_events_client(aws_endpoint: str, region: str) -> Any:
    """An EventBridge client acting as the local WMS: what it puts carries the WMS's account."""
    import boto3

    return boto3.client("events", endpoint_url=aws_endpoint, region_name=region,
                        aws_access_key_id=config.LOCAL_WMS_ACCESS_KEY,
                        aws_secret_access_key=config.DUMMY_SECRET_KEY)


def _events_client(target: Target) -> Any:
    return wms_events_client(target.aws_endpoint, target.region)


def read_key(target: Target, key_id: str) -> str:
    """The secret of tenant key `key_id`, from the running stack's signing key set."""
    if not target.keys_secret:
        raise SimulationError("the stack has no signing key set (OMS_TMS_KEYS_SECRET_ARN): "
                              "restart it (./dev up --detach --fresh)")
    try:
        value = _client(target, "secretsmanager").get_secret_value(
            SecretId=target.keys_secret)["SecretString"]
    except (BotoCoreError, ClientError) as exc:
        raise SimulationError(f"could not read {target.keys_secret}: {exc}") from exc
    return key_secret(json.loads(value), key_id)


def send_to_bus(client: Any, bus: str, events: list[Event]) -> None:
    """Puts the WMS's events on the (integration) bus one by one, in order, as the WMS does."""
    for detail_type, detail in events:
        try:
            answer = client.put_events(Entries=[{
                "Source": "wms", "DetailType": detail_type, "Detail": json.dumps(detail),
                "EventBusName": bus}])
        except (BotoCoreError, ClientError) as exc:
            raise SimulationError(f"could not put {detail_type} on {bus} at "
                                  f"{client.meta.endpoint_url}: {exc}") from exc
        if answer.get("FailedEntryCount"):
            raise SimulationError(f"the bus refused {detail_type}: {answer['Entries']}")


def post_callback(target: Target, body: dict[str, Any],
                  key_id: str | None = None) -> tuple[int, Any]:
    """A TMS callback through the gateway, signed now as the TMS signs it: with the tenant key
    `key_id` if given, else with the deployment-wide secret."""
    raw = json.dumps(body)
    secret = read_key(target, key_id) if key_id else target.tms_secret
    return http("POST", f"{target.api_url}/webhooks/tms", raw.encode(), {
        "Content-Type": "application/json",
        "X-TMS-Signature": tms_signature(secret, raw, int(time.time()), key_id)})


def _workable_order(target: Target, tenant: str, order_id: str, hub: str | None) -> dict[str, Any]:
    """The order once it has work for a warehouse: waits while the placement still runs (right
    after `POST /orders` it does), refuses what no warehouse can move on."""
    deadline = time.monotonic() + POLL_SECONDS
    while True:
        order = get_order(target, tenant, order_id)
        if open_requests(order, hub) or order.get("status") not in PLACING \
                or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    if not open_requests(order, hub):
        where = f" at hub {hub}" if hub else ""
        hubs = ", ".join(f"{r.get('hub_id')} ({r.get('status')})"
                         for r in order.get("fulfillment_requests", [])) or "none"
        raise SimulationError(f"order {order_id} is {order.get('status')}: no open fulfillment "
                              f"request{where} (requests: {hubs}); a warehouse works on "
                              f"IN_FULFILLMENT and PARTIALLY_SHIPPED orders")
    holds = [h.get("code") for h in order.get("holds", []) if h.get("status") == "active"]
    if holds:
        raise SimulationError(f"order {order_id} is on hold ({', '.join(map(str, holds))}): the "
                              f"OMS refuses shipping it; release the hold first")
    return order


def warehouse(order_id: str, tenant: str = config.DEMO_TENANT, hub: str | None = None) -> int:
    """`./dev warehouse`: the WMS's events for the order's open requests, then where it got to."""
    try:
        target = running_target()
        order = _workable_order(target, tenant, order_id, hub)
        events = warehouse_events(order, tenant, uuid.uuid4().hex[:8], hub)
        for detail_type, detail in events:  # all checked before any is sent: none or all go
            validate_detail("wms", detail_type, detail)
        send_to_bus(_events_client(target), target.event_bus, events)
        for detail_type, detail in events:
            print(f"  sent {detail_type:<19} {detail['fulfillment_request_id']}  "
                  f"event_id {detail['event_id']}", flush=True)
        return _report_progress(target, tenant, order_id, events)
    except (SimulationError, EventSchemaError) as exc:
        print(f"warehouse: {exc}", flush=True)
        return 1


def _report_progress(target: Target, tenant: str, order_id: str, events: list[Event]) -> int:
    """Polls until every event sent is applied (the request lists its `applied_events`), then
    prints the order's status and shipments; says where to look when some never are."""
    sent = {d["fulfillment_request_id"]: set() for _, d in events}
    for _, detail in events:
        sent[detail["fulfillment_request_id"]].add(detail["event_id"])

    def pending(order: dict[str, Any]) -> set[str]:
        applied = {r["fulfillment_request_id"]: set(r.get("applied_events", []))
                   for r in order.get("fulfillment_requests", [])}
        return {e for rid, ids in sent.items() for e in ids - applied.get(rid, set())}

    deadline = time.monotonic() + POLL_SECONDS
    order = get_order(target, tenant, order_id)
    while pending(order) and time.monotonic() < deadline:
        time.sleep(0.5)
        order = get_order(target, tenant, order_id)
    shipments = [s["shipment_id"] for s in order.get("shipments", [])]
    print(f"order {order_id}: {order.get('status')}; shipments: {', '.join(shipments) or 'none'}")
    if pending(order):
        print(f"  not applied after {POLL_SECONDS:.0f} s: {', '.join(sorted(pending(order)))}; see "
              f"{config.LOGS}/harness.log and the queue $OMS_WMS_EVENTS_DEAD_LETTER_QUEUE_URL")
        return 1
    other = "" if tenant == config.DEMO_TENANT else f" --tenant {tenant}"
    for shipment in order.get("shipments", []):
        if shipment.get("status") not in ("DELIVERED", "CANCELLED"):
            print(f"  next: ./dev carrier {shipment['shipment_id']} DELIVERED{other}")
    return 0


def carrier(shipment_id: str, status: str, tenant: str | None = config.DEMO_TENANT,
            key: str | None = None) -> int:
    """`./dev carrier`: a TMS callback for the shipment, signed as the TMS signs it (with the
    tenant key `key` if given)."""
    try:
        target = running_target()
        body = tms_callback(shipment_id, status, tenant, f"sim-tms-{uuid.uuid4().hex}",
                            datetime.now(timezone.utc))
        validate_detail("tms", "webhook", body)
        code, answer = post_callback(target, body, key)
    except (SimulationError, EventSchemaError) as exc:
        print(f"carrier: {exc}", flush=True)
        return 1
    print(f"HTTP {code} {json.dumps(answer) if not isinstance(answer, str) else answer}")
    return 0 if 200 <= code < 300 else 1
