"""schemathesis against the local stack, from the served OpenAPI document, as each role of a
tenant of its own (seeded with the demo catalog, so the document's examples name SKUs and hubs
that exist): no answer may be a 5xx and every answer must match the document's schema for its
status. A fixed budget of examples per operation and a fixed seed keep it within minutes and
repeatable; `OMS_FUZZ_SEED` and `OMS_FUZZ_EXAMPLES` change them."""

import os
import subprocess
import uuid

import pytest

from conftest import ROOT, Api, make_token  # first: it puts the repository on sys.path
from tools.local import demo


ROLES = ["admin", "sales", "sales_manager", "dispatcher"]
SEED = os.environ.get("OMS_FUZZ_SEED", "20261129")
EXAMPLES = int(os.environ.get("OMS_FUZZ_EXAMPLES", "10"))


@pytest.fixture(scope="module")
def fuzz_tenant() -> str:
    name = f"fuzz-{uuid.uuid4().hex[:12]}"
    admin = Api(name, "admin")
    puts = [(f"/hubs/{hub}", body) for hub, body in demo.HUBS.items()]
    puts += [(f"/skus/{sku}", body) for sku, body in demo.SKUS.items()]
    puts += [(f"/inventory/{hub}/{sku}", {"on_hand": qty}) for (hub, sku), qty in demo.STOCK.items()]
    for path, body in puts:
        assert admin.put(path, body).status_code == 200, path
    return name


@pytest.mark.parametrize("role", ROLES)
def test_no_server_error_and_every_answer_matches_the_document(fuzz_tenant, role, tmp_path):
    base = os.environ["OMS_API_URL"].rstrip("/")
    origin = base.removesuffix("/v1")
    # The admin, who may call every route, also gets the coverage phase (boundary values, every
    # status, unsupported methods); the other roles, refused on many routes, examples and fuzzing.
    # The stateful phase (chains through the document's links) would double the time: left out.
    phases = "examples,coverage,fuzzing" if role == "admin" else "examples,fuzzing"
    examples = EXAMPLES if role == "admin" else max(1, EXAMPLES // 2)
    command = [
        str(ROOT / ".local" / "venv" / "bin" / "st"), "run", f"{base}/openapi.json",
        "--url", origin,
        "--header", f"Authorization: Bearer {make_token(fuzz_tenant, role)}",
        "--checks", "not_a_server_error,response_schema_conformance",
        "--phases", phases,
        "--max-examples", str(examples),
        "--seed", SEED,
        "--no-color",
    ]
    # In a directory of its own: schemathesis keeps a .schemathesis/ cache where it runs.
    run = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
