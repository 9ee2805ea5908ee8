"""API Gateway HTTP API (payload 2.0): route matching, the event builder, response translation."""

from __future__ import annotations

import base64

from tools.local import apigw
from tools.local.template import Route


def routes(*specs: tuple[str, str]) -> list[apigw.CompiledRoute]:
    return apigw.compile_routes([Route(m, p, "Fn", "bin", True) for m, p in specs])


def test_the_most_specific_route_wins():
    compiled = routes(("GET", "/v1/orders/{id}"), ("GET", "/v1/orders/{id}/history"),
                      ("GET", "/v1/orders/export"), ("ANY", "/v1/{proxy+}"))
    match = apigw.match_route(compiled, "GET", "/v1/orders/export")
    assert match.route.path == "/v1/orders/export" and match.path_parameters == {}
    match = apigw.match_route(compiled, "GET", "/v1/orders/O%231/history")
    assert match.route.path == "/v1/orders/{id}/history"
    assert match.path_parameters == {"id": "O#1"}
    match = apigw.match_route(compiled, "DELETE", "/v1/skus/a/b")
    assert match.route.path == "/v1/{proxy+}" and match.path_parameters == {"proxy": "skus/a/b"}


def test_unknown_path_or_method_does_not_match():
    compiled = routes(("GET", "/v1/orders/{id}"))
    assert apigw.match_route(compiled, "GET", "/v1/nothing") is None
    assert apigw.match_route(compiled, "DELETE", "/v1/orders/1") is None
    assert apigw.match_route(compiled, "GET", "/v1/orders/1/extra") is None


def test_event_has_the_payload_2_0_shape():
    compiled = routes(("PUT", "/v1/inventory/{hub_id}/{sku}"))
    match = apigw.match_route(compiled, "PUT", "/v1/inventory/HCM-WH1/PP-H1")
    event = apigw.build_event(
        route=match, method="PUT", raw_path="/v1/inventory/HCM-WH1/PP-H1",
        raw_query="a=1&a=2&b=x%20y",
        headers=[("Host", "127.0.0.1:3000"), ("X-Tag", "one"), ("x-tag", "two"),
                 ("User-Agent", "curl/8"), ("Cookie", "s=1; t=2")],
        body=b'{"on_hand":"1000"}', source_ip="127.0.0.1",
        claims={"sub": "dev-admin", "tenant_id": "demo", "role": "admin"}, now=1_700_000_000.5)
    assert event["version"] == "2.0"
    assert event["routeKey"] == "PUT /v1/inventory/{hub_id}/{sku}"
    assert event["rawPath"] == "/v1/inventory/HCM-WH1/PP-H1"
    assert event["rawQueryString"] == "a=1&a=2&b=x%20y"
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x y"}
    assert event["pathParameters"] == {"hub_id": "HCM-WH1", "sku": "PP-H1"}
    assert event["headers"]["x-tag"] == "one,two"
    assert "cookie" not in event["headers"] and event["cookies"] == ["s=1", "t=2"]
    assert event["body"] == '{"on_hand":"1000"}' and event["isBase64Encoded"] is False
    ctx = event["requestContext"]
    assert ctx["http"] == {"method": "PUT", "path": "/v1/inventory/HCM-WH1/PP-H1",
                           "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                           "userAgent": "curl/8"}
    assert ctx["routeKey"] == event["routeKey"] and ctx["stage"] == "$default"
    assert ctx["accountId"] == "123456789012" and ctx["domainName"] == "127.0.0.1:3000"
    assert ctx["timeEpoch"] == 1_700_000_000_500
    assert ctx["time"] == "14/Nov/2023:22:13:20 +0000"
    assert ctx["authorizer"]["jwt"]["claims"]["tenant_id"] == "demo"
    assert ctx["requestId"]


def test_event_without_query_params_or_body_omits_them():
    compiled = routes(("GET", "/v1/hubs"))
    event = apigw.build_event(route=apigw.match_route(compiled, "GET", "/v1/hubs"),
                              method="GET", raw_path="/v1/hubs", raw_query="", headers=[],
                              body=b"", source_ip="127.0.0.1", claims=None)
    assert "queryStringParameters" not in event and "pathParameters" not in event
    assert "body" not in event and event["isBase64Encoded"] is False
    assert "authorizer" not in event["requestContext"]


def test_binary_body_is_base64_encoded():
    compiled = routes(("POST", "/v1/files"))
    event = apigw.build_event(route=apigw.match_route(compiled, "POST", "/v1/files"),
                              method="POST", raw_path="/v1/files", raw_query="", headers=[],
                              body=b"\xff\x00\xfe", source_ip="127.0.0.1", claims=None)
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\xff\x00\xfe"


def test_response_translation():
    response = apigw.translate_response({
        "statusCode": 201,
        "headers": {"content-type": "application/json", "location": "/v1/orders/1"},
        "multiValueHeaders": {"x-multi": ["a", "b"]},
        "cookies": ["s=1; HttpOnly"],
        "body": '{"order_id":"1"}',
        "isBase64Encoded": False,
    })
    assert response.status == 201
    assert ("location", "/v1/orders/1") in response.headers
    assert [v for k, v in response.headers if k == "x-multi"] == ["a", "b"]
    assert ("set-cookie", "s=1; HttpOnly") in response.headers
    assert response.body == b'{"order_id":"1"}'


def test_base64_response_body_is_decoded():
    response = apigw.translate_response({"statusCode": 200, "isBase64Encoded": True,
                                         "body": base64.b64encode(b"\x00\x01").decode()})
    assert response.body == b"\x00\x01"


def test_a_result_without_status_code_is_a_json_200():
    response = apigw.translate_response({"items": []})
    assert response.status == 200
    assert response.body == b'{"items": []}'
    assert ("content-type", "application/json") in response.headers
