"""Asynchronous invocations fail like Lambda's event queue: the function's EventInvokeConfig
retries function errors, then an invocation record goes to its OnFailure queue. Against a fake
watch and a fake SQS client."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tools.local import motopatch

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/r"
DLQ_URL = f"http://127.0.0.1:4566/{ACCOUNT}/oms-local-Dlq"

TEMPLATE = """
Resources:
  Wms:
    Type: AWS::Serverless::Function
    Metadata: {BuildProperties: {Binary: wms}}
    Properties:
      EventInvokeConfig:
        MaximumRetryAttempts: 2
        DestinationConfig:
          OnFailure: {Type: SQS, Destination: !GetAtt Dlq.Arn}
  Once:
    Type: AWS::Serverless::Function
    Metadata: {BuildProperties: {Binary: once}}
    Properties:
      EventInvokeConfig:
        MaximumRetryAttempts: 0
        DestinationConfig:
          OnFailure: {Type: SQS, Destination: !GetAtt Dlq.Arn}
  Plain:
    Type: AWS::Serverless::Function
    Metadata: {BuildProperties: {Binary: plain}}
  ToTopic:
    Type: AWS::Serverless::Function
    Metadata: {BuildProperties: {Binary: to-topic}}
    Properties:
      EventInvokeConfig:
        DestinationConfig:
          OnFailure: {Type: SNS, Destination: arn:aws:sns:us-east-1:123456789012:t}
  Dlq:
    Type: AWS::SQS::Queue
"""

EVENT = {"detail-type": "StockAdjusted", "source": "wms", "detail": {"sku": "S1", "delta": -2}}
BOOM = (500, {"errorType": "StockMismatch", "errorMessage": "count went negative"})


def wait_for(check: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


class FakeSqs:
    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []

    def send_message(self, QueueUrl: str, MessageBody: str) -> None:  # noqa: N803 - boto3 names
        self.sent.append((QueueUrl, json.loads(MessageBody)))


@pytest.fixture
def stack(stack_from):
    return stack_from(TEMPLATE)


@pytest.fixture
def bridge(stack, fake_watch):
    b = motopatch.Bridge(fake_watch.url, stack.binaries_by_function_name(), REGION,
                         stack=stack, sqs=FakeSqs(), retry_delay=0.5)
    b.sleeps = []
    b.sleep = b.sleeps.append
    yield b
    b.close()


def invoke(bridge: motopatch.Bridge, name: str) -> None:
    bridge.invoke_with_retries(f"oms-local-{name}", json.dumps(EVENT).encode())


def test_event_invoke_config_is_read_from_the_template(stack):
    assert stack.function("Wms").async_config.max_retry_attempts == 2
    assert stack.function("Wms").async_config.on_failure_arn == \
        f"arn:aws:sqs:us-east-1:{ACCOUNT}:oms-local-Dlq"
    assert stack.function("Once").async_config.max_retry_attempts == 0
    plain = stack.function("Plain").async_config  # AWS's defaults
    assert (plain.max_retry_attempts, plain.on_failure_arn) == (2, None)
    assert stack.function("ToTopic").async_config.on_failure_arn is None
    assert any("ToTopic" in w and "SNS" in w for w in stack.warnings)


def test_wms_events_failures_go_to_its_dead_letter_queue(real_stack):
    config = real_stack.function("WmsEventsFunction").async_config
    dlq = next(q for q in real_stack.queues if q.logical_id == "WmsEventsDeadLetterQueue")
    assert (config.max_retry_attempts, config.on_failure_arn) == (2, dlq.arn)


def test_success_sends_no_record(bridge, fake_watch):
    fake_watch.handlers["wms"] = lambda event: (200, {"ok": True})
    invoke(bridge, "Wms")
    assert len(fake_watch.calls) == 1 and bridge.sqs.sent == [] and bridge.sleeps == []


def test_an_error_then_success_on_the_retry_sends_no_record(bridge, fake_watch):
    outcomes = [BOOM, (200, {"ok": True})]
    fake_watch.handlers["wms"] = lambda event: outcomes.pop(0)
    invoke(bridge, "Wms")
    assert [event for _, event in fake_watch.calls] == [EVENT, EVENT]
    assert bridge.sqs.sent == [] and bridge.sleeps == [0.5]


def test_persistent_error_retries_then_sends_one_invocation_record(bridge, fake_watch):
    fake_watch.handlers["wms"] = lambda event: BOOM
    invoke(bridge, "Wms")
    assert len(fake_watch.calls) == 3  # 1 + MaximumRetryAttempts
    assert bridge.sleeps == [0.5, 1.0]
    ((queue_url, record),) = bridge.sqs.sent
    assert queue_url == DLQ_URL
    assert record["version"] == "1.0" and record["timestamp"].endswith("Z")
    assert record["requestPayload"] == EVENT
    context = record["requestContext"]
    assert context["condition"] == "RetriesExhausted"
    assert context["approximateInvokeCount"] == 3
    assert context["functionArn"] == \
        f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:oms-local-Wms:$LATEST"
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST",
                                         "functionError": "Unhandled"}
    assert record["responsePayload"] == {"errorType": "StockMismatch",
                                         "errorMessage": "count went negative"}


def test_maximum_retry_attempts_zero_invokes_once(bridge, fake_watch):
    fake_watch.handlers["once"] = lambda event: BOOM
    invoke(bridge, "Once")
    assert len(fake_watch.calls) == 1 and bridge.sleeps == []
    ((_, record),) = bridge.sqs.sent
    assert record["requestContext"]["approximateInvokeCount"] == 1


def test_without_an_on_failure_destination_the_event_is_dropped(bridge, fake_watch, caplog):
    fake_watch.handlers["plain"] = lambda event: BOOM
    invoke(bridge, "Plain")
    assert len(fake_watch.calls) == 3 and bridge.sqs.sent == []
    assert "event dropped" in caplog.text


def test_event_bridge_lambda_target_gets_the_retries_and_the_record(stack, fake_watch):
    """Through moto: PutEvents returns at once; the failing target ends up in the queue."""
    sqs = FakeSqs()
    bridge = motopatch.Bridge(fake_watch.url, stack.binaries_by_function_name(), REGION,
                              stack=stack, sqs=sqs, retry_delay=0.0)
    undo = motopatch.install(bridge)
    fake_watch.handlers["wms"] = lambda event: BOOM
    try:
        with mock_aws():
            kw = {"region_name": REGION, "aws_access_key_id": "test",
                  "aws_secret_access_key": "test"}
            boto3.client("iam", **kw).create_role(RoleName="r", AssumeRolePolicyDocument="{}")
            fn = stack.function("Wms")
            boto3.client("lambda", **kw).create_function(
                FunctionName=fn.name, Runtime="provided.al2023", Role=ROLE, Handler="bootstrap",
                Code={"ZipFile": b"PK\x05\x06" + b"\0" * 18})
            events = boto3.client("events", **kw)
            events.put_rule(Name="r", EventPattern=json.dumps({"source": ["wms"]}))
            events.put_targets(Rule="r", Targets=[{"Id": "fn", "Arn": fn.arn,
                                                   "InputPath": "$.detail"}])
            events.put_events(Entries=[{"Source": "wms", "DetailType": "StockAdjusted",
                                        "Detail": json.dumps(EVENT["detail"])}])
            ((queue_url, record),) = wait_for(lambda: sqs.sent)
    finally:
        undo()
        bridge.close()
    assert queue_url == DLQ_URL
    assert record["requestPayload"] == EVENT["detail"]
    assert len(fake_watch.calls) == 3


def test_retry_delay_comes_from_the_environment(monkeypatch):
    from tools.local import config

    assert config.load().async_retry_delay == 0.5
    monkeypatch.setenv("OMS_ASYNC_RETRY_DELAY_SECONDS", "0")
    assert config.load().async_retry_delay == 0.0
    monkeypatch.setenv("OMS_ASYNC_RETRY_DELAY_SECONDS", "soon")
    with pytest.raises(SystemExit, match="OMS_ASYNC_RETRY_DELAY_SECONDS"):
        config.load()
