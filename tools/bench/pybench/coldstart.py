"""`./dev bench-coldstart`: what a cold start costs each function, against a hello-world baseline.

On Lambda a cold start is: fetch and unpack the package, start the process, run its init (`main`
up to the runtime's first `GET /2018-06-01/runtime/invocation/next`). Here we measure what the
code decides: the release binary's size (zipped, as Lambda fetches it), the init time, and the
memory the process holds once init is done.

Init is timed against a Runtime API of our own on loopback (`RuntimeApi`): spawn the bootstrap
with the environment Lambda would give it, stop the clock when its first poll connects, read its
VmHWM/VmRSS from /proc. `hello-lambda` (tools/bench) is the same runtime, executor and release
profile with nothing else, so a function's ratio to it is what its own init adds (logs, config,
SDK clients); a hello-lambda run precedes every function run, so machine noise hits both alike.
The host builds for its own arch: sizes and times are the host's, not the deployed arm64's.

Init + first TLS request is what AWS pays before a first answer, and what plain-HTTP local
endpoints hide (trust roots, the TLS library's RNG seeding, the handshake): the first poll is
answered with a sample event of the function (`FIRST_EVENTS`), every AWS endpoint of the
function points at a local HTTPS endpoint (`TlsEndpoint`: a CA and certificate made by the bench,
trusted through the functions' local-only `OMS_LOCAL_CA_FILE`, and through `SSL_CERT_FILE` for
builds that read the system store), and the clock stops when the function's first request there
has been read and answered, or at the invocation's answer when it made none. hello-lambda makes
one DynamoDB request with the functions' SDK configuration on its first invocation, so the ratio
compares like with like. Then the process, parked in its next poll, is killed.

`measure()` returns the result as a JSON-ready dict and `markdown()` renders it, for `./dev bench`;
`main()` is `./dev bench-coldstart`, which also writes `.local/bench/coldstart.{json,md}`.
"""

from __future__ import annotations

import io
import json
import math
import os
import platform
import random
import shutil
import signal
import ssl
import statistics
import subprocess
import threading
import time
import tomllib
import uuid
import zipfile
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tools.local import config, procs, simulate
from tools.local.config import HOST, LOCAL, ROOT, RUN_TAG_VAR, VENV
from tools.local.stack import functions_env
from tools.local.template import LocalStack

BENCH = LOCAL / "bench"
BASELINE = "hello-lambda"
NEXT_PATH = "/2018-06-01/runtime/invocation/next"
INVOCATION_PATH = "/2018-06-01/runtime/invocation/"
# The local-only extra trust root of oms_aws::edge::runtime::http_client.
LOCAL_CA_FILE = "OMS_LOCAL_CA_FILE"
# The first event each function is cold-started with: a sample of what it serves that reads or
# writes through the SDK (its first AWS request), from events/. hello-lambda takes any payload.
FIRST_EVENTS = {
    "api-docs": "events/http/get-openapi.json",
    "assign-hub": "events/placement/assign-hub.json",
    "channel-intake": "events/sqs/channel-order.json",
    "create-order": "events/http/create-order.json",
    "expire-reservation": "events/placement/expire-reservation.json",
    "inventory-api": "events/http/list-stock.json",
    "orders-api": "events/http/get-order.json",
    "outbox-relay": "events/stream/outbox-relay.json",
    "placement-failed": "events/placement/placement-failed.json",
    "reconcile-reservations": "events/scheduled/reconcile-reservations.json",
    "replace-backorders": "events/bus/stock-replenished.json",
    "request-fulfillment": "events/placement/request-fulfillment.json",
    "reserve-stock": "events/placement/reserve-stock.json",
    "return-receive": "events/wms/return-received.json",
    "returns-api": "events/http/get-return.json",
    "shipments-api": "events/http/get-shipment.json",
    "tms-webhook": "events/http/tms-webhook.json",
    "wms-events": "events/wms/pick-completed.json",
}
# Every endpoint variable the local stack sets, pointed at the bench's HTTPS endpoint.
ENDPOINT_VARS = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_EVENTBRIDGE",
                 "AWS_ENDPOINT_URL_SFN", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_SECRETS_MANAGER")
MIB = 1024 * 1024


@dataclass(frozen=True)
class Targets:
    init_ratio: float = 1.5  # a function's median init over hello-lambda's
    tls_ratio: float = 1.5  # the same for init + first TLS request (issue 16)
    binary_mib: float = 10.0
    rss_mib: float = 64.0  # peak resident memory after init (Lambda's MemorySize is 128)


TARGETS = Targets()


def say(message: str) -> None:
    print(f"[bench-coldstart {time.strftime('%H:%M:%S')}] {message}", flush=True)


# -- the Runtime API ------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, api: RuntimeApi) -> None:
        self.api = api
        self.accepted_at: dict[Any, float] = {}
        super().__init__((HOST, 0), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        # The clock stops when the runtime connects to poll, not when a handler thread of ours
        # gets to run: thread start-up and request parsing are Python's cost, not the function's.
        self.accepted_at[request] = time.perf_counter()
        super().process_request(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        at = self.server.accepted_at.pop(self.request, time.perf_counter())
        if self.path != NEXT_PATH:
            self._answer(404)
            return
        release, event = self.server.api.note_poll(at, dict(self.headers))
        if event is not None:
            self._answer(200, event, {
                "Lambda-Runtime-Aws-Request-Id": REQUEST_ID,
                "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + 60_000),
                "Lambda-Runtime-Invoked-Function-Arn":
                    "arn:aws:lambda:us-east-1:123456789012:function:coldstart",
                "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000;Sampled=0",
                "Content-Type": "application/json"})
            return
        release.wait(600)  # no answer: the runtime stays parked in its poll until killed
        self.close_connection = True

    def do_POST(self) -> None:  # noqa: N802
        # An init error (`/runtime/init/error`) or anything else: kept for the error message.
        self.server.accepted_at.pop(self.request, None)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.startswith(INVOCATION_PATH + REQUEST_ID + "/"):
            self.server.api.note_answer(time.perf_counter())
        self.server.api.posted.append((self.path, body.decode(errors="replace")))
        self._answer(202)

    def _answer(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None
                ) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


REQUEST_ID = "00000000-0000-4000-8000-00000000c01d"


class RuntimeApi:
    """Lambda's Runtime API as far as a first invocation goes, on 127.0.0.1 and a free port: it
    notes when the first `GET .../invocation/next` connects and answers it with the event given
    to `expect()` (or never, without one), notes the invocation's answer, and never answers a
    later poll. One process at a time: `expect()` before each spawn."""

    def __init__(self) -> None:
        self.posted: list[tuple[str, str]] = []
        self.poll_headers: dict[str, str] = {}
        self._lock = threading.Lock()
        self._poll = threading.Event()
        self._polled_at = 0.0
        self._release = threading.Event()
        self._event: bytes | None = None
        self._answered = threading.Event()
        self._answered_at = 0.0
        self._server = _Server(self)
        threading.Thread(target=self._server.serve_forever, name="runtime-api",
                         daemon=True).start()

    @property
    def address(self) -> str:
        """The value of AWS_LAMBDA_RUNTIME_API."""
        return f"{HOST}:{self._server.server_address[1]}"

    def expect(self, event: bytes | None = None) -> None:
        """Forget the last process: let its held poll go, and wait for a new first poll, which
        `event` answers when given."""
        with self._lock:
            self._release.set()
            self._release = threading.Event()
            self._poll.clear()
            self._answered.clear()
            self._event = event
            self.poll_headers = {}
            self.posted.clear()

    def note_poll(self, at: float, headers: dict[str, str]
                  ) -> tuple[threading.Event, bytes | None]:
        """Keeps the first poll since `expect()`; returns what releases a poll held open, and the
        event that answers this one (the first poll's, once) or None (hold it)."""
        with self._lock:
            if self._poll.is_set():
                return self._release, None
            self._polled_at, self.poll_headers = at, headers
            self._poll.set()
            return self._release, self._event

    def note_answer(self, at: float) -> None:
        """The invocation's response or error was posted at `at`."""
        with self._lock:
            if not self._answered.is_set():
                self._answered_at = at
                self._answered.set()

    @property
    def answered_at(self) -> float | None:
        """When the invocation was answered, if it was."""
        return self._answered_at if self._answered.is_set() else None

    def wait_for_poll(self, process: subprocess.Popen[bytes], timeout: float) -> float | None:
        """The perf_counter time of the first poll; None if the process ended first or the
        timeout passed."""
        deadline = time.monotonic() + timeout
        while not self._poll.wait(0.02):
            if process.poll() is not None or time.monotonic() > deadline:
                return None
        return self._polled_at

    def close(self) -> None:
        self.expect()
        self._server.shutdown()
        self._server.server_close()


# -- the AWS endpoint -----------------------------------------------------------------------------


class _TlsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, endpoint: TlsEndpoint, context: ssl.SSLContext) -> None:
        self.endpoint = endpoint
        super().__init__((HOST, 0), _TlsHandler)
        # The handshake happens in the handler's thread (on its first read), not in accept.
        self.socket = context.wrap_socket(self.socket, server_side=True,
                                          do_handshake_on_connect=False)


class _TlsHandler(BaseHTTPRequestHandler):
    server: _TlsServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 - every AWS JSON protocol request is a POST
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.endpoint.note_request(time.perf_counter(), self.headers.get("X-Amz-Target"))
        # An empty answer every SDK operation parses (no item, no table, no entries): what the
        # function does with it is not timed.
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_GET = do_POST  # noqa: N815


class TlsEndpoint:
    """Every AWS service a function calls, as far as its first request goes: HTTPS on 127.0.0.1
    and a free port, with a certificate for 127.0.0.1 and localhost signed by a CA made here
    (`ca_file`). It notes when the first request since `expect()` has been read; each is answered
    with `{}`."""

    def __init__(self, workdir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.ca_file, cert, key = make_certificates(workdir)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.targets: list[str | None] = []
        self._lock = threading.Lock()
        self._request = threading.Event()
        self._request_at = 0.0
        self._server = _TlsServer(self, context)
        threading.Thread(target=self._server.serve_forever, name="tls-endpoint",
                         daemon=True).start()

    @property
    def url(self) -> str:
        return f"https://{HOST}:{self._server.server_address[1]}"

    def environment(self) -> dict[str, str]:
        """What points a function's SDK here and trusts the CA: the local-only extra root of
        oms_aws's client, and SSL_CERT_FILE/SSL_CERT_DIR for a build that reads the system store
        (rustls-native-certs then reads the whole directory and this file, as it would read the
        system store alone)."""
        return {**{var: self.url for var in ENDPOINT_VARS}, LOCAL_CA_FILE: str(self.ca_file),
                "SSL_CERT_FILE": str(self.ca_file), "SSL_CERT_DIR": "/etc/ssl/certs"}

    def expect(self) -> None:
        with self._lock:
            self._request.clear()
            self.targets.clear()

    def note_request(self, at: float, target: str | None) -> None:
        with self._lock:
            self.targets.append(target)
            if not self._request.is_set():
                self._request_at = at
                self._request.set()

    def wait_request(self, timeout: float) -> None:
        self._request.wait(timeout)

    @property
    def request_at(self) -> float | None:
        """When the first request since `expect()` had been read, if one was."""
        return self._request_at if self._request.is_set() else None

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def make_certificates(workdir: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 and localhost signed by it (P-256, one day):
    (CA certificate, server certificate, server key), PEM files in `workdir`. A CA apart from the
    server certificate because webpki refuses a CA certificate as an end entity."""
    ca_key, ca, key, csr, cert = (workdir / n for n in
                                  ("ca.key", "ca.pem", "server.key", "server.csr", "server.pem"))
    ext = workdir / "server.ext"
    ext.write_text("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                   "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl = shutil.which("openssl")
    if openssl is None:
        raise ColdStartError("the TLS endpoint needs the openssl command to make its certificates")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    for argv in (
        ["req", "-x509", *ec, "-keyout", ca_key, "-out", ca, "-days", "1",
         "-subj", "/CN=oms bench-coldstart CA"],
        ["req", "-new", *ec, "-keyout", key, "-out", csr, "-subj", "/CN=localhost"],
        ["x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
         "-out", cert, "-days", "1", "-extfile", ext],
    ):
        subprocess.run([openssl, *map(str, argv)], check=True, capture_output=True)
    return ca, cert, key


# -- one cold start -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """A bootstrap to cold-start and what its function is on Lambda."""

    binary: str
    path: Path
    environment: dict[str, str]  # the function's own variables, as the local stack sets them
    function_name: str = ""  # AWS_LAMBDA_FUNCTION_NAME; the binary's name when empty
    memory: int = 128
    event: bytes | None = None  # its first invocation's payload; None: init only


@dataclass(frozen=True)
class Sample:
    init_ms: float
    peak_rss_kib: int  # VmHWM: the most the process ever held, so far only init
    rss_kib: int  # VmRSS at the first poll
    pid: int
    # Spawn to the first AWS request read by the TLS endpoint (or to the invocation's answer when
    # it made none); None when not measured.
    first_request_ms: float | None = None
    ended_by: str | None = None  # "request" or "answer"


class ColdStartError(Exception):
    """A bootstrap did not reach its first poll; the message says why."""


def lambda_environment(subject: Subject, runtime_api: str, tag: str) -> dict[str, str]:
    """What Lambda gives a provided.al2023 bootstrap, and nothing from our shell: no HOME, so
    the SDK reads no ~/.aws files at init, as on Lambda."""
    name = subject.function_name or subject.binary
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": str(subject.path.parent),
        **subject.environment,
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(subject.memory),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}",
        # `./dev down` sweeps this repo's tagged processes: a bench killed hard leaves nothing.
        RUN_TAG_VAR: tag,
    }


def _memory_kib(pid: int) -> tuple[int, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            fields[key] = int(value.split()[0])  # "1234 kB"
    return fields["VmHWM"], fields["VmRSS"]


def _kill(process: subprocess.Popen[bytes]) -> None:
    # SIGKILL to its group (its own session): nothing in it is worth a graceful end.
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def cold_start(subject: Subject, api: RuntimeApi, log: Path, tag: str,
               timeout: float = 20.0, endpoint: TlsEndpoint | None = None) -> Sample:
    """Spawn the bootstrap, time it to its first poll, read its memory there; with an
    `endpoint` and the subject's event, answer the poll with it and time the first AWS request
    too; kill it."""
    event = subject.event if endpoint is not None else None
    api.expect(event)
    env = lambda_environment(subject, api.address, tag)
    if endpoint is not None:
        env.update(endpoint.environment())
        endpoint.expect()
    started = time.perf_counter()
    process = procs.start([str(subject.path)], env=env, log=log, cwd=subject.path.parent)
    first, ended_by = None, None
    try:
        polled = api.wait_for_poll(process, timeout)
        if polled is None:
            raise ColdStartError(_no_poll(subject, process, api, log, timeout))
        peak, rss = _memory_kib(process.pid)
        if endpoint is not None and event is not None:
            first, ended_by = _first_request(subject, process, api, endpoint, log, timeout)
    finally:
        _kill(process)
    return Sample(init_ms=(polled - started) * 1000, peak_rss_kib=peak, rss_kib=rss,
                  pid=process.pid,
                  first_request_ms=None if first is None else (first - started) * 1000,
                  ended_by=ended_by)


def _first_request(subject: Subject, process: subprocess.Popen[bytes], api: RuntimeApi,
                   endpoint: TlsEndpoint, log: Path, timeout: float) -> tuple[float, str]:
    """When the first AWS request was read, or the invocation answered without one."""
    deadline = time.monotonic() + timeout
    while True:
        if (at := endpoint.request_at) is not None:
            return at, "request"
        if (at := api.answered_at) is not None:
            # An answer can race the request that preceded it: let the endpoint's thread note it.
            time.sleep(0.05)
            request = endpoint.request_at
            return (request, "request") if request is not None and request <= at else (at, "answer")
        if process.poll() is not None or time.monotonic() > deadline:
            raise ColdStartError(_no_poll(subject, process, api, log, timeout).replace(
                "before its first poll", "before its first AWS request or answer"))
        endpoint.wait_request(0.005)  # wakes at the request; the answer is looked at meanwhile


def _no_poll(subject: Subject, process: subprocess.Popen[bytes], api: RuntimeApi, log: Path,
             timeout: float) -> str:
    code = process.poll()
    why = f"exited with code {code}" if code is not None else f"did not poll in {timeout:.0f} s"
    posted = "".join(f"\n    posted {path}: {body[:300]}" for path, body in api.posted)
    try:
        tail = log.read_text(errors="replace").splitlines()[-10:]
    except OSError:
        tail = []
    return (f"{subject.binary} {why} before its first poll{posted}; its output ({log}) ends "
            "with:\n" + "\n".join(f"    {line[:300]}" for line in tail))


def sample_rounds(baseline: Subject, subjects: list[Subject], rounds: int, logs: Path,
                  seed: int = 0, tls: bool = True) -> dict[str, list[Sample]]:
    """`rounds` cold starts of each subject, each right after one of the baseline, in a fresh
    shuffled order per round; one unrecorded start of each first, so no sample pays for reading
    the binary from disk. With `tls`, each is invoked with its event against a `TlsEndpoint`."""
    tag = f"{procs.tag_prefix()}coldstart-{uuid.uuid4().hex[:8]}"
    shuffle = random.Random(seed).shuffle
    samples: dict[str, list[Sample]] = {s.binary: [] for s in (baseline, *subjects)}
    api = RuntimeApi()
    endpoint = TlsEndpoint(logs / "tls") if tls else None
    try:
        for subject in (baseline, *subjects):
            cold_start(subject, api, logs / f"{subject.binary}.log", tag, endpoint=endpoint)
        for round_no in range(1, rounds + 1):
            say(f"round {round_no}/{rounds}")
            order = list(subjects)
            shuffle(order)
            for subject in order:
                for s in (baseline, subject):
                    samples[s.binary].append(
                        cold_start(s, api, logs / f"{s.binary}.log", tag, endpoint=endpoint))
    finally:
        api.close()
        if endpoint is not None:
            endpoint.close()
    return samples


# -- building -------------------------------------------------------------------------------------


def _cargo_metadata() -> dict[str, Any]:
    out = subprocess.run(["cargo", "metadata", "--no-deps", "--format-version", "1"], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def _rustc() -> tuple[str, str]:
    """rustc's version line and host triple."""
    out = subprocess.run(["rustc", "-vV"], capture_output=True, text=True, check=True).stdout
    host = next(line.split(":", 1)[1].strip() for line in out.splitlines()
                if line.startswith("host:"))
    return out.splitlines()[0], host


def _newest_source(metadata: dict[str, Any]) -> float:
    """The newest mtime of what a build reads: manifests, the lock file, Rust sources."""
    root = Path(metadata["workspace_root"])
    files = [root / "Cargo.toml", root / "Cargo.lock"]
    for package in metadata["packages"]:
        files += Path(package["manifest_path"]).parent.rglob("*.rs")
        files.append(Path(package["manifest_path"]))
    return max(f.stat().st_mtime for f in files if f.exists())


def build_release(binaries: list[str], lambda_dir: Path, host_triple: str,
                  metadata: dict[str, Any]) -> float | None:
    """`cargo lambda build --release` of every binary in one invocation, for the host (its own
    linker: zig is for cross builds). Returns the seconds it took; None when every bootstrap is
    newer than the sources (a toolchain change goes unnoticed: use a fresh target dir)."""
    bootstraps = [lambda_dir / b / "bootstrap" for b in binaries]
    if all(b.exists() for b in bootstraps) and \
            min(b.stat().st_mtime for b in bootstraps) > _newest_source(metadata):
        say("release bootstraps are newer than the sources: build skipped")
        return None
    argv = [str(VENV / "bin" / "cargo-lambda"), "lambda", "build", "--release",
            "--compiler", "cargo", "--target", host_triple]
    for binary in binaries:
        argv += ["--bin", binary]
    say(f"building {len(binaries)} release binaries (LTO: minutes per binary on 2 cores)")
    started = time.monotonic()
    subprocess.run(argv, cwd=ROOT, env=dict(os.environ, CARGO_INCREMENTAL="0"), check=True)
    elapsed = time.monotonic() - started
    say(f"release build done in {elapsed:.0f} s")
    return elapsed


def _zipped_bytes(path: Path) -> int:
    """The size of the package Lambda fetches: the bootstrap alone, deflated."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(path, "bootstrap")
    return buffer.getbuffer().nbytes


# -- the measurement ------------------------------------------------------------------------------


def _percentile(values: list[float], p: float) -> float:
    """Nearest rank: a value that was measured."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _first_request_median(samples: list[Sample]) -> float | None:
    times = [s.first_request_ms for s in samples if s.first_request_ms is not None]
    return statistics.median(times) if times else None


def _row(subject: Subject, samples: list[Sample], baseline_median: float,
         baseline_tls_median: float | None = None) -> dict[str, Any]:
    inits = [s.init_ms for s in samples]
    median = statistics.median(inits)
    tls_median = _first_request_median(samples)
    size = subject.path.stat().st_size
    peak = max(s.peak_rss_kib for s in samples) / 1024
    row = {
        "binary": subject.binary,
        "function": subject.function_name or subject.binary,
        "size_mib": round(size / MIB, 2),
        "zip_mib": round(_zipped_bytes(subject.path) / MIB, 2),
        "init_ms": {"median": round(median, 2), "p90": round(_percentile(inits, 90), 2),
                    "min": round(min(inits), 2), "samples": len(inits)},
        "ratio": round(median / baseline_median, 2),
        "peak_rss_mib": round(peak, 1),
        "rss_mib": round(statistics.median(s.rss_kib for s in samples) / 1024, 1),
        "tls_ms": None,
        "tls_ratio": None,
    }
    row["pass"] = {"init": row["ratio"] <= TARGETS.init_ratio,
                   "binary": size / MIB <= TARGETS.binary_mib,
                   "rss": peak <= TARGETS.rss_mib}
    if tls_median is not None and baseline_tls_median:
        tls = [s.first_request_ms for s in samples if s.first_request_ms is not None]
        row["tls_ms"] = {"median": round(tls_median, 2), "p90": round(_percentile(tls, 90), 2),
                         "min": round(min(tls), 2), "samples": len(tls),
                         # "answer": the first invocation made no AWS request (its answer ended
                         # the clock), so there was no TLS to pay for.
                         "ended_by": sorted({s.ended_by for s in samples if s.ended_by})}
        row["tls_ratio"] = round(tls_median / baseline_tls_median, 2)
        row["pass"]["tls"] = row["tls_ratio"] <= TARGETS.tls_ratio
    return row


def summarise(baseline: Subject, subjects: list[Subject],
              samples: dict[str, list[Sample]]) -> list[dict[str, Any]]:
    """One row per subject, the baseline first."""
    base = statistics.median(s.init_ms for s in samples[baseline.binary])
    base_tls = _first_request_median(samples[baseline.binary])
    return [_row(s, samples[s.binary], base, base_tls) for s in (baseline, *subjects)]


def first_event(binary: str, settings: config.Settings) -> bytes | None:
    """The payload of `binary`'s first invocation (`FIRST_EVENTS`), the TMS webhook's signed
    now with the local secret, as its handler checks; None when it has none."""
    if binary == BASELINE:
        return b"{}"
    if binary not in FIRST_EVENTS:
        return None
    event = json.loads((ROOT / FIRST_EVENTS[binary]).read_text())
    if binary == "tms-webhook":
        event = simulate.resign_sample(event, settings.tms_webhook_secret, int(time.time()))
    return json.dumps(event).encode()


def subjects_of(stack: LocalStack, settings: config.Settings, lambda_dir: Path,
                only: set[str] | None = None) -> tuple[Subject, list[Subject]]:
    """hello-lambda and every function of the template (those in `only` when given), each with
    the environment the local stack gives it (the template's variables and the local SDK
    settings: credentials from the environment, so init needs no network) and its first event."""
    common = functions_env(settings, stack)
    baseline = Subject(BASELINE, lambda_dir / BASELINE / "bootstrap", common,
                       event=first_event(BASELINE, settings))
    subjects = [Subject(fn.binary, lambda_dir / fn.binary / "bootstrap",
                        {**common, **fn.environment}, fn.name, fn.memory,
                        first_event(fn.binary, settings))
                for fn in stack.functions if only is None or fn.binary in only]
    if only is not None and (unknown := only - {s.binary for s in subjects}):
        raise ColdStartError(f"no function of the template has the binary {sorted(unknown)}")
    return baseline, subjects


def measure(rounds: int = 15, build: bool = True, only: set[str] | None = None
            ) -> dict[str, Any]:
    """Build (unless told not to or up to date), then measure every template function (those
    in `only` when given) and hello-lambda. The result is JSON-ready; `markdown()` renders it."""
    settings = config.load()
    stack = LocalStack.from_template(settings)
    metadata = _cargo_metadata()
    rustc, host_triple = _rustc()
    lambda_dir = Path(metadata["target_directory"]) / "lambda"
    baseline, subjects = subjects_of(stack, settings, lambda_dir, only)
    binaries = sorted({s.binary for s in (baseline, *subjects)})
    build_seconds = build_release(binaries, lambda_dir, host_triple, metadata) if build else None
    missing = [s.binary for s in (baseline, *subjects) if not s.path.exists()]
    if missing:
        raise ColdStartError(f"no release bootstrap for {', '.join(missing)} under {lambda_dir}: "
                             "run without --no-build")
    logs = BENCH / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    for old in logs.glob("*.log"):
        old.unlink()
    say(f"{rounds} rounds of {len(subjects)} functions, each after a {BASELINE} cold start "
        f"(outputs: {logs})")
    load = os.getloadavg()
    samples = sample_rounds(baseline, subjects, rounds, logs)
    return report(summarise(baseline, subjects, samples), rounds=rounds, rustc=rustc,
                  host_triple=host_triple, load=load, build_seconds=build_seconds,
                  deployed_arch=sorted({fn.architecture for fn in stack.functions}),
                  metrics=baseline.environment.get("OMS_METRICS", "off"))


def report(rows: list[dict[str, Any]], *, rounds: int, rustc: str, host_triple: str,
           load: tuple[float, float, float], build_seconds: float | None,
           deployed_arch: list[str], metrics: str = "off") -> dict[str, Any]:
    """The rows with what it takes to read them: where and how they were measured, the targets."""
    return {
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "commit": _git_commit(),
        # The machine's load when the rounds started: the build of someone else skews medians.
        "host": {"arch": platform.machine(), "cpus": os.cpu_count(),
                 "load_average": [round(x, 2) for x in load]},
        "deployed_arch": deployed_arch,
        "note": f"binaries built for the host ({host_triple}), not for the deployed arch: "
                "sizes and times are the host's",
        "rustc": rustc,
        # The one template parameter that changes every function's start (`./dev bench` sets
        # Metrics=emf for its stack phases): say which way they were measured.
        "metrics": metrics,
        "profile": tomllib.loads((ROOT / "Cargo.toml").read_text())["profile"]["release"],
        "build_seconds": round(build_seconds) if build_seconds is not None else None,
        "rounds": rounds,
        "targets": {"init_ratio": TARGETS.init_ratio, "tls_ratio": TARGETS.tls_ratio,
                    "binary_mib": TARGETS.binary_mib, "rss_mib": TARGETS.rss_mib},
        "baseline": BASELINE,
        "rows": rows,
    }


def _git_commit() -> str | None:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                         text=True)
    return out.stdout.strip() or None


def cold_start_ratio(result: dict[str, Any]) -> float | None:
    """The worst function's init + first TLS request over hello-lambda's: the figure issue 16's
    target (≤ 1.5×) is about."""
    ratios = [r["tls_ratio"] for r in result["rows"]
              if r["binary"] != result["baseline"] and r.get("tls_ratio") is not None]
    return max(ratios) if ratios else None


def markdown(result: dict[str, Any]) -> str:
    t, host, base = result["targets"], result["host"], result["baseline"]
    worst = cold_start_ratio(result)
    head = [
        f"cold start ratio: {worst:.2f}× (the worst function's init + first TLS request over "
        f"{base}'s; target ≤ {t['tls_ratio']}×)" if worst is not None else
        "cold start ratio: not measured (no first TLS request)",
        "",
        f"Cold start, {result['rounds']} rounds, {result['measured_at']}"
        f" (commit {result['commit']}): {host['arch']} host, {host['cpus']} CPUs, load average "
        f"{' '.join(str(x) for x in host['load_average'])}; {result['rustc']}.",
        f"Deployed on {', '.join(result['deployed_arch'])}; {result['note']}. Functions "
        f"started with OMS_METRICS={result['metrics']}.",
        f"Init: process spawn to its first `GET /runtime/invocation/next`; × {base}: the "
        f"function's median over {base}'s. Peak RSS: VmHWM at that poll. Init + TLS: spawn to "
        "its first AWS request read by a local HTTPS endpoint, the first poll answered with a "
        "sample event († no AWS request: to the invocation's answer).",
        "",
        f"| function | binary MiB | zip MiB | init median ms | init p90 ms | × {base} "
        f"| init + TLS median ms | init + TLS p90 ms | × {base} "
        f"| peak RSS MiB | init ≤ {t['init_ratio']}× | init + TLS ≤ {t['tls_ratio']}× "
        f"| binary ≤ {t['binary_mib']:g} MiB | RSS ≤ {t['rss_mib']:g} MiB |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|:-:|:-:|:-:|:-:|",
    ]
    rows = []
    for r in result["rows"]:
        is_base = r["binary"] == base
        checks = ("init", "tls", "binary", "rss")
        verdicts = [""] * len(checks) if is_base else [
            "–" if k not in r["pass"] else "pass" if r["pass"][k] else "**FAIL**"
            for k in checks]
        tls = r.get("tls_ms")
        if tls is None:
            tls_cells = "– | – | –"
        else:
            mark = " †" if tls["ended_by"] == ["answer"] else ""
            tls_cells = f"{tls['median']:.2f}{mark} | {tls['p90']:.2f} | {r['tls_ratio']:.2f}"
        rows.append(
            f"| {r['binary']}{' (baseline)' if is_base else ''} | {r['size_mib']:.2f} "
            f"| {r['zip_mib']:.2f} | {r['init_ms']['median']:.2f} | {r['init_ms']['p90']:.2f} "
            f"| {r['ratio']:.2f} | {tls_cells} | {r['peak_rss_mib']:.1f} | "
            + " | ".join(verdicts) + " |")
    return "\n".join(head + rows) + "\n"


def main(rounds: int = 15, build: bool = True, only: set[str] | None = None) -> int:
    """`./dev bench-coldstart`: measure, print the table, write .local/bench/coldstart.{json,md}."""
    try:
        result = measure(rounds, build, only)
    except (ColdStartError, subprocess.CalledProcessError) as exc:
        say(f"FAILED: {exc}")
        return 1
    text = markdown(result)
    BENCH.mkdir(parents=True, exist_ok=True)
    (BENCH / "coldstart.json").write_text(json.dumps(result, indent=2) + "\n")
    (BENCH / "coldstart.md").write_text(text)
    print("\n" + text, flush=True)
    say(f"written: {BENCH / 'coldstart.json'}, {BENCH / 'coldstart.md'}")
    return 0
