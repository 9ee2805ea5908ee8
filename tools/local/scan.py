"""`python -m tools.local checkov`: checkov on the template, held to a committed baseline.

`infra/checkov-baseline.yaml` lists the findings accepted, each with why: a check id, the
resources it is accepted for (logical ids, or `"*"` for every resource the check applies to) and
a reason. The scan fails on any finding the baseline does not accept, and on a baseline entry
that matches no finding any more (a fixed finding leaves the baseline with it), so the baseline
is always the exact list of what checkov reports and why that is acceptable.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .config import ROOT, VENV

TEMPLATE = ROOT / "infra" / "template.yaml"
BASELINE = ROOT / "infra" / "checkov-baseline.yaml"


@dataclass(frozen=True)
class Finding:
    check_id: str
    resource: str  # logical id
    name: str


@dataclass(frozen=True)
class Accepted:
    check_id: str
    resources: tuple[str, ...]  # ("*",) for every resource
    why: str

    def covers(self, finding: Finding) -> bool:
        return finding.check_id == self.check_id and (
            self.resources == ("*",) or finding.resource in self.resources)


def load_baseline(path: Path = BASELINE) -> list[Accepted]:
    """The accepted findings; an entry without a reason, or without resources, is an error."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out = []
    for check_id, entry in raw.items():
        why = str((entry or {}).get("why") or "").strip()
        resources = (entry or {}).get("resources")
        if not why:
            raise ValueError(f"{path.name}: {check_id} says not why it is accepted")
        if resources == "*":
            resources = ["*"]
        if not isinstance(resources, list) or not resources:
            raise ValueError(f"{path.name}: {check_id} names no resources (a list, or \"*\")")
        out.append(Accepted(str(check_id), tuple(str(r) for r in resources), why))
    return out


def findings(report: Any) -> list[Finding]:
    """The failed checks of checkov's JSON report (one report, or a list of them)."""
    reports = report if isinstance(report, list) else [report]
    out = []
    for one in reports:
        for failed in ((one.get("results") or {}).get("failed_checks")) or []:
            # checkov names a resource "<Type>.<LogicalId>"
            out.append(Finding(failed["check_id"], failed["resource"].rsplit(".", 1)[-1],
                               failed.get("check_name", "")))
    return out


def judge(found: list[Finding], baseline: list[Accepted]) -> tuple[list[Finding], list[Accepted]]:
    """Findings no entry accepts, and entries no finding needs."""
    unaccepted = [f for f in found if not any(a.covers(f) for a in baseline)]
    unused = [a for a in baseline if not any(a.covers(f) for f in found)]
    return unaccepted, unused


def run_checkov(template: Path = TEMPLATE) -> Any:
    argv = [str(VENV / "bin" / "checkov"), "--file", str(template), "--framework",
            "cloudformation", "--output", "json", "--quiet", "--skip-download"]
    out = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    # checkov exits 1 when a check failed: that is for the baseline to judge, not an error.
    if out.returncode not in (0, 1) or not out.stdout.strip():
        raise RuntimeError(f"checkov failed (exit {out.returncode}):\n{out.stderr.strip()}")
    return json.loads(out.stdout)


def main() -> int:
    baseline = load_baseline()
    report = run_checkov()
    found = findings(report)
    unaccepted, unused = judge(found, baseline)
    summary = report[0]["summary"] if isinstance(report, list) else report.get("summary", {})
    print(f"checkov {summary.get('checkov_version', '?')}: {summary.get('passed', 0)} passed, "
          f"{len(found)} failed, {len(found) - len(unaccepted)} of them accepted by "
          f"{BASELINE.relative_to(ROOT)}")
    for f in unaccepted:
        print(f"  NOT ACCEPTED {f.check_id} {f.resource}: {f.name}")
    for a in unused:
        print(f"  STALE baseline entry {a.check_id} ({', '.join(a.resources)}): no such finding "
              "any more; remove it")
    return 1 if unaccepted or unused else 0
