"""Trust boundaries end to end (issue 13, items 1 and 2): what a warehouse or a channel connector
sends in is applied only for the tenants that registered it, nothing it sends can pass for the
OMS's own events, and nothing from the future is believed."""

import json
import os
import time
import uuid
from datetime import datetime, timedelta, timezone

from conftest import Api, aws, channel_sqs, events_of, local, order_body, read_queue, wms


def _on_hand(api: Api, hub: str, sku: str) -> str:
    return api.get(f"/inventory?sku={sku}&hub_id={hub}").json()["items"][0]["on_hand"]


def _wait_on_hand(api: Api, hub: str, sku: str, expected: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _on_hand(api, hub, sku) == expected:
            return
        time.sleep(0.3)
    raise AssertionError(f"on_hand stayed {_on_hand(api, hub, sku)}, expected {expected}")


def _queue_url(logical_id: str) -> str:
    return aws("sqs").get_queue_url(QueueName=f"{os.environ.get('OMS_STACK_NAME', 'oms-local')}-{logical_id}")["QueueUrl"]


def _never_on_queue(url: str, marker: str, seconds: float) -> None:
    """Reads the queue for `seconds` (leaving every message there) and fails on any that names
    `marker`."""
    sqs, deadline = aws("sqs"), time.monotonic() + seconds
    while time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                           VisibilityTimeout=0).get("Messages", []):
            assert marker not in message["Body"], f"a forged event reached {url}: {message['Body'][:500]}"


def test_an_oms_event_forged_on_the_integration_bus_reaches_no_oms_consumer(sales, catalog, admin, tenant, sqs):
    forged_id = f"FORGED-{uuid.uuid4().hex[:8]}"
    entries = [{"Source": "oms", "DetailType": detail_type, "EventBusName": os.environ["OMS_INTEGRATION_BUS_NAME"],
                "Detail": json.dumps({"tenant_id": tenant, "order_id": forged_id, "return_id": forged_id,
                                      "totals": {"grand_total": "999999999"}})}
               for detail_type in ("RefundRequested", "OrderCompleted")]
    # The WMS's principal puts them: AWS would refuse the request (the bus's policy denies any
    # source but wms, tests/tooling/test_bus_policies.py); here it goes in, and the bus has no
    # rule that would take an OMS event anywhere.
    aws("events", local.LOCAL_WMS_ACCESS_KEY).put_events(Entries=entries)

    # A real event, published by the relay on the OMS bus, reaches the tap meanwhile.
    admin.put("/inventory/HCM/PP-H1", {"on_hand": "10"})
    order = sales.post("/orders", order_body("PP-H1", "1", submit=True)).json()
    assert [e["detail-type"] for e in events_of(sqs, order["order_id"], until="OrderCreated")][-1] == "OrderCreated"
    for queue in ("AccountingQueue", "EventTapQueue"):
        _never_on_queue(_queue_url(queue), forged_id, seconds=2)


def test_a_wms_event_for_a_tenant_that_did_not_register_the_wms_is_dead_lettered_and_changes_nothing(admin, catalog, tenant):
    assert admin.put("/inventory/HCM/PP-H1", {"on_hand": "10"}).status_code == 200
    revoked = admin.call("DELETE", f"/integrations/wms/{local.LOCAL_WMS_ACCOUNT}")
    assert revoked.status_code == 200, revoked.text
    assert [i["kind"] for i in admin.get("/integrations").json()["items"]] == ["channel"]

    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    wms(tenant, "StockAdjusted", "count-unregistered", hub_id="HCM", sku="PP-H1", on_hand="99", occurred_at=now)
    record = read_queue(os.environ["OMS_WMS_EVENTS_DEAD_LETTER_QUEUE_URL"],
                        lambda r: r["requestPayload"]["detail"].get("event_id") == "count-unregistered", timeout=60)
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestPayload"]["account"] == local.LOCAL_WMS_ACCOUNT, "the harness stamped the WMS's account"
    assert record["responsePayload"]["errorType"] == "Forbidden", record["responsePayload"]
    reason = record["responsePayload"]["errorMessage"]
    assert f"wms integration {local.LOCAL_WMS_ACCOUNT} is not registered for tenant {tenant}" in reason, reason
    assert _on_hand(admin, "HCM", "PP-H1") == "10", "nothing applied"

    # Registered again, the same WMS's next count applies.
    registered = admin.put(f"/integrations/wms/{local.LOCAL_WMS_ACCOUNT}", {"name": "Kho HCM WMS"})
    assert registered.status_code == 200, registered.text
    wms(tenant, "StockAdjusted", "count-registered", hub_id="HCM", sku="PP-H1", on_hand="42", occurred_at=now)
    _wait_on_hand(admin, "HCM", "PP-H1", "42")


def test_a_count_from_the_far_future_is_refused_and_later_counts_still_apply(admin, catalog, tenant):
    assert admin.put("/inventory/HCM/PP-H1", {"on_hand": "10"}).status_code == 200
    future = (datetime.now(timezone.utc) + timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ")
    wms(tenant, "StockAdjusted", "count-future", hub_id="HCM", sku="PP-H1", on_hand="5000", occurred_at=future)
    record = read_queue(os.environ["OMS_WMS_EVENTS_DEAD_LETTER_QUEUE_URL"],
                        lambda r: r["requestPayload"]["detail"].get("event_id") == "count-future", timeout=60)
    assert "more than 5 minutes after the OMS's clock" in record["responsePayload"]["errorMessage"], record
    assert _on_hand(admin, "HCM", "PP-H1") == "10"

    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    wms(tenant, "StockAdjusted", "count-now", hub_id="HCM", sku="PP-H1", on_hand="12", occurred_at=now)
    _wait_on_hand(admin, "HCM", "PP-H1", "12")


def test_a_channel_order_from_a_connector_the_tenant_did_not_register_is_dead_lettered(catalog, tenant):
    stranger = f"e2e-{uuid.uuid4().hex[:12]}"  # registered nothing
    queue, dlq = _queue_url("ChannelOrdersQueue"), _queue_url("ChannelOrdersDeadLetterQueue")

    def message(for_tenant: str, channel_order_id: str) -> str:
        return json.dumps({"tenant_id": for_tenant, "channel": "shopee", "channel_order_id": channel_order_id,
                           "customer": {"id": "b-1", "name": "Lan", "delivery_address": {"line1": "1 Hue", "city": "Hue", "country": "VN"}},
                           "lines": [{"channel_item_id": "PP-H1", "quantity": "1"}]})

    refused = [message(stranger, "SO-STRANGER"),  # the registered connector, another tenant
               message(tenant, "SO-ANYONE")]      # the tenant, someone it never registered
    channel_sqs().send_message(QueueUrl=queue, MessageBody=refused[0])
    aws("sqs").send_message(QueueUrl=queue, MessageBody=refused[1])
    channel_sqs().send_message(QueueUrl=queue, MessageBody=message(tenant, "SO-OK"))

    dead, deadline = [], time.monotonic() + 90
    while time.monotonic() < deadline and len(dead) < 2:
        for m in aws("sqs").receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                            VisibilityTimeout=0).get("Messages", []):
            if m["Body"] in refused:  # others' messages stay for their tests
                aws("sqs").delete_message(QueueUrl=dlq, ReceiptHandle=m["ReceiptHandle"])
                dead.append(m["Body"])
    assert sorted(dead) == sorted(refused)
    orders = Api(tenant, "sales_manager").get("/orders").json()["items"]
    ids = [Api(tenant, "sales_manager").get(f"/orders/{o['order_id']}").json()["channel_order_id"] for o in orders]
    assert ids == ["SO-OK"]
    assert Api(stranger, "sales_manager").get("/orders").json()["items"] == []
