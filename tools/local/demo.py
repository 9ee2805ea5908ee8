"""Demo data for tenant `demo`: hubs, SKUs of a plastics trader and stock, and the local WMS and
channel connector registered as its integrations, through the HTTP API.

Every call is a PUT of the full state, so loading twice changes nothing. Loading needs the
`inventory-api` function; when it is missing or failing, `load` says so and the stack stays up.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass

from .config import LOCAL_CHANNEL_SENDER_ID, LOCAL_WMS_ACCOUNT

HUBS = {
    "HCM-WH1": {"name": "Ho Chi Minh City Warehouse 1", "type": "WAREHOUSE",
                "location": {"lat": 10.8231, "lon": 106.6297}, "daily_capacity": 500,
                "performance_score": "0.92", "active": True},
    "HPH-PORT": {"name": "Hai Phong Port", "type": "PORT",
                 "location": {"lat": 20.8449, "lon": 106.6881}, "daily_capacity": 2000,
                 "performance_score": "0.75", "active": True},
    "HN-WH2": {"name": "Hanoi Warehouse 2", "type": "WAREHOUSE",
               "location": {"lat": 21.0285, "lon": 105.8542}, "daily_capacity": 300,
               "performance_score": "0.85", "active": True},
}

SKUS = {
    "PP-H1": {"name": "PP Homopolymer H1", "unit": "KG", "list_price": "32000", "currency": "VND",
              "tax_rate": "0.10", "low_stock_threshold": "500"},
    "HDPE-F2": {"name": "HDPE Film Grade F2", "unit": "KG", "list_price": "35500",
                "currency": "VND", "tax_rate": "0.10", "low_stock_threshold": "400"},
    "PVC-S65": {"name": "PVC Suspension Resin S65", "unit": "KG", "list_price": "28000",
                "currency": "VND", "tax_rate": "0.10", "low_stock_threshold": "300"},
    "ABS-750": {"name": "ABS Resin 750 (imported)", "unit": "KG", "list_price": "1.85",
                "currency": "USD", "tax_rate": "0.10", "low_stock_threshold": "200"},
}

# The local stand-ins for the tenant's integrations (config.LOCAL_SENDERS): `./dev warehouse` and
# the bench put WMS events as the first, channel orders sent with the second key are the second's.
INTEGRATIONS = {
    ("wms", LOCAL_WMS_ACCOUNT): {"name": "Local WMS (./dev warehouse)"},
    ("channel", LOCAL_CHANNEL_SENDER_ID): {"name": "Local channel connector"},
}


def integration_calls() -> list[tuple[str, dict[str, object]]]:
    """The PUTs that register the local integrations for the caller's tenant."""
    return [(f"/integrations/{kind}/{principal}", body) for (kind, principal), body in INTEGRATIONS.items()]


# on_hand in KG per (hub, sku)
STOCK = {
    ("HCM-WH1", "PP-H1"): "1200", ("HPH-PORT", "PP-H1"): "3000", ("HN-WH2", "PP-H1"): "400",
    ("HCM-WH1", "HDPE-F2"): "800", ("HPH-PORT", "HDPE-F2"): "2500", ("HN-WH2", "HDPE-F2"): "300",
    ("HCM-WH1", "PVC-S65"): "600", ("HPH-PORT", "PVC-S65"): "1800", ("HN-WH2", "PVC-S65"): "900",
    ("HCM-WH1", "ABS-750"): "250", ("HPH-PORT", "ABS-750"): "1000", ("HN-WH2", "ABS-750"): "150",
}

ORDER_EXAMPLE = {
    "customer": {
        "id": "CUST-001",
        "name": "Cong ty Nhua ABC",
        "delivery_address": {"line1": "12 Nguyen Hue", "city": "Ho Chi Minh City",
                             "country": "VN", "lat": 10.77, "lon": 106.70},
        "contact": {"name": "Anh Tuan", "phone": "+84901234567"},
    },
    "currency": "VND",
    "lines": [{"sku": "PP-H1", "quantity": "100", "quoted_unit_price": "32000"}],
    "submit": True,
}


@dataclass
class DemoResult:
    ok: bool
    message: str


def _put(api_url: str, token: str, path: str, body: dict[str, object]) -> tuple[int, str]:
    request = urllib.request.Request(
        f"{api_url}{path}", data=json.dumps(body).encode(), method="PUT",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=600) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")
    except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
        return 0, str(exc)


def load(api_url: str, admin_token: str) -> DemoResult:
    calls: list[tuple[str, dict[str, object]]] = []
    calls += [(f"/hubs/{hub}", body) for hub, body in HUBS.items()]
    calls += [(f"/skus/{sku}", body) for sku, body in SKUS.items()]
    calls += [(f"/inventory/{hub}/{sku}", {"on_hand": qty}) for (hub, sku), qty in STOCK.items()]
    calls += integration_calls()
    for path, body in calls:
        status, text = _put(api_url, admin_token, path, body)
        if status != 200:
            hint = ""
            if status == 500:
                hint = " (is the inventory-api function built and working? see " \
                       ".local/run/logs/watch.log and gateway lines in harness.log)"
            elif status == 404 and '"not_found"' in text and "no route" in text:
                hint = " (the template declares no such route)"
            return DemoResult(False, f"PUT /v1{path} -> {status or 'no answer'}: "
                                     f"{text[:300]}{hint}")
    return DemoResult(True, f"{len(HUBS)} hubs, {len(SKUS)} SKUs, {len(STOCK)} stock levels, "
                            f"{len(INTEGRATIONS)} integrations for tenant demo")
