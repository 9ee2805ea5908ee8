"""The cold-start bench's mechanics (tools/bench/pybench/coldstart.py), never its timings: the
Runtime API stub sees the first poll and holds it, the bootstrap gets Lambda's environment and the
function's, its memory is read, it is killed and nothing is left running. Against a Python script posing as a
runtime client, and the debug build of tools/bench/hello-lambda (a real lambda_runtime)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tools.bench.pybench import coldstart
from tools.bench.pybench.coldstart import RuntimeApi, Sample, Subject
from tools.local import procs

ROOT = Path(__file__).resolve().parents[2]
TAG = f"{procs.tag_prefix()}coldstart-test-{os.getpid()}"

# A runtime client in the small: its environment to env.json, 20 MiB held, then the first poll,
# which it waits on forever (the stub never answers). With FAIL set it dies the way a function
# missing its configuration does.
FAKE_RUNTIME = f"""#!{sys.executable}
import http.client, json, os, sys
if os.environ.get("FAIL"):
    print("environment variable OMS_TABLE_NAME must be set", flush=True)
    sys.exit(1)
json.dump(dict(os.environ), open("env.json", "w"))
ballast = bytearray(20 * 1024 * 1024)
connection = http.client.HTTPConnection(os.environ["AWS_LAMBDA_RUNTIME_API"])
connection.request("GET", "/2018-06-01/runtime/invocation/next")
connection.getresponse()
"""


@pytest.fixture
def fake_runtime(tmp_path: Path) -> Path:
    path = tmp_path / "task" / "bootstrap"
    path.parent.mkdir()
    path.write_text(FAKE_RUNTIME)
    path.chmod(0o755)
    return path


@pytest.fixture
def api() -> RuntimeApi:
    stub = RuntimeApi()
    yield stub
    stub.close()


@pytest.fixture(scope="session")
def hello_debug() -> Path:
    """The debug hello-lambda, built where cargo builds (CARGO_TARGET_DIR is honoured)."""
    out = subprocess.run(["cargo", "build", "-p", "hello-lambda", "--message-format", "json"],
                         cwd=ROOT, capture_output=True, text=True,
                         env=dict(os.environ, CARGO_INCREMENTAL="0"))
    assert out.returncode == 0, out.stderr[-2000:]
    for line in out.stdout.splitlines():
        message = json.loads(line)
        if message.get("reason") == "compiler-artifact" and message["target"]["name"] == \
                "hello-lambda" and message.get("executable"):
            return Path(message["executable"])
    raise AssertionError("cargo built no hello-lambda executable")


def assert_nothing_left(samples: list[Sample]) -> None:
    assert not [s.pid for s in samples if procs.alive(s.pid)]
    assert procs.tagged_pids(TAG) == []


def test_a_cold_start_gets_lambdas_environment_and_is_read_then_killed(fake_runtime, api,
                                                                       tmp_path):
    subject = Subject("create-order", fake_runtime, {"OMS_TABLE_NAME": "t", "AWS_REGION": "r"},
                      function_name="oms-local-CreateOrderFunction", memory=256)
    sample = coldstart.cold_start(subject, api, tmp_path / "out.log", TAG)

    env = json.loads((fake_runtime.parent / "env.json").read_text())  # it ran in its task dir
    assert env["AWS_LAMBDA_RUNTIME_API"] == api.address
    assert api.address.startswith("127.0.0.1:")
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "oms-local-CreateOrderFunction"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/oms-local-CreateOrderFunction"
    assert env["AWS_LAMBDA_LOG_STREAM_NAME"]
    assert (env["OMS_TABLE_NAME"], env["AWS_REGION"]) == ("t", "r")
    assert "HOME" not in env  # Lambda's environment, not the shell's
    assert api.poll_headers  # the poll was seen...
    assert sample.init_ms > 0
    assert sample.peak_rss_kib >= 20 * 1024  # ...and the memory read while it waited on it
    assert 0 < sample.rss_kib <= sample.peak_rss_kib
    assert_nothing_left([sample])


def test_a_bootstrap_that_dies_at_init_is_an_error_with_its_output(fake_runtime, api, tmp_path):
    subject = Subject("create-order", fake_runtime, {"FAIL": "1"})
    with pytest.raises(coldstart.ColdStartError, match=r"(?s)exited with code 1 before its first "
                                                         r"poll.*OMS_TABLE_NAME must be set"):
        coldstart.cold_start(subject, api, tmp_path / "out.log", TAG)


def test_lambda_runtime_polls_the_stub(hello_debug, api, tmp_path):
    sample = coldstart.cold_start(Subject("hello-lambda", hello_debug, {}), api,
                                  tmp_path / "out.log", TAG)
    assert api.poll_headers["user-agent"].startswith("aws-lambda-rust/")
    assert sample.peak_rss_kib > 0
    assert_nothing_left([sample])


def test_rounds_pair_every_function_with_the_baseline(hello_debug, tmp_path):
    baseline = Subject("hello-lambda", hello_debug, {})
    functions = [Subject(name, hello_debug, {}) for name in ("a", "b")]
    samples = coldstart.sample_rounds(baseline, functions, rounds=3, logs=tmp_path)

    assert {name: len(s) for name, s in samples.items()} == {"hello-lambda": 6, "a": 3, "b": 3}
    everything = [s for runs in samples.values() for s in runs]
    assert all(s.init_ms > 0 and s.peak_rss_kib > 0 for s in everything)
    assert len({s.pid for s in everything}) == len(everything)
    assert not [s.pid for s in everything if procs.alive(s.pid)]
    assert procs.tagged_pids(f"{procs.tag_prefix()}coldstart-") == []


def test_template_functions_are_measured_with_their_own_environment(real_stack, settings):
    baseline, subjects = coldstart.subjects_of(real_stack, settings, Path("/t/lambda"))
    assert baseline.path == Path("/t/lambda/hello-lambda/bootstrap")
    assert sorted(s.binary for s in subjects) == sorted(f.binary for f in real_stack.functions)
    relay = next(s for s in subjects if s.binary == "outbox-relay")
    assert relay.path == Path("/t/lambda/outbox-relay/bootstrap")
    assert relay.function_name == "oms-local-OutboxRelayFunction"
    assert relay.environment["OMS_EVENT_BUS_NAME"] == "oms-local-bus"
    assert baseline.environment["OMS_METRICS"] == "off"  # the template's default
    for subject in (baseline, *subjects):
        # The SDK's credentials and region come from the environment: no network at init.
        assert subject.environment["AWS_ACCESS_KEY_ID"], subject.binary
        assert subject.environment["AWS_REGION"] == settings.region
        assert subject.environment["OMS_TABLE_NAME"] == "oms-local-OmsTable"


def sized(path: Path, mib: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out:
        out.truncate(int(mib * coldstart.MIB))
    return path


def samples_of(*inits: float, peak_mib: float = 10) -> list[Sample]:
    return [Sample(init, int(peak_mib * 1024), int(peak_mib * 1024), pid=0) for init in inits]


def test_rows_compare_medians_with_the_baseline_and_check_the_targets(tmp_path):
    baseline = Subject("hello-lambda", sized(tmp_path / "h", 1), {})
    slim = Subject("slim", sized(tmp_path / "s", 4), {})
    fat = Subject("fat", sized(tmp_path / "f", 11), {})
    rows = coldstart.summarise(baseline, [slim, fat], {
        "hello-lambda": samples_of(1, 2, 3, 100),  # median 2.5: an outlier does not move it
        "slim": samples_of(3, 3.5, 50),
        "fat": samples_of(4, 5, 6, peak_mib=70),
    })
    by = {r["binary"]: r for r in rows}
    assert [r["binary"] for r in rows] == ["hello-lambda", "slim", "fat"]
    assert by["slim"]["ratio"] == 1.4 and by["fat"]["ratio"] == 2.0
    assert by["slim"]["init_ms"] == {"median": 3.5, "p90": 50, "min": 3, "samples": 3}
    assert by["slim"]["pass"] == {"init": True, "binary": True, "rss": True}
    assert by["fat"]["pass"] == {"init": False, "binary": False, "rss": False}
    assert by["fat"]["size_mib"] == 11 and by["fat"]["zip_mib"] < 1

    result = coldstart.report(rows, rounds=3, rustc="rustc 1.95.0", host_triple="x86_64-x",
                              load=(1.0, 0.5, 0.25), build_seconds=None,
                              deployed_arch=["arm64"], metrics="emf")
    assert json.loads(json.dumps(result)) == result
    assert result["profile"]["lto"] is True  # the workspace's release profile
    text = coldstart.markdown(result)
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(table) == 1 + 3  # header and one row each
    assert table[1].startswith("| hello-lambda (baseline) |")
    assert table[3].count("**FAIL**") == 3 and "FAIL" not in table[2]
    assert "arm64" in text and "rustc 1.95.0" in text and "OMS_METRICS=emf" in text


def test_the_release_build_is_one_cargo_lambda_run_and_skipped_when_up_to_date(tmp_path,
                                                                               monkeypatch):
    workspace = tmp_path / "ws"
    (workspace / "a" / "src").mkdir(parents=True)
    for name in ("Cargo.toml", "Cargo.lock", "a/Cargo.toml", "a/src/main.rs"):
        (workspace / name).write_text("")
    metadata = {"workspace_root": str(workspace),
                "packages": [{"manifest_path": str(workspace / "a" / "Cargo.toml")}]}
    lambda_dir = tmp_path / "target" / "lambda"
    runs: list[list[str]] = []
    monkeypatch.setattr(coldstart.subprocess, "run", lambda argv, **_: runs.append(argv))

    assert coldstart.build_release(["a", "b"], lambda_dir, "x86_64-unknown-linux-gnu",
                                   metadata) is not None
    (argv,) = runs
    assert argv[1:] == ["lambda", "build", "--release", "--compiler", "cargo", "--target",
                        "x86_64-unknown-linux-gnu", "--bin", "a", "--bin", "b"]

    for name in ("a", "b"):
        bootstrap = lambda_dir / name / "bootstrap"
        bootstrap.parent.mkdir(parents=True)
        bootstrap.write_text("")
    for path in workspace.rglob("*"):  # the sources older than the bootstraps
        os.utime(path, (path.stat().st_mtime - 10,) * 2)
    assert coldstart.build_release(["a", "b"], lambda_dir, "x86_64-unknown-linux-gnu",
                                   metadata) is None
    assert len(runs) == 1
