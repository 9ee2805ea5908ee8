"""`./dev test`: the whole suite, in order, failing fast with a message naming the failed step.

Static checks and unit tests first (no stack), then a fresh detached stack for the Python suites
and the adapter tests (`oms-tests`, when the workspace has it), and the stack is always brought
down at the end, whatever happened.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from typing import Any

from . import config, stack
from .config import NODE, ROOT, VENV
from .install import CARGO_DENY
from .template import LocalStack


ADAPTER_TESTS = "oms-tests"


class StepFailed(Exception):
    pass


def _step(title: str, argv: list[str], env: dict[str, str] | None = None) -> None:
    print(f"\n==> {title}\n    $ {' '.join(argv)}", flush=True)
    started = time.monotonic()
    result = subprocess.run(argv, cwd=ROOT, env=env)
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        raise StepFailed(f"step '{title}' failed (exit {result.returncode}) after {elapsed:.0f} s")
    print(f"    ok ({elapsed:.0f} s)", flush=True)


def _build_env() -> dict[str, str]:
    env = dict(os.environ)
    env["CARGO_INCREMENTAL"] = "0"
    env.pop("CARGO_TARGET_DIR", None)  # one shared target/ at the repo root
    return env


def workspace_packages() -> set[str]:
    out = subprocess.run(["cargo", "metadata", "--no-deps", "--format-version", "1"], cwd=ROOT,
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise StepFailed(f"cargo metadata failed:\n{out.stderr.strip()}")
    data: dict[str, Any] = json.loads(out.stdout)
    return {p["name"] for p in data.get("packages", [])}


def run() -> int:
    env = _build_env()
    venv_bin = VENV / "bin"
    asl_validator = NODE / "node_modules" / ".bin" / "asl-validator"

    def on_term(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    started = time.monotonic()
    stack_started = False
    try:
        _step("rustfmt", ["cargo", "fmt", "--all", "--check"], env)
        _step("clippy", ["cargo", "clippy", "--workspace", "--all-targets", "--",
                         "-D", "warnings"], env)
        _step("cfn-lint", [str(venv_bin / "cfn-lint"), str(config.load().template)], env)
        _step("checkov (baseline infra/checkov-baseline.yaml)",
              [str(venv_bin / "python"), "-m", "tools.local", "checkov"], env)
        # Advisories need the RustSec database's git repository, which is not reachable here
        # (deny.toml says more); licenses, bans and sources need only the lock file.
        _step("cargo deny", [str(CARGO_DENY), "deny", "check", "licenses", "bans", "sources"], env)
        machines = sorted((ROOT / "statemachines").glob("*.asl.json"))
        if machines:
            argv = [str(asl_validator)]
            for path in machines:
                argv += ["--json-path", str(path.relative_to(ROOT))]
            _step("asl-validator", argv, env)
        packages = workspace_packages()
        # oms-tests needs DynamoDB Local: it runs later, against the stack.
        unit = ["cargo", "test", "--workspace"]
        if ADAPTER_TESTS in packages:
            unit += ["--exclude", ADAPTER_TESTS]
        _step("unit tests", unit, env)

        print("\n==> local stack (fresh, detached)", flush=True)
        # The binaries the tests run are the ones built now: editing code meanwhile must not
        # rebuild and restart functions under the tests.
        os.environ["OMS_WATCH_RELOAD"] = "0"
        # Metering on, so tests/e2e/test_bench.py can check what the benchmark reads.
        overrides = os.environ.get("OMS_PARAMETER_OVERRIDES", "")
        os.environ["OMS_PARAMETER_OVERRIDES"] = ",".join(filter(None, [overrides, "Metrics=emf"]))
        stack_started = True
        if stack.up(detach=True, fresh=True) != 0:
            raise StepFailed("the local stack did not start (see the logs above)")
        settings = config.load()
        model = LocalStack.from_template(settings)
        test_env = dict(env)
        test_env.update(stack.test_env(settings, model))

        # The client-side suites first, on a small table: some of them check "nothing was
        # written" by scanning it, and the adapter tests' concurrency rounds add thousands of
        # orders.
        folders = [f for f in ("tests/tooling", "tests/e2e") if (ROOT / f).is_dir()]
        if folders:
            _step("pytest " + " ".join(folders),
                  [str(venv_bin / "pytest"), *folders, "-q"], test_env)

        if ADAPTER_TESTS in packages:
            _step(f"adapter tests ({ADAPTER_TESTS})", ["cargo", "test", "-p", ADAPTER_TESTS],
                  test_env)
        else:
            print("\n==> adapter tests: no oms-tests crate in the workspace; skipped", flush=True)
    except StepFailed as exc:
        print(f"\nFAILED: {exc}", flush=True)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted", flush=True)
        return 130
    finally:
        if stack_started:
            print("\n==> stopping the local stack", flush=True)
            stack.down()
    print(f"\nall test steps passed in {time.monotonic() - started:.0f} s", flush=True)
    return 0

