"""The event schemas (events/schemas/): valid themselves, met by every sample in events/, strict on
what the OMS accepts, tolerant on what it emits, and one for every event the OMS emits."""

from __future__ import annotations

import base64
import copy
import json
import re
from pathlib import Path
from typing import Any, Iterator

import pytest
from jsonschema import Draft202012Validator

from tools.local.event_schemas import SCHEMAS, EventSchemaError, registry, schema_files, validate_detail

ROOT = SCHEMAS.parents[1]
EVENTS = ROOT / "events"


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


# --- the schemas themselves --------------------------------------------------------------------

@pytest.mark.parametrize("path", schema_files(), ids=_rel)
def test_every_schema_is_a_valid_2020_12_schema_whose_refs_resolve(path: Path):
    schema = json.loads(path.read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    resolver = registry().resolver(base_uri=path.as_uri())
    for ref in _refs(schema):
        resolver.lookup(ref)  # raises Unresolvable on a typo


@pytest.mark.parametrize("path", sorted((SCHEMAS / "oms").glob("*.schema.json")), ids=_rel)
def test_outbound_schemas_pin_their_type_and_tolerate_new_fields(path: Path):
    schema = json.loads(path.read_text())
    detail_type = path.name.removesuffix(".schema.json")
    assert schema["properties"]["type"] == {"const": detail_type}
    assert schema["$ref"] == "../common.schema.json#/$defs/oms_envelope"
    assert schema.get("additionalProperties", True) is True, "consumers must tolerate new fields"


INBOUND_SCHEMAS = sorted([*(SCHEMAS / "wms").glob("*.schema.json"), *(SCHEMAS / "tms").glob("*.schema.json")])


@pytest.mark.parametrize("path", INBOUND_SCHEMAS, ids=_rel)
def test_inbound_schemas_refuse_unknown_fields(path: Path):
    assert json.loads(path.read_text())["additionalProperties"] is False


def _detail_types_in_rust() -> list[str]:
    source = (ROOT / "shared" / "domain" / "src" / "events" / "mod.rs").read_text()
    body = source.split("fn detail_type(", 1)[1].split("\n    }\n", 1)[0]
    return re.findall(r'Self::\w+\s*\{\s*\.\.\s*\}\s*=>\s*"(\w+)"', body)


def test_every_event_the_oms_emits_has_a_schema():
    detail_types = _detail_types_in_rust()
    assert "OrderCreated" in detail_types, "could not read DomainEvent::detail_type in events.rs"
    missing = [t for t in detail_types if not (SCHEMAS / "oms" / f"{t}.schema.json").is_file()]
    assert not missing, f"add events/schemas/oms/<type>.schema.json for {missing} (see events/schemas/README.md)"


# --- the samples in events/ --------------------------------------------------------------------

BUS_SAMPLES = sorted([*(EVENTS / "wms").glob("*.json"), *(EVENTS / "bus").glob("*.json")])
TMS_SAMPLES = sorted((EVENTS / "http").glob("tms-webhook*.json"))


@pytest.mark.parametrize("path", BUS_SAMPLES, ids=_rel)
def test_eventbridge_samples_match_their_schema(path: Path):
    event = json.loads(path.read_text())
    validate_detail(event["source"], event["detail-type"], event["detail"])


NO_TMS_SAMPLES = pytest.param(None, marks=pytest.mark.skip(reason="no events/http/tms-webhook*.json yet"))


@pytest.mark.parametrize("path", TMS_SAMPLES or [NO_TMS_SAMPLES], ids=lambda p: p and _rel(p))
def test_tms_webhook_samples_match_the_schema(path: Path):
    request = json.loads(path.read_text())
    body = request["body"]
    if request.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    validate_detail("tms", "webhook", json.loads(body))


# --- inbound: what we accept -------------------------------------------------------------------

IDS = {"tenant_id": "demo", "event_id": "wms-evt-0001"}
LINES = [{"order_line_id": "L1", "quantity": "4"}, {"order_line_id": "L2", "quantity": 1.5}]
PACKAGE = {"package_number": "PKG-1", "weight_kg": "12.5",
           "dimensions_cm": {"length": "40", "width": 30, "height": "20.5"},
           "tracking_number": "VN123", "label_url": "https://labels.example.com/PKG-1.pdf"}
INBOUND = {
    "wms/StockAdjusted": {**IDS, "hub_id": "HCM-WH1", "sku": "PP-H1", "on_hand": "0",
                          "occurred_at": "2026-11-22T14:58:00Z"},
    "wms/FulfillmentAccepted": {**IDS, "fulfillment_request_id": "01JD4Q8Y5M3B7K2N9P6R1S0T4V-F1"},
    "wms/PickCompleted": {**IDS, "fulfillment_request_id": "R-F1", "lines": LINES},
    "wms/PackCompleted": {**IDS, "fulfillment_request_id": "R-F1", "lines": LINES,
                          "packages": [PACKAGE, {"package_number": "PKG-2"}]},
    "wms/ShipCompleted": {**IDS, "fulfillment_request_id": "R-F1", "carrier": "GHN", "tracking_number": "GHN123",
                          "packages": [PACKAGE], "lines": LINES, "occurred_at": "2026-11-22T16:00:00+07:00"},
    "wms/ReturnReceived": {**IDS, "return_id": "RMA-20261122-0001", "lines": [
        {"order_line_id": "L1", "quantity_received": "2", "quantity_accepted": "1.5", "quantity_rejected": 0.5,
         "disposition": "restock"}]},
    "tms/webhook": {"event_id": "tms-1", "shipment_id": "SHP-20261122-0001", "status": "IN_TRANSIT",
                    "occurred_at": "2026-11-22T15:00:00.123Z", "tms_order_id": "T-9", "tenant_id": "demo"},
}


def _changed(example: dict, path: str, value: Any = None, *, delete: bool = False) -> dict:
    """A deep copy with the dotted `path` (list indexes as numbers) set to `value`, or deleted."""
    changed = copy.deepcopy(example)
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    node = changed
    for key in parents:
        node = node[key]
    if delete:
        del node[last]
    else:
        node[last] = value
    return changed


@pytest.mark.parametrize("key", INBOUND)
def test_inbound_examples_are_accepted(key: str):
    validate_detail(*key.split("/"), INBOUND[key])


def rejected(key: str, why: str, path: str, value: Any = None, delete: bool = False) -> Any:
    return pytest.param(key, _changed(INBOUND[key], path, value, delete=delete), id=f"{key}: {why}")


REJECTED = [
    *[rejected(key, "missing tenant_id", "tenant_id", delete=True) for key in INBOUND if key.startswith("wms/")],
    *[rejected(key, "unknown field", "note", "x") for key in INBOUND],
    *[rejected(key, "empty event_id", "event_id", "") for key in INBOUND],
    *[rejected(key, "event_id over 200", "event_id", "e" * 201) for key in INBOUND],
    *[rejected(key, "bad occurred_at", "occurred_at", "22/11/2026 15:00") for key in INBOUND],
    rejected("wms/StockAdjusted", "negative on_hand", "on_hand", -1),
    rejected("wms/StockAdjusted", "on_hand not a decimal", "on_hand", "1,5"),
    rejected("wms/StockAdjusted", "bad sku", "sku", "PP#H1"),
    rejected("wms/FulfillmentAccepted", "missing request id", "fulfillment_request_id", delete=True),
    rejected("wms/PickCompleted", "negative quantity", "lines.0.quantity", "-1"),
    rejected("wms/PickCompleted", "zero quantity", "lines.1.quantity", 0),
    rejected("wms/PickCompleted", "no lines", "lines", []),
    rejected("wms/PickCompleted", "unknown line field", "lines.0.sku", "PP-H1"),
    rejected("wms/PackCompleted", "negative quantity", "lines.0.quantity", -2),
    rejected("wms/PackCompleted", "package without number", "packages.1", {}),
    rejected("wms/PackCompleted", "negative weight", "packages.0.weight_kg", "-1"),
    rejected("wms/PackCompleted", "zero dimension", "packages.0.dimensions_cm.width", "0"),
    rejected("wms/PackCompleted", "missing height", "packages.0.dimensions_cm.height", delete=True),
    rejected("wms/PackCompleted", "label_url not a URI", "packages.0.label_url", "label 1"),
    rejected("wms/ShipCompleted", "negative quantity", "lines.0.quantity", "-0.5"),
    rejected("wms/ShipCompleted", "missing carrier", "carrier", delete=True),
    rejected("wms/ShipCompleted", "missing packages", "packages", delete=True),
    rejected("wms/ShipCompleted", "unknown package field", "packages.0.colour", "red"),
    rejected("wms/ReturnReceived", "bad disposition", "lines.0.disposition", "resell"),
    rejected("wms/ReturnReceived", "negative quantity", "lines.0.quantity_rejected", "-1"),
    rejected("wms/ReturnReceived", "missing quantity", "lines.0.quantity_accepted", delete=True),
    rejected("tms/webhook", "bad shipment id", "shipment_id", "SHP-2026-1"),
    rejected("tms/webhook", "short shipment number", "shipment_id", "SHP-20261122-001"),
    rejected("tms/webhook", "bad status", "status", "LOST"),
    rejected("tms/webhook", "missing occurred_at", "occurred_at", delete=True),
]


@pytest.mark.parametrize("key, detail", REJECTED)
def test_inbound_schemas_reject(key: str, detail: dict):
    with pytest.raises(EventSchemaError):
        validate_detail(*key.split("/"), detail)


# --- outbound: what we emit (shapes as serialized by shared/domain, taken from its output) --------

AT = "2026-11-22T15:00:00.123456789Z"
ORDER = {"order_id": "01JD4Q8Y5M3B7K2N9P6R1S0T4V", "order_number": "ORD-20261122-0001"}
HUB_SKU = {"hub_id": "HCM-WH1", "sku": "PP-H1"}
ADDRESS = {"line1": "12 Nguyen Hue", "line2": "Floor 3", "city": "Ho Chi Minh City", "region": "HCM",
           "postal_code": "700000", "country": "VN", "lat": 10.77, "lon": 106.7}
HOLD = {"hold_id": "H1", "code": "payment_hold", "reason": "deposit", "status": "released",
        "placed_by": "u1", "placed_at": AT, "released_by": "u2", "released_at": AT}
OPEN_HOLD = {"hold_id": "H2", "code": "fraud", "reason": "check", "status": "active", "placed_by": "u1",
             "placed_at": AT}
LINE = {"line_id": "L1", "sku": "PP-H1", "name": "PP Homopolymer", "quantity": "1.5", "unit": "KG",
        "quoted_unit_price": "30000", "list_unit_price": "32000", "approved_unit_price": "30000",
        "shipping_unit_cost": "500", "tax_rate": "0.10", "allocations": [{"hub_id": "HCM-WH1", "quantity": "1.5"}],
        "allocated": "1.5", "backordered": "0", "picked": "0", "packed": "0", "shipped": "0", "delivered": "0",
        "returned": "0", "cancelled": "0",
        "totals": {"products": "45000", "shipping": "750", "net": "45750", "tax": "4575", "gross": "50325"}}
APPROVAL = {"requested_by": "u1", "requested_at": AT, "discount": "1000", "lines": [
    {"line_id": "L1", "sku": "PP-H1", "list_unit_price": "32000", "quoted_unit_price": "30000",
     "difference": "-2000", "percent": "-6.25"}]}
DECISION = {"approved": True, "notes": "ok", "decided_by": "m1", "decided_at": AT}
FULFILLMENT_LINE = {"order_line_id": "L1", "sku": "PP-H1", "unit": "KG", "quantity": "1.5"}
FULFILLMENT_REQUEST = {"fulfillment_request_id": "R-F1", "hub_id": "HCM-WH1", "status": "in_progress",
                       "lines": [FULFILLMENT_LINE], "requested_at": AT}
OUTBOUND = {
    "OrderCreated": {
        **ORDER, "status": "DRAFT",
        "customer": {"id": "C1", "name": "Cong ty Nhua ABC", "delivery_address": ADDRESS,
                     "contact": {"name": "Lan", "phone": "+84 90", "email": "lan@example.com"}},
        "currency": "VND", "external_reference": "PO-1", "channel": "shopee", "channel_order_id": "S-1",
        "created_by": "u1",
        "lines": [{"line_id": "L1", "sku": "PP-H1", "quantity": "1.5", "unit": "KG", "unit_price": "30000",
                   "gross": "50325"}],
        "totals": {"products": "45000", "shipping": "750", "tax": "4575", "discount": "1000",
                   "grand_total": "49325"}},
    "OrderSubmitted": {**ORDER, "status": "PENDING_ALLOCATION"},
    "OrderStatusChanged": {**ORDER, "from": None, "to": "DRAFT", "reason": "order created", "actor": "u1"},
    "PriceApprovalRequested": {**ORDER, "approval": APPROVAL},
    "OrderModified": {**ORDER, "fields": ["notes", "customer.delivery_address"]},
    "OrderCancelled": {**ORDER, "reason": "cancelled: customer", "released": [{**HUB_SKU, "quantity": "-1.5"}]},
    "OrderHoldPlaced": {**ORDER, "hold": OPEN_HOLD},
    "OrderHoldReleased": {**ORDER, "hold": HOLD, "still_on_hold": False},
    "FulfillmentRequested": {"fulfillment_request_id": "R-F1", **ORDER, "hub_id": "HCM-WH1",
                             "lines": [FULFILLMENT_LINE], "customer_name": "Cong ty Nhua ABC",
                             "ship_to": {"line1": "1 Hue", "city": "Hue", "country": "VN"}, "contact": {}},
    "FulfillmentCancelled": {"fulfillment_request_id": "R-F1", "order_id": ORDER["order_id"], "hub_id": "HCM-WH1",
                             "reason": "order cancelled"},
    "InventoryLow": {**HUB_SKU, "available": "-2", "threshold": "10"},
    "StockReplenished": {**HUB_SKU, "available": "5"},
    "StockReserved": {**ORDER, "reservations": [{"line_id": "L1", **HUB_SKU, "quantity": "1.5"}]},
    "OrderBackordered": {**ORDER, "lines": [{"line_id": "L1", "sku": "PP-H1", "backordered": "0.5"}]},
}


def outbound(detail_type: str, **changes: Any) -> dict:
    envelope = {"event_id": "01JD4Q8Y5M3B7K2N9P6R1S0T4W", "tenant_id": "demo", "occurred_at": AT,
                "type": detail_type}
    return {**envelope, **copy.deepcopy(OUTBOUND[detail_type]), **changes}


@pytest.mark.parametrize("detail_type", OUTBOUND)
def test_outbound_examples_match_and_new_fields_are_tolerated(detail_type: str):
    validate_detail("oms", detail_type, outbound(detail_type))
    validate_detail("oms", detail_type, outbound(detail_type, added_later={"any": "thing"}))


def test_order_created_is_checked_in_depth():
    detail = outbound("OrderCreated")
    validate_detail("oms", "OrderCreated", _changed(detail, "external_reference", delete=True))
    wrong = [("lines.0.quantity", "0"), ("lines.0.quantity", 1.5), ("currency", "VNĐ"),
             ("status", "SHIPPING"), ("customer.delivery_address.country", "Vietnam"),
             ("totals.grand_total", None), ("lines", []), ("occurred_at", "2026-11-22")]
    for path, value in wrong:
        with pytest.raises(EventSchemaError):
            validate_detail("oms", "OrderCreated", _changed(detail, path, value))
    for path in ["tenant_id", "type", "totals", "lines.0.gross", "customer.contact",
                 "customer.delivery_address.lon", "created_by"]:
        with pytest.raises(EventSchemaError):
            validate_detail("oms", "OrderCreated", _changed(detail, path, delete=True))


def test_the_type_must_be_the_detail_type_and_unknown_types_fail():
    with pytest.raises(EventSchemaError, match=r"\$\.type: 'OrderSubmitted' was expected"):
        validate_detail("oms", "OrderSubmitted", outbound("OrderSubmitted", type="OrderCreated"))
    with pytest.raises(EventSchemaError, match="no schema for oms/OrderTeleported"):
        validate_detail("oms", "OrderTeleported", outbound("OrderSubmitted"))
