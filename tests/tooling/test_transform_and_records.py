"""EventBridge target input (Input / InputPath / InputTransformer) and the Lambda event records the
pollers build (DynamoDB stream, SQS) and read back (batchItemFailures)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from tools.local import pollers, transform

EVENT = {
    "version": "0", "id": "e-1", "detail-type": "PickCompleted", "source": "wms",
    "account": "123456789012", "time": "2026-01-02T03:04:05Z", "region": "us-east-1",
    "resources": [], "detail": {"tenant_id": "demo", "lines": [{"qty": 2}], "note": 'say "hi"'},
}


def test_no_input_settings_send_the_whole_event():
    assert json.loads(transform.target_input({}, EVENT, "arn:rule", "r")) == EVENT


def test_input_is_sent_verbatim():
    assert transform.target_input({"Input": '{"fixed": 1}'}, EVENT, "arn", "r") == '{"fixed": 1}'


def test_input_path_selects_part_of_the_event():
    assert json.loads(transform.target_input({"InputPath": "$.detail"}, EVENT, "a", "r")) == \
        EVENT["detail"]
    assert json.loads(transform.target_input({"InputPath": "$.detail.lines[0].qty"}, EVENT,
                                             "a", "r")) == 2


def test_input_transformer_quoted_placeholders_are_text_unquoted_are_json():
    target = {"InputTransformer": {
        "InputPathsMap": {"t": "$.detail.tenant_id", "lines": "$.detail.lines",
                          "note": "$.detail.note", "kind": "$.detail-type"},
        "InputTemplate": '{"tenant": "<t>", "kind": "order <kind>", "lines": <lines>, '
                         '"note": "<note>", "rule": "<aws.events.rule-name>"}',
    }}
    out = json.loads(transform.target_input(target, EVENT, "arn:aws:events:x:rule/r1", "r1"))
    assert out == {"tenant": "demo", "kind": "order PickCompleted", "lines": [{"qty": 2}],
                   "note": 'say "hi"', "rule": "r1"}


def test_json_path_of_a_missing_field_is_null():
    assert transform.json_path(EVENT, "$.detail.nope") is None
    assert transform.json_path(EVENT, "$['detail-type']") == "PickCompleted"


def test_stream_record_has_the_lambda_shape():
    raw = {
        "eventID": "abc", "eventName": "INSERT", "eventVersion": "1.1",
        "eventSource": "aws:dynamodb", "awsRegion": "ddblocal",
        "dynamodb": {
            "ApproximateCreationDateTime": datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
            "Keys": {"PK": {"S": "T#demo#OUTBOX#1"}, "SK": {"S": "OUTBOX"}},
            "NewImage": {"PK": {"S": "T#demo#OUTBOX#1"}, "blob": {"B": b"\x00\x01"},
                         "n": {"N": "3"}, "m": {"M": {"bs": {"BS": [b"\x02"]}}}},
            "SequenceNumber": "000001", "SizeBytes": 42, "StreamViewType": "NEW_IMAGE",
        },
    }
    record = pollers.lambda_stream_record(raw, "us-east-1", "arn:aws:dynamodb:us-east-1:1:table/t/"
                                                           "stream/x")
    assert record["eventSource"] == "aws:dynamodb" and record["awsRegion"] == "us-east-1"
    assert record["eventSourceARN"].endswith("/stream/x")
    ddb = record["dynamodb"]
    assert ddb["ApproximateCreationDateTime"] == 1767323045
    assert ddb["NewImage"]["blob"] == {"B": "AAE="}
    assert ddb["NewImage"]["m"]["M"]["bs"] == {"BS": ["Ag=="]}
    assert ddb["NewImage"]["n"] == {"N": "3"}
    assert (ddb["SequenceNumber"], ddb["SizeBytes"], ddb["StreamViewType"]) == \
        ("000001", 42, "NEW_IMAGE")
    json.dumps(record)  # the event must serialize as is


def test_batch_item_failures_parsing():
    assert pollers.batch_item_failures(None) == []
    assert pollers.batch_item_failures({}) == []
    assert pollers.batch_item_failures({"batchItemFailures": []}) == []
    assert pollers.batch_item_failures(
        {"batchItemFailures": [{"itemIdentifier": "2"}, {"itemIdentifier": "5"}]}) == ["2", "5"]
    assert pollers.batch_item_failures({"batchItemFailures": [{"itemIdentifier": ""}]}) is None
    assert pollers.batch_item_failures({"batchItemFailures": "x"}) is None


def test_sqs_record_has_the_lambda_shape():
    message = {"MessageId": "m1", "ReceiptHandle": "rh", "Body": '{"a":1}', "MD5OfBody": "md5",
               "Attributes": {"ApproximateReceiveCount": "1"},
               "MessageAttributes": {"k": {"StringValue": "v", "DataType": "String"}}}
    record = pollers.lambda_sqs_record(message, "arn:aws:sqs:us-east-1:1:q", "us-east-1")
    assert record["messageId"] == "m1" and record["receiptHandle"] == "rh"
    assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"].endswith(":q")
    assert record["messageAttributes"]["k"]["stringValue"] == "v"
    assert record["messageAttributes"]["k"]["dataType"] == "String"
