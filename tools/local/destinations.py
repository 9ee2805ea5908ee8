"""Lambda's OnFailure destinations: the invocation record, sent to an SQS queue of this stack.

Two callers give up on an event the way Lambda does and share this: the stream poller (a batch
whose MaximumRetryAttempts ran out) and the bridge (an asynchronous invocation whose
EventInvokeConfig retries ran out). Only SQS queues of this stack can receive records locally.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timezone
from typing import Any

from .invoke import InvokeResult
from .template import LocalStack

log = logging.getLogger("destinations")


def invocation_record(function_arn: str, condition: str, invoke_count: int,
                      result: InvokeResult, **extra: Any) -> dict[str, Any]:
    """The fields every Lambda invocation record has; `extra` adds the caller's own (e.g.
    `requestPayload` for async invocations, `DDBStreamBatchInfo` for streams)."""
    now = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": now,
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
        "responseContext": {
            # Lambda answers a function error with 200 and X-Amz-Function-Error.
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled" if result.failed else None,
        },
    }
    record.update(extra)
    return record


def send_record(sqs: Any, stack: LocalStack, destination_arn: str, record: dict[str, Any],
                source: str) -> str | None:
    """Sends `record` to the destination queue; its name, or None if it is not a queue of this
    stack (logged with `source`, the caller's name)."""
    queue = stack.queue_by_arn(destination_arn)
    if queue is None:
        log.error("%s: OnFailure destination %s is not a queue of this stack; record dropped",
                  source, destination_arn)
        return None
    sqs.send_message(QueueUrl=queue.url, MessageBody=json.dumps(record))
    return queue.name
