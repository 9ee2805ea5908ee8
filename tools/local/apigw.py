"""API Gateway HTTP API (payload format 2.0) on both sides of a function call.

`match_route` finds the template route for a request, `build_event` makes the event API Gateway
would send the function, and `translate_response` turns the function's answer into an HTTP
response, as API Gateway does. Pure functions: the server lives in gateway.py.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl, unquote

from .config import ACCOUNT_ID
from .template import Route

_PARAM = re.compile(r"\{([A-Za-z0-9_.\-]+)(\+?)\}")


@dataclass
class CompiledRoute:
    route: Route
    regex: re.Pattern[str] | None
    specificity: tuple[int, int, int]


def compile_routes(routes: list[Route]) -> list[CompiledRoute]:
    compiled = []
    for route in routes:
        if route.path == "$default":
            compiled.append(CompiledRoute(route, None, (-1, 0, 0)))
            continue
        pattern = ""
        pos = 0
        greedy = 0
        for m in _PARAM.finditer(route.path):
            pattern += re.escape(route.path[pos:m.start()])
            if m.group(2):
                greedy = 1
                pattern += f"(?P<{_group(m.group(1))}>.+)"
            else:
                pattern += f"(?P<{_group(m.group(1))}>[^/]+)"
            pos = m.end()
        pattern += re.escape(route.path[pos:])
        literal_segments = sum(1 for s in route.path.split("/") if s and "{" not in s)
        # More literal segments first, then non-greedy, then a concrete method before ANY.
        specificity = (literal_segments, -greedy, 0 if route.method == "ANY" else 1)
        compiled.append(CompiledRoute(route, re.compile(f"^{pattern}$"), specificity))
    compiled.sort(key=lambda c: c.specificity, reverse=True)
    return compiled


def _group(name: str) -> str:
    return "p_" + re.sub(r"[^A-Za-z0-9_]", "_", name)


@dataclass
class RouteMatch:
    route: Route
    path_parameters: dict[str, str] = field(default_factory=dict)


def match_route(compiled: list[CompiledRoute], method: str, path: str) -> RouteMatch | None:
    """The most specific route for method and path. A known path with another method: None,
    like API Gateway HTTP APIs (404)."""
    method = method.upper()
    for c in compiled:
        if c.route.method not in ("ANY", method):
            continue
        if c.regex is None:
            return RouteMatch(c.route)
        m = c.regex.match(path)
        if m:
            names = [n.group(1) for n in _PARAM.finditer(c.route.path)]
            params = {name: unquote(m.group(_group(name))) for name in names}
            return RouteMatch(c.route, params)
    return None


def _join_headers(headers: list[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        out[key] = f"{out[key]},{value}" if key in out else value
    return out


def build_event(
    *,
    route: RouteMatch,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: list[tuple[str, str]],
    body: bytes,
    source_ip: str,
    claims: dict[str, str] | None,
    scopes: list[str] | None = None,
    api_id: str = "local",
    now: float | None = None,
) -> dict[str, Any]:
    now = time.time() if now is None else now
    header_map = _join_headers(headers)
    cookies = None
    if "cookie" in header_map:
        cookies = [c.strip() for c in re.split(r"[;,]", header_map.pop("cookie")) if c.strip()]
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route.route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": header_map,
    }
    if cookies:
        event["cookies"] = cookies
    if raw_query:
        query: dict[str, str] = {}
        for key, value in parse_qsl(raw_query, keep_blank_values=True):
            query[key] = f"{query[key]},{value}" if key in query else value
        event["queryStringParameters"] = query
    domain = header_map.get("host", "127.0.0.1")
    context: dict[str, Any] = {
        "accountId": ACCOUNT_ID,
        "apiId": api_id,
        "domainName": domain,
        "domainPrefix": domain.split(".")[0].split(":")[0],
        "http": {
            "method": method.upper(),
            "path": raw_path,
            "protocol": "HTTP/1.1",
            "sourceIp": source_ip,
            "userAgent": header_map.get("user-agent", ""),
        },
        "requestId": str(uuid.uuid4()),
        "routeKey": route.route.route_key,
        "stage": "$default",
        "time": datetime.fromtimestamp(now, timezone.utc).strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now * 1000),
    }
    if claims is not None:
        context["authorizer"] = {"jwt": {"claims": claims, "scopes": scopes}}
    event["requestContext"] = context
    if route.path_parameters:
        event["pathParameters"] = route.path_parameters
    if body:
        try:
            event["body"] = body.decode("utf-8")
            event["isBase64Encoded"] = False
        except UnicodeDecodeError:
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True
    else:
        event["isBase64Encoded"] = False
    return event


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def translate_response(result: Any) -> HttpResponse:
    """What API Gateway makes of a payload format 2.0 function result."""
    if not (isinstance(result, dict) and "statusCode" in result):
        # Format 2.0: a result without statusCode is the JSON body of a 200.
        body = json.dumps(result).encode()
        return HttpResponse(200, [("content-type", "application/json")], body)
    status = int(result["statusCode"])
    headers: list[tuple[str, str]] = []
    seen: set[str] = set()
    for name, value in (result.get("headers") or {}).items():
        headers.append((name, str(value)))
        seen.add(name.lower())
    for name, values in (result.get("multiValueHeaders") or {}).items():
        if name.lower() in seen:
            continue
        for value in values or []:
            headers.append((name, str(value)))
    for cookie in result.get("cookies") or []:
        headers.append(("set-cookie", str(cookie)))
    raw = result.get("body")
    if raw is None:
        body = b""
    elif result.get("isBase64Encoded"):
        body = base64.b64decode(raw)
    elif isinstance(raw, str):
        body = raw.encode()
    else:
        body = json.dumps(raw).encode()
    if body and "content-type" not in {h[0].lower() for h in headers}:
        headers.append(("content-type", "application/json"))
    return HttpResponse(status, headers, body)


def error_response(status: int, code: str, message: str) -> HttpResponse:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    return HttpResponse(status, [("content-type", "application/json")], body)
