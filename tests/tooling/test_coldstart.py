"""The cold-start bench's mechanics (tools/bench/pybench/coldstart.py), never its timings: the
Runtime API stub sees the first poll and holds it (or answers it with the function's first event),
the bootstrap gets Lambda's environment and the function's, its memory is read, its first AWS
request over TLS is timed, it is killed and nothing is left running. Against a Python script
posing as a runtime client, and the debug build of tools/bench/hello-lambda (a real
lambda_runtime, and the functions' SDK configuration with its compiled-in roots)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tools.bench.pybench import coldstart
from tools.bench.pybench.coldstart import RuntimeApi, Sample, Subject, TlsEndpoint
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


# A runtime client that takes its first event, then makes one AWS request over HTTPS to the
# DynamoDB endpoint, trusting only the bench's CA (OMS_LOCAL_CA_FILE) and checking the name, as
# the SDK does; with NO_REQUEST it answers without one. Then it answers and polls again.
FAKE_INVOKED = f"""#!{sys.executable}
import http.client, json, os, ssl, urllib.parse
api = os.environ["AWS_LAMBDA_RUNTIME_API"]
runtime = http.client.HTTPConnection(api)
runtime.request("GET", "/2018-06-01/runtime/invocation/next")
answer = runtime.getresponse()
event = json.loads(answer.read())
request_id = answer.getheader("Lambda-Runtime-Aws-Request-Id")
if not os.environ.get("NO_REQUEST"):
    url = urllib.parse.urlsplit(os.environ["AWS_ENDPOINT_URL_DYNAMODB"])
    context = ssl.create_default_context(cafile=os.environ["OMS_LOCAL_CA_FILE"])
    aws = http.client.HTTPSConnection(url.hostname, url.port, context=context)
    aws.request("POST", "/", body=b"{{}}", headers={{"X-Amz-Target": "DynamoDB_20120810.GetItem"}})
    assert aws.getresponse().read() == b"{{}}"
runtime = http.client.HTTPConnection(api)
runtime.request("POST", f"/2018-06-01/runtime/invocation/{{request_id}}/response",
                body=json.dumps(event))
runtime.getresponse().read()
runtime = http.client.HTTPConnection(api)
runtime.request("GET", "/2018-06-01/runtime/invocation/next")
runtime.getresponse()
"""


@pytest.fixture
def fake_invoked(tmp_path: Path) -> Path:
    path = tmp_path / "invoked" / "bootstrap"
    path.parent.mkdir()
    path.write_text(FAKE_INVOKED)
    path.chmod(0o755)
    return path


@pytest.fixture
def endpoint(tmp_path: Path) -> TlsEndpoint:
    tls = TlsEndpoint(tmp_path / "tls")
    yield tls
    tls.close()


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


# -- init + first TLS request ---------------------------------------------------------------------


def test_the_first_event_is_answered_and_the_first_aws_request_over_tls_timed(
        fake_invoked, api, endpoint, tmp_path):
    subject = Subject("orders-api", fake_invoked, {}, event=b'{"rawPath": "/v1/orders/1"}')
    sample = coldstart.cold_start(subject, api, tmp_path / "out.log", TAG, endpoint=endpoint)

    assert sample.ended_by == "request"
    assert sample.first_request_ms > sample.init_ms > 0
    assert endpoint.targets == ["DynamoDB_20120810.GetItem"]
    assert_nothing_left([sample])


def test_a_first_invocation_without_an_aws_request_is_timed_to_its_answer(
        fake_invoked, api, endpoint, tmp_path):
    subject = Subject("api-docs", fake_invoked, {"NO_REQUEST": "1"}, event=b"{}")
    sample = coldstart.cold_start(subject, api, tmp_path / "out.log", TAG, endpoint=endpoint)

    assert sample.ended_by == "answer"
    assert sample.first_request_ms > sample.init_ms
    assert endpoint.targets == []
    assert any(path.endswith("/response") for path, _ in api.posted)
    assert_nothing_left([sample])


def test_without_an_event_only_init_is_measured(fake_runtime, api, endpoint, tmp_path):
    sample = coldstart.cold_start(Subject("x", fake_runtime, {}), api, tmp_path / "out.log", TAG,
                                  endpoint=endpoint)
    assert sample.first_request_ms is None and sample.ended_by is None
    env = json.loads((fake_runtime.parent / "env.json").read_text())
    assert env["AWS_ENDPOINT_URL_DYNAMODB"] == endpoint.url
    assert env["OMS_LOCAL_CA_FILE"] == env["SSL_CERT_FILE"] == str(endpoint.ca_file)
    assert_nothing_left([sample])


def test_hello_lambda_trusts_the_bench_ca_through_the_local_root_and_makes_its_request(
        hello_debug, api, endpoint, tmp_path):
    # The SDK's client as oms_aws builds it (compiled-in roots + OMS_LOCAL_CA_FILE) completes a
    # real handshake with the bench's certificate and sends ListTables.
    environment = {"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x",
                   "AWS_SECRET_ACCESS_KEY": "y", "AWS_EC2_METADATA_DISABLED": "true"}
    subject = Subject("hello-lambda", hello_debug, environment, event=b"{}")
    sample = coldstart.cold_start(subject, api, tmp_path / "out.log", TAG, endpoint=endpoint)

    assert sample.ended_by == "request", (tmp_path / "out.log").read_text()[-2000:]
    assert endpoint.targets == ["DynamoDB_20120810.ListTables"]
    assert_nothing_left([sample])


def test_every_template_function_has_a_first_event(real_stack, settings):
    baseline, subjects = coldstart.subjects_of(real_stack, settings, Path("/t/lambda"))
    assert baseline.event == b"{}"
    missing = [s.binary for s in subjects if s.event is None]
    assert not missing, f"add {missing} to coldstart.FIRST_EVENTS"
    webhook = json.loads(next(s.event for s in subjects if s.binary == "tms-webhook"))
    assert webhook["headers"]["x-tms-signature"]  # signed now, as the handler checks

    only, picked = coldstart.subjects_of(real_stack, settings, Path("/t/lambda"),
                                         only={"orders-api"})
    assert only == baseline and [s.binary for s in picked] == ["orders-api"]
    with pytest.raises(coldstart.ColdStartError, match="nope"):
        coldstart.subjects_of(real_stack, settings, Path("/t/lambda"), only={"nope"})


def timed(*first_requests: float, init: float = 1) -> list[Sample]:
    return [Sample(init, 1024, 1024, pid=0, first_request_ms=t, ended_by="request")
            for t in first_requests]


def test_init_plus_tls_is_compared_with_the_baselines_and_the_worst_ratio_leads(tmp_path):
    baseline = Subject("hello-lambda", sized(tmp_path / "h", 1), {})
    fast = Subject("fast", sized(tmp_path / "a", 4), {})
    slow = Subject("slow", sized(tmp_path / "b", 4), {})
    rows = coldstart.summarise(baseline, [fast, slow], {
        "hello-lambda": timed(10, 10, 50),
        "fast": timed(12, 13, 14),
        "slow": timed(20, 30, 40),
    })
    by = {r["binary"]: r for r in rows}
    assert by["fast"]["tls_ratio"] == 1.3 and by["fast"]["pass"]["tls"] is True
    assert by["slow"]["tls_ratio"] == 3.0 and by["slow"]["pass"]["tls"] is False
    assert by["slow"]["tls_ms"] == {"median": 30, "p90": 40, "min": 20, "samples": 3,
                                    "ended_by": ["request"]}

    result = coldstart.report(rows, rounds=3, rustc="rustc", host_triple="x", load=(0, 0, 0),
                              build_seconds=None, deployed_arch=["arm64"])
    assert coldstart.cold_start_ratio(result) == 3.0
    text = coldstart.markdown(result)
    assert text.startswith("cold start ratio: 3.00×")
    slow_row = next(line for line in text.splitlines() if line.startswith("| slow |"))
    assert "| 30.00 | 40.00 | 3.00 |" in slow_row and "**FAIL**" in slow_row


def test_the_endpoints_certificate_is_for_loopback_and_signed_by_its_ca(tmp_path):
    ca, cert, _ = coldstart.make_certificates(tmp_path)
    out = subprocess.run(["openssl", "verify", "-CAfile", str(ca), str(cert)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    text = subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-text"],
                          capture_output=True, text=True, check=True).stdout
    assert "IP Address:127.0.0.1" in text and "CA:FALSE" in text
