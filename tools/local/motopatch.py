"""What we change in moto 5.2.5 before it serves, so that AWS-side calls reach the Rust code.

1. Lambda Invoke (`LambdaSimpleBackend.invoke`, used by the Invoke API and hence by moto's Step
   Functions executor, which calls Lambda through boto3 on this same server) forwards the payload
   to the function's binary in `cargo lambda watch`. A failed invocation is answered with
   `X-Amz-Function-Error: Unhandled` and the `{"errorType", "errorMessage"}` payload, which is what
   the executor turns into the state error named after `errorType` (so Retry/Catch match).
   `InvocationType: Event` returns at once and invokes in the background (see 3).
2. EventBridge rule targets of kind Lambda and Step Functions (moto raises NotImplementedError for
   both in `Rule.send_to_targets`) are delivered here, asynchronously, with Input / InputPath /
   InputTransformer applied to the AWS-shaped event. Other targets keep moto's delivery. Every
   rule's deliveries are made off the PutEvents call, as AWS makes them (moto makes them inside
   it, ~150 ms a call for an SQS target, which made the relay's publishing look that slow):
   queued per rule and made by a worker in the order the rule matched them (`RuleDeliveries`).
3. Asynchronous invocations (1 and 2) fail the way Lambda's event queue does: a function error is
   retried up to the function's EventInvokeConfig MaximumRetryAttempts (default 2) with a doubling
   delay, then an invocation record goes to its OnFailure SQS queue, or the event is dropped.
4. Step Functions' own integration (`arn:aws:states:::states:startExecution`, which the placement
   workflow uses to start a held order's reservation timer) gets its parameters in boto's member
   names and answers in the ASL's (`ExecutionArn`, `StartDate` in epoch milliseconds): moto 5.2.5
   left both renamings out (`StateMachineArn` reached boto as is and failed).
5. AWS's size limits that moto leaves out, so that what is too big for AWS fails here too
   (`install_limits`): PutEvents refuses a request whose entries total more than
   `PUT_EVENTS_MAX_BYTES` (AWS's entry size: 14 for `Time`, then the UTF-8 bytes of `Source`,
   `DetailType`, `Detail`, `Resources`) and fails each entry whose `Detail` is JSON but not an
   object (`MalformedDetail`; moto only fails invalid JSON); StartExecution refuses an input over
   `EXECUTION_INPUT_MAX_BYTES`; SQS measures a message as AWS does (UTF-8 bytes of the body plus
   its attributes' names, types and values; moto counts the body's characters) against the
   queue's `MaximumMessageSize`, and a batch's total against moto's own 1 MiB (AWS's since 2025).
6. Who sent it (`install_senders`): AWS stamps the sender's identity on what it delivers — the
   `account` of an event, the `SenderId` of a message — and the OMS checks it against its
   registry of integrations. moto stamps its default account and sender id on everything; here a
   request signed with one of `config.LOCAL_SENDERS`' access keys gets that sender's identity.
"""

from __future__ import annotations

import base64
import copy
import json
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any

from . import destinations, invoke, transform
from .config import ACCOUNT_ID, LOCAL_SENDERS
from .template import AsyncInvokeConfig, LocalStack

log = logging.getLogger("moto-bridge")

# AWS raised PutEvents to 1 MB in January 2026; the OMS keeps its events (and so the relay's
# batches) within the old 256 KB (`MAX_LINES` in create_order.rs), and holding the emulator to
# that budget keeps a bigger event or batch from passing here unnoticed.
PUT_EVENTS_MAX_BYTES = 256 * 1024
# What an entry's `Time` counts for in AWS's entry size, whatever its value.
PUT_EVENTS_TIME_BYTES = 14
# Step Functions' quota on an execution's input (UTF-8), unchanged by the 2026 increases.
EXECUTION_INPUT_MAX_BYTES = 256 * 1024


class RuleDeliveries:
    """Deliveries made after PutEvents has answered: one queue per key (a rule), drained by one
    pool worker at a time, so a rule delivers in the order it matched while rules deliver at
    once and a slow target holds up only its own rule."""

    def __init__(self, workers: int = 8) -> None:
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rule-delivery")
        self.lock = threading.Lock()
        self.queues: dict[str, deque[Callable[[], None]]] = {}

    def submit(self, key: str, delivery: Callable[[], None]) -> None:
        with self.lock:
            queue = self.queues.get(key)
            if queue is not None:  # its worker is draining it and takes this in turn
                queue.append(delivery)
                return
            self.queues[key] = deque([delivery])
        self.pool.submit(self._drain, key)

    def _drain(self, key: str) -> None:
        while True:
            with self.lock:
                queue = self.queues[key]
                if not queue:
                    del self.queues[key]
                    return
                delivery = queue.popleft()
            try:
                delivery()
            except Exception:  # in the pool an exception would vanish unseen
                log.exception("rule %s: delivery failed; event dropped", key)


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
        self.rules = RuleDeliveries()

    def close(self) -> None:
        """Waits for what is queued, then stops the workers (rule deliveries first: they queue
        asynchronous invocations)."""
        self.rules.pool.shutdown(wait=True)
        self.pool.shutdown(wait=True)

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
        account = getattr(_sender, "account", None)
        sender_id = getattr(_sender, "sender_id", None)
        # moto hands the same event to every rule; this rule's delivery happens later.
        matched = copy.deepcopy(original_event)
        if account:
            matched["account"] = account
        rule = copy.copy(self)
        rule.targets = list(self.targets)

        def deliver() -> None:
            # Delivered as within the call: the sender's identity is what targets see.
            _sender.account, _sender.sender_id = account, sender_id
            try:
                ours = [t for t in rule.targets if str(t.get("Arn", "")).split(":")[2:3] in
                        (["lambda"], ["states"])]
                others = [t for t in rule.targets if t not in ours]
                if others:
                    clone = copy.copy(rule)
                    clone.targets = others
                    original_send(clone, matched, transform_input)
                if ours:
                    event = _aws_event(matched)
                    for target in ours:
                        bridge.deliver(rule, target, event)
            finally:
                _sender.account = _sender.sender_id = None

        bridge.rules.submit(self.arn, deliver)

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

    undo_limits = install_limits()
    undo_senders = install_senders()

    def undo() -> None:
        undo_senders()
        undo_limits()
        LambdaSimpleBackend.invoke = original_invoke
        Rule.send_to_targets = original_send
        sfn_task.StateTaskServiceSfn._normalise_parameters = original_normalise
        sfn_task.StateTaskServiceSfn._normalise_response = original_response

    return undo


def put_events_entry_size(entry: dict[str, Any]) -> int:
    """An entry's size as AWS counts it against the PutEvents limit ("Calculating PutEvents
    event entry size" in the EventBridge guide)."""
    size = PUT_EVENTS_TIME_BYTES if entry.get("Time") is not None else 0
    for text in (entry.get("Source"), entry.get("DetailType"), entry.get("Detail"),
                 *(entry.get("Resources") or [])):
        if text is not None:
            size += len(str(text).encode())
    return size


def _detail_not_an_object(entry: dict[str, Any]) -> bool:
    """A `Detail` that parses but is not a JSON object. Missing fields and invalid JSON are left
    to moto, which reports them already (and first, as AWS does)."""
    if not (entry.get("Source") and entry.get("DetailType") and entry.get("Detail")):
        return False
    try:
        return not isinstance(json.loads(entry["Detail"]), dict)
    except ValueError:
        return False


def sqs_message_size(body: str, attributes: dict[str, Any] | None) -> int:
    """A message's size as SQS counts it against `MaximumMessageSize`: UTF-8 bytes of the body
    and of each attribute's name, data type and value."""
    size = len(body.encode())
    for name, attribute in (attributes or {}).items():
        size += len(name.encode()) + len(str(attribute.get("DataType", "")).encode())
        if attribute.get("StringValue") is not None:
            size += len(str(attribute["StringValue"]).encode())
        binary = attribute.get("BinaryValue")
        if isinstance(binary, str):  # base64 on the wire; AWS counts the decoded bytes
            size += len(base64.b64decode(binary))
        elif binary is not None:
            size += len(binary)
    return size


def install_limits() -> Callable[[], None]:
    """Make moto refuse what AWS refuses for size (see 5 above); returns a function that undoes
    it. `install` calls it; tests of the limits alone call it directly."""
    from moto.events.exceptions import ValidationException
    from moto.events.models import EventsBackend
    from moto.sqs.constants import MAXIMUM_MESSAGE_LENGTH
    from moto.sqs.exceptions import BatchRequestTooLong, InvalidParameterValue
    from moto.sqs.models import SQSBackend
    from moto.stepfunctions.exceptions import InvalidExecutionInput
    from moto.stepfunctions.models import StepFunctionBackend
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    original_put_events = EventsBackend.put_events

    def put_events(self: Any, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if len(events) > 10:  # moto refuses it with AWS's message
            return original_put_events(self, events)
        if sum(put_events_entry_size(entry) for entry in events) > PUT_EVENTS_MAX_BYTES:
            # AWS refuses the whole request: no entry is delivered.
            raise ValidationException("Total size of the entries in the request is over the limit.")
        malformed = [_detail_not_an_object(entry) for entry in events]
        kept = [entry for entry, bad in zip(events, malformed) if not bad]
        delivered = iter(original_put_events(self, kept))
        return [{"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."} if bad
                else next(delivered) for bad in malformed]

    def refuse_large_input(original: Callable[..., Any]) -> Callable[..., Any]:
        def start_execution(self: Any, state_machine_arn: str, name: Any = None,
                            execution_input: Any = None, *args: Any, **kwargs: Any) -> Any:
            size = len(execution_input.encode()) if execution_input is not None else 0
            if size > EXECUTION_INPUT_MAX_BYTES:
                raise InvalidExecutionInput(f"Execution input of {size} bytes exceeds the maximum "
                                            f"of {EXECUTION_INPUT_MAX_BYTES} bytes.")
            return original(self, state_machine_arn, name, execution_input, *args, **kwargs)

        return start_execution

    original_sfn_start = StepFunctionBackend.start_execution
    original_parser_start = StepFunctionsParserBackend.start_execution

    def check_message(queue: Any, body: str, attributes: dict[str, Any] | None) -> None:
        limit = int(queue.maximum_message_size)
        if sqs_message_size(body, attributes) > limit:
            raise InvalidParameterValue("One or more parameters are invalid. Reason: Message "
                                        f"must be shorter than {limit} bytes.")

    original_send = SQSBackend.send_message

    def send_message(self: Any, queue_name: str, message_body: str,
                     message_attributes: dict[str, Any] | None = None, *args: Any,
                     **kwargs: Any) -> Any:
        check_message(self.get_queue(queue_name), message_body, message_attributes)
        return original_send(self, queue_name, message_body, message_attributes, *args, **kwargs)

    original_send_batch = SQSBackend.send_message_batch

    def send_message_batch(self: Any, queue_name: str, entries: dict[str, dict[str, Any]]) -> Any:
        # Checked before moto sends any entry: AWS refuses such a batch whole.
        sizes = [sqs_message_size(entry["MessageBody"], entry.get("MessageAttributes"))
                 for entry in entries.values()]
        if sum(sizes) > MAXIMUM_MESSAGE_LENGTH:
            raise BatchRequestTooLong(sum(sizes))
        queue = self.get_queue(queue_name)
        for entry in entries.values():
            check_message(queue, entry["MessageBody"], entry.get("MessageAttributes"))
        return original_send_batch(self, queue_name, entries)

    EventsBackend.put_events = put_events
    StepFunctionBackend.start_execution = refuse_large_input(original_sfn_start)
    StepFunctionsParserBackend.start_execution = refuse_large_input(original_parser_start)
    SQSBackend.send_message = send_message
    SQSBackend.send_message_batch = send_message_batch

    def undo() -> None:
        EventsBackend.put_events = original_put_events
        StepFunctionBackend.start_execution = original_sfn_start
        StepFunctionsParserBackend.start_execution = original_parser_start
        SQSBackend.send_message = original_send
        SQSBackend.send_message_batch = original_send_batch

    return undo


# The identity of the request being served: moto serves each request on its own thread and
# delivers an event to its rules (and a message to its queue) within it.
_sender = threading.local()


def install_senders() -> Callable[[], None]:
    """Stamp the identity of a `LOCAL_SENDERS` caller on its events and messages (see 6 above);
    returns a function that undoes it."""
    from moto.events.responses import EventsHandler
    from moto.sqs.models import SQSBackend
    from moto.sqs.responses import SQSResponse

    def as_sender(original: Callable[..., Any]) -> Callable[..., Any]:
        def handler(self: Any, *args: Any, **kwargs: Any) -> Any:
            _sender.account, _sender.sender_id = LOCAL_SENDERS.get(self.get_access_key(), (None, None))
            try:
                return original(self, *args, **kwargs)
            finally:
                _sender.account = _sender.sender_id = None

        return handler

    originals = {
        (EventsHandler, "put_events"): EventsHandler.put_events,
        (SQSResponse, "send_message"): SQSResponse.send_message,
        (SQSResponse, "send_message_batch"): SQSResponse.send_message_batch,
    }
    for (cls, name), original in originals.items():
        setattr(cls, name, as_sender(original))

    original_backend_send = SQSBackend.send_message

    def send_message(self: Any, *args: Any, **kwargs: Any) -> Any:
        message = original_backend_send(self, *args, **kwargs)
        sender_id = getattr(_sender, "sender_id", None)
        if sender_id and hasattr(message, "sender_id"):
            message.sender_id = sender_id
        return message

    SQSBackend.send_message = send_message

    def undo() -> None:
        SQSBackend.send_message = original_backend_send
        for (cls, name), original in originals.items():
            setattr(cls, name, original)

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
