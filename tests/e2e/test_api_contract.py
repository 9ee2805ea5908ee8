"""The API's OpenAPI document as a client gets it: `GET /v1/openapi.json` without a token, a
valid OpenAPI 3.1 document, declaring exactly the template's routes, from which
openapi-typescript generates a client that compiles. The fuzzer that holds the stack to it is
test_api_fuzz.py."""

import json
import os
import subprocess
import time

import requests
from openapi_spec_validator import OpenAPIV31SpecValidator

from conftest import ROOT  # first: it puts the repository on sys.path
from tools.local import config
from tools.local.template import LocalStack


NODE_BIN = ROOT / ".local" / "node" / "node_modules" / ".bin"
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def document() -> dict:
    response = requests.get(f"{os.environ['OMS_API_URL'].rstrip('/')}/openapi.json", timeout=10)
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def test_the_document_needs_no_token_and_is_openapi_3_1():
    spec = document()
    assert spec["openapi"] == "3.1.0"
    OpenAPIV31SpecValidator(spec).validate()
    assert spec["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        "description": spec["components"]["securitySchemes"]["bearer"]["description"]}


def test_the_document_declares_the_template_routes_both_ways():
    spec = document()
    declared = {f"{method.upper()} {path}" for path, item in spec["paths"].items() for method in item
                if method in METHODS}
    stack = LocalStack.from_template(config.load())
    assert declared == {route.route_key for route in stack.routes}
    # What needs no JWT in the template is what the document leaves open: the webhook (its own
    # signature scheme) and the document itself.
    open_routes = {route.route_key for route in stack.routes if not route.authorized}
    assert open_routes == {"POST /v1/webhooks/tms", "GET /v1/openapi.json"}
    security = {key: spec["paths"][key.split(" ")[1]][key.split(" ")[0].lower()].get("security")
                for key in open_routes}
    assert security == {"POST /v1/webhooks/tms": [{"tms_signature": []}], "GET /v1/openapi.json": [{}]}


def test_a_method_no_route_declares_is_a_404_like_any_unknown_route():
    for method in ("TRACE", "QUERY"):
        response = requests.request(method, f"{os.environ['OMS_API_URL'].rstrip('/')}/hubs", timeout=10)
        assert response.status_code == 404, method
        assert response.json()["error"]["code"] == "not_found"


CLIENT = """
import type { components, paths } from "./schema";

type Order = components["schemas"]["Order"];
type CreateOrder = paths["/v1/orders"]["post"]["requestBody"]["content"]["application/json"];
type Created = paths["/v1/orders"]["post"]["responses"][201]["content"]["application/json"];
type Page = paths["/v1/orders"]["get"]["responses"][200]["content"]["application/json"];
type ErrorBody = components["schemas"]["ErrorBody"];

export class OmsClient {
  constructor(private readonly base: string, private readonly token: string) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers: { Authorization: `Bearer ${this.token}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) {
      const error = (await response.json()) as ErrorBody;
      throw new Error(`${response.status} ${error.error.code}: ${error.error.message}`);
    }
    return (await response.json()) as T;
  }

  createOrder(body: CreateOrder): Promise<Created> {
    return this.call("POST", "/v1/orders", body);
  }

  listOrders(): Promise<Page> {
    return this.call("GET", "/v1/orders");
  }
}

export function grandTotal(order: Order): string {
  return `${order.totals.grand_total} ${order.currency}`;
}

export const sample: CreateOrder = {
  customer: {
    id: "CUST-001",
    name: "Cong ty Nhua ABC",
    delivery_address: { line1: "12 Nguyen Hue", city: "Ho Chi Minh City", country: "VN" },
  },
  lines: [{ sku: "PP-H1", quantity: "100" }],
  submit: true,
};
"""


def test_a_typescript_client_generated_from_the_document_compiles(tmp_path):
    started = time.monotonic()
    (tmp_path / "openapi.json").write_text(json.dumps(document()))
    subprocess.run([str(NODE_BIN / "openapi-typescript"), "openapi.json", "-o", "schema.ts"],
                   cwd=tmp_path, check=True, capture_output=True, text=True)
    (tmp_path / "client.ts").write_text(CLIENT)
    compiled = subprocess.run(
        [str(NODE_BIN / "tsc"), "--noEmit", "--strict", "--target", "es2022", "--module", "esnext",
         "--moduleResolution", "bundler", "--lib", "es2022,dom", "client.ts"],
        cwd=tmp_path, capture_output=True, text=True)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    assert time.monotonic() - started < 30
