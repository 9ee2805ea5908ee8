"""The outbox relay under a burst of big events: every one reaches the bus, none is dropped for
being too big to share a PutEvents request with the others."""

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor

from conftest import order_body, validate_detail

# shared/domain/src/usecases/create_order.rs MAX_LINES: the biggest order there is.
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
