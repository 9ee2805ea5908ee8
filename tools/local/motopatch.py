"""What we change in moto 5.2.5 before it serves, so that AWS-side calls reach the Rust code.

1. Lambda Invoke (`LambdaSimpleBackend.invoke`, used by the Invoke API and hence by moto's Step
   Functions executor, which calls Lambda through boto3 on this same server) forwards the payload
   to the function's binary in `cargo lambda watch`. A failed invocation is answered with
   `X-Amz-Function-Error: Unhandled` and the `{"errorType", "errorMessage"}` payload, which is what
   the executor turns into the state error named after `errorType` (so Retry/Catch match).
   `InvocationType: Event` returns at once and invokes in the background (see 3).
2. EventBridge rule targets of kind Lambda and Step Functions (moto raises NotImplementedError for
   both in `Rule.send_to_targets`) are delivered here, asynchronously, with Input / InputPath /
   InputTransformer applied to the AWS-shaped event. Other targets keep moto's behaviour.
3. Asynchronous invocations (1 and 2) fail the way Lambda's event queue does: a function error is
   retried up to the function's EventInvokeConfig MaximumRetryAttempts (default 2) with a doubling
   delay, then an invocation record goes to its OnFailure SQS queue, or the event is dropped.
4. Step Functions' own integration (`arn:aws:states:::states:startExecution`, which the placement
   workflow uses to start a held order's reservation timer) gets its parameters in boto's member
   names and answers in the ASL's (`ExecutionArn`, `StartDate` in epoch milliseconds): moto 5.2.5
   left both renamings out (`StateMachineArn` reached boto as is and failed).
"""

from __future__ import annotations

import copy
import json
import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any

from . import destinations, invoke, transform
from .config import ACCOUNT_ID
from .template import AsyncInvokeConfig, LocalStack

log = logging.getLogger("moto-bridge")


class Bridge:
    """Holds what the patched methods need: where watch is, which binary serves a function, and
    what to do when an asynchronous invocation fails (the template's EventInvokeConfig)."""

    def __init__(self, watch_url: str, binaries: dict[str, str], region: str,
                 stack: LocalStack | None = None, sqs: Any = None,
                 retry_delay: float = 0.5) -> None:
        self.watch_url = watch_url
        self.binaries = dict(binaries)
        self.region = region
        # The functions' EventInvokeConfig and where OnFailure records go (an SQS client).
        self.stack = stack
        self.sqs = sqs
        self.retry_delay = retry_delay
        self.sleep = time.sleep  # tests replace it
        self.pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="async-delivery")

    def binary_for(self, function_name: str) -> str:
        # A function registered by hand (not in the template) is served by the binary of its name.
        return self.binaries.get(function_name, function_name)

    def invoke_sync(self, function_name: str, payload: bytes) -> invoke.InvokeResult:
        binary = self.binary_for(function_name)
        started = time.monotonic()
        try:
            result = invoke.invoke(self.watch_url, binary, payload)
        except invoke.WatchUnavailable as exc:
            log.error("invoke %s: %s", binary, exc)
            return invoke.InvokeResult(
                payload=invoke.error_payload("Lambda.ServiceException", str(exc)),
                error_type="Lambda.ServiceException", status=502)
        elapsed = (time.monotonic() - started) * 1000
        if result.failed:
            log.info("invoke %s -> function error %s (%.0f ms): %s", binary, result.error_type,
                     elapsed, result.payload.decode("utf-8", "replace")[:500])
        else:
            log.info("invoke %s -> ok (%.0f ms)", binary, elapsed)
        return result

    def invoke_async(self, function_name: str, payload: bytes) -> None:
        # The caller (EventBridge, Invoke with InvocationType Event) does not wait for the outcome.
        def run() -> None:
            try:
                self.invoke_with_retries(function_name, payload)
            except Exception:  # in the pool an exception would vanish unseen
                log.exception("async invoke of %s: event dropped", function_name)

        self.pool.submit(run)

    def async_config(self, function_name: str) -> AsyncInvokeConfig:
        fn = self.stack.function_by_name(function_name) if self.stack else None
        return fn.async_config if fn else AsyncInvokeConfig()

    def invoke_with_retries(self, function_name: str, payload: bytes) -> None:
        """What Lambda does with a queued event: retry function errors, then give up on it."""
        config = self.async_config(function_name)
        result = self.invoke_sync(function_name, payload)
        invokes = 1
        while result.failed and invokes <= config.max_retry_attempts:
            # AWS waits about 1 then 2 minutes; locally the same doubling from a short base.
            self.sleep(self.retry_delay * 2 ** (invokes - 1))
            result = self.invoke_sync(function_name, payload)
            invokes += 1
        if result.failed:
            self._retries_exhausted(function_name, payload, result, invokes, config)

    def _retries_exhausted(self, function_name: str, payload: bytes,
                           result: invoke.InvokeResult, invokes: int,
                           config: AsyncInvokeConfig) -> None:
        destination = config.on_failure_arn
        if not destination or self.stack is None or self.sqs is None:
            log.error("async invoke of %s failed %d time(s) (no OnFailure destination); event "
                      "dropped", function_name, invokes)
            return
        arn = f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{function_name}:$LATEST"
        record = destinations.invocation_record(
            arn, "RetriesExhausted", invokes, result,
            requestPayload=_json_or_text(payload),
            responsePayload=_json_or_text(result.payload))
        queue = destinations.send_record(self.sqs, self.stack, destination, record,
                                         f"async invoke of {function_name}")
        if queue is not None:
            log.error("async invoke of %s failed %d time(s); invocation record sent to %s",
                      function_name, invokes, queue)

    def deliver(self, rule: Any, target: dict[str, Any], event: dict[str, Any]) -> None:
        arn = str(target["Arn"])
        try:
            payload = transform.target_input(target, event, rule.arn, rule.name)
        except (ValueError, KeyError, TypeError) as exc:
            log.error("rule %s target %s: cannot build input: %s", rule.name, target.get("Id"), exc)
            return
        service = arn.split(":")[2]
        if service == "lambda":
            function_name = arn.split(":")[6]
            log.info("rule %s -> lambda %s", rule.name, function_name)
            self.invoke_async(function_name, payload.encode())
        elif service == "states":
            self.pool.submit(self._start_execution, rule.name, arn, payload)

    def _start_execution(self, rule_name: str, arn: str, payload: str) -> None:
        from moto.stepfunctions.responses import get_backend

        account, region = arn.split(":")[4], arn.split(":")[3]
        try:
            execution = get_backend(account, region).start_execution(
                arn, name=str(uuid.uuid4()), execution_input=payload)
            log.info("rule %s -> started %s", rule_name, execution.execution_arn)
        except Exception:  # a delivery failure must not take the server down
            log.exception("rule %s: StartExecution on %s failed", rule_name, arn)


def _json_or_text(payload: bytes) -> Any:
    """A payload as the record carries it: its JSON value, or the text if it is not JSON."""
    try:
        return json.loads(payload) if payload else None
    except ValueError:
        return payload.decode("utf-8", "replace")


def _aws_event(event: dict[str, Any]) -> dict[str, Any]:
    """moto's internal event as EventBridge delivers it (ISO time, account present)."""
    when = event.get("time")
    if isinstance(when, (int, float)):
        when = datetime.fromtimestamp(when, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    elif isinstance(when, datetime):
        when = when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "version": "0",
        "id": event.get("id"),
        "detail-type": event.get("detail-type"),
        "source": event.get("source"),
        "account": event.get("account") or ACCOUNT_ID,
        "time": when,
        "region": event.get("region"),
        "resources": event.get("resources") or [],
        "detail": event.get("detail"),
    }


def install(bridge: Bridge) -> Callable[[], None]:
    """Patch moto; returns a function that undoes it (for tests)."""
    from moto.awslambda_simple.models import LambdaSimpleBackend
    from moto.events.models import Rule

    def lambda_invoke(self: Any, function_name: str, qualifier: str | None, body: Any,
                      headers: Any, response_headers: Any) -> bytes:
        fn = self.get_function(function_name, qualifier)
        if isinstance(body, str):
            payload = body.encode()
        else:
            payload = bytes(body or b"")
        invocation_type = headers.get("X-Amz-Invocation-Type") or "RequestResponse"
        if invocation_type == "DryRun":
            return b""
        if invocation_type == "Event":
            bridge.invoke_async(fn.function_name, payload)
            return b""
        result = bridge.invoke_sync(fn.function_name, payload)
        if result.failed:
            response_headers["x-amz-function-error"] = "Unhandled"
        response_headers["Content-Length"] = str(len(result.payload))
        return result.payload

    original_send = Rule.send_to_targets

    def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
        if getattr(self, "state", "ENABLED") != "ENABLED":
            return
        if not self.event_pattern.matches_event(original_event):
            return
        ours = [t for t in self.targets if str(t.get("Arn", "")).split(":")[2:3] in
                (["lambda"], ["states"])]
        others = [t for t in self.targets if t not in ours]
        if others:
            clone = copy.copy(self)
            clone.targets = others
            original_send(clone, original_event, transform_input)
        if ours:
            event = _aws_event(original_event)
            for target in ours:
                bridge.deliver(self, target, event)

    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_sfn as sfn_task)

    original_normalise = sfn_task.StateTaskServiceSfn._normalise_parameters

    def normalise_parameters(self: Any, parameters: dict[str, Any],
                             boto_service_name: str | None = None,
                             service_action_name: str | None = None) -> None:
        original_normalise(self, parameters, boto_service_name, service_action_name)
        if service_action_name is None:  # the task's own call: ASL's StateMachineArn -> boto's
            for key in list(parameters):
                parameters[key[:1].lower() + key[1:]] = parameters.pop(key)

    original_response = sfn_task.StateTaskServiceSfn._normalise_response

    def normalise_response(self: Any, response: Any, boto_service_name: str | None = None,
                           service_action_name: str | None = None) -> None:
        original_response(self, response, boto_service_name, service_action_name)
        if isinstance(response, dict):
            for key in list(response):
                value = response.pop(key)
                if isinstance(value, datetime):
                    value = int(value.timestamp() * 1000)
                response[key[:1].upper() + key[1:]] = value

    original_invoke = LambdaSimpleBackend.invoke
    LambdaSimpleBackend.invoke = lambda_invoke
    Rule.send_to_targets = send_to_targets
    sfn_task.StateTaskServiceSfn._normalise_parameters = normalise_parameters
    sfn_task.StateTaskServiceSfn._normalise_response = normalise_response

    def undo() -> None:
        LambdaSimpleBackend.invoke = original_invoke
        Rule.send_to_targets = original_send
        sfn_task.StateTaskServiceSfn._normalise_parameters = original_normalise
        sfn_task.StateTaskServiceSfn._normalise_response = original_response

    return undo


def configure_moto(aws_endpoint: str) -> dict[str, Any]:
    """Turn on real Step Functions execution and the Docker-free Lambda backend."""
    import urllib.request

    body = json.dumps({
        "stepfunctions": {"execute_state_machine": True},
        "lambda": {"use_docker": False},
    }).encode()
    request = urllib.request.Request(f"{aws_endpoint}/moto-api/config", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()
    from moto.core.config import default_user_config

    # moto's config endpoint does not echo the stepfunctions part; read it back in-process.
    return {key: default_user_config.get(key) for key in ("stepfunctions", "lambda")}
