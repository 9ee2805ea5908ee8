"""`./dev warehouse` and `./dev carrier` (tools/local/simulate.py) without a stack: the events they
build meet the WMS schemas and cover exactly the work left, and the TMS signature is the one the
webhook checks."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import hmac
import json
import re
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tools.local import simulate, tokens
from tools.local.event_schemas import validate_detail
from tools.local.simulate import (Target, key_secret, read_stack_env, request_events,
                                  tms_callback, tms_signature, warehouse_events)

ORDER = {
    "order_id": "01JD0Q7M3J6W8Z5Y4X3V2T1S0R",
    "fulfillment_requests": [
        {"fulfillment_request_id": "01JD0Q7M3J6W8Z5Y4X3V2T1S0R-F1", "hub_id": "HCM-WH1",
         "status": "requested",
         "lines": [{"order_line_id": "L1", "sku": "PP-H1", "unit": "KG", "quantity": "100"},
                   {"order_line_id": "L2", "sku": "HDPE-F2", "unit": "KG", "quantity": "2.5"}]},
        {"fulfillment_request_id": "01JD0Q7M3J6W8Z5Y4X3V2T1S0R-F2", "hub_id": "HN-WH2",
         "status": "accepted",
         "lines": [{"order_line_id": "L3", "sku": "PVC-S65", "unit": "BAG", "quantity": "7"}]},
        {"fulfillment_request_id": "01JD0Q7M3J6W8Z5Y4X3V2T1S0R-F3", "hub_id": "HPH-PORT",
         "status": "shipped",
         "lines": [{"order_line_id": "L4", "sku": "ABS-750", "unit": "KG", "quantity": "5",
                    "picked": "5", "packed": "5", "shipped": "5"}]},
    ],
}
STAGES = ["FulfillmentAccepted", "PickCompleted", "PackCompleted", "ShipCompleted"]


def by_request(events: list[tuple[str, dict]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for detail_type, detail in events:
        out.setdefault(detail["fulfillment_request_id"], []).append(detail_type)
    return out


def test_every_open_request_gets_the_four_events_in_order_and_each_meets_its_schema():
    events = warehouse_events(ORDER, "demo", "run1")
    for detail_type, detail in events:
        validate_detail("wms", detail_type, detail)
        assert detail["tenant_id"] == "demo"
    assert by_request(events) == {"01JD0Q7M3J6W8Z5Y4X3V2T1S0R-F1": STAGES,
                                  "01JD0Q7M3J6W8Z5Y4X3V2T1S0R-F2": STAGES}
    ids = [d["event_id"] for _, d in events]
    assert len(set(ids)) == len(ids)


def test_the_events_carry_the_request_lines_and_a_unique_ghn_tracking_number():
    events = dict(request_events(ORDER["fulfillment_requests"][0], "demo", "run1"))
    lines = [{"order_line_id": "L1", "quantity": "100"}, {"order_line_id": "L2", "quantity": "2.5"}]
    assert events["PickCompleted"]["lines"] == events["PackCompleted"]["lines"] == lines
    ship = events["ShipCompleted"]
    assert (ship["lines"], ship["carrier"]) == (lines, "GHN")
    assert re.fullmatch(r"GHN-\S+", ship["tracking_number"])
    assert ship["packages"][0]["weight_kg"] == "102.5", "all in KG: the package weighs the goods"
    other = dict(request_events(ORDER["fulfillment_requests"][0], "demo", "run2"))
    assert other["ShipCompleted"]["tracking_number"] != ship["tracking_number"]
    assert other["PickCompleted"]["event_id"] != events["PickCompleted"]["event_id"]


def test_a_shipped_request_is_skipped_and_hub_picks_one_request():
    assert "01JD0Q7M3J6W8Z5Y4X3V2T1S0R-F3" not in by_request(warehouse_events(ORDER, "demo", "r"))
    assert list(by_request(warehouse_events(ORDER, "demo", "r", hub="HN-WH2"))) == [
        "01JD0Q7M3J6W8Z5Y4X3V2T1S0R-F2"]
    assert warehouse_events(ORDER, "demo", "r", hub="HPH-PORT") == []


def test_a_rerun_reports_only_what_is_left_of_each_stage():
    request = copy.deepcopy(ORDER["fulfillment_requests"][0])
    request["status"] = "packed"
    request["lines"][0].update(picked="100", packed="100")
    request["lines"][1].update(picked="2.5", packed="1")
    events = request_events(request, "demo", "r")
    assert [t for t, _ in events] == ["FulfillmentAccepted", "PackCompleted", "ShipCompleted"]
    for detail_type, detail in events:
        validate_detail("wms", detail_type, detail)
    assert dict(events)["PackCompleted"]["lines"] == [{"order_line_id": "L2", "quantity": "1.5"}]


def test_the_signature_is_hmac_sha256_over_timestamp_dot_raw_body():
    body = json.dumps(tms_callback("SHP-20261122-0001", "DELIVERED", "demo", "evt-1",
                                   datetime(2026, 11, 22, 16, 40, tzinfo=timezone.utc)))
    header = tms_signature("oms-local-tms-secret", body, 1795446000)
    expected = hmac.new(b"oms-local-tms-secret", f"1795446000.{body}".encode(),
                        hashlib.sha256).hexdigest()
    assert header == f"t=1795446000,v1={expected}"
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", header)


def test_a_tenant_key_signature_names_the_key_and_signs_the_same_way():
    header = tms_signature("tenant-secret-0000", "{}", 1795446000, key_id="demo-local-1")
    expected = hmac.new(b"tenant-secret-0000", b"1795446000.{}", hashlib.sha256).hexdigest()
    assert header == f"k=demo-local-1,t=1795446000,v1={expected}"


def test_a_key_is_found_current_or_previous_and_an_unknown_one_is_named():
    key_set = {"keys": [{"id": "d2", "tenant_id": "demo", "secret": "two",
                         "previous": {"id": "d1", "secret": "one"}, "rotated_at": "2026-11-29T10:00:00Z"}]}
    assert (key_secret(key_set, "d2"), key_secret(key_set, "d1")) == ("two", "one")
    with pytest.raises(simulate.SimulationError, match="no key 'x' .*keys: d1, d2"):
        key_secret(key_set, "x")


def test_the_callback_body_meets_the_webhook_schema_with_a_utc_timestamp():
    body = tms_callback("SHP-20261122-0001", "IN_TRANSIT", "demo", "evt-1",
                        datetime(2026, 11, 22, 16, 40, 5, 123000, tzinfo=timezone.utc))
    validate_detail("tms", "webhook", body)
    assert body["occurred_at"] == "2026-11-22T16:40:05Z"
    assert "tenant_id" not in tms_callback("SHP-20261122-0001", "DELIVERED", None, "e",
                                           datetime.now(timezone.utc))


def test_stack_env_is_read_back_as_stack_py_writes_it():
    text = "# source me\nexport OMS_API_URL='http://127.0.0.1:3000/v1'\n" \
           "export OMS_X='it'\"'\"'s'\nexport OMS_EMPTY=''\n"
    assert read_stack_env(text) == {"OMS_API_URL": "http://127.0.0.1:3000/v1", "OMS_X": "it's",
                                    "OMS_EMPTY": ""}


@pytest.mark.parametrize("tenant", ["demo", "acme"])
def test_the_admin_token_is_minted_for_another_tenant_like_the_dev_one(tenant: str):
    dev = tokens.dev_token("s3cret", "demo", "admin", "dev-admin", issuer="iss", audience=["aud"])
    target = Target("http://api", "http://aws", "us-east-1", "bus", "s3cret", "tms", dev)
    claims = tokens.decode(target.token_for(tenant), "s3cret")
    assert (claims["tenant_id"], claims["role"], claims["iss"], claims["aud"]) == (
        tenant, "admin", "iss", "aud")


# -- the commands, against a fake HTTP API and bus -------------------------------------------------

class FakeOms:
    """GET /v1/orders/{id} and POST /v1/webhooks/tms on a free port; the bus applies each event
    to the order the way the OMS would for this test's purpose (applied, and shipped on ship)."""

    def __init__(self, order: dict) -> None:
        self.order, self.posts, self.events = copy.deepcopy(order), [], []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._answer(200, fake.order)

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"])).decode()
                fake.posts.append((self.headers["X-TMS-Signature"], raw))  # any case
                self._answer(200, {"shipment_id": json.loads(raw)["shipment_id"],
                                   "status": "DELIVERED", "applied": True})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        port = self.server.server_address[1]
        self.target = Target(f"http://127.0.0.1:{port}/v1", "http://unused", "us-east-1", "bus",
                             "jwt", "tms-secret",
                             tokens.dev_token("jwt", "demo", "admin", "dev-admin"))

    def put_events(self, Entries: list[dict]) -> dict:
        (entry,) = Entries
        detail = json.loads(entry["Detail"])
        self.events.append((entry["Source"], entry["DetailType"], entry["EventBusName"], detail))
        request = next(r for r in self.order["fulfillment_requests"]
                       if r["fulfillment_request_id"] == detail["fulfillment_request_id"])
        request.setdefault("applied_events", []).append(detail["event_id"])
        if entry["DetailType"] == "ShipCompleted":
            request["status"] = "shipped"
            self.order["shipments"] = self.order.get("shipments", []) + [
                {"shipment_id": f"SHP-20261122-000{len(self.order.get('shipments', [])) + 1}"}]
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "x"}]}


@pytest.fixture
def fake_oms(monkeypatch: pytest.MonkeyPatch) -> Any:
    oms = FakeOms({**ORDER, "status": "IN_FULFILLMENT"})
    monkeypatch.setattr(simulate, "running_target", lambda: oms.target)
    monkeypatch.setattr(simulate, "_events_client", lambda target: oms)
    monkeypatch.setattr(simulate, "POLL_SECONDS", 2.0)
    yield oms
    oms.server.shutdown()
    oms.server.server_close()


def test_warehouse_puts_the_events_on_the_bus_and_reports_the_shipments(fake_oms, capsys):
    assert simulate.warehouse(ORDER["order_id"], "demo") == 0
    assert {(s, b) for s, _, b, _ in fake_oms.events} == {("wms", "bus")}
    assert [t for _, t, _, _ in fake_oms.events] == STAGES * 2
    out = capsys.readouterr().out
    assert out.count("  sent ") == 8
    assert "SHP-20261122-0001, SHP-20261122-0002" in out


def test_warehouse_refuses_an_order_without_open_requests(fake_oms, capsys):
    assert simulate.warehouse(ORDER["order_id"], "demo", hub="HPH-PORT") == 1
    assert fake_oms.events == [] and "no open fulfillment request at hub HPH-PORT" in \
        capsys.readouterr().out


def test_carrier_posts_a_signed_callback(fake_oms, capsys):
    assert simulate.carrier("SHP-20261122-0001", "DELIVERED", "demo") == 0
    ((signature, raw),) = fake_oms.posts
    validate_detail("tms", "webhook", json.loads(raw))
    at = re.fullmatch(r"t=(\d+),v1=[0-9a-f]{64}", signature).group(1)
    assert signature == tms_signature("tms-secret", raw, int(at))
    assert capsys.readouterr().out.startswith("HTTP 200 ")


def test_carrier_signs_with_a_tenant_key_of_the_stacks_key_set(fake_oms, monkeypatch, capsys):
    key_set = {"keys": [{"id": "demo-local-1", "tenant_id": "demo", "secret": "tenant-secret-0000"}]}

    class SecretsManager:
        def get_secret_value(self, SecretId: str) -> dict:
            assert SecretId == "arn:keys"
            return {"SecretString": json.dumps(key_set)}

    monkeypatch.setattr(simulate, "_client", lambda target, service: SecretsManager())
    fake_oms.target = dataclasses.replace(fake_oms.target, keys_secret="arn:keys")
    assert simulate.carrier("SHP-20261122-0001", "DELIVERED", None, key="demo-local-1") == 0
    ((signature, raw),) = fake_oms.posts
    assert "tenant_id" not in json.loads(raw), "the key names the tenant"
    at = re.fullmatch(r"k=demo-local-1,t=(\d+),v1=[0-9a-f]{64}", signature).group(1)
    assert signature == tms_signature("tenant-secret-0000", raw, int(at), "demo-local-1")
    assert simulate.carrier("SHP-20261122-0001", "DELIVERED", None, key="nope") == 1
    assert "no key 'nope'" in capsys.readouterr().out


def test_without_a_stack_the_commands_say_so(monkeypatch: pytest.MonkeyPatch, capsys):
    monkeypatch.setattr(simulate, "read_state", lambda: None)
    assert simulate.warehouse("X") == 1 and simulate.carrier("SHP-20261122-0001", "DELIVERED") == 1
    assert capsys.readouterr().out.count("no stack running: ./dev up --detach first") == 2


def test_a_resigned_webhook_sample_verifies_now():
    import hashlib
    import hmac
    import json
    from pathlib import Path

    from tools.local.simulate import resign_sample

    sample = json.loads((Path(__file__).resolve().parents[2] / "events/http/tms-webhook.json").read_text())
    signed = resign_sample(sample, "s3cret", 1_800_000_000)
    t, v1 = (part.split("=", 1)[1] for part in signed["headers"]["x-tms-signature"].split(","))
    expected = hmac.new(b"s3cret", f"{t}.{sample['body']}".encode(), hashlib.sha256).hexdigest()
    assert (t, v1) == ("1800000000", expected)
    assert signed["body"] == sample["body"] and sample["headers"]["x-tms-signature"] != signed["headers"]["x-tms-signature"]
