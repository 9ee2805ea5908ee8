"""The benchmark report as Markdown (from the JSON `./dev bench` writes), with the issue's targets
beside the figures. Pure: tests/tooling/test_metering.py renders a sample report."""

from __future__ import annotations

from typing import Any

# The targets the figures are read against (reported, never asserted by a timed test).
COST_TARGET = 45.0  # dollars per million orders, whole lifecycle, AWS-rule units, on-demand
THROUGHPUT_TARGET = 0.70  # share of the emulators' bound at the highest concurrency
LISTING_TARGET = 1.5  # time at 20k orders over time at 1k


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def _call(name: str, count: float, call_ms: dict[str, float]) -> str:
    operation = name.split(".", 1)[1]
    return f"{operation} {count:g}" + (f" ({call_ms[name]:g})" if name in call_ms else "")


def lifecycle_section(lc: dict[str, Any]) -> str:
    per = lc["per_order"]
    out = [f"### Lifecycle: {lc['orders']} orders, create → COMPLETED",
           f"{lc['orders']} orders ({lc['concurrency']} at a time) in {lc['seconds']} s. Each: "
           "created through the API (submitted at once), placed by the workflow, picked, packed "
           "and shipped by WMS events, carried and delivered by signed TMS callbacks. The "
           "client polls the table directly, so reads cost the OMS nothing.", "",
           "Per order:", "",
           _table(["Lambda invocations", "DynamoDB RRU (Local)", "DynamoDB WRU (Local)",
                   "Workflow executions", "State transitions",
                   "Events (OMS)", "Events (WMS)", "SQS messages", "API requests", "Log KiB"],
                  [[per["lambda_invocations"],
                    f"{per['dynamodb_read_units']} ({per.get('dynamodb_read_units_local', '-')})",
                    f"{per['dynamodb_write_units']} ({per.get('dynamodb_write_units_local', '-')})",
                    per["workflow_executions"],
                    per["state_transitions"], per["events_put_by_oms"], per["events_put_by_wms"],
                    per["sqs_messages"], per["api_requests"], per.get("log_kib", "-")]]),
           "", "DynamoDB units by AWS's billing rules (tools/bench/pybench/dynamo_units.py), "
           "DynamoDB Local's own figures in brackets. Events the OMS emitted but left off the "
           f"bus (`UnpublishedEvents`, not billed): {per.get('events_left_off_the_bus', '-')} an "
           "order.", ""]
    wu = lc.get("write_units")
    if wu:
        out += ["Where the write units go (per order):", "",
                _table(["Items", *wu["by_item"], *wu["by_index"], "total"],
                       [["WRU", *wu["by_item"].values(), *wu["by_index"].values(),
                         round(sum(wu["by_item"].values()) + sum(wu["by_index"].values()), 2)]]),
                "", f"Items written per order: {wu['transactional_items']:g} in transactions "
                f"(2 units per KB), {wu['plain_items']:g} plainly. In the run: items of refused "
                f"requests (version conflicts) {wu.get('refused_writes', 0)}, writes that changed "
                f"nothing {wu['unchanged_writes']}, changes no metered request named "
                f"{wu['unattributed_changes']} (in the run)."]
    out += ["", "Per function (per order; handler time = event in to response posted, debug "
           "build, DynamoDB Local):", ""]
    rows = []
    for name, fn in lc["functions"].items():
        rows.append([f"`{name}`", fn["invocations"], fn["handler_ms_p50"], fn["handler_ms_p99"],
                     fn["read_units"], f"{fn.get('aws_write_units', '-')} ({fn['write_units']})",
                     fn["events_put"], fn.get("log_kib", "-"), fn["peak_rss_mib"],
                     ", ".join(_call(k, v, fn.get("call_ms", {})) for k, v in fn["calls"].items())])
    out.append(_table(["Function", "Invocations", "p50 ms", "p99 ms", "RRU (Local)",
                       "WRU AWS rules (Local)", "Events", "Log KiB", "Peak RSS MiB",
                       "Requests (mean ms each)"], rows))
    out += ["", f"All invocations: handler time p50 {lc['handler_ms_p50']} ms, "
                f"p99 {lc['handler_ms_p99']} ms.", ""]
    prices = lc["prices"]
    costs = lc["dollars_per_million_orders"]
    services = [s for s in next(iter(costs.values())) if s != "total"]
    machines = ", ".join(f"{name} {kind}" for name, kind in lc["workflows"].items())
    out += [f"### Dollars per million orders (AWS list prices, {prices['region']}, as of "
            f"{prices['as_of']})", "",
            _table(["Workflows", *services, "total", f"≤ ${COST_TARGET:.0f}"],
                   [[kind, *(f"${c[s]:.2f}" for s in services), f"**${c['total']:.2f}**",
                     _verdict(c["total"] <= COST_TARGET)] for kind, c in costs.items()]),
            "", f"As designed: {machines}; DynamoDB on demand, from AWS-rule units. Beside it: "
            "provisioned capacity at 70% utilisation, DynamoDB Local's own units, and every "
            "execution of the run priced as one workflow type.", "",
            *cost_budget(lc),
            "How each figure is counted: Lambda requests and GB-seconds from the functions' own "
            "EMF lines (handler time rounded up to 1 ms, the template's memory size); DynamoDB "
            "units by AWS's rules from the items each request named (SDK interceptor) and the "
            "before/after images in the table's stream (filtered-out items of a query are not "
            "seen: reads undercount filtered queries); state transitions from the execution "
            "histories; CloudWatch Logs from the bytes the functions wrote (EMF metering lines "
            "excluded: metering is off as deployed) plus Lambda's START/END/REPORT lines, "
            "ingested and stored for the retention; Express "
            "duration as the executions took here (debug builds on emulators: pessimistic); "
            "events as the functions put them plus the WMS's on the bus; SQS as the messages "
            "that reached consumer queues, 3 requests each (send, receive, delete); API Gateway "
            "as the requests the outside world made. Not counted: DynamoDB storage and "
            "backups, data transfer.", ""]
    return "\n".join(out)


def cost_budget(lc: dict[str, Any]) -> list[str]:
    """When the cost target is not met: what it leaves DynamoDB once everything else is paid,
    in write units an order, against what the run wrote (the README's "The floor" works out
    the least this lifecycle can write with every guarantee kept)."""
    designed = lc["dollars_per_million_orders"]["as designed"]
    unit_prices = lc["prices"].get("dynamodb_on_demand_read_write")
    if designed["total"] <= COST_TARGET or not unit_prices:
        return []
    per_read, per_write = unit_prices
    others = designed["total"] - designed["dynamodb"]
    per = lc["per_order"]
    reads = per["dynamodb_read_units"] * per_read
    writes = (COST_TARGET - others - reads) / per_write
    return [f"What ${COST_TARGET:.0f} leaves DynamoDB: everything else costs ${others:.2f} a million "
            f"orders, the reads ${reads:.2f}, so at most {max(writes, 0):.1f} write units an order "
            f"on demand; this run wrote {per['dynamodb_write_units']:g}. The least this lifecycle "
            "can write with every guarantee kept: README, \"Performance and cost\", \"The floor\".",
            ""]


def throughput_section(tp: dict[str, Any]) -> str:
    rows = []
    for level in tp["levels"]:
        bounds = level["emulator_bound_orders_per_second"]
        tightest = min(bounds, key=bounds.get) if bounds else "-"
        share = level["share_of_emulator_bound"]
        rows.append([level["concurrency"], level["orders"], level["orders_per_second"],
                     level["latency_ms_p50"], level["latency_ms_p99"],
                     ", ".join(f"{k} {v:g}" for k, v in level["emulator_requests_per_second"].items()),
                     ", ".join(f"{k} {v:g}" for k, v in level["requests_per_order"].items()),
                     f"{bounds.get(tightest, 0):g} ({tightest})" if bounds else "-",
                     f"{share:.0%}" if share is not None else "-"])
    top = tp["levels"][-1] if tp["levels"] else None
    verdict = ""
    if top and top["share_of_emulator_bound"] is not None:
        verdict = (f"At concurrency {top['concurrency']}: {top['share_of_emulator_bound']:.0%} of "
                   f"the emulators' bound (target ≥ {THROUGHPUT_TARGET:.0%}: "
                   f"{_verdict(top['share_of_emulator_bound'] >= THROUGHPUT_TARGET)}).")
    processes = [f"- at {level['concurrency']}: {cpu_line(level['cpu'])}"
                 for level in tp["levels"] if level.get("cpu")]
    if processes:
        processes = ["CPU per process during each run (average share of one core; a process near "
                     "100% while the machine idles is the floor):", "", *processes, ""]
    return "\n".join([
        "### Throughput: create → ALLOCATED", "",
        _table(["Concurrency", "Orders", "Orders/s", "p50 ms", "p99 ms",
                "Emulators' raw requests/s", "Requests per order", "Bound orders/s",
                "Share of bound"], rows), "",
        "The bound is each emulator's raw rate (same run, same concurrency) over what one order "
        "asks of it; the tightest one limits. \"harness\" is the one Python process that serves "
        "moto, the HTTP gateway and the event pollers: every invocation and every non-DynamoDB "
        "request passes through it.", "", *processes, verdict, ""])


def cpu_line(cpu: dict[str, Any]) -> str:
    shares = ", ".join(f"{name} {share:.0%}" for name, share in cpu["share_of_one_core"].items())
    idle = cpu.get("machine_idle")
    return f"{shares}; machine idle {idle:.0%}" if idle is not None else shares


def listing_section(ls: dict[str, Any]) -> str:
    rows = []
    for name, query in ls.get("queries", {}).items():
        small, large, peer = query["small"], query["large"], query.get("peer", {})
        ratio = query.get("ratio_p50")
        rows.append([f"`{name}`", query.get("about", ""),
                     f"{small['p50_us'] / 1000:.1f} / {small['p99_us'] / 1000:.1f}",
                     f"{large['p50_us'] / 1000:.1f} / {large['p99_us'] / 1000:.1f}",
                     f"{peer['p50_us'] / 1000:.1f}" if peer else "-",
                     f"{ratio:.2f}" if ratio is not None else "-",
                     f"{small['requests']:g} → {large['requests']:g}",
                     f"{small['items_read']:g} → {large['items_read']:g}",
                     f"{small.get('returned', '-')} → {large.get('returned', '-')}",
                     _verdict(ratio is not None and ratio <= LISTING_TARGET)])
    small, large = ls.get("small", {}), ls.get("large", {})
    return "\n".join([
        f"### Listing: {small.get('table_orders', 0):,} vs {large.get('table_orders', 0):,} orders "
        "in the table", "",
        f"Measured tenant: {small.get('tenant_orders', 0):,} → {large.get('tenant_orders', 0):,} "
        f"orders; peer: a tenant of {ls.get('peer_tenant_orders', 0):,} in the large table. "
        f"Page size {ls.get('page_size')}, {ls.get('calls')} calls per query through the "
        "listing use case on DynamoDB Local (tools/bench/oms-bench).", "",
        _table(["Query", "What", "small p50 / p99 ms", "large p50 / p99 ms", "peer p50 ms",
                "large/small p50", "requests", "items read", "returned", f"≤ {LISTING_TARGET}×"], rows),
        ""])


def target_lines(report: dict[str, Any]) -> list[str]:
    """One line per target, in the form the README opens its "Performance and cost" with, for
    the phases this run measured."""
    lines = []
    if "lifecycle" in report:
        total = report["lifecycle"]["dollars_per_million_orders"]["as designed"]["total"]
        lines.append(f"cost per million orders (AWS rules, on-demand): ${total:.2f}")
    if "coldstart" in report:
        from . import coldstart

        worst = coldstart.cold_start_ratio(report["coldstart"])
        if worst is not None:
            lines.append(f"cold start ratio: {worst:.2f}×")
    levels = report.get("throughput", {}).get("levels") or []
    if levels and levels[-1]["share_of_emulator_bound"] is not None:
        top = levels[-1]
        lines.append(f"throughput share at concurrency {top['concurrency']}: "
                     f"{top['share_of_emulator_bound']:.0%}")
    return lines


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    out = ["## Benchmark report", "",
           f"{report['date']} on {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, "
           f"{m['arch']}, {m['rustc']}; {m['build']}.", ""]
    for line in target_lines(report):
        out += [line, ""]
    if "lifecycle" in report:
        out.append(lifecycle_section(report["lifecycle"]))
    if "throughput" in report:
        out.append(throughput_section(report["throughput"]))
    if "listing" in report:
        out.append(listing_section(report["listing"]))
    if "coldstart" in report:
        from . import coldstart

        out += ["### Cold start", "", coldstart.markdown(report["coldstart"]), ""]
    return "\n".join(out)
