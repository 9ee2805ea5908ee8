"""The benchmark's arithmetic: reading EMF lines back, adding them up, pricing, the report."""

import json

import pytest

from tools.bench.pybench import bench_report, metering


def emf(function: str, handler_us: int, calls: dict, read: float = 0, write: float = 0,
        events: int = 0, rss: int = 20_000, ok: bool = True, call_time: dict | None = None,
        skipped: int = 0) -> str:
    return json.dumps({"_aws": {"Timestamp": 1, "CloudWatchMetrics": []}, "FunctionName": function,
                       "RequestId": "r", "Ok": ok, "HandlerTime": handler_us, "ReadUnits": read,
                       "WriteUnits": write, "EventsPut": events, "EventsSkipped": skipped,
                       "PeakRss": rss, "Calls": calls, "CallTime": call_time or {}})


def test_emf_lines_are_picked_out_of_a_log_that_holds_other_lines():
    lines = [
        " INFO spawning command command=Command {...}",
        '{"level":"INFO","fields":{"message":"order created"}}',
        "[create-order] " + emf("create-order", 1500, {"DynamoDB.TransactWriteItems": 1}, write=27),
        '{"_aws": broken json',
    ]
    (record,) = metering.emf_records(lines)
    assert (record["FunctionName"], record["HandlerTime"], record["WriteUnits"]) == ("create-order", 1500, 27)


def test_read_emf_reads_on_from_an_offset_and_leaves_a_line_being_written(tmp_path):
    log = tmp_path / "watch.log"
    log.write_text(emf("a", 1, {}) + "\n")
    first, offset = metering.read_emf(log)
    with log.open("a") as f:
        f.write(emf("b", 2, {}) + "\n" + emf("c", 3, {})[:20])  # c is still being written
    second, offset2 = metering.read_emf(log, offset)
    assert [r["FunctionName"] for r in first] == ["a"]
    assert [r["FunctionName"] for r in second] == ["b"]
    assert offset2 < metering.log_size(log)
    assert metering.read_emf(tmp_path / "missing.log", 7) == ([], 7)


def test_usage_adds_up_per_function_and_bills_lambda_by_the_rounded_up_millisecond():
    records = metering.emf_records([
        emf("wms-events", 1200, {"DynamoDB.GetItem": 1, "DynamoDB.TransactWriteItems": 1}, read=1, write=10, rss=20_480,
            call_time={"DynamoDB.GetItem": 300, "DynamoDB.TransactWriteItems": 700}),
        emf("wms-events", 3001, {"DynamoDB.GetItem": 2}, read=2, rss=30_720, ok=False,
            call_time={"DynamoDB.GetItem": 600}),
        emf("outbox-relay", 500, {"EventBridge.PutEvents": 1}, events=3, skipped=2),
    ])
    usage = metering.usage_by_function(records)
    wms = usage["wms-events"]
    assert (wms.invocations, wms.failures, wms.read_units, wms.write_units) == (2, 1, 3.0, 10.0)
    assert wms.calls == {"DynamoDB.GetItem": 3, "DynamoDB.TransactWriteItems": 1}
    assert wms.peak_rss_kib == 30_720
    # 1.2 ms bills as 2 ms, 3.001 ms as 4 ms: 6 ms at 128 MB.
    assert wms.billed_gb_seconds(128) == pytest.approx(0.006 * 128 / 1024)
    summary = wms.summary(per=2)
    assert (summary["invocations"], summary["write_units"], summary["peak_rss_mib"]) == (1.0, 5.0, 30.0)
    assert summary["calls"] == {"DynamoDB.GetItem": 1.5, "DynamoDB.TransactWriteItems": 0.5}
    assert summary["call_ms"] == {"DynamoDB.GetItem": 0.3, "DynamoDB.TransactWriteItems": 0.7}
    assert (usage["outbox-relay"].events_put, usage["outbox-relay"].events_skipped) == (3, 2)
    assert usage["outbox-relay"].summary(per=2)["events_skipped"] == 1.0


def test_percentile_is_nearest_rank():
    assert metering.percentile([], 50) == 0
    assert metering.percentile([5, 1, 3], 50) == 3
    assert metering.percentile(list(range(1, 101)), 99) == 99
    assert metering.percentile([7], 99) == 7


def test_state_transitions_count_the_states_entered():
    history = [{"type": "ExecutionStarted"}, {"type": "PassStateEntered"}, {"type": "PassStateExited"},
               {"type": "TaskStateEntered"}, {"type": "TaskScheduled"}, {"type": "ChoiceStateEntered"},
               {"type": "ExecutionSucceeded"}]
    assert metering.transitions_in(history) == 3


def costs(**overrides) -> metering.OrderCosts:
    functions = metering.usage_by_function(metering.emf_records([
        emf("create-order", 10_000, {}, read=2, write=10),  # 10 ms
        emf("outbox-relay", 10_000, {}, events=4),
    ]))
    executions = [metering.Execution("EXPRESS", 7, 250.0), metering.Execution("STANDARD", 7, 1001.0)]
    values = dict(orders=2, functions=functions, memory_mb={"create-order": 128, "outbox-relay": 256},
                  executions=executions, api_requests=6, inbound_events=8, queue_messages=2)
    values.update(overrides)
    return metering.OrderCosts(**values)


PRICES = {
    "lambda": {"per_million_requests": 0.20, "per_gb_second": 0.0000133334, "billing_granularity_ms": 1},
    "dynamodb": {"per_million_write_request_units": 0.625, "per_million_read_request_units": 0.125,
                 "provisioned_per_wcu_hour": 0.00065, "provisioned_per_rcu_hour": 0.00013,
                 "provisioned_utilisation": 0.70},
    "stepfunctions": {"standard_per_thousand_transitions": 0.025, "express_per_million_requests": 1.0,
                      "express_per_gb_second": 0.00001667, "express_memory_mb": 64,
                      "express_billing_granularity_ms": 100},
    "eventbridge": {"per_million_custom_events": 1.0},
    "sqs": {"per_million_requests": 0.40},
    "apigateway": {"per_million_http_api_requests": 1.0},
    "cloudwatch_logs": {"per_gb_ingested": 0.50, "per_gb_month_stored": 0.03, "retention_months": 1},
}


def test_dynamodb_is_priced_from_aws_rule_units_with_local_and_provisioned_beside():
    local = metering.price(costs(), PRICES, units="local")
    assert local["dynamodb"] == pytest.approx(0.125 + 5 * 0.625, abs=0.01)  # 1 RRU, 5 WRU per order
    # AWS-rule units of the run (2 orders): 3 RRU and 20 WRU.
    aws = metering.price(costs(aws_read_units=6.0, aws_write_units=40.0), PRICES)
    assert aws["dynamodb"] == pytest.approx(3 * 0.125 + 20 * 0.625, abs=0.01)
    # Provisioned at 70%: a WCU-hour serves 3,600 × 0.7 writes, so a million writes take
    # 396.8 WCU-hours at $0.00065: $0.258 (and $0.0516 per million reads).
    provisioned = metering.price(costs(aws_read_units=6.0, aws_write_units=40.0), PRICES,
                                 capacity="provisioned")
    assert provisioned["dynamodb"] == pytest.approx(3 * 0.0516 + 20 * 0.2579, abs=0.01)
    assert provisioned["lambda"] == aws["lambda"]


def test_cloudwatch_logs_are_priced_by_the_bytes_ingested_and_stored():
    # 2 KiB per order: a million orders write 1.907 GiB; $0.50 to ingest, $0.03 a month to keep.
    priced = metering.price(costs(log_bytes=2 * 2048), PRICES)
    assert priced["cloudwatch_logs"] == pytest.approx(2048 * 1e6 / 1024 ** 3 * 0.53, abs=0.01)
    assert metering.price(costs(), PRICES)["cloudwatch_logs"] == 0


def test_prices_per_million_orders_by_service_for_either_workflow_type():
    standard = metering.price(costs(), PRICES, "STANDARD")
    # Per order: 7 transitions, 3 API requests, 6 events (2 by the OMS, 4 by the WMS), 1 message
    # (3 SQS requests), 1 RRU, 5 WRU, 1 invocation of each function (10 ms at 128 MB and 256 MB).
    assert standard["stepfunctions"] == pytest.approx(175.0)
    assert standard["apigateway"] == pytest.approx(3.0)
    assert standard["eventbridge"] == pytest.approx(6.0)
    assert standard["sqs"] == pytest.approx(1.2)
    assert standard["dynamodb"] == pytest.approx(0.125 + 5 * 0.625, abs=0.01)  # no AWS-rule units: Local's
    run_dollars = 2 * 0.2 / 1e6 + (0.01 * 0.125 + 0.01 * 0.25) * 0.0000133334  # both orders
    assert standard["lambda"] == pytest.approx(run_dollars / 2 * 1e6, abs=0.01)
    assert standard["total"] == pytest.approx(sum(v for k, v in standard.items() if k != "total"), abs=0.02)
    express = metering.price(costs(), PRICES, "EXPRESS")
    # 2 requests and 300 ms + 1100 ms billed at 64 MB, over 2 orders.
    expected = (2 * 1.0 / 1e6 + 1.4 * 64 / 1024 * 0.00001667) / 2 * 1e6
    assert express["stepfunctions"] == pytest.approx(expected, abs=0.01)
    assert express["dynamodb"] == standard["dynamodb"]
    # As designed, each execution is priced as its own machine's type.
    designed = metering.price(costs(), PRICES)
    mixed = (1.0 / 1e6 + 0.3 * 64 / 1024 * 0.00001667 + 7 * 0.025 / 1000) / 2 * 1e6
    assert designed["stepfunctions"] == pytest.approx(mixed, abs=0.01)


def test_the_price_table_in_the_repo_has_every_figure_price_reads_and_a_date():
    prices = metering.load_prices()
    assert prices["as_of"] and prices["region"] == "us-east-1"
    for kind in (None, "STANDARD", "EXPRESS"):
        assert metering.price(costs(), prices, kind)["total"] > 0


def test_the_markdown_report_shows_the_figures_and_the_targets():
    lifecycle = {
        "orders": 2, "concurrency": 1, "seconds": 3.0,
        "workflows": {"oms-local-OrderPlacementStateMachine": "EXPRESS"},
        "per_order": {"lambda_invocations": 2.0, "dynamodb_read_units": 1.0, "dynamodb_write_units": 5.0,
                      "workflow_executions": 1.0, "state_transitions": 7.0, "events_put_by_oms": 2.0,
                      "events_put_by_wms": 4.0, "sqs_messages": 1.0, "api_requests": 3.0,
                      "events_left_off_the_bus": 6.0},
        "handler_ms_p50": 10.0, "handler_ms_p99": 10.0,
        "functions": {name: u.summary(2) for name, u in costs().functions.items()},
        "write_units": {"by_item": {"order document": 60.0, "outbox": 40.0}, "by_index": {"GSI1": 12.0},
                        "transactional_items": 30.0, "plain_items": 16.0, "unchanged_writes": 0,
                        "refused_writes": 3, "unattributed_changes": 0},
        "dollars_per_million_orders": {"as designed": metering.price(costs(), PRICES),
                                       "all STANDARD": metering.price(costs(), PRICES, "STANDARD")},
        "prices": {"as_of": "2026-11-22", "region": "us-east-1", "dynamodb_on_demand_read_write": [0.125, 0.625]},
    }
    throughput = {"levels": [{
        "concurrency": 16, "orders": 128, "seconds": 10.0, "orders_per_second": 12.8,
        "latency_ms_p50": 900, "latency_ms_p99": 2000,
        "requests_per_order": {"dynamodb": 20.0, "lambda": 5.0, "harness": 12.0},
        "emulator_requests_per_second": {"dynamodb": 800.0, "lambda": 200.0, "harness": 300.0},
        "emulator_bound_orders_per_second": {"dynamodb": 40.0, "lambda": 40.0, "harness": 25.0},
        "share_of_emulator_bound": 0.512,
        "cpu": {"share_of_one_core": {"harness (moto, gateway, pollers)": 0.81, "DynamoDB Local": 0.3},
                "machine_idle": 0.22}}]}
    sample = lambda p50, requests, items, returned=50: {"p50_us": p50, "p99_us": 2 * p50, "requests": requests,
                                                        "items_read": items, "returned": returned}
    listing = {"calls": 200, "page_size": 50, "peer_tenant_orders": 1000,
               "small": {"table_orders": 1000, "tenant_orders": 1000},
               "large": {"table_orders": 20000, "tenant_orders": 10000},
               "queries": {"newest": {"about": "first page (GSI1)", "small": sample(6000, 1, 50),
                                      "large": sample(5900, 1, 50), "peer": sample(5800, 1, 50), "ratio_p50": 0.98},
                           "status_and_customer": {"about": "GSI2 + filter", "small": sample(44600, 11, 333, 32),
                                                   "large": sample(91000, 43, 499), "ratio_p50": 2.04}}}
    report = {"date": "2026-11-22 20:00 UTC",
              "machine": {"cpu": "Test CPU", "cores": 2, "memory_gib": 24, "arch": "x86_64",
                          "rustc": "rustc 1.95", "build": "debug"},
              "lifecycle": lifecycle, "throughput": throughput, "listing": listing}
    text = bench_report.markdown(report)
    assert "$175.00" in text and "| all STANDARD |" in text and "**not met**" in text
    assert "| WRU | 60.0 | 40.0 | 12.0 | 112.0 |" in text and "refused requests (version conflicts) 3" in text
    assert "OrderPlacementStateMachine EXPRESS" in text
    assert "left off the bus (`UnpublishedEvents`, not billed): 6.0 an order" in text
    assert "| `create-order` |" in text
    assert "25 (harness)" in text and "51%" in text
    assert "- at 16: harness (moto, gateway, pollers) 81%, DynamoDB Local 30%; machine idle 22%" in text
    assert "Test CPU, 2 cores" in text
    assert "| `newest` | first page (GSI1) | 6.0 / 12.0 | 5.9 / 11.8 | 5.8 | 0.98 | 1 → 1 | 50 → 50 | 50 → 50 | met |" in text
    assert "| 2.04 | 11 → 43 | 333 → 499 | 32 → 50 | **not met** |" in text
    assert "1,000 vs 20,000 orders" in text
    # The cost target not met: what it leaves DynamoDB, in write units, beside what the run wrote.
    designed = lifecycle["dollars_per_million_orders"]["as designed"]
    others = designed["total"] - designed["dynamodb"]
    allowed = max((45 - others - 1.0 * 0.125) / 0.625, 0)
    assert (f"everything else costs ${others:.2f} a million orders, the reads $0.12, so at most "
            f"{allowed:.1f} write units an order on demand; this run wrote 5") in text
    # It opens with one line per target measured, in the README's form.
    total = lifecycle["dollars_per_million_orders"]["as designed"]["total"]
    assert bench_report.target_lines(report) == [
        f"cost per million orders (AWS rules, on-demand): ${total:.2f}",
        "throughput share at concurrency 16: 51%"]
    assert text.index("throughput share at concurrency 16: 51%") < text.index("### Lifecycle")


def test_log_bytes_add_up_per_function_by_request_id_with_lambdas_own_lines():
    from tools.bench.pybench import logs

    records = metering.emf_records([emf("create-order", 1, {}), emf("outbox-relay", 1, {})])
    records[1]["RequestId"] = "r2"
    line = '{"level":"INFO","fields":{"message":"order created"},"spans":[{"requestId":"r","name":"x"}]}\n'
    other = '{"level":"INFO","fields":{"message":"relayed"},"spans":[{"requestId":"r2"}]}\n'
    lines = [line, line, other,
             '{"level":"WARN","fields":{"message":"at init"}}\n',  # no invocation: not per order
             "    Finished `dev` profile\n",  # watch's own
             emf("create-order", 1, {}) + "\n"]  # metering, off as deployed
    got = logs.bytes_by_function(lines, records)
    assert got == {"create-order": 2 * len(line) + logs.PLATFORM_BYTES,
                   "outbox-relay": len(other) + logs.PLATFORM_BYTES}
    assert 200 < logs.PLATFORM_BYTES < 300  # START, END and REPORT


def test_emf_lines_run_together_by_two_processes_are_both_read():
    joined = emf("create-order", 1, {}) + emf("wms-events", 2, {}) + "\n"
    assert [r["FunctionName"] for r in metering.emf_records([joined])] == ["create-order", "wms-events"]


def test_cpu_use_is_shared_per_kind_of_process_between_two_snapshots():
    from tools.bench.pybench import cpu

    tick = cpu.TICKS_PER_SECOND
    before = cpu.Snapshot(processes={1: ("DynamoDB Local", 10 * tick), 2: ("create-order", 0),
                                     3: ("outbox-relay", 5 * tick)}, busy=0, idle=0)
    # Over 10 s: DynamoDB Local used 3 s, two create-order processes 1 s each (one new), the
    # relay nothing, and a pid reused by another program counts from zero.
    after = cpu.Snapshot(processes={1: ("DynamoDB Local", 13 * tick), 2: ("create-order", tick),
                                    4: ("create-order", tick), 3: ("cargo-lambda", tick // 2)},
                         busy=15 * tick, idle=5 * tick)
    use = cpu.usage(before, after, seconds=10.0)
    assert use["share_of_one_core"] == {"DynamoDB Local": 0.3, "create-order": 0.2, "cargo-lambda": 0.05}
    assert list(use["share_of_one_core"]) == ["DynamoDB Local", "create-order", "cargo-lambda"]
    assert use["machine_idle"] == 0.25


def test_the_stacks_processes_are_named_by_what_they_are():
    from tools.bench.pybench import cpu

    java = ["/usr/bin/java", "-cp", "/x/DynamoDBLocal.jar", "Loopback.java", "-inMemory"]
    assert cpu.name_of("java", java, 10, 99) == "DynamoDB Local"
    assert cpu.name_of("python3", ["/v/bin/python", "-m", "tools.local.harness"], 11, 99).startswith("harness")
    assert cpu.name_of("python3", ["/v/bin/python", "-m", "tools.local", "up"], 11, 99).startswith("stack")
    assert cpu.name_of("python3", ["/v/bin/python", "-m", "pytest"], 99, 99) == "bench client"
    assert cpu.name_of("create-order", ["/t/debug/create-order"], 12, 99) == "create-order"
    assert cpu.name_of("kworker/u8:3-kvfree_rcu_reclaim", [], 13, 99) == "kernel workers"
    # A real snapshot of this machine holds this process.
    assert "bench client" in {name for name, _ in cpu.snapshot().processes.values()}
