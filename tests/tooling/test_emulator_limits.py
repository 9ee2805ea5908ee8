"""AWS's size limits hold in moto with our patches (`motopatch.install_limits`): what AWS refuses
for size is refused here too, with AWS's error, and what fits passes. Each test sits on the limit:
the largest request that fits, and one byte more."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from tools.local import motopatch

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/r"
PUT_EVENTS_LIMIT = motopatch.PUT_EVENTS_MAX_BYTES
INPUT_LIMIT = motopatch.EXECUTION_INPUT_MAX_BYTES
MIB = 1024 * 1024


def clients(config: dict[str, Any]) -> Any:
    with mock_aws(config=config):
        kw = {"region_name": REGION, "aws_access_key_id": "test", "aws_secret_access_key": "test"}
        yield {name: boto3.client(name, **kw) for name in ("events", "sqs", "stepfunctions")}


@pytest.fixture
def aws() -> Any:
    undo = motopatch.install_limits()
    yield from clients({"stepfunctions": {"execute_state_machine": True}})
    undo()


def padded(size: int, fill: str = "x") -> str:
    """A JSON object of exactly `size` UTF-8 bytes; `fill` may be a multi-byte character."""
    text = '{"p":""}'
    count, rest = divmod(size - len(text), len(fill.encode()))
    return '{"p":"' + fill * count + "x" * rest + '"}'


def entry(size: int, **extra: Any) -> dict[str, Any]:
    """A PutEvents entry of `size` bytes by AWS's count, on the bus the tap listens to."""
    fields = {"Source": "oms", "DetailType": "OrderCreated", "EventBusName": "bus", **extra}
    fixed = motopatch.put_events_entry_size(fields)
    return {**fields, "Detail": padded(size - fixed)}


@pytest.fixture
def tap(aws: Any) -> Any:
    """A bus whose every event lands in a queue, to see what PutEvents delivered."""
    events, sqs = aws["events"], aws["sqs"]
    events.create_event_bus(Name="bus")
    url = sqs.create_queue(QueueName="tap")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="all", EventBusName="bus", EventPattern=json.dumps({"source": ["oms"]}))
    events.put_targets(Rule="all", EventBusName="bus", Targets=[{"Id": "q", "Arn": arn}])

    def delivered() -> int:
        attributes = sqs.get_queue_attributes(QueueUrl=url,
                                              AttributeNames=["ApproximateNumberOfMessages"])
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"])

    return delivered


def refused(call: Any, code: str) -> str:
    with pytest.raises(ClientError) as error:
        call()
    assert error.value.response["Error"]["Code"] == code
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return str(error.value.response["Error"]["Message"])


def test_entry_size_is_counted_as_aws_documents():
    sized = {"Source": "wms", "DetailType": "PickCompleted", "Detail": '{"a":"é"}',
             "Resources": ["arn:x", "ắ"], "EventBusName": "not counted"}
    assert motopatch.put_events_entry_size(sized) == 3 + 13 + 10 + 5 + 3
    assert motopatch.put_events_entry_size({**sized, "Time": 1}) == 34 + 14


def test_one_entry_just_under_the_limit_is_delivered_and_just_over_is_refused(aws, tap):
    put = aws["events"].put_events
    assert put(Entries=[entry(PUT_EVENTS_LIMIT)])["FailedEntryCount"] == 0
    message = refused(lambda: put(Entries=[entry(PUT_EVENTS_LIMIT + 1)]), "ValidationException")
    assert message == "Total size of the entries in the request is over the limit."
    assert tap() == 1


def test_small_entries_over_the_limit_together_are_refused_whole(aws, tap):
    third = PUT_EVENTS_LIMIT // 3 + 1
    refused(lambda: aws["events"].put_events(Entries=[entry(third)] * 3), "ValidationException")
    assert tap() == 0
    assert aws["events"].put_events(Entries=[entry(third)] * 2)["FailedEntryCount"] == 0
    assert tap() == 2


def test_the_limit_is_on_the_total_exactly(aws, tap):
    put = aws["events"].put_events
    with_resources = {"Resources": ["arn:aws:oms:::order/O1"]}
    fits = [entry(100_000), entry(100_000, **with_resources), entry(PUT_EVENTS_LIMIT - 200_000)]
    assert sum(map(motopatch.put_events_entry_size, fits)) == 262_144
    assert put(Entries=fits)["FailedEntryCount"] == 0
    over = fits[:2] + [entry(PUT_EVENTS_LIMIT - 200_000 + 1)]
    refused(lambda: put(Entries=over), "ValidationException")
    assert tap() == 3


def test_time_counts_fourteen_bytes(aws, tap):
    put = aws["events"].put_events
    # Sized without Time: the same Detail and a Time is 14 bytes more.
    untimed = entry(PUT_EVENTS_LIMIT - 14)
    assert put(Entries=[{**untimed, "Time": 1_700_000_000}])["FailedEntryCount"] == 0
    one_more = entry(PUT_EVENTS_LIMIT - 13)
    refused(lambda: put(Entries=[{**one_more, "Time": 1_700_000_000}]), "ValidationException")
    assert put(Entries=[one_more])["FailedEntryCount"] == 0
    assert tap() == 2


def test_detail_is_counted_in_utf8_bytes(aws, tap):
    # Vietnamese text: 3 bytes a character, so under the limit in characters, over it in bytes.
    detail = padded(PUT_EVENTS_LIMIT, fill="ắ")
    assert len(detail) < PUT_EVENTS_LIMIT // 2
    refused(lambda: aws["events"].put_events(Entries=[
        {"Source": "oms", "DetailType": "OrderCreated", "EventBusName": "bus", "Detail": detail}]),
        "ValidationException")
    assert tap() == 0


def test_eleven_entries_are_refused(aws, tap):
    message = refused(lambda: aws["events"].put_events(Entries=[entry(100)] * 11),
                      "ValidationException")
    assert "less than or equal to 10" in message
    assert aws["events"].put_events(Entries=[entry(100)] * 10)["FailedEntryCount"] == 0
    assert tap() == 10


def test_a_detail_that_is_not_a_json_object_fails_its_entry_only(aws, tap):
    good = {"Source": "oms", "DetailType": "OrderCreated", "EventBusName": "bus", "Detail": "{}"}
    result = aws["events"].put_events(Entries=[
        good, {**good, "Detail": "{not json"}, {**good, "Detail": "[1, 2]"},
        {**good, "Detail": '"text"'}, good])
    assert result["FailedEntryCount"] == 3
    codes = [e.get("ErrorCode") for e in result["Entries"]]
    assert codes == [None, "MalformedDetail", "MalformedDetail", "MalformedDetail", None]
    assert all("EventId" in result["Entries"][i] for i in (0, 4))
    assert tap() == 2


@pytest.mark.parametrize("execute", [True, False], ids=["executing", "recording"])
def test_start_execution_input_over_the_limit_is_refused(execute):
    undo = motopatch.install_limits()
    try:
        for aws in clients({"stepfunctions": {"execute_state_machine": execute}}):
            sfn = aws["stepfunctions"]
            machine = sfn.create_state_machine(name="m", roleArn=ROLE, definition=json.dumps(
                {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))["stateMachineArn"]
            sfn.start_execution(stateMachineArn=machine, name="fits", input=padded(INPUT_LIMIT))
            refused(lambda: sfn.start_execution(stateMachineArn=machine, name="over",
                                                input=padded(INPUT_LIMIT + 1)),
                    "InvalidExecutionInput")
            refused(lambda: sfn.start_execution(stateMachineArn=machine, name="bytes",
                                                input=padded(INPUT_LIMIT + 1, fill="ắ")),
                    "InvalidExecutionInput")
            names = [e["name"] for e in sfn.list_executions(stateMachineArn=machine)["executions"]]
            assert names == ["fits"]
    finally:
        undo()


def test_sqs_message_over_the_queues_maximum_is_refused(aws):
    sqs = aws["sqs"]
    # A queue at the old 256 KB, and one at the default (AWS's since 2025: 1 MiB).
    small = sqs.create_queue(QueueName="small",
                             Attributes={"MaximumMessageSize": "262144"})["QueueUrl"]
    default = sqs.create_queue(QueueName="default")["QueueUrl"]
    sqs.send_message(QueueUrl=small, MessageBody="x" * 262_144)
    message = refused(lambda: sqs.send_message(QueueUrl=small, MessageBody="x" * 262_145),
                      "InvalidParameterValue")
    assert "shorter than 262144 bytes" in message
    # Counted in UTF-8 bytes, and with the attributes (name, type and value).
    refused(lambda: sqs.send_message(QueueUrl=small, MessageBody="ắ" * 87_382),
            "InvalidParameterValue")
    refused(lambda: sqs.send_message(
        QueueUrl=small, MessageBody="x" * 262_130,
        MessageAttributes={"k": {"DataType": "String", "StringValue": "v" * 8}}),
        "InvalidParameterValue")
    sqs.send_message(QueueUrl=default, MessageBody="x" * MIB)
    refused(lambda: sqs.send_message(QueueUrl=default, MessageBody="x" * (MIB + 1)),
            "InvalidParameterValue")
    counts = [sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
              ["Attributes"]["ApproximateNumberOfMessages"] for url in (small, default)]
    assert counts == ["1", "1"]


def test_sqs_batch_over_the_total_is_refused_whole(aws):
    sqs = aws["sqs"]
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    half = MIB // 2
    refused(lambda: sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "a", "MessageBody": "x" * half}, {"Id": "b", "MessageBody": "x" * (half + 1)}]),
        "AWS.SimpleQueueService.BatchRequestTooLong")
    refused(lambda: sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "a", "MessageBody": "x" * half}, {"Id": "b", "MessageBody": "ắ" * (half // 3 + 1)}]),
        "AWS.SimpleQueueService.BatchRequestTooLong")
    sent = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "a", "MessageBody": "x" * half}, {"Id": "b", "MessageBody": "x" * half}])
    assert len(sent["Successful"]) == 2
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "2"
