"""What the functions write to CloudWatch Logs, counted from their output.

Every function logs JSON lines (shared/aws/src/edge/runtime.rs), and each line written during an
invocation names it: `"spans":[{"requestId": ...}]`. The EMF metering lines name the function of
each request id, so the bytes of a run's lines add up per function. Not counted: the EMF lines
themselves (metering is off as deployed, template parameter `Metrics`), lines written at init
(once per cold start, not per order) and cargo lambda watch's own lines. Counted in their place:
the three lines Lambda itself writes per invocation (START, END, REPORT, in the text format the
template keeps), at the length of AWS's documented examples.
https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html

CloudWatch bills ingestion per GB of log data and storage per GB-month (prices.json).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

REQUEST_ID = re.compile(r'"requestId":"([^"]+)"')
_ID = "6bc28136-xmpl-4365-b021-0ce6b2e64ab0"  # AWS's example request id: the real ones' length
PLATFORM_LINES = (
    f"START RequestId: {_ID} Version: $LATEST\n",
    f"END RequestId: {_ID}\n",
    f"REPORT RequestId: {_ID}\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB"
    "\tMax Memory Used: 23 MB\t\n",
)
PLATFORM_BYTES = sum(len(line.encode()) for line in PLATFORM_LINES)


def read_lines(path: Path, offset: int = 0) -> list[str]:
    """The complete lines written to `path` after byte `offset` (a line being written is left)."""
    try:
        with path.open("rb") as log:
            log.seek(offset)
            data = log.read()
    except FileNotFoundError:
        return []
    complete = data[:data.rfind(b"\n") + 1]
    return complete.decode("utf-8", "replace").splitlines(keepends=True)


def bytes_by_function(lines: Iterable[str], records: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Bytes each function sends to CloudWatch Logs: its lines during the invocations of
    `records` (the run's EMF records), plus Lambda's platform lines for each invocation."""
    function_of = {str(r.get("RequestId")): str(r["FunctionName"]) for r in records}
    out: Counter[str] = Counter()
    for function in function_of.values():
        out[function] += PLATFORM_BYTES
    for line in lines:
        if '"_aws"' in line:
            continue
        match = REQUEST_ID.search(line)
        function = function_of.get(match.group(1)) if match else None
        if function:
            out[function] += len(line.encode())
    return dict(sorted(out.items()))
