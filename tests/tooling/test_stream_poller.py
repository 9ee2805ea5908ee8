"""The DynamoDB stream poller's delivery rules, against a fake watch: batches, partial batch
failures, bisection, retries, the OnFailure destination and ParallelizationFactor's lanes."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from typing import Any

import pytest

from tools.local import pollers


def stream_record(seq: int) -> dict[str, Any]:
    return {"eventID": f"e{seq}", "eventName": "INSERT", "eventSource": "aws:dynamodb",
            "dynamodb": {"SequenceNumber": f"{seq:021d}", "ApproximateCreationDateTime": 1700000000,
                         "NewImage": {"entity": {"S": "OUTBOX"}}}}


class FakeSqs:
    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []

    def send_message(self, QueueUrl: str, MessageBody: str) -> None:  # noqa: N803 - boto3 names
        self.sent.append((QueueUrl, json.loads(MessageBody)))


@pytest.fixture
def poller(real_stack, settings, fake_watch):
    port = int(fake_watch.url.rsplit(":", 1)[1])
    (source,) = real_stack.stream_sources
    source = replace(source, batch_size=4, max_retry_attempts=2)
    p = pollers.StreamPoller(source, real_stack, replace(settings, watch_port=port),
                             threading.Event())
    p.sqs = FakeSqs()
    p.aws_stream_arn = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x"
    return p


def shard_with(*seqs: int) -> pollers._Shard:
    shard = pollers._Shard("shard-1", None)
    shard.pending = [stream_record(s) for s in seqs]
    return shard


def sequences(event: Any) -> list[int]:
    return [int(r["dynamodb"]["SequenceNumber"]) for r in event["Records"]]


def test_a_successful_batch_is_committed_up_to_batch_size(poller, fake_watch):
    fake_watch.handlers["outbox-relay"] = lambda event: (200, {"batchItemFailures": []})
    shard = shard_with(1, 2, 3, 4, 5)
    poller._deliver(shard)
    assert sequences(fake_watch.calls[0][1]) == [1, 2, 3, 4]
    assert [int(r["dynamodb"]["SequenceNumber"]) for r in shard.pending] == [5]
    assert shard.last_sequence == f"{4:021d}" and shard.attempts == 0


def test_partial_failure_retries_from_the_first_failed_record(poller, fake_watch):
    fake_watch.handlers["outbox-relay"] = lambda event: (200, {"batchItemFailures": [
        {"itemIdentifier": f"{3:021d}"}, {"itemIdentifier": f"{2:021d}"}]})
    shard = shard_with(1, 2, 3)
    poller._deliver(shard)
    assert [int(r["dynamodb"]["SequenceNumber"]) for r in shard.pending] == [2, 3]
    assert shard.attempts == 1 and shard.retry_at > 0


def test_function_error_bisects_and_exhausted_retries_go_to_the_failure_queue(poller,
                                                                              fake_watch):
    fake_watch.handlers["outbox-relay"] = lambda event: (
        500, {"errorType": "Boom", "errorMessage": "no"})
    shard = shard_with(1, 2, 3, 4)
    for _ in range(3):  # the first attempt and MaximumRetryAttempts=2 retries
        shard.retry_at = 0
        poller._deliver(shard)
    assert [sequences(e) for _, e in fake_watch.calls] == [[1, 2, 3, 4], [1, 2], [1]]
    ((queue_url, message),) = poller.sqs.sent
    assert queue_url.endswith("/oms-local-OutboxRelayDeadLetterQueue")
    info = message["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == \
        (f"{1:021d}", f"{1:021d}", 1)
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert [int(r["dynamodb"]["SequenceNumber"]) for r in shard.pending] == [2, 3, 4]
    assert shard.attempts == 0


def test_watch_not_answering_does_not_count_as_an_attempt(poller, fake_watch):
    fake_watch.close()
    shard = shard_with(1)
    poller._deliver(shard)
    assert shard.attempts == 0 and len(shard.pending) == 1


def keyed_record(seq: int, key: str) -> dict[str, Any]:
    record = stream_record(seq)
    record["dynamodb"]["Keys"] = {"PK": {"S": key}, "SK": {"S": "OUTBOX"}}
    return record


def test_batches_of_different_partition_keys_go_at_once_and_each_keys_records_in_order(
        real_stack, settings, fake_watch):
    port = int(fake_watch.url.rsplit(":", 1)[1])
    (source,) = real_stack.stream_sources
    source = replace(source, batch_size=2, parallelization_factor=4)
    p = pollers.StreamPoller(source, real_stack, replace(settings, watch_port=port),
                             threading.Event())
    # A stream already found and read to its end: only the delivery is left.
    p.stream_arn, p.next_refresh, p.hash_key = "arn:stream", float("inf"), "PK"
    shard = pollers._Shard("shard-1", None, closed=True)
    p.shards = {shard.shard_id: shard}
    for seq in range(1, 25):
        record = keyed_record(seq, f"K{seq % 6}")
        p.lane_of(shard, record).pending.append(record)
    assert sum(1 for lane in shard.lanes if lane.pending) > 1
    lock, in_flight, peak = threading.Lock(), [0], [0]

    def slow(event: Any) -> tuple[int, Any]:
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        time.sleep(0.1)
        with lock:
            in_flight[0] -= 1
        return 200, {"batchItemFailures": []}

    fake_watch.handlers["outbox-relay"] = slow
    deadline = time.monotonic() + 20
    while not shard.done and time.monotonic() < deadline:
        p.tick()
        time.sleep(0.01)
    p.finish()
    assert shard.done
    assert 1 < peak[0] <= 4
    delivered = [(r["dynamodb"]["Keys"]["PK"]["S"], int(r["dynamodb"]["SequenceNumber"]))
                 for _, event in fake_watch.calls for r in event["Records"]]
    assert sorted(seq for _, seq in delivered) == list(range(1, 25))
    for key in {k for k, _ in delivered}:
        seqs = [seq for k, seq in delivered if k == key]
        assert seqs == sorted(seqs), key
