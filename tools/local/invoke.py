"""Invoking a function binary through `cargo lambda watch`'s Lambda Invoke API.

Every caller in the harness (moto's Lambda Invoke, EventBridge targets, the pollers, the HTTP
gateway) goes through `invoke`, which turns watch's answers into one shape: a payload and, for
a failed invocation, the function error's `errorType`. watch reports a handler error as HTTP 500
with `{"errorType", "errorMessage"}` and no `X-Amz-Function-Error` header; both forms count.
"""

from __future__ import annotations

import http.client
import json
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass

# The first invoke of a function after a change compiles it inside watch.
DEFAULT_TIMEOUT = 300.0


class WatchUnavailable(Exception):
    """watch did not answer (not started yet, restarting, or gone). Not a function error."""


@dataclass
class InvokeResult:
    payload: bytes
    error_type: str | None = None
    status: int = 200

    @property
    def failed(self) -> bool:
        return self.error_type is not None

    def json(self) -> object:
        return json.loads(self.payload) if self.payload else None


def error_payload(error_type: str, message: str) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": message}).encode()


def _error_from(status: int, body: bytes, header_error: str | None) -> InvokeResult:
    try:
        data = json.loads(body) if body else None
    except ValueError:
        data = None
    if isinstance(data, dict) and "errorType" in data:
        return InvokeResult(payload=body, error_type=str(data["errorType"]), status=status)
    if status == 404 and isinstance(data, dict) and "detail" in data:
        # watch: "that function doesn't exist as a binary in your project"
        return InvokeResult(
            payload=error_payload("Lambda.ResourceNotFoundException", str(data["detail"])),
            error_type="Lambda.ResourceNotFoundException", status=status)
    text = body.decode("utf-8", "replace")[:2000]
    error_type = header_error if header_error and header_error not in ("Handled", "Unhandled") \
        else "Lambda.ServiceException"
    return InvokeResult(payload=error_payload(error_type, f"HTTP {status}: {text}"),
                        error_type=error_type, status=status)


def invoke(watch_url: str, binary: str, payload: bytes | str,
           timeout: float = DEFAULT_TIMEOUT) -> InvokeResult:
    if isinstance(payload, str):
        payload = payload.encode()
    request = urllib.request.Request(
        f"{watch_url}/2015-03-31/functions/{binary}/invocations",
        data=payload or b"{}",
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
            function_error = response.headers.get("X-Amz-Function-Error")
            if function_error:
                return _error_from(response.status, body, function_error)
            return InvokeResult(payload=body, status=response.status)
    except urllib.error.HTTPError as exc:
        body = exc.read() if exc.fp is not None else b""
        return _error_from(exc.code, body, exc.headers.get("X-Amz-Function-Error"))
    except (urllib.error.URLError, ConnectionError, http.client.HTTPException) as exc:
        raise WatchUnavailable(f"cargo lambda watch at {watch_url} did not answer: {exc}") from exc
    except (TimeoutError, socket.timeout):
        return InvokeResult(
            payload=error_payload("States.Timeout", f"{binary} did not answer in {timeout:.0f} s"),
            error_type="States.Timeout", status=504)
