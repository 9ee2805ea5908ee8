"""The local gateway in front of a fake watch: auth, routing, errors, what the function sees."""

from __future__ import annotations

import json
import time

from tools.local import tokens
from tools.local.gateway import Gateway
from tools.local.template import Route

SECRET = "test-secret"


def gateway(watch_url: str) -> Gateway:
    return Gateway([
        Route("GET", "/v1/orders/{id}", "OrdersApiFunction", "orders-api", True),
        Route("POST", "/v1/webhooks/tms", "TmsWebhookFunction", "tms-webhook", False),
    ], SECRET, watch_url)


def bearer(**claims: object) -> list[tuple[str, str]]:
    base = {"sub": "u1", "tenant_id": "t1", "role": "sales", "exp": int(time.time()) + 60}
    base.update(claims)
    return [("Authorization", f"Bearer {tokens.encode(base, SECRET)}")]


def test_authorized_request_reaches_the_function_with_claims(fake_watch):
    fake_watch.handlers["orders-api"] = lambda event: (200, {
        "statusCode": 200, "headers": {"content-type": "application/json"},
        "body": json.dumps({"order_id": event["pathParameters"]["id"]})})
    response = gateway(fake_watch.url).handle("GET", "/v1/orders/O1?x=1", bearer(), b"",
                                              "127.0.0.1")
    assert response.status == 200 and json.loads(response.body) == {"order_id": "O1"}
    ((binary, event),) = fake_watch.calls
    assert binary == "orders-api"
    claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
    assert (claims["sub"], claims["tenant_id"], claims["role"]) == ("u1", "t1", "sales")
    assert isinstance(claims["exp"], str)
    assert event["queryStringParameters"] == {"x": "1"}


def test_missing_bad_or_expired_tokens_are_401_and_the_function_is_not_called(fake_watch):
    gw = gateway(fake_watch.url)
    forged = [("Authorization", "Bearer " + tokens.encode({"sub": "u1"}, "other-secret"))]
    for headers in ([], [("Authorization", "Bearer abc.def.ghi")], forged,
                    bearer(exp=int(time.time()) - 10)):
        response = gw.handle("GET", "/v1/orders/O1", headers, b"", "127.0.0.1")
        assert response.status == 401
        assert json.loads(response.body)["error"]["code"] == "unauthorized"
    assert fake_watch.calls == []


def test_a_route_with_authorizer_none_needs_no_token(fake_watch):
    fake_watch.handlers["tms-webhook"] = lambda event: (200, {"statusCode": 202, "body": ""})
    response = gateway(fake_watch.url).handle("POST", "/v1/webhooks/tms", [], b"{}", "127.0.0.1")
    assert response.status == 202
    assert "authorizer" not in fake_watch.calls[0][1]["requestContext"]


def test_unknown_route_and_wrong_method_are_404(fake_watch):
    gw = gateway(fake_watch.url)
    for method, path in (("GET", "/v1/nothing"), ("DELETE", "/v1/orders/O1")):
        response = gw.handle(method, path, bearer(), b"", "127.0.0.1")
        assert response.status == 404
        assert json.loads(response.body)["error"]["code"] == "not_found"
    assert fake_watch.calls == []


def test_a_function_error_is_a_500_without_internals(fake_watch):
    fake_watch.handlers["orders-api"] = lambda event: (
        500, {"errorType": "Panic", "errorMessage": "secret detail"})
    response = gateway(fake_watch.url).handle("GET", "/v1/orders/O1", bearer(), b"", "127.0.0.1")
    assert response.status == 500
    assert json.loads(response.body) == {"error": {"code": "internal",
                                                   "message": "internal error"}}


def test_watch_down_is_a_500(fake_watch):
    fake_watch.close()
    response = gateway(fake_watch.url).handle("GET", "/v1/orders/O1", bearer(), b"", "127.0.0.1")
    assert response.status == 500


def test_health_endpoint_lists_routes(fake_watch):
    response = gateway(fake_watch.url).handle("GET", "/_local/health", [], b"", "127.0.0.1")
    assert response.status == 200
    assert "GET /v1/orders/{id}" in json.loads(response.body)["routes"]
