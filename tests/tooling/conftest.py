"""Fixtures for the tests of the local tooling (tools/local). No stack needed: each test works on
the real template, on small templates of its own, or against a fake `cargo lambda watch`."""

from __future__ import annotations

import json
import sys
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools.local import config  # noqa: E402
from tools.local.template import LocalStack  # noqa: E402


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests never talk to a running stack, whatever `./dev test` or the shell exports
    (an AWS_ENDPOINT_URL_* would send moto's in-process clients to the real local endpoints)."""
    import os

    for name in list(os.environ):
        if name.startswith(("OMS_", "AWS_ENDPOINT_URL")):
            monkeypatch.delenv(name)


@pytest.fixture
def settings() -> config.Settings:
    return config.load()


@pytest.fixture
def real_stack(settings: config.Settings) -> LocalStack:
    return LocalStack.from_template(settings)


@pytest.fixture
def stack_from(tmp_path: Path, settings: config.Settings) -> Callable[..., LocalStack]:
    """A LocalStack from YAML text written to a temporary template."""

    def build(text: str, **overrides: str) -> LocalStack:
        path = tmp_path / "template.yaml"
        path.write_text(text)
        params = dict(settings.parameter_overrides, **overrides)
        return LocalStack.from_template(replace(settings, template=path,
                                                parameter_overrides=params))

    return build


class FakeWatch:
    """Plays `cargo lambda watch`'s Invoke API. handlers[binary](event) -> (status, body)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.handlers: dict[str, Callable[[Any], tuple[int, Any]]] = {}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                binary = self.path.split("/")[3]
                event = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.calls.append((binary, event))
                handler = fake.handlers.get(binary)
                if handler is None:
                    status, body = 404, {"title": "Missing function", "detail": "no such binary"}
                else:
                    status, body = handler(event)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_watch() -> Any:
    watch = FakeWatch()
    yield watch
    watch.close()
