"""`./dev bench-coldstart`: what a cold start costs each function, against a hello-world baseline.

On Lambda a cold start is: fetch and unpack the package, start the process, run its init (`main`
up to the runtime's first `GET /2018-06-01/runtime/invocation/next`). Here we measure what the
code decides: the release binary's size (zipped, as Lambda fetches it), the init time, and the
memory the process holds once init is done.

Init is timed against a Runtime API of our own on loopback (`RuntimeApi`): spawn the bootstrap
with the environment Lambda would give it, stop the clock when its first poll connects, hold
that poll open (the process is now parked, as a warm sandbox waits for an event), read its
VmHWM/VmRSS from /proc, kill it. `hello-lambda` (tools/bench) is the same runtime, executor and
release profile with nothing else, so a function's ratio to it is what its own init adds (logs,
config, SDK clients); a hello-lambda run precedes every function run, so machine noise hits both
alike. The host builds for its own arch: sizes and times are the host's, not the deployed arm64's.

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
import signal
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

from tools.local import config, procs
from tools.local.config import HOST, LOCAL, ROOT, RUN_TAG_VAR, VENV
from tools.local.stack import functions_env
from tools.local.template import LocalStack

BENCH = LOCAL / "bench"
BASELINE = "hello-lambda"
NEXT_PATH = "/2018-06-01/runtime/invocation/next"
MIB = 1024 * 1024


@dataclass(frozen=True)
class Targets:
    init_ratio: float = 1.5  # a function's median init over hello-lambda's
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
        release = self.server.api.note_poll(at, dict(self.headers))
        release.wait(600)  # no answer: the runtime stays parked in its poll until killed
        self.close_connection = True

    def do_POST(self) -> None:  # noqa: N802
        # An init error (`/runtime/init/error`) or anything else: kept for the error message.
        self.server.accepted_at.pop(self.request, None)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.api.posted.append((self.path, body.decode(errors="replace")))
        self._answer(202)

    def _answer(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


class RuntimeApi:
    """Lambda's Runtime API as far as init goes, on 127.0.0.1 and a free port: it notes when the
    first `GET .../invocation/next` connects and never answers it. One process at a time:
    `expect()` before each spawn."""

    def __init__(self) -> None:
        self.posted: list[tuple[str, str]] = []
        self.poll_headers: dict[str, str] = {}
        self._lock = threading.Lock()
        self._poll = threading.Event()
        self._polled_at = 0.0
        self._release = threading.Event()
        self._server = _Server(self)
        threading.Thread(target=self._server.serve_forever, name="runtime-api",
                         daemon=True).start()

    @property
    def address(self) -> str:
        """The value of AWS_LAMBDA_RUNTIME_API."""
        return f"{HOST}:{self._server.server_address[1]}"

    def expect(self) -> None:
        """Forget the last process: let its held poll go, and wait for a new first poll."""
        with self._lock:
            self._release.set()
            self._release = threading.Event()
            self._poll.clear()
            self.poll_headers = {}
            self.posted.clear()

    def note_poll(self, at: float, headers: dict[str, str]) -> threading.Event:
        """Keeps the first poll since `expect()`; returns what releases the poll held open."""
        with self._lock:
            if not self._poll.is_set():
                self._polled_at, self.poll_headers = at, headers
                self._poll.set()
            return self._release

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


# -- one cold start -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """A bootstrap to cold-start and what its function is on Lambda."""

    binary: str
    path: Path
    environment: dict[str, str]  # the function's own variables, as the local stack sets them
    function_name: str = ""  # AWS_LAMBDA_FUNCTION_NAME; the binary's name when empty
    memory: int = 128


@dataclass(frozen=True)
class Sample:
    init_ms: float
    peak_rss_kib: int  # VmHWM: the most the process ever held, so far only init
    rss_kib: int  # VmRSS at the first poll
    pid: int


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
               timeout: float = 20.0) -> Sample:
    """Spawn the bootstrap, time it to its first poll, read its memory there, kill it."""
    api.expect()
    env = lambda_environment(subject, api.address, tag)
    started = time.perf_counter()
    process = procs.start([str(subject.path)], env=env, log=log, cwd=subject.path.parent)
    try:
        polled = api.wait_for_poll(process, timeout)
        if polled is None:
            raise ColdStartError(_no_poll(subject, process, api, log, timeout))
        peak, rss = _memory_kib(process.pid)
    finally:
        _kill(process)
    return Sample(init_ms=(polled - started) * 1000, peak_rss_kib=peak, rss_kib=rss,
                  pid=process.pid)


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
                  seed: int = 0) -> dict[str, list[Sample]]:
    """`rounds` cold starts of each subject, each right after one of the baseline, in a fresh
    shuffled order per round; one unrecorded start of each first, so no sample pays for reading
    the binary from disk."""
    tag = f"{procs.tag_prefix()}coldstart-{uuid.uuid4().hex[:8]}"
    shuffle = random.Random(seed).shuffle
    samples: dict[str, list[Sample]] = {s.binary: [] for s in (baseline, *subjects)}
    api = RuntimeApi()
    try:
        for subject in (baseline, *subjects):
            cold_start(subject, api, logs / f"{subject.binary}.log", tag)
        for round_no in range(1, rounds + 1):
            say(f"round {round_no}/{rounds}")
            order = list(subjects)
            shuffle(order)
            for subject in order:
                for s in (baseline, subject):
                    samples[s.binary].append(cold_start(s, api, logs / f"{s.binary}.log", tag))
    finally:
        api.close()
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


def _row(subject: Subject, samples: list[Sample], baseline_median: float) -> dict[str, Any]:
    inits = [s.init_ms for s in samples]
    median = statistics.median(inits)
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
    }
    row["pass"] = {"init": row["ratio"] <= TARGETS.init_ratio,
                   "binary": size / MIB <= TARGETS.binary_mib,
                   "rss": peak <= TARGETS.rss_mib}
    return row


def summarise(baseline: Subject, subjects: list[Subject],
              samples: dict[str, list[Sample]]) -> list[dict[str, Any]]:
    """One row per subject, the baseline first."""
    base = statistics.median(s.init_ms for s in samples[baseline.binary])
    return [_row(s, samples[s.binary], base) for s in (baseline, *subjects)]


def subjects_of(stack: LocalStack, settings: config.Settings, lambda_dir: Path
                ) -> tuple[Subject, list[Subject]]:
    """hello-lambda and every function of the template, each with the environment the local
    stack gives it (the template's variables and the local SDK settings: credentials from the
    environment, so init needs no network)."""
    common = functions_env(settings, stack)
    baseline = Subject(BASELINE, lambda_dir / BASELINE / "bootstrap", common)
    subjects = [Subject(fn.binary, lambda_dir / fn.binary / "bootstrap",
                        {**common, **fn.environment}, fn.name, fn.memory)
                for fn in stack.functions]
    return baseline, subjects


def measure(rounds: int = 15, build: bool = True) -> dict[str, Any]:
    """Build (unless told not to or up to date), then measure every template function and
    hello-lambda. The result is JSON-ready; `markdown()` renders it."""
    settings = config.load()
    stack = LocalStack.from_template(settings)
    metadata = _cargo_metadata()
    rustc, host_triple = _rustc()
    lambda_dir = Path(metadata["target_directory"]) / "lambda"
    baseline, subjects = subjects_of(stack, settings, lambda_dir)
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
        "targets": {"init_ratio": TARGETS.init_ratio, "binary_mib": TARGETS.binary_mib,
                    "rss_mib": TARGETS.rss_mib},
        "baseline": BASELINE,
        "rows": rows,
    }


def _git_commit() -> str | None:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                         text=True)
    return out.stdout.strip() or None


def markdown(result: dict[str, Any]) -> str:
    t, host, base = result["targets"], result["host"], result["baseline"]
    head = [
        f"Cold start, {result['rounds']} rounds, {result['measured_at']}"
        f" (commit {result['commit']}): {host['arch']} host, {host['cpus']} CPUs, load average "
        f"{' '.join(str(x) for x in host['load_average'])}; {result['rustc']}.",
        f"Deployed on {', '.join(result['deployed_arch'])}; {result['note']}. Functions "
        f"started with OMS_METRICS={result['metrics']}.",
        f"Init: process spawn to its first `GET /runtime/invocation/next`; × {base}: the "
        f"function's median over {base}'s. Peak RSS: VmHWM at that poll.",
        "",
        f"| function | binary MiB | zip MiB | init median ms | init p90 ms | × {base} "
        f"| peak RSS MiB | init ≤ {t['init_ratio']}× | binary ≤ {t['binary_mib']:g} MiB "
        f"| RSS ≤ {t['rss_mib']:g} MiB |",
        "|---|--:|--:|--:|--:|--:|--:|:-:|:-:|:-:|",
    ]
    rows = []
    for r in result["rows"]:
        is_base = r["binary"] == base
        verdicts = ["", "", ""] if is_base else \
            ["pass" if r["pass"][k] else "**FAIL**" for k in ("init", "binary", "rss")]
        rows.append(
            f"| {r['binary']}{' (baseline)' if is_base else ''} | {r['size_mib']:.2f} "
            f"| {r['zip_mib']:.2f} | {r['init_ms']['median']:.2f} | {r['init_ms']['p90']:.2f} "
            f"| {r['ratio']:.2f} | {r['peak_rss_mib']:.1f} | " + " | ".join(verdicts) + " |")
    return "\n".join(head + rows) + "\n"


def main(rounds: int = 15, build: bool = True) -> int:
    """`./dev bench-coldstart`: measure, print the table, write .local/bench/coldstart.{json,md}."""
    try:
        result = measure(rounds, build)
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
