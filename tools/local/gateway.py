"""The local HTTP API: API Gateway HTTP API plus its JWT authorizer, in front of watch.

Routes come from the template's `HttpApi` events. A request is matched, authorized (HS256 bearer
token signed with OMS_JWT_SECRET, unless the route is `Authorizer: NONE`), turned into a payload
format 2.0 event, sent to the function's binary through watch, and the function's response is
translated back. `GET /_local/health` answers when the gateway is serving.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from . import apigw, invoke, tokens
from .template import Route

log = logging.getLogger("gateway")

MAX_BODY = 10 * 1024 * 1024  # API Gateway HTTP API payload limit


class Gateway:
    def __init__(self, routes: list[Route], jwt_secret: str, watch_url: str) -> None:
        self.compiled = apigw.compile_routes(routes)
        self.routes = routes
        self.jwt_secret = jwt_secret
        self.watch_url = watch_url

    def handle(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes,
               source_ip: str) -> apigw.HttpResponse:
        raw_path, _, raw_query = target.partition("?")
        if raw_path == "/_local/health":
            return apigw.HttpResponse(200, [("content-type", "application/json")], json.dumps(
                {"status": "ok", "routes": [r.route_key for r in self.routes]}).encode())
        match = apigw.match_route(self.compiled, method, raw_path)
        if match is None:
            return apigw.error_response(404, "not_found", f"no route for {method} {raw_path}")
        claims = None
        scopes = None
        if match.route.authorized:
            authorization = next((v for k, v in headers if k.lower() == "authorization"), None)
            try:
                verified = tokens.decode(tokens.bearer_token(authorization), self.jwt_secret)
            except tokens.InvalidToken as exc:
                return apigw.error_response(401, "unauthorized", str(exc))
            claims = tokens.stringify_claims(verified)
            scope = verified.get("scope")
            if isinstance(scope, str) and scope:
                scopes = scope.split()
            elif isinstance(verified.get("scp"), list):
                scopes = [str(s) for s in verified["scp"]]
        event = apigw.build_event(
            route=match, method=method, raw_path=raw_path, raw_query=raw_query,
            headers=headers, body=body, source_ip=source_ip, claims=claims, scopes=scopes,
        )
        try:
            result = invoke.invoke(self.watch_url, match.route.binary, json.dumps(event))
        except invoke.WatchUnavailable as exc:
            log.error("%s %s: %s", method, raw_path, exc)
            return apigw.error_response(500, "internal", "internal error")
        if result.failed:
            log.error("%s %s: %s failed: %s", method, raw_path, match.route.binary,
                      result.payload.decode("utf-8", "replace")[:2000])
            return apigw.error_response(500, "internal", "internal error")
        try:
            payload: Any = result.json()
            return apigw.translate_response(payload)
        except (ValueError, TypeError, KeyError) as exc:
            log.error("%s %s: unusable response from %s: %s (%r)", method, raw_path,
                      match.route.binary, exc, result.payload[:500])
            return apigw.error_response(500, "internal", "internal error")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "oms-local-gateway"
    gateway: Gateway

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def _read_body(self) -> bytes | None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_BODY:
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return None
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        started = time.monotonic()
        body = self._read_body()
        if body is None:
            response = apigw.error_response(413, "payload_too_large", "request body too large")
            self.close_connection = True
        else:
            try:
                response = self.gateway.handle(self.command, self.path, list(self.headers.items()),
                                               body, self.client_address[0])
            except Exception:  # the gateway must answer whatever goes wrong
                log.exception("%s %s: gateway error", self.command, self.path)
                response = apigw.error_response(500, "internal", "internal error")
        self.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)
        log.info("%s %s -> %d (%.0f ms)", self.command, self.path, response.status,
                 (time.monotonic() - started) * 1000)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def __getattr__(self, name: str):
        # http.server answers a method it has no do_<METHOD> for with an HTML 501; API Gateway
        # matches every method against the routes, so one no route declares (TRACE, QUERY: the
        # API fuzzer tries them) is the gateway's 404 like any unknown route.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)


class GatewayServer:
    def __init__(self, gateway: Gateway, host: str, port: int) -> None:
        handler = type("Handler", (_Handler,), {"gateway": gateway})
        ThreadingHTTPServer.allow_reuse_address = True
        # The stdlib's listen backlog is 5: a burst of parallel clients (a load test, the
        # concurrency tests) would see connections reset before a thread could take them.
        ThreadingHTTPServer.request_queue_size = 256
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="gateway",
                                       daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
