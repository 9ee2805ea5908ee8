"""`./dev bench`: what an order costs and how fast the OMS goes, measured on the local stack.

1. Lifecycle: N orders go create → allocate → fulfil → ship → deliver → COMPLETED, driven the way
   the outside world drives them (the HTTP API, WMS events on the bus, signed TMS callbacks). The
   stack runs with `Metrics=emf`, so every invocation reports its handler time, requests,
   DynamoDB capacity and events (tools/bench/pybench/metering.py reads them back); the workflow's state
   transitions come from moto's execution histories. DynamoDB units are recomputed by AWS's
   billing rules (tools/bench/pybench/dynamo_units.py) from the items each request named and the
   before/after images the table's stream holds, read with the bench's own iterator; DynamoDB
   Local's own figures are printed beside them. CloudWatch Logs from the bytes the functions
   wrote. Priced with tools/bench/pybench/prices.json, as dollars per million orders, for the
   template's workflow type and the other one, on-demand and provisioned.
2. Throughput: orders per second from create to ALLOCATED at several concurrencies, next to the
   raw rates of the emulators underneath, measured in the same run, and the bound they set for
   the requests one order needs; and the CPU each process of the stack used meanwhile
   (tools/bench/pybench/cpu.py), which shows what the local figure is bound by.
3. Listing: `list-latency` (tools/bench/oms-bench) times list queries at 1,000 and 20,000 orders.
4. Cold start: tools/bench/pybench/coldstart.py (release builds against a local Runtime API).

The report goes to .local/bench/report.{json,md}. Figures, not assertions: nothing here fails
because a number is high; it fails only when the lifecycle itself does not complete.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import threading
import time
import uuid
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tools.local import config, demo, invoke, simulate, stack
from tools.local.config import LOCAL, LOGS, ROOT
from tools.local.provision import client
from tools.local.template import LocalStack

from . import cpu, dynamo_units, logs, metering

REPORT_DIR = LOCAL / "bench"
WATCH_LOG = LOGS / "watch.log"
WAIT_SECONDS = 180.0
# Statuses an order in the lifecycle must not end up in.
DEAD_ENDS = {"BACKORDERED", "CANCELLED", "PRICE_REJECTED", "PENDING_PRICE_APPROVAL", "DRAFT"}

HUBS = {
    "BENCH-HCM": {"name": "Bench Warehouse HCM", "type": "WAREHOUSE",
                  "location": {"lat": 10.82, "lon": 106.63}, "daily_capacity": 1_000_000,
                  "performance_score": "0.90"},
    "BENCH-HAN": {"name": "Bench Warehouse HAN", "type": "WAREHOUSE",
                  "location": {"lat": 21.03, "lon": 105.85}, "daily_capacity": 1_000_000,
                  "performance_score": "0.85"},
}
# An order of three lines, all in stock at the hub near the customer: one fulfillment request,
# one shipment, the common case.
SKUS = {f"BENCH-{n}": {"name": f"Bench resin {n}", "unit": "KG", "list_price": "32000",
                       "currency": "VND", "tax_rate": "0.10"} for n in (1, 2, 3)}
LINE_QUANTITY = 10


class BenchError(Exception):
    """The run could not measure what it set out to; the message says what went wrong."""


def order_body(reference: str) -> dict[str, Any]:
    return {
        "customer": {"id": "CUST-BENCH", "name": "Bench Customer Co",
                     "delivery_address": {"line1": "1 Le Loi", "city": "Ho Chi Minh City",
                                          "country": "VN", "lat": 10.77, "lon": 106.70}},
        "currency": "VND",
        "external_reference": reference,
        "lines": [{"sku": sku, "quantity": str(LINE_QUANTITY)} for sku in SKUS],
        "submit": True,
    }


# -- talking to the stack ---------------------------------------------------------------------------

@dataclass
class Bench:
    """The running stack as the benchmark drives it, and what it counted on the client side."""

    target: simulate.Target
    settings: config.Settings
    model: LocalStack
    tenant: str = field(default_factory=lambda: f"bench-{uuid.uuid4().hex[:8]}")
    api_requests: int = 0
    inbound_events: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.dynamodb = client("dynamodb", self.settings)
        self.streams = client("dynamodbstreams", self.settings)
        self.events = client("events", self.settings)
        # The bench's warehouse is the local WMS, registered for the bench tenant below.
        self.wms_events = simulate.wms_events_client(self.target.aws_endpoint, self.target.region)
        self.sfn = client("stepfunctions", self.settings)
        self.sqs = client("sqs", self.settings)
        self.token = self.target.token_for(self.tenant)
        self.table = self.model.tables[0].name

    def count(self, api: int = 0, events: int = 0) -> None:
        with self.lock:
            self.api_requests += api
            self.inbound_events += events

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        status, answer = simulate.http(
            method, f"{self.target.api_url}{path}", json.dumps(body).encode() if body else None,
            {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
        if not 200 <= status < 300:
            raise BenchError(f"{method} {path} answered {status}: {answer}")
        return answer

    def set_up_tenant(self, units: int) -> None:
        """Hubs, SKUs, enough stock for every order the run places, and the local WMS as the
        tenant's (not counted)."""
        for path, body in demo.integration_calls():
            self.api("PUT", path, body)
        for hub_id, hub in HUBS.items():
            self.api("PUT", f"/hubs/{hub_id}", hub)
        for sku, spec in SKUS.items():
            self.api("PUT", f"/skus/{sku}", spec)
            self.api("PUT", f"/inventory/BENCH-HCM/{sku}", {"on_hand": str(units)})

    def create_order(self, reference: str) -> str:
        self.count(api=1)
        return str(self.api("POST", "/orders", order_body(reference))["order_id"])

    def order(self, order_id: str) -> dict[str, Any]:
        """The order as stored (read straight from the table, so polling costs the OMS nothing)."""
        item = self.dynamodb.get_item(
            TableName=self.table, ConsistentRead=True,
            Key={"PK": {"S": f"T#{self.tenant}#ORDER#{order_id}"}, "SK": {"S": "ORDER"}},
        ).get("Item")
        if not item:
            raise BenchError(f"order {order_id} is not in the table")
        # The document is zlib-compressed JSON (shared/aws/src/dynamo/order_item.rs).
        return json.loads(zlib.decompress(item["doc"]["B"]))

    def wait_for(self, order_id: str, statuses: set[str]) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            order = self.order(order_id)
            status = order.get("status")
            if status in statuses:
                return order
            if status in DEAD_ENDS or time.monotonic() > deadline:
                raise BenchError(f"order {order_id} is {status}, waited for {sorted(statuses)}")
            time.sleep(0.2)

    def play_warehouse(self, order: dict[str, Any], run_id: str) -> None:
        events = simulate.warehouse_events(order, self.tenant, run_id)
        simulate.send_to_bus(self.wms_events, self.target.event_bus, events)
        self.count(events=len(events))

    def play_carrier(self, shipment_id: str, status: str) -> None:
        body = simulate.tms_callback(shipment_id, status, self.tenant,
                                     f"bench-{uuid.uuid4().hex}", datetime.now(timezone.utc))
        self.count(api=1)
        code, answer = simulate.post_callback(self.target, body)
        if code != 200:
            raise BenchError(f"TMS callback {status} for {shipment_id} answered {code}: {answer}")

    def whole_lifecycle(self, n: int) -> None:
        order_id = self.create_order(f"BENCH-LC-{n}")
        order = self.wait_for(order_id, {"IN_FULFILLMENT"})
        self.play_warehouse(order, f"{order_id[-8:]}{n}")
        order = self.wait_for(order_id, {"SHIPPED"})
        for status in ("IN_TRANSIT", "DELIVERED"):
            for shipment in order.get("shipments", []):
                self.play_carrier(shipment["shipment_id"], status)
        self.wait_for(order_id, {"COMPLETED"})

    def to_allocated(self, n: int) -> float:
        started = time.monotonic()
        order_id = self.create_order(f"BENCH-TP-{n}")
        self.wait_for(order_id, {"ALLOCATED", "IN_FULFILLMENT"})
        return time.monotonic() - started

    def executions_since(self, since: datetime) -> list[metering.Execution]:
        """This tenant's workflow executions started since `since`: type, state transitions,
        duration."""
        out = []
        for machine in self.model.state_machines:
            pages = self.sfn.get_paginator("list_executions").paginate(
                stateMachineArn=machine.arn)
            for page in pages:
                for execution in page["executions"]:
                    if execution["startDate"] < since:
                        continue
                    history = self.sfn.get_execution_history(
                        executionArn=execution["executionArn"], maxResults=1000)["events"]
                    if not history or self.tenant not in str(
                            history[0].get("executionStartedEventDetails", {}).get("input")):
                        continue
                    if execution["status"] not in ("SUCCEEDED", "RUNNING"):
                        say(f"workflow {execution['executionArn']} is {execution['status']}")
                    stop = execution.get("stopDate") or datetime.now(timezone.utc)
                    out.append(metering.Execution(
                        machine.type, metering.transitions_in(history),
                        (stop - execution["startDate"]).total_seconds() * 1000))
        return out

    def queue_messages(self) -> int:
        """This tenant's messages that rules sent to consumers' queues (taken off the queue).
        The event tap is a local inspection aid, not part of an order's path."""
        targets = {target.arn for rule in self.model.rules for target in rule.targets}
        count = 0
        for queue in self.model.queues:
            if queue.arn not in targets or queue.logical_id == "EventTapQueue":
                continue
            while True:
                got = self.sqs.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=10,
                                               WaitTimeSeconds=0).get("Messages", [])
                ours = [m for m in got if self.tenant in m.get("Body", "")]
                for message in ours:
                    self.sqs.delete_message(QueueUrl=queue.url,
                                            ReceiptHandle=message["ReceiptHandle"])
                count += len(ours)
                if not got:
                    break
        return count


def run_all(work: Callable[[int], Any], count: int, concurrency: int) -> tuple[list[Any], float]:
    """`work(i)` for i in range(count) on `concurrency` threads; results and wall time."""
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(work, range(count)))
    return results, time.monotonic() - started


def settle(quiet_seconds: float = 3.0, limit: float = 60.0) -> None:
    """Waits until the functions stop writing (the relay and the workflow finish after the
    order's last status), so a phase's records are all in before they are read."""
    deadline = time.monotonic() + limit
    size = metering.log_size(WATCH_LOG)
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = metering.log_size(WATCH_LOG)
        if now != size:
            size, quiet_since = now, time.monotonic()
        elif time.monotonic() - quiet_since >= quiet_seconds:
            return


# -- the phases -------------------------------------------------------------------------------------

def stream_changes(bench: Bench) -> list[dynamo_units.Change]:
    """Every change the stack's streamed tables hold so far, in order."""
    out = []
    for table in bench.model.tables:
        if table.stream_view_type:
            keys = tuple(k["AttributeName"] for k in table.create_args["KeySchema"])
            records = dynamo_units.read_stream(bench.dynamodb, bench.streams, table.name)
            out += dynamo_units.stream_changes(records, table.name, keys)
    return out


def aws_units(bench: Bench, records: list[dict[str, Any]],
              before: list[dynamo_units.Change]) -> tuple[float, dynamo_units.WriteUnits]:
    """Read and write units of the run by AWS's rules: the EMF lines' requests paired with the
    changes the streams recorded since `before` was read."""
    changes = stream_changes(bench)[len(before):]
    # The inputs, to check the figures by hand.
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    (REPORT_DIR / "lifecycle-emf.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (REPORT_DIR / "lifecycle-stream.jsonl").write_text("".join(
        json.dumps({"key": c.key, "old": c.old, "new": c.new}, default=repr) + "\n"
        for c in changes))
    shapes = {t.name: dynamo_units.TableShape.from_create_args(t.create_args)
              for t in bench.model.tables}
    writes = [{**w, "fn": r["FunctionName"]} for r in records for w in r.get("Writes") or []]
    units = dynamo_units.attribute(writes, changes, shapes, dynamo_units.last_images(before))
    reads = sum(dynamo_units.read_units(q["op"], q["consistent"], q["sizes"])
                for r in records for q in r.get("Reads") or [])
    return reads, units


def lifecycle(bench: Bench, orders: int, concurrency: int) -> dict[str, Any]:
    say(f"lifecycle: {orders} orders, {concurrency} at a time")
    since = datetime.now(timezone.utc)
    before = stream_changes(bench)
    offset = metering.log_size(WATCH_LOG)
    api_before, events_before = bench.api_requests, bench.inbound_events
    _, seconds = run_all(bench.whole_lifecycle, orders, concurrency)
    settle()
    records, _ = metering.read_emf(WATCH_LOG, offset)
    log_bytes = logs.bytes_by_function(logs.read_lines(WATCH_LOG, offset), records)
    aws_reads, aws_writes = aws_units(bench, records, before)
    executions = bench.executions_since(since)
    functions = metering.usage_by_function(records)
    costs = metering.OrderCosts(
        orders=orders, functions=functions,
        memory_mb={fn.binary: fn.memory for fn in bench.model.functions},
        executions=executions,
        api_requests=bench.api_requests - api_before,
        inbound_events=bench.inbound_events - events_before,
        queue_messages=bench.queue_messages(),
        aws_read_units=aws_reads, aws_write_units=float(aws_writes.total),
        log_bytes=sum(log_bytes.values()))
    prices = metering.load_prices()
    machines = {m.name: m.type for m in bench.model.state_machines}
    all_us = [us for usage in functions.values() for us in usage.handler_us]
    return {
        "orders": orders, "concurrency": concurrency, "seconds": round(seconds, 1),
        "per_order": {
            "lambda_invocations": costs.per_order(sum(u.invocations for u in functions.values())),
            "dynamodb_read_units": round(costs.per_order(aws_reads), 2),
            "dynamodb_write_units": round(costs.per_order(aws_writes.total), 2),
            "dynamodb_read_units_local": round(costs.per_order(
                sum(u.read_units for u in functions.values())), 2),
            "dynamodb_write_units_local": round(costs.per_order(
                sum(u.write_units for u in functions.values())), 2),
            "log_kib": round(costs.per_order(costs.log_bytes) / 1024, 2),
            "workflow_executions": costs.per_order(len(executions)),
            "state_transitions": costs.per_order(sum(e.transitions for e in executions)),
            "events_put_by_oms": costs.per_order(sum(u.events_put for u in functions.values())),
            "events_left_off_the_bus": costs.per_order(sum(u.events_skipped for u in functions.values())),
            "events_put_by_wms": costs.per_order(costs.inbound_events),
            "sqs_messages": costs.per_order(costs.queue_messages),
            "api_requests": costs.per_order(costs.api_requests),
        },
        "handler_ms_p50": round(metering.percentile(all_us, 50) / 1000, 2),
        "handler_ms_p99": round(metering.percentile(all_us, 99) / 1000, 2),
        "functions": {name: {**usage.summary(orders),
                             "aws_write_units": round(aws_writes.by_function[name] / orders, 2),
                             "log_kib": round(log_bytes.get(name, 0) / orders / 1024, 2)}
                      for name, usage in functions.items()},
        "write_units": {
            "by_item": {k: round(v / orders, 2) for k, v in aws_writes.by_category.most_common()},
            "by_index": {k: round(v / orders, 2) for k, v in sorted(aws_writes.by_index.items())},
            "transactional_items": round(aws_writes.transactional_items / orders, 2),
            "plain_items": round(aws_writes.plain_items / orders, 2),
            "unchanged_writes": aws_writes.unchanged_writes,
            "refused_writes": aws_writes.refused_writes,
            "unattributed_changes": aws_writes.unattributed_changes,
        },
        "workflows": machines,
        "dollars_per_million_orders": {
            "as designed": metering.price(costs, prices),
            "as designed, provisioned at 70%": metering.price(costs, prices, capacity="provisioned"),
            "as designed, DynamoDB Local's units": metering.price(costs, prices, units="local"),
            "all STANDARD": metering.price(costs, prices, "STANDARD"),
            "all EXPRESS": metering.price(costs, prices, "EXPRESS")},
        "prices": {"as_of": prices["as_of"], "region": prices["region"],
                   "dynamodb_on_demand_read_write": metering.dynamodb_unit_prices(prices["dynamodb"],
                                                                                  "on-demand")},
    }


def throughput(bench: Bench, levels: list[int], orders_at: Callable[[int], int]) -> dict[str, Any]:
    """Orders per second to ALLOCATED per concurrency, and what the emulators allow."""
    out: dict[str, Any] = {"levels": []}
    for level in levels:
        count = orders_at(level)
        say(f"throughput: {count} orders to ALLOCATED, {level} at a time")
        offset = metering.log_size(WATCH_LOG)
        before = cpu.snapshot()
        latencies, seconds = run_all(bench.to_allocated, count, level)
        processes = cpu.usage(before, cpu.snapshot(), seconds)
        settle(quiet_seconds=2.0)
        records, _ = metering.read_emf(WATCH_LOG, offset)
        needs = requests_per_order(records, count, api_per_order=1)
        raw = raw_rates(bench, level)
        bounds = {kind: raw[kind] / needs[kind] for kind in raw if needs.get(kind)}
        limit = min(bounds.values()) if bounds else 0.0
        achieved = count / seconds
        out["levels"].append({
            "concurrency": level, "orders": count, "seconds": round(seconds, 2),
            "orders_per_second": round(achieved, 2),
            "latency_ms_p50": round(metering.percentile(latencies, 50) * 1000),
            "latency_ms_p99": round(metering.percentile(latencies, 99) * 1000),
            "requests_per_order": {k: round(v, 2) for k, v in needs.items()},
            "emulator_requests_per_second": {k: round(v, 1) for k, v in raw.items()},
            "emulator_bound_orders_per_second": {k: round(v, 2) for k, v in bounds.items()},
            "share_of_emulator_bound": round(achieved / limit, 3) if limit else None,
            "cpu": processes,
        })
    return out


def requests_per_order(records: list[dict[str, Any]], orders: int,
                       api_per_order: int) -> dict[str, float]:
    """What one order asks of each emulator: DynamoDB Local (the functions' DynamoDB requests),
    cargo lambda watch (invocations), and the harness process, which every invocation and AWS
    request other than DynamoDB's goes through (moto, the gateway, the pollers)."""
    dynamodb = sum(v for r in records for k, v in (r.get("Calls") or {}).items()
                   if k.startswith("DynamoDB."))
    other_aws = sum(v for r in records for k, v in (r.get("Calls") or {}).items()
                    if not k.startswith("DynamoDB."))
    invocations = len(records)
    return {"dynamodb": dynamodb / orders, "lambda": invocations / orders,
            "harness": (invocations + other_aws) / orders + api_per_order}


def raw_rates(bench: Bench, concurrency: int, seconds: float = 4.0) -> dict[str, float]:
    """Requests per second each emulator serves at `concurrency`, with the cheapest request of
    the kind an order makes: DynamoDB Local the order's mix (oms-bench `dynamo-rate`), watch a
    hello-world invocation, the harness an EventBridge PutEvents."""
    out = {"dynamodb": dynamo_rate(bench, concurrency, seconds)}

    def invoke_hello() -> None:
        result = invoke.invoke(bench.settings.watch_url, "hello-lambda", b'{"bench": true}')
        if result.failed:
            raise BenchError(f"hello-lambda failed under watch: {result.payload[:500]!r}")

    invoke_hello()  # watch builds a function on its first call: not part of the rate
    out["lambda"] = hammer(invoke_hello, concurrency, seconds)
    events = bench.events

    def put_event() -> None:
        events.put_events(Entries=[{"Source": "bench", "DetailType": "Ping", "Detail": "{}",
                                    "EventBusName": bench.target.event_bus}])

    out["harness"] = hammer(put_event, concurrency, seconds)
    return out


def hammer(request: Callable[[], None], concurrency: int, seconds: float) -> float:
    """Requests per second from `concurrency` threads making `request` for `seconds`."""
    done = [0] * concurrency
    stop = time.monotonic() + seconds

    def worker(slot: int) -> None:
        while time.monotonic() < stop:
            request()
            done[slot] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(slot,)) for slot in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.monotonic() - started)


def _bench_tool(binary: str, args: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Runs a bin of the oms-bench crate (built optimised) and returns the JSON it prints."""
    command = ["cargo", "run", "--quiet", "--profile", "bench-tools", "-p", "oms-bench",
               "--bin", binary, "--", *args]
    result = subprocess.run(command, cwd=ROOT, env={**os.environ, **env}, capture_output=True,
                            text=True)
    if result.returncode != 0:
        raise BenchError(f"{binary} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout)


def _tool_env(bench: Bench) -> dict[str, str]:
    # A table of its own: the stack's table streams to the relay, which would publish the events
    # of every order the tools write and slow the run down.
    return {**bench.settings.aws_env(), "OMS_DYNAMODB_ENDPOINT": bench.settings.dynamodb_endpoint,
            "OMS_TABLE_NAME": f"{bench.settings.stack_name}-bench", "CARGO_INCREMENTAL": "0"}


def dynamo_rate(bench: Bench, concurrency: int, seconds: float) -> float:
    result = _bench_tool("dynamo-rate", ["--concurrency", str(concurrency),
                                         "--seconds", str(int(seconds))], _tool_env(bench))
    return float(result["runs"][0]["per_second"])


def listing(bench: Bench, small: int = 1000, large: int = 20000) -> dict[str, Any]:
    say(f"listing: {small:,} vs {large:,} orders (seeding takes a few minutes)")
    return _bench_tool("list-latency", ["--small", str(small), "--large", str(large)],
                       _tool_env(bench))


# -- the command ------------------------------------------------------------------------------------

def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gib = None
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory_gib = round(kib / 1024 / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": memory_gib,
            "os": platform.platform(), "arch": platform.machine(), "rustc": rustc,
            "build": "functions as debug builds under cargo lambda watch (as ./dev up runs them)"}


def run(orders: int = 200, concurrency: int = 8, levels: tuple[int, ...] = (1, 4, 16),
        phases: set[str] | None = None, rounds: int = 15) -> int:
    phases = phases or {"lifecycle", "throughput", "listing", "coldstart"}
    report: dict[str, Any] = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                              "machine": machine()}
    stack_phases = phases & {"lifecycle", "throughput", "listing"}
    overrides = os.environ.get("OMS_PARAMETER_OVERRIDES", "")
    if stack_phases:
        os.environ["OMS_PARAMETER_OVERRIDES"] = ",".join(filter(None, [overrides, "Metrics=emf"]))
        os.environ["OMS_WATCH_RELOAD"] = "0"
        say("starting a fresh local stack with metering on (Metrics=emf)")
        if stack.up(detach=True, fresh=True) != 0:
            print("bench: the local stack did not start", flush=True)
            return 1
        try:
            settings = config.load()
            bench = Bench(simulate.running_target(), settings,
                          LocalStack.from_template(settings))
            placed = orders + sum(_throughput_orders(level) for level in levels)
            bench.set_up_tenant(units=LINE_QUANTITY * placed)
            if "lifecycle" in phases:
                report["lifecycle"] = lifecycle(bench, orders, concurrency)
            if "throughput" in phases:
                report["throughput"] = throughput(bench, list(levels), _throughput_orders)
            if "listing" in phases:
                report["listing"] = listing(bench)
        except (BenchError, simulate.SimulationError) as exc:
            print(f"bench: {exc}", flush=True)
            return 1
        finally:
            stack.down()
            # Cold starts are measured as deployed: metering off.
            os.environ["OMS_PARAMETER_OVERRIDES"] = overrides
    if "coldstart" in phases:
        from . import coldstart

        say("cold start: release builds against a local Runtime API")
        try:
            report["coldstart"] = coldstart.measure(rounds=rounds)
        except (coldstart.ColdStartError, subprocess.CalledProcessError) as exc:
            print(f"bench: cold start: {exc}", flush=True)
            return 1
    from . import bench_report

    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    (REPORT_DIR / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    markdown = bench_report.markdown(report)
    (REPORT_DIR / "report.md").write_text(markdown)
    print(markdown, flush=True)
    say(f"report: {REPORT_DIR / 'report.md'} and report.json")
    return 0


def _throughput_orders(level: int) -> int:
    return max(20, 8 * level)
