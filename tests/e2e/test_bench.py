"""The benchmark's lifecycle driver on the running stack (which `./dev test` starts with
`Metrics=emf`): orders go create → COMPLETED as the outside world drives them, and what they
cost is read back from the functions' own metering lines and the workflows' histories."""

from tools.bench.pybench import bench
from tools.local import config, simulate
from tools.local.template import LocalStack


def test_the_lifecycle_run_completes_its_orders_and_meters_what_they_used():
    settings = config.load()
    driver = bench.Bench(simulate.running_target(), settings, LocalStack.from_template(settings))
    driver.set_up_tenant(units=100)

    result = bench.lifecycle(driver, orders=2, concurrency=2)

    per = result["per_order"]
    # One create and two carrier callbacks through the API, four warehouse reports on the bus,
    # one placement, and OrderCompleted to accounting.
    assert (per["api_requests"], per["events_put_by_wms"]) == (3.0, 4.0)
    assert (per["workflow_executions"], per["sqs_messages"]) == (1.0, 1.0)
    assert per["state_transitions"] >= 5
    functions = result["functions"]
    calls = {name: functions[name]["invocations"] for name in ("create-order", "wms-events", "tms-webhook")}
    assert calls == {"create-order": 1.0, "wms-events": 4.0, "tms-webhook": 2.0}
    create = functions["create-order"]
    # A new order is one plain conditional PutItem (storage v2: its messages and history ride on
    # the item; no idempotency key here, so nothing else must commit with it).
    assert create["write_units"] > 0 and create["calls"]["DynamoDB.PutItem"] == 1.0
    assert "DynamoDB.TransactWriteItems" not in create["calls"]
    assert create["handler_ms_p50"] > 0 and create["peak_rss_mib"] > 0
    assert per["events_put_by_oms"] >= 5, "created, allocated, requested, shipped, completed at least"
    costs = result["dollars_per_million_orders"]
    assert costs["as designed"]["stepfunctions"] < costs["all STANDARD"]["stepfunctions"]
    assert costs["as designed"]["total"] == round(sum(v for k, v in costs["as designed"].items() if k != "total"), 2)
