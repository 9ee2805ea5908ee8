"""The outbox relay never drops a message: a burst of big events all reach the bus, and a
message that can never go out is parked while the ones after it go on."""

import json
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from conftest import events_of, order_body, tenant_items, validate_detail

# shared/domain/src/kernel/limits.rs MAX_LINES: the biggest order there is.
MAX_LINES = 250
ORDERS = 10


def order_created_ids(sqs, wanted: set[str], timeout: float) -> set[str]:
    """Order ids of the `OrderCreated` events read from the event tap, until all of `wanted` are
    seen or the time is up. Every event read must match its schema."""
    url = os.environ["OMS_EVENT_TAP_QUEUE_URL"]
    seen: set[str] = set()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not wanted <= seen:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            event = json.loads(message["Body"])
            validate_detail(event["source"], event["detail-type"], event["detail"])
            if event["detail-type"] == "OrderCreated":
                detail = event["detail"]
                seen.add(detail.get("order_id") or detail.get("order", {}).get("order_id"))
    return seen & wanted


def test_a_burst_of_the_biggest_drafts_all_reach_the_bus(sales, catalog, sqs):
    body = order_body(catalog["sku"], "1")
    body["lines"] = body["lines"] * MAX_LINES  # the same SKU on every line is allowed

    def create(_):
        response = sales.post("/orders", body)
        assert response.status_code == 201, response.text
        return response.json()["order_id"]

    # Created together, so their big OrderCreated events reach the relay in the same batches.
    with ThreadPoolExecutor(max_workers=ORDERS) as pool:
        created = set(pool.map(create, range(ORDERS)))
    assert len(created) == ORDERS

    seen = order_created_ids(sqs, created, timeout=120)
    assert seen == created, f"no OrderCreated for {sorted(created - seen)}"


def test_an_outbox_item_that_cannot_be_read_is_parked_and_the_stream_moves_on(sales, catalog, sqs, dynamodb, tenant):
    broken = '{"kind":"event","broken'
    dynamodb.put_item(TableName=os.environ["OMS_TABLE_NAME"], Item={
        "PK": {"S": f"T#{tenant}#OUTBOX#{uuid.uuid4().hex}"}, "SK": {"S": "OUTBOX"},
        "entity": {"S": "OUTBOX"}, "message": {"S": broken}})
    response = sales.post("/orders", order_body(catalog["sku"], "1"))
    assert response.status_code == 201, response.text
    order_id = response.json()["order_id"]

    assert order_created_ids(sqs, {order_id}, timeout=60) == {order_id}
    parked = [i for i in tenant_items(dynamodb, tenant) if i["entity"]["S"] == "PARKED_EVENT"]
    assert [i["message"]["S"] for i in parked] == [broken]
    assert "undecodable" in parked[0]["reason"]["S"]
    assert parked[0]["PK"]["S"] == f"T#{tenant}#PARKED#{parked[0]['sequence_number']['S']}"


def test_order_status_changed_goes_on_the_bus_only_when_the_stack_publishes_it(admin, sales, catalog, sqs):
    """Template parameter UnpublishedEvents (default OrderStatusChanged): the relay leaves those
    events off the bus, and each change's own event still goes out. Holds for the stack's setting,
    whichever it is (`OMS_PARAMETER_OVERRIDES=UnpublishedEvents=` publishes every event)."""
    unpublished = {name.strip() for name in os.environ["OMS_UNPUBLISHED_EVENTS"].split(",") if name.strip()}
    created = sales.post("/orders", order_body(catalog["sku"], "1"))
    assert created.status_code == 201, created.text
    order_id = created.json()["order_id"]
    cancelled = admin.post(f"/orders/{order_id}/cancel", {"reason": "changed mind"})
    assert cancelled.status_code == 200, cancelled.text

    # The domain emits OrderStatusChanged before OrderCancelled, and one order's events reach the
    # bus in commit order: what the tap holds up to OrderCancelled is all there is to see.
    types = [e["detail-type"] for e in events_of(sqs, order_id, until="OrderCancelled")]
    assert types[0] == "OrderCreated" and types[-1] == "OrderCancelled", types
    assert ("OrderStatusChanged" in types) == ("OrderStatusChanged" not in unpublished), (types, unpublished)
