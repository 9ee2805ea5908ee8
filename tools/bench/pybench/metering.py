"""Reading what the functions measured about themselves, and pricing it.

With the template parameter `Metrics=emf` every invocation writes one CloudWatch Embedded Metric
Format line (shared/aws/src/metering.rs): handler time, DynamoDB read and write units, events put,
peak memory and the AWS requests made. `cargo lambda watch` collects the functions' output in
its log; `read_emf` takes the lines back from it, `FunctionUsage` adds them up per function, and
`price` turns per-order counts into dollars per million orders with `prices.json`.

DynamoDB is priced from the units AWS's rules give (tools/bench/pybench/dynamo_units.py), not
from what DynamoDB Local reports (which miscounts transactions and indexes); Local's figure is
printed beside it. CloudWatch Logs are priced from the bytes the functions write (`log_bytes`),
as ingestion ($0.50/GB) and storage for the template's retention.

Everything here is pure (unit tested in tests/tooling/test_metering.py).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PRICES_FILE = Path(__file__).resolve().with_name("prices.json")
MILLION = 1_000_000


def load_prices(path: Path = PRICES_FILE) -> dict[str, Any]:
    return json.loads(path.read_text())


def emf_records(lines: Iterable[str]) -> list[dict[str, Any]]:
    """The EMF lines among a log's lines (whatever else the log holds), as dicts."""
    out = []
    decoder = json.JSONDecoder()
    for line in lines:
        if '"_aws"' not in line:
            continue
        # Processes sharing one log can run two lines together: read every object on it.
        start = line.find("{")
        while start >= 0:
            try:
                record, end = decoder.raw_decode(line, start)
            except ValueError:
                start = line.find("{", start + 1)
                continue
            if isinstance(record, dict) and "FunctionName" in record and "HandlerTime" in record:
                out.append(record)
            start = line.find("{", end)
    return out


def read_emf(path: Path, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """The EMF records written to `path` after byte `offset`, and the offset to read on from."""
    try:
        with path.open("rb") as log:
            log.seek(offset)
            data = log.read()
    except FileNotFoundError:
        return [], offset
    # A line being written has no newline yet: leave it for the next read.
    complete = data[:data.rfind(b"\n") + 1]
    return emf_records(complete.decode("utf-8", "replace").splitlines()), offset + len(complete)


def log_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return float(ordered[rank - 1])


@dataclass
class FunctionUsage:
    """One function's invocations in a run, added up."""

    invocations: int = 0
    failures: int = 0
    handler_us: list[int] = field(default_factory=list)
    read_units: float = 0.0
    write_units: float = 0.0
    events_put: int = 0
    # Emitted but left off the bus (the template's `UnpublishedEvents`): not billed.
    events_skipped: int = 0
    peak_rss_kib: int = 0
    calls: Counter[str] = field(default_factory=Counter)
    call_us: Counter[str] = field(default_factory=Counter)  # time in each kind of request

    def add(self, record: dict[str, Any]) -> None:
        self.invocations += 1
        self.failures += 0 if record.get("Ok", True) else 1
        self.handler_us.append(int(record.get("HandlerTime") or 0))
        self.read_units += float(record.get("ReadUnits") or 0)
        self.write_units += float(record.get("WriteUnits") or 0)
        self.events_put += int(record.get("EventsPut") or 0)
        self.events_skipped += int(record.get("EventsSkipped") or 0)
        self.peak_rss_kib = max(self.peak_rss_kib, int(record.get("PeakRss") or 0))
        self.calls.update({k: int(v) for k, v in (record.get("Calls") or {}).items()})
        self.call_us.update({k: int(v) for k, v in (record.get("CallTime") or {}).items()})

    def billed_gb_seconds(self, memory_mb: int, granularity_ms: float = 1.0) -> float:
        """Lambda bills each invocation's duration rounded up to the granularity, times memory."""
        billed_ms = sum(math.ceil(us / 1000 / granularity_ms) * granularity_ms
                        for us in self.handler_us)
        return billed_ms / 1000 * memory_mb / 1024

    def summary(self, per: int) -> dict[str, Any]:
        """Per-order figures (`per` orders) and the handler time distribution in milliseconds."""
        return {
            "invocations": round(self.invocations / per, 3),
            "failures": self.failures,
            "handler_ms_p50": round(percentile(self.handler_us, 50) / 1000, 2),
            "handler_ms_p99": round(percentile(self.handler_us, 99) / 1000, 2),
            "read_units": round(self.read_units / per, 3),
            "write_units": round(self.write_units / per, 3),
            "events_put": round(self.events_put / per, 3),
            "events_skipped": round(self.events_skipped / per, 3),
            "peak_rss_mib": round(self.peak_rss_kib / 1024, 1),
            "calls": {k: round(v / per, 3) for k, v in sorted(self.calls.items())},
            # Per call, not per order: what one request of the kind takes from the handler.
            "call_ms": {k: round(self.call_us[k] / self.calls[k] / 1000, 2)
                        for k in sorted(self.calls) if self.calls[k] and k in self.call_us},
        }


def usage_by_function(records: Iterable[dict[str, Any]]) -> dict[str, FunctionUsage]:
    out: dict[str, FunctionUsage] = {}
    for record in records:
        out.setdefault(str(record["FunctionName"]), FunctionUsage()).add(record)
    return dict(sorted(out.items()))


@dataclass
class Execution:
    """One workflow execution: its machine's type, its state transitions, how long it ran."""

    type: str  # STANDARD or EXPRESS
    transitions: int
    ms: float


@dataclass
class OrderCosts:
    """What N orders used, as counted in one run; `price` divides by N."""

    orders: int
    functions: dict[str, FunctionUsage]
    memory_mb: dict[str, int]  # per function (binary) name, from the template
    executions: list[Execution]
    api_requests: int  # HTTP API requests the outside world made
    inbound_events: int  # events the WMS put on the OMS bus
    queue_messages: int  # messages rules sent to SQS queues consumers read
    requests_per_queue_message: int = 3  # send (by the rule), receive and delete (by the consumer)
    # DynamoDB units by AWS's rules for the whole run (dynamo_units.py); None: Local's figures.
    aws_read_units: float | None = None
    aws_write_units: float | None = None
    log_bytes: int = 0  # what the functions wrote to CloudWatch Logs, platform lines included

    def per_order(self, value: float) -> float:
        return round(value / self.orders, 3)


def workflow_dollars(execution: Execution, sfn: dict[str, Any], as_type: str | None = None) -> float:
    """What one execution costs as its own type, or as `as_type` had its machine been that."""
    if (as_type or execution.type) == "STANDARD":
        return execution.transitions * sfn["standard_per_thousand_transitions"] / 1000
    step = sfn["express_billing_granularity_ms"]
    billed_s = math.ceil(execution.ms / step) * step / 1000
    return (sfn["express_per_million_requests"] / MILLION
            + billed_s * sfn["express_memory_mb"] / 1024 * sfn["express_per_gb_second"])


def dynamodb_unit_prices(ddb: dict[str, Any], capacity: str) -> tuple[float, float]:
    """Dollars per million read and write units: on-demand list prices, or provisioned capacity
    (a unit-hour serves 3,600 requests a second's worth) at the table's target utilisation."""
    if capacity == "on-demand":
        return ddb["per_million_read_request_units"], ddb["per_million_write_request_units"]
    served = 3600 * ddb["provisioned_utilisation"] / MILLION  # millions of units per unit-hour
    return ddb["provisioned_per_rcu_hour"] / served, ddb["provisioned_per_wcu_hour"] / served


def log_dollars(log_bytes: float, logs: dict[str, Any]) -> float:
    """Ingestion plus storage for the retention (priced uncompressed: an upper bound)."""
    gb = log_bytes / 1024 ** 3
    return gb * (logs["per_gb_ingested"] + logs["per_gb_month_stored"] * logs["retention_months"])


def price(costs: OrderCosts, prices: dict[str, Any], workflows_as: str | None = None,
          units: str = "aws", capacity: str = "on-demand") -> dict[str, float]:
    """Dollars per million orders by service: each workflow execution priced as its machine's
    type, or every one as `workflows_as` (to compare the design with the other type); DynamoDB
    from AWS-rule units (or `units="local"`: as DynamoDB Local reported them), on-demand or
    `capacity="provisioned"`."""
    lam, ddb = prices["lambda"], prices["dynamodb"]
    invocations = sum(u.invocations for u in costs.functions.values())
    gb_seconds = sum(u.billed_gb_seconds(costs.memory_mb.get(name, 128),
                                         lam.get("billing_granularity_ms", 1))
                     for name, u in costs.functions.items())
    reads = sum(u.read_units for u in costs.functions.values())
    writes = sum(u.write_units for u in costs.functions.values())
    if units == "aws" and costs.aws_write_units is not None:
        reads, writes = costs.aws_read_units or 0.0, costs.aws_write_units
    per_read, per_write = dynamodb_unit_prices(ddb, capacity)
    events = sum(u.events_put for u in costs.functions.values()) + costs.inbound_events
    total = {
        "lambda": invocations * lam["per_million_requests"] / MILLION
        + gb_seconds * lam["per_gb_second"],
        "dynamodb": (reads * per_read + writes * per_write) / MILLION,
        "stepfunctions": sum(workflow_dollars(e, prices["stepfunctions"], workflows_as)
                             for e in costs.executions),
        "eventbridge": events * prices["eventbridge"]["per_million_custom_events"] / MILLION,
        "sqs": costs.queue_messages * costs.requests_per_queue_message
        * prices["sqs"]["per_million_requests"] / MILLION,
        "apigateway": costs.api_requests * prices["apigateway"]["per_million_http_api_requests"]
        / MILLION,
        "cloudwatch_logs": log_dollars(costs.log_bytes, prices["cloudwatch_logs"]),
    }
    per_million = {service: round(dollars / costs.orders * MILLION, 2)
                   for service, dollars in total.items()}
    per_million["total"] = round(sum(per_million.values()), 2)
    return per_million


def transitions_in(history: list[dict[str, Any]]) -> int:
    """State transitions of one execution as Step Functions bills them: one per state entered."""
    return sum(1 for event in history if str(event.get("type", "")).endswith("StateEntered"))
