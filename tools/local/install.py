"""`./dev install`: everything the local tooling needs, into .local/, idempotent and quick.

Standard library only: it runs with the machine's python3 before the venv exists. Each step is
skipped when its stamp (a hash of its requirement files) matches: the Python venv with the pinned
tools/local/requirements.txt, the npm packages of tools/local/package.json (+ lock) under
.local/node, cargo-deny (built from crates.io into .local/cargo), and a Java runtime for DynamoDB
Local (apt-get when missing).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
LOCAL = ROOT / ".local"
VENV = LOCAL / "venv"
NODE = LOCAL / "node"
STAMPS = LOCAL / "stamps"
CARGO_ROOT = LOCAL / "cargo"
# cargo-deny for licenses, bans and sources (deny.toml); compiled from crates.io, ~6 min on 2 cores.
CARGO_DENY_VERSION = "0.20.2"
CARGO_DENY = CARGO_ROOT / "bin" / "cargo-deny"


def say(message: str) -> None:
    print(f"[dev install] {message}", flush=True)


def _digest(*paths: Path, extra: str = "") -> str:
    h = hashlib.sha256(extra.encode())
    for path in paths:
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _stamp_ok(name: str, digest: str) -> bool:
    try:
        return (STAMPS / name).read_text().strip() == digest
    except OSError:
        return False


def _stamp(name: str, digest: str) -> None:
    STAMPS.mkdir(parents=True, exist_ok=True)
    (STAMPS / name).write_text(digest + "\n")


def _run(argv: list[str], **kwargs: object) -> None:
    result = subprocess.run(argv, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        raise SystemExit(f"[dev install] failed ({result.returncode}): {' '.join(argv)}")


def python_tools() -> None:
    requirements = HERE / "requirements.txt"
    digest = _digest(requirements, extra=sys.version)
    python = VENV / "bin" / "python"
    if python.exists() and _stamp_ok("venv", digest):
        return
    started = time.monotonic()
    if not python.exists():
        say(f"creating {VENV}")
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    say("installing Python tools (tools/local/requirements.txt)")
    _run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
          "-r", str(requirements)])
    _stamp("venv", digest)
    say(f"Python tools ready in {time.monotonic() - started:.0f} s")


def node_tools() -> None:
    package, lock = HERE / "package.json", HERE / "package-lock.json"
    digest = _digest(package, lock)
    if (NODE / "node_modules").is_dir() and _stamp_ok("node", digest):
        return
    npm = shutil.which("npm")
    if not npm:
        raise SystemExit("[dev install] npm not found: install Node.js 20+ (with npm)")
    started = time.monotonic()
    say("installing npm packages (tools/local/package.json) into .local/node")
    NODE.mkdir(parents=True, exist_ok=True)
    shutil.copy2(package, NODE / "package.json")
    shutil.copy2(lock, NODE / "package-lock.json")
    _run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error", "--engine-strict=false"],
         cwd=NODE)
    _stamp("node", digest)
    say(f"npm packages ready in {time.monotonic() - started:.0f} s")


def cargo_tools() -> None:
    digest = _digest(extra=f"cargo-deny {CARGO_DENY_VERSION}")
    if CARGO_DENY.exists() and _stamp_ok("cargo", digest):
        return
    started = time.monotonic()
    say(f"building cargo-deny {CARGO_DENY_VERSION} into {CARGO_ROOT} (once; several minutes)")
    # Its own lock file (--locked) and a target dir of its own, kept out of the workspace's.
    _run(["cargo", "install", "cargo-deny", "--version", CARGO_DENY_VERSION, "--locked",
          "--root", str(CARGO_ROOT), "--target-dir", str(LOCAL / "cargo-build")])
    shutil.rmtree(LOCAL / "cargo-build", ignore_errors=True)
    _stamp("cargo", digest)
    say(f"cargo-deny ready in {time.monotonic() - started:.0f} s")


def java() -> None:
    if shutil.which("java"):
        return
    if os.geteuid() != 0:
        raise SystemExit("[dev install] java is missing and we are not root: "
                         "install a Java 17+ runtime (e.g. default-jre-headless)")
    say("java not found: installing default-jre-headless with apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    _run(["apt-get", "update", "-q"], env=env)
    _run(["apt-get", "install", "-y", "-q", "--no-install-recommends", "default-jre-headless"],
         env=env)


def main() -> int:
    for tool in ("cargo", "node"):
        if not shutil.which(tool):
            raise SystemExit(f"[dev install] {tool} not found on PATH")
    LOCAL.mkdir(exist_ok=True)
    python_tools()
    node_tools()
    cargo_tools()
    java()
    return 0


if __name__ == "__main__":
    sys.exit(main())
