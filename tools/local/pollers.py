"""Event source mappings: what AWS Lambda's pollers do for the template's DynamoDB and SQS events.

`StreamPoller` reads every shard of a table's stream on DynamoDB Local (following new shards,
parents first), drops records that no FilterCriteria pattern matches, and invokes the function with
batches of at most BatchSize records in the Lambda DynamoDB event shape. Like Lambda with a
mapping's ParallelizationFactor, it splits each shard by the records' partition key into that
many lanes and delivers up to that many batches of a shard at once, one per lane: the records of
one partition key stay in order, those of different keys are not ordered. Per lane: on a failure
it retries from the first failed record (ReportBatchItemFailures), bisects on function errors when
asked, and after MaximumRetryAttempts sends an invocation record to the OnFailure SQS destination
and moves on. `QueuePoller` does the SQS side: receive, filter,
invoke, delete what succeeded; failed messages stay for the queue's redrive policy.

Pollers log and carry on whatever happens: they never take the harness down. A batch that cannot
be delivered because watch is not answering is retried without counting as an attempt.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from botocore.exceptions import ClientError

from . import destinations, filters, invoke
from .config import ACCOUNT_ID, Settings
from .provision import client
from .template import LocalStack, QueueSource, StreamSource

POLL_INTERVAL = 0.15
SHARD_REFRESH = 2.0
# Records read ahead of delivery, per shard, in batches: enough to keep every lane busy.
READ_AHEAD_BATCHES = 2

log = logging.getLogger("pollers")


# -- DynamoDB records ---------------------------------------------------------------------

def _attribute_json(value: Any) -> Any:
    """boto3's DynamoDB JSON back to the wire form (binary as base64)."""
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {k: _attribute_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_attribute_json(v) for v in value]
    return value


def _epoch(value: Any) -> Any:
    if isinstance(value, datetime):
        seconds = value.timestamp()
        return int(seconds) if seconds.is_integer() else seconds
    return value


def lambda_stream_record(record: dict[str, Any], region: str, source_arn: str) -> dict[str, Any]:
    """A GetRecords record as Lambda hands it to a function."""
    ddb = dict(record.get("dynamodb") or {})
    out_ddb: dict[str, Any] = {}
    if "ApproximateCreationDateTime" in ddb:
        out_ddb["ApproximateCreationDateTime"] = _epoch(ddb["ApproximateCreationDateTime"])
    for key in ("Keys", "NewImage", "OldImage"):
        if key in ddb:
            out_ddb[key] = _attribute_json(ddb[key])
    for key in ("SequenceNumber", "SizeBytes", "StreamViewType"):
        if key in ddb:
            out_ddb[key] = ddb[key]
    out: dict[str, Any] = {
        "eventID": record.get("eventID"),
        "eventName": record.get("eventName"),
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": out_ddb,
        "eventSourceARN": source_arn,
    }
    if record.get("userIdentity"):
        out["userIdentity"] = record["userIdentity"]
    return out


def batch_item_failures(payload: Any) -> list[str] | None:
    """Failed item identifiers from a ReportBatchItemFailures response; None if malformed."""
    if payload is None or payload == {} or payload == "":
        return []
    if not isinstance(payload, dict):
        return []
    failures = payload.get("batchItemFailures")
    if failures is None:
        return []
    if not isinstance(failures, list):
        return None
    ids = []
    for item in failures:
        if not isinstance(item, dict):
            return None
        identifier = item.get("itemIdentifier")
        if not isinstance(identifier, str) or not identifier:
            return None
        ids.append(identifier)
    return ids


@dataclass
class _Shard:
    """A shard of the stream as read (`iterator`, `last_sequence`: the last record read), or one
    of its lanes, which deliver (`pending`, the retry state; `last_sequence`: the last record
    delivered)."""
    shard_id: str
    parent_id: str | None
    iterator: str | None = None
    pending: list[dict[str, Any]] = field(default_factory=list)
    closed: bool = False
    done: bool = False
    attempts: int = 0
    bisect_size: int | None = None
    retry_at: float = 0.0
    last_sequence: str | None = None
    at_startup: bool = False
    lanes: list[_Shard] = field(default_factory=list)
    busy: bool = False  # a lane with a batch at the function

    def buffered(self) -> int:
        return sum(len(lane.pending) for lane in self.lanes)

    def idle(self) -> bool:
        return not any(lane.pending or lane.busy for lane in self.lanes)


class _Poller(threading.Thread):
    def __init__(self, name: str, stop: threading.Event) -> None:
        super().__init__(name=name, daemon=True)
        self.stop_event = stop

    def run(self) -> None:
        log.info("%s: started", self.name)
        while not self.stop_event.is_set():
            try:
                busy = self.tick()
            except Exception:  # keep polling whatever happens
                log.exception("%s: poll failed; retrying", self.name)
                busy = False
                self.stop_event.wait(1.0)
            if not busy:
                self.pause()
        self.finish()
        log.info("%s: stopped", self.name)

    def pause(self) -> None:
        self.stop_event.wait(POLL_INTERVAL)

    def finish(self) -> None:
        pass

    def tick(self) -> bool:
        raise NotImplementedError


class StreamPoller(_Poller):
    def __init__(self, source: StreamSource, stack: LocalStack, settings: Settings,
                 stop: threading.Event) -> None:
        super().__init__(f"stream:{source.table}->{source.binary}", stop)
        self.source = source
        self.stack = stack
        self.settings = settings
        self.ddb = client("dynamodb", settings)
        self.streams = client("dynamodbstreams", settings)
        self.sqs = client("sqs", settings)
        self.stream_arn: str | None = None
        self.aws_stream_arn = ""
        self.shards: dict[str, _Shard] = {}
        self.initial_shards_seen = False
        self.next_refresh = 0.0
        self.hash_key: str | None = None
        self.factor = max(1, source.parallelization_factor)
        self.lock = threading.Lock()  # lanes' pending lists: read here, delivered by the pool
        self.wake = threading.Event()  # a lane finished: its next batch can go at once
        self.pool = ThreadPoolExecutor(max_workers=self.factor, thread_name_prefix=self.name)

    # -- shards ---------------------------------------------------------------------------

    def _refresh(self) -> None:
        now = time.monotonic()
        if self.stream_arn and now < self.next_refresh:
            return
        self.next_refresh = now + SHARD_REFRESH
        if self.stream_arn is None:
            table = self.ddb.describe_table(TableName=self.source.table)["Table"]
            self.hash_key = next((k["AttributeName"] for k in table.get("KeySchema", [])
                                  if k.get("KeyType") == "HASH"), None)
            self.stream_arn = table.get("LatestStreamArn")
            if not self.stream_arn:
                return
            label = self.stream_arn.rsplit("/stream/", 1)[-1]
            self.aws_stream_arn = (f"arn:aws:dynamodb:{self.settings.region}:{ACCOUNT_ID}:table/"
                                   f"{self.source.table}/stream/{label}")
        kwargs: dict[str, Any] = {"StreamArn": self.stream_arn}
        while True:
            description = self.streams.describe_stream(**kwargs)["StreamDescription"]
            for shard in description.get("Shards", []):
                sid = shard["ShardId"]
                if sid not in self.shards:
                    self.shards[sid] = _Shard(sid, shard.get("ParentShardId"))
                    self.shards[sid].at_startup = not self.initial_shards_seen
            last = description.get("LastEvaluatedShardId")
            if not last:
                break
            kwargs["ExclusiveStartShardId"] = last
        self.initial_shards_seen = True

    def _open(self, shard: _Shard) -> None:
        parent = self.shards.get(shard.parent_id) if shard.parent_id else None
        if parent is not None and not parent.done:
            return
        if shard.last_sequence:
            kwargs = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
                      "SequenceNumber": shard.last_sequence}
        elif shard.at_startup and self.source.starting_position == "LATEST":
            kwargs = {"ShardIteratorType": "LATEST"}
        else:
            kwargs = {"ShardIteratorType": "TRIM_HORIZON"}
        shard.iterator = self.streams.get_shard_iterator(
            StreamArn=self.stream_arn, ShardId=shard.shard_id, **kwargs)["ShardIterator"]

    def _read(self, shard: _Shard) -> None:
        try:
            response = self.streams.get_records(ShardIterator=shard.iterator, Limit=1000)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code in ("ExpiredIteratorException", "TrimmedDataAccessException"):
                shard.iterator = None
                return
            raise
        shard.iterator = response.get("NextShardIterator")
        if shard.iterator is None:
            shard.closed = True
        for record in response.get("Records", []):
            event_record = lambda_stream_record(record, self.settings.region, self.aws_stream_arn)
            if filters.matches_any(self.source.filters, event_record):
                with self.lock:
                    self.lane_of(shard, event_record).pending.append(event_record)
            shard.last_sequence = event_record["dynamodb"].get("SequenceNumber")

    def lane_of(self, shard: _Shard, record: dict[str, Any]) -> _Shard:
        """The lane of the record's partition key (Lambda keeps one key's records in order)."""
        if not shard.lanes:
            shard.lanes = [_Shard(shard.shard_id, None) for _ in range(self.factor)]
        keys = record["dynamodb"].get("Keys") or {}
        key = keys.get(self.hash_key) if self.hash_key else None
        identity = json.dumps(key if key is not None else keys, sort_keys=True)
        return shard.lanes[zlib.crc32(identity.encode()) % len(shard.lanes)]

    def tick(self) -> bool:
        if not self.source.enabled:
            return False
        self._refresh()
        if not self.stream_arn:
            return False
        busy = False
        for shard in list(self.shards.values()):
            if shard.done:
                continue
            if shard.closed:
                if shard.idle():
                    shard.done = True
                    continue
            elif shard.buffered() < READ_AHEAD_BATCHES * self.source.batch_size * self.factor:
                if shard.iterator is None:
                    self._open(shard)
                if shard.iterator is not None:
                    self._read(shard)
            now = time.monotonic()
            for lane in shard.lanes:
                if lane.pending and not lane.busy and now >= lane.retry_at:
                    lane.busy = True
                    self.pool.submit(self._deliver_lane, lane)
                    busy = True
        return busy

    def _deliver_lane(self, lane: _Shard) -> None:
        try:
            self._deliver(lane)
        except Exception:  # the lane is tried again on a later tick
            log.exception("%s: delivery failed; retrying", self.name)
            lane.retry_at = time.monotonic() + 1.0
        finally:
            lane.busy = False
            self.wake.set()

    def pause(self) -> None:
        self.wake.wait(POLL_INTERVAL)
        self.wake.clear()

    def finish(self) -> None:
        self.pool.shutdown(wait=True)

    # -- delivery -------------------------------------------------------------------------

    def _commit(self, shard: _Shard, count: int) -> None:
        if count:
            with self.lock:
                shard.last_sequence = shard.pending[count - 1]["dynamodb"].get("SequenceNumber")
                del shard.pending[:count]

    def _deliver(self, shard: _Shard) -> None:
        size = min(self.source.batch_size, shard.bisect_size or self.source.batch_size)
        with self.lock:
            batch = shard.pending[:size]
        try:
            result = invoke.invoke(self.settings.watch_url, self.source.binary,
                                   json.dumps({"Records": batch}))
        except invoke.WatchUnavailable as exc:
            log.warning("%s: %s; will retry", self.name, exc)
            shard.retry_at = time.monotonic() + 2.0
            return
        failed_from: int | None = None
        function_error = result.failed
        if not function_error:
            if self.source.report_batch_item_failures:
                ids = batch_item_failures(_json_or_none(result.payload))
                if ids is None:
                    failed_from = 0
                elif ids:
                    positions = [i for i, r in enumerate(batch)
                                 if r["dynamodb"].get("SequenceNumber") in ids]
                    failed_from = min(positions) if positions else 0
        else:
            failed_from = 0
        if failed_from is None:
            self._commit(shard, len(batch))
            shard.attempts = 0
            shard.bisect_size = None
            log.info("%s: delivered %d record(s)", self.name, len(batch))
            return
        self._commit(shard, failed_from)
        shard.attempts += 1
        detail = result.payload.decode("utf-8", "replace")[:500]
        log.warning("%s: batch of %d failed from record %d (attempt %d): %s", self.name,
                    len(batch), failed_from, shard.attempts, detail)
        if function_error and self.source.bisect_on_error and len(batch) > 1:
            shard.bisect_size = max(1, len(batch) // 2)
        limit = self.source.max_retry_attempts
        if limit >= 0 and shard.attempts > limit:
            failing = batch[failed_from:]
            self._send_to_failure_destination(shard, failing, result)
            self._commit(shard, len(failing))
            shard.attempts = 0
            shard.bisect_size = None
            return
        shard.retry_at = time.monotonic() + min(0.2 * 2 ** (shard.attempts - 1), 5.0)

    def _send_to_failure_destination(self, shard: _Shard, records: list[dict[str, Any]],
                                     result: invoke.InvokeResult) -> None:
        arn = self.source.on_failure_arn
        if not arn:
            log.error("%s: dropping %d record(s) after %d attempts (no OnFailure destination)",
                      self.name, len(records), shard.attempts)
            return
        fn = self.stack.function(self.source.function)
        first, last = records[0]["dynamodb"], records[-1]["dynamodb"]
        record = destinations.invocation_record(
            fn.arn, "RetryAttemptsExhausted", shard.attempts, result,
            DDBStreamBatchInfo={
                "shardId": shard.shard_id,
                "startSequenceNumber": first.get("SequenceNumber"),
                "endSequenceNumber": last.get("SequenceNumber"),
                "approximateArrivalOfFirstRecord": _iso(first.get("ApproximateCreationDateTime")),
                "approximateArrivalOfLastRecord": _iso(last.get("ApproximateCreationDateTime")),
                "batchSize": len(records),
                "streamArn": self.aws_stream_arn,
            })
        queue = destinations.send_record(self.sqs, self.stack, arn, record, self.name)
        if queue is not None:
            log.error("%s: %d record(s) sent to %s after %d attempts", self.name, len(records),
                      queue, shard.attempts)


def _iso(epoch: Any) -> str | None:
    if not isinstance(epoch, (int, float)):
        return None
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="milliseconds")


def _json_or_none(payload: bytes) -> Any:
    try:
        return json.loads(payload) if payload else None
    except ValueError:
        return {"batchItemFailures": "not json"}


# -- SQS --------------------------------------------------------------------------------

def _message_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, value in (attributes or {}).items():
        out[name] = {
            "stringValue": value.get("StringValue"),
            "binaryValue": _attribute_json(value["BinaryValue"]) if "BinaryValue" in value
            else None,
            "stringListValues": value.get("StringListValues", []),
            "binaryListValues": [_attribute_json(v) for v in value.get("BinaryListValues", [])],
            "dataType": value.get("DataType"),
        }
    return out


def lambda_sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": message.get("Attributes", {}),
        "messageAttributes": _message_attributes(message.get("MessageAttributes", {})),
        "md5OfBody": message.get("MD5OfBody"),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def _sqs_filter_view(record: dict[str, Any]) -> dict[str, Any]:
    view = dict(record)
    try:
        view["body"] = json.loads(record["body"])
    except (ValueError, TypeError):
        pass
    return view


class QueuePoller(_Poller):
    def __init__(self, source: QueueSource, settings: Settings, stop: threading.Event) -> None:
        super().__init__(f"sqs:{source.queue_url.rsplit('/', 1)[-1]}->{source.binary}", stop)
        self.source = source
        self.settings = settings
        self.sqs = client("sqs", settings)

    def tick(self) -> bool:
        if not self.source.enabled:
            return False
        records: list[dict[str, Any]] = []
        while len(records) < self.source.batch_size:
            response = self.sqs.receive_message(
                QueueUrl=self.source.queue_url,
                MaxNumberOfMessages=min(10, self.source.batch_size - len(records)),
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0,
            )
            messages = response.get("Messages", [])
            if not messages:
                break
            for message in messages:
                record = lambda_sqs_record(message, self.source.queue_arn, self.settings.region)
                if filters.matches_any(self.source.filters, _sqs_filter_view(record)):
                    records.append(record)
                else:
                    self._delete_messages([record])
        if not records:
            return False
        try:
            result = invoke.invoke(self.settings.watch_url, self.source.binary,
                                   json.dumps({"Records": records}))
        except invoke.WatchUnavailable as exc:
            log.warning("%s: %s; messages return to the queue", self.name, exc)
            self._release_messages(records)
            return False
        if result.failed:
            log.warning("%s: batch of %d failed: %s", self.name, len(records),
                        result.payload.decode("utf-8", "replace")[:500])
            return True
        failed: set[str] = set()
        if self.source.report_batch_item_failures:
            ids = batch_item_failures(_json_or_none(result.payload))
            failed = {r["messageId"] for r in records} if ids is None else set(ids)
        done = [r for r in records if r["messageId"] not in failed]
        self._delete_messages(done)
        log.info("%s: delivered %d message(s), %d failed", self.name, len(done),
                 len(records) - len(done))
        return True

    def _delete_messages(self, records: list[dict[str, Any]]) -> None:
        for start in range(0, len(records), 10):
            chunk = records[start:start + 10]
            self.sqs.delete_message_batch(QueueUrl=self.source.queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(chunk)])

    def _release_messages(self, records: list[dict[str, Any]]) -> None:
        for start in range(0, len(records), 10):
            chunk = records[start:start + 10]
            self.sqs.change_message_visibility_batch(QueueUrl=self.source.queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": r["receiptHandle"], "VisibilityTimeout": 0}
                for i, r in enumerate(chunk)])


def start_all(stack: LocalStack, settings: Settings, stop: threading.Event) -> list[_Poller]:
    pollers: list[_Poller] = []
    for source in stack.stream_sources:
        pollers.append(StreamPoller(source, stack, settings, stop))
    for qsource in stack.queue_sources:
        pollers.append(QueuePoller(qsource, settings, stop))
    for poller in pollers:
        poller.start()
    return pollers
