"""moto with our patches, in process: Lambda invokes reach (a fake) watch, function errors carry
their errorType into Step Functions' Retry/Catch, EventBridge delivers to Lambda and Step
Functions targets."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tools.local import motopatch

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/r"


@pytest.fixture
def aws(fake_watch: Any) -> Any:
    bridge = motopatch.Bridge(fake_watch.url, {"oms-test-Task": "task-bin"}, REGION)
    undo = motopatch.install(bridge)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True},
                          "lambda": {"use_docker": False}}):
        kw = {"region_name": REGION, "aws_access_key_id": "test",
              "aws_secret_access_key": "test"}
        iam = boto3.client("iam", **kw)
        iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")
        lam = boto3.client("lambda", **kw)
        lam.create_function(FunctionName="oms-test-Task", Runtime="provided.al2023", Role=ROLE,
                            Handler="bootstrap", Code={"ZipFile": b"PK\x05\x06" + b"\0" * 18})
        yield {name: boto3.client(name, **kw) for name in ("lambda", "stepfunctions", "events")}
    undo()
    bridge.close()


def wait_for(check: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_invoke_is_forwarded_and_errors_are_function_errors(aws, fake_watch):
    fake_watch.handlers["task-bin"] = lambda event: (
        (500, {"errorType": "PlanStale", "errorMessage": "stock moved"}) if event.get("fail")
        else (200, {"echo": event}))
    ok = aws["lambda"].invoke(FunctionName="oms-test-Task", Payload=b'{"a": 1}')
    assert "FunctionError" not in ok
    assert json.loads(ok["Payload"].read()) == {"echo": {"a": 1}}
    failed = aws["lambda"].invoke(FunctionName="oms-test-Task", Payload=b'{"fail": true}')
    assert failed["FunctionError"] == "Unhandled"
    assert json.loads(failed["Payload"].read())["errorType"] == "PlanStale"
    assert [binary for binary, _ in fake_watch.calls] == ["task-bin", "task-bin"]


def _run(sfn: Any, definition: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    arn = sfn.create_state_machine(name=f"sm{time.monotonic_ns()}", roleArn=ROLE,
                                   definition=json.dumps(definition))["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, name="run",
                                    input=json.dumps(payload))["executionArn"]
    return wait_for(lambda: (d := sfn.describe_execution(executionArn=execution))["status"]
                    != "RUNNING" and d)


TASK_ARN = "arn:aws:lambda:us-east-1:123456789012:function:oms-test-Task"
MACHINE = {
    "StartAt": "Task",
    "States": {
        "Task": {
            "Type": "Task", "Resource": TASK_ARN, "ResultPath": "$.result",
            "Retry": [{"ErrorEquals": ["Retryable"], "IntervalSeconds": 1, "MaxAttempts": 1}],
            "Catch": [{"ErrorEquals": ["PlanStale"], "ResultPath": "$.error",
                       "Next": "Stale"}],
            "End": True,
        },
        "Stale": {"Type": "Pass", "Result": "caught", "ResultPath": "$.handled", "End": True},
    },
}


def test_state_machine_catches_the_functions_error_type(aws, fake_watch):
    fake_watch.handlers["task-bin"] = lambda event: (
        500, {"errorType": "PlanStale", "errorMessage": "stock moved"})
    done = _run(aws["stepfunctions"], MACHINE, {"order_id": "O1"})
    assert done["status"] == "SUCCEEDED"
    output = json.loads(done["output"])
    assert output["handled"] == "caught" and output["error"]["Error"] == "PlanStale"


def test_state_machine_retries_on_the_functions_error_type(aws, fake_watch):
    attempts: list[Any] = []

    def flaky(event: Any) -> tuple[int, Any]:
        attempts.append(event)
        if len(attempts) == 1:
            return 500, {"errorType": "Retryable", "errorMessage": "try again"}
        return 200, {"status": "ALLOCATED"}

    fake_watch.handlers["task-bin"] = flaky
    done = _run(aws["stepfunctions"], MACHINE, {"order_id": "O1"})
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"])["result"] == {"status": "ALLOCATED"}
    assert len(attempts) == 2 and attempts[0] == {"order_id": "O1"}


def test_event_rule_delivers_to_lambda_and_step_functions_targets(aws, fake_watch):
    fake_watch.handlers["task-bin"] = lambda event: (200, {"ok": True})
    sfn, events = aws["stepfunctions"], aws["events"]
    machine = sfn.create_state_machine(name="target", roleArn=ROLE, definition=json.dumps(
        {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))["stateMachineArn"]
    events.create_event_bus(Name="bus")
    events.put_rule(Name="r", EventBusName="bus", EventPattern=json.dumps({"source": ["wms"]}))
    events.put_targets(Rule="r", EventBusName="bus", Targets=[
        {"Id": "fn", "Arn": TASK_ARN, "InputTransformer": {
            "InputPathsMap": {"t": "$.detail.tenant_id"},
            "InputTemplate": '{"tenant": "<t>"}'}},
        {"Id": "sm", "Arn": machine, "InputPath": "$.detail"},
    ])
    result = events.put_events(Entries=[
        {"Source": "wms", "DetailType": "PickCompleted", "EventBusName": "bus",
         "Detail": json.dumps({"tenant_id": "demo"})},
        {"Source": "other", "DetailType": "X", "EventBusName": "bus", "Detail": "{}"},
    ])
    assert result["FailedEntryCount"] == 0
    wait_for(lambda: fake_watch.calls)
    assert fake_watch.calls == [("task-bin", {"tenant": "demo"})]
    executions = wait_for(lambda: sfn.list_executions(stateMachineArn=machine)["executions"])
    assert len(executions) == 1
    started = sfn.describe_execution(executionArn=executions[0]["executionArn"])
    assert json.loads(started["input"]) == {"tenant_id": "demo"}


def test_a_workflow_starts_another_through_the_step_functions_integration(aws):
    sfn = aws["stepfunctions"]
    timer = sfn.create_state_machine(name="timer", roleArn=ROLE, definition=json.dumps(
        {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))["stateMachineArn"]
    starter = {"StartAt": "Start", "States": {"Start": {
        "Type": "Task", "Resource": "arn:aws:states:::states:startExecution",
        "Parameters": {"StateMachineArn": timer, "Name.$": "States.Format('{}-timer', $.id)",
                       "Input": {"id.$": "$.id"}},
        "End": True}}}
    done = _run(sfn, starter, {"id": "o1"})
    assert done["status"] == "SUCCEEDED", done
    (started,) = sfn.list_executions(stateMachineArn=timer)["executions"]
    assert started["name"] == "o1-timer"
    assert json.loads(sfn.describe_execution(executionArn=started["executionArn"])["input"]) == {"id": "o1"}
    output = json.loads(done["output"])
    assert output["ExecutionArn"] == started["executionArn"] and isinstance(output["StartDate"], int)


def test_put_events_answers_before_a_slow_target_which_gets_the_events_in_order(aws, monkeypatch):
    """AWS accepts the events, then delivers them: a slow target does not hold up PutEvents.
    One rule still delivers in the order it received them."""
    from moto.sqs.models import SQSBackend

    sqs = boto3.client("sqs", region_name=REGION, aws_access_key_id="test",
                       aws_secret_access_key="test")
    queue = sqs.create_queue(QueueName="slow")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    events = aws["events"]
    events.put_rule(Name="to-queue", EventPattern=json.dumps({"source": ["wms"]}))
    events.put_targets(Rule="to-queue", Targets=[{"Id": "q", "Arn": queue_arn}])
    original = SQSBackend.send_message

    def slow_send(self: Any, *args: Any, **kwargs: Any) -> Any:
        time.sleep(0.3)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SQSBackend, "send_message", slow_send)
    started = time.monotonic()
    for n in range(5):
        result = events.put_events(Entries=[
            {"Source": "wms", "DetailType": "X", "Detail": json.dumps({"n": n})}])
        assert result["FailedEntryCount"] == 0
    assert time.monotonic() - started < 1.0  # 1.5 s if the target were served inside the calls
    received: list[int] = []

    def all_received() -> bool:
        for message in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10,
                                           WaitTimeSeconds=0).get("Messages", []):
            received.append(json.loads(message["Body"])["detail"]["n"])
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        return len(received) == 5

    wait_for(all_received)
    assert received == [0, 1, 2, 3, 4]
