"""What infra/template.yaml enforces in production, read from the template itself: least-privilege
table access per function, limits, a safety net under everything asynchronous, alarms, log
retention, the table's protection; and the checkov baseline's rules. IAM, throttling and alarms
are not emulated locally, so these tests are where they are held.

The rules are generic ("every function", "every rule target", "every dead-letter queue") so a
resource added later is held to them too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tools.local import cfn, scan
from tools.local.config import ROOT

TEMPLATE = cfn.load_template(ROOT / "infra" / "template.yaml")
RESOURCES: dict[str, dict[str, Any]] = TEMPLATE["Resources"]
KEYS_RS = (ROOT / "shared" / "aws" / "src" / "dynamo" / "keys.rs").read_text(encoding="utf-8")

FUNCTION = "AWS::Serverless::Function"
ASYNC_EVENTS = ("EventBridgeRule", "CloudWatchEvent", "Schedule", "ScheduleV2")
TABLE_ARN = {"Fn::GetAtt": ["OmsTable", "Arn"]}


def of_type(rtype: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in RESOURCES.items() if v.get("Type") == rtype}


def props(logical_id: str) -> dict[str, Any]:
    return RESOURCES[logical_id].get("Properties") or {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def default(parameter: str) -> Any:
    return TEMPLATE["Parameters"][parameter]["Default"]


def ref_target(value: Any) -> str | None:
    """The logical id a Ref or GetAtt points at."""
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        return str(target[0] if isinstance(target, list) else target.split(".")[0])
    return None


def table_statements(function: str) -> list[dict[str, Any]]:
    """The function's inline statements on the table or its indexes."""
    out = []
    for policy in props(function).get("Policies") or []:
        if not isinstance(policy, dict):
            continue
        for statement in policy.get("Statement") or []:
            if any(str(a).startswith("dynamodb:") for a in as_list(statement["Action"])):
                out.append(statement)
    return out


def actions(function: str) -> set[str]:
    return {str(a).removeprefix("dynamodb:") for s in table_statements(function)
            for a in as_list(s["Action"])}


def leading_keys(statement: dict[str, Any]) -> list[str] | None:
    condition = (statement.get("Condition") or {}).get("ForAllValues:StringLike") or {}
    keys = condition.get("dynamodb:LeadingKeys")
    return None if keys is None else as_list(keys)


FUNCTIONS = sorted(of_type(FUNCTION))
TABLE_USERS = [f for f in FUNCTIONS if table_statements(f)]

# What each function does with the table, read from its use cases and the store
# (shared/aws/src/dynamo): transactions are authorized item by item (PutItem, UpdateItem,
# DeleteItem), so no function needs more than these.
EXPECTED_ACTIONS = {
    "CreateOrderFunction": {"GetItem", "BatchGetItem", "UpdateItem", "PutItem"},
    "ChannelIntakeFunction": {"GetItem", "BatchGetItem", "UpdateItem", "PutItem"},
    "OrdersApiFunction": {"GetItem", "BatchGetItem", "Query", "PutItem", "UpdateItem", "DeleteItem"},
    "ShipmentsApiFunction": {"GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem"},
    "ReturnsApiFunction": {"GetItem", "PutItem", "UpdateItem"},
    "ReturnReceiveFunction": {"GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem"},
    "TmsWebhookFunction": {"GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem"},
    "InventoryApiFunction": {"GetItem", "BatchGetItem", "Query", "PutItem", "DeleteItem"},
    "AssignHubFunction": {"GetItem", "Query"},
    "ReserveStockFunction": {"GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem"},
    "RequestFulfillmentFunction": {"GetItem", "PutItem", "UpdateItem"},
    "ExpireReservationFunction": {"GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem"},
    "PlacementFailedFunction": {"GetItem", "PutItem", "UpdateItem"},
    "ReplaceBackordersFunction": {"GetItem", "Query", "PutItem", "UpdateItem"},
    "WmsEventsFunction": {"GetItem", "BatchGetItem", "Query", "PutItem", "UpdateItem", "DeleteItem"},
    "OutboxRelayFunction": {"Query", "BatchGetItem", "PutItem"},
    "ReconcileReservationsFunction": {"Query", "GetItem", "UpdateItem", "DeleteItem"},
}


# -- least privilege --------------------------------------------------------------------------

def test_every_function_has_its_own_statements_and_no_whole_table_policy_template():
    for function in FUNCTIONS:
        for policy in props(function).get("Policies") or []:
            names = set(policy) if isinstance(policy, dict) else {policy}
            assert not any(n.startswith("DynamoDB") for n in names), \
                f"{function}: {names} grants the whole table; write its statements"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_no_function_may_scan_or_use_a_wildcard_action(function):
    for statement in table_statements(function):
        assert statement["Effect"] == "Allow"
        for action in as_list(statement["Action"]):
            assert "*" not in str(action), f"{function}: wildcard action {action}"
            assert action != "dynamodb:Scan", f"{function} may Scan"
        for resource in as_list(statement["Resource"]):
            assert resource != "*", f"{function}: a table action on every resource"


def test_each_function_has_the_table_actions_it_needs_and_no_more():
    assert {f: actions(f) for f in TABLE_USERS} == EXPECTED_ACTIONS


def test_table_statements_name_this_table_or_its_indexes():
    for function in TABLE_USERS:
        for statement in table_statements(function):
            for resource in as_list(statement["Resource"]):
                sub = resource.get("Fn::Sub") if isinstance(resource, dict) else None
                assert resource == TABLE_ARN or (
                    isinstance(sub, str) and sub.startswith("${OmsTable.Arn}/index/GSI")
                ), f"{function}: {resource}"


def test_key_prefixes_name_keys_the_store_builds():
    for function in TABLE_USERS:
        for statement in table_statements(function):
            for pattern in leading_keys(statement) or []:
                core = pattern.removeprefix("T#*").strip("*")
                # A prefix may end in a value the store fills in, then a shard
                # (#STATUS#BACKORDERED#<nn>).
                known = core in KEYS_RS or core.rstrip("#").rsplit("#", 1)[0] + "#" in KEYS_RS
                assert core and known, f"{function}: {pattern} is no key of keys.rs"


def test_the_unauthenticated_webhook_reaches_only_shipments_orders_and_the_stock_they_give_back():
    allowed = {
        "GetItem": {"SHIPMENT#*", "T#*#ORDER#*"},
        "Query": {"T#*#STOCK#*"},
        "PutItem": {"T#*#ORDER#*"},
        "UpdateItem": {"T#*#ORDER#*", "T#*#STOCK#*"},
        "DeleteItem": {"T#*#ORDER#*"},
    }
    statements = table_statements("TmsWebhookFunction")
    for statement in statements:
        keys = leading_keys(statement)
        assert keys, f"every webhook statement is held to key prefixes: {statement}"
        for action in as_list(statement["Action"]):
            assert set(keys) <= allowed[action.removeprefix("dynamodb:")], (action, keys)
    reachable = {k for s in statements for k in leading_keys(s) or []}
    for never in ("#HUBS", "#SKUS", "#CHANNELITEM#", "#IDEM#", "SEQ#", "#PARKED#"):
        assert not any(never in k for k in reachable), never


@pytest.mark.parametrize("function", ["InventoryApiFunction", "AssignHubFunction",
                                      "CreateOrderFunction", "ChannelIntakeFunction",
                                      "OutboxRelayFunction", "ShipmentsApiFunction",
                                      "ReturnsApiFunction"])
def test_functions_with_a_narrow_key_space_are_held_to_it(function):
    for statement in table_statements(function):
        assert leading_keys(statement), f"{function}: {statement}"
    if function == "InventoryApiFunction":
        keys = {k for s in table_statements(function) for k in leading_keys(s) or []}
        assert not any("#ORDER#" in k or "#OUTBOX#" in k for k in keys), "the catalog only"


def may(function: str, action: str, key: str) -> bool:
    """Whether a statement of `function` allows `action` on an item whose partition key matches
    `key` (a pattern as the statements write them)."""
    return any(f"dynamodb:{action}" in as_list(s["Action"])
               and (leading_keys(s) is None or key in leading_keys(s))
               for s in table_statements(function))


@pytest.mark.parametrize("function", ["WmsEventsFunction", "ReturnReceiveFunction", "ChannelIntakeFunction"])
def test_what_admits_integration_input_may_read_the_registry(function):
    # The check runs before anything else of an event or message (usecases::integrations::admit):
    # without this read every inbound event would be refused in AWS, though not locally, where
    # IAM is not enforced.
    assert may(function, "GetItem", "T#*#INTEGRATIONS")


def test_only_the_admins_api_manages_the_registry():
    for action in ("Query", "PutItem", "DeleteItem"):
        assert may("InventoryApiFunction", action, "T#*#INTEGRATIONS"), action
    writers = {f for f in TABLE_USERS for a in ("PutItem", "DeleteItem")
               if any(f"dynamodb:{a}" in as_list(s["Action"])
                      and "T#*#INTEGRATIONS" in (leading_keys(s) or []) for s in table_statements(f))}
    assert writers == {"InventoryApiFunction"}


# -- limits -----------------------------------------------------------------------------------

def test_the_http_api_is_throttled_and_the_webhook_more_tightly():
    default_route = props("HttpApi")["DefaultRouteSettings"]
    # On the route's own event, so SAM creates the route before the stage that names it.
    (webhook,) = [e["Properties"].get("RouteSettings") or {}
                  for e in props("TmsWebhookFunction")["Events"].values()
                  if e["Type"] == "HttpApi" and e["Properties"]["Path"] == "/v1/webhooks/tms"]
    for settings in (default_route, webhook):
        assert {"ThrottlingRateLimit", "ThrottlingBurstLimit"} <= set(settings)
    for limit in ("ThrottlingRateLimit", "ThrottlingBurstLimit"):
        assert default(webhook[limit]["Ref"]) < default(default_route[limit]["Ref"])


def test_access_logs_say_who_did_what_and_how_it_went():
    settings = props("HttpApi")["AccessLogSettings"]
    for variable in ("$context.requestId", "$context.routeKey", "$context.status",
                     "$context.responseLatency", "$context.authorizer.claims.sub",
                     "$context.authorizer.claims.tenant_id"):
        assert variable in settings["Format"], variable
    group = ref_target(settings["DestinationArn"])
    assert RESOURCES[group]["Type"] == "AWS::Logs::LogGroup"


def test_the_relay_and_the_placement_tasks_keep_reserved_concurrency():
    invoked_by_workflows = {
        ref_target(v) for m in of_type("AWS::Serverless::StateMachine")
        for v in (props(m).get("DefinitionSubstitutions") or {}).values()
    } & set(FUNCTIONS)
    stream_consumers = {f for f in FUNCTIONS for e in (props(f).get("Events") or {}).values()
                        if e["Type"] == "DynamoDB"}
    assert {"AssignHubFunction", "OutboxRelayFunction"} <= invoked_by_workflows | stream_consumers
    for function in invoked_by_workflows | stream_consumers:
        reserved = props(function).get("ReservedConcurrentExecutions")
        assert reserved is not None, function
        condition, value, _ = reserved["Fn::If"]
        assert default(value["Ref"]) > 0, f"{function} reserves by default"
        assert condition in TEMPLATE["Conditions"]


def test_every_queue_event_source_caps_its_concurrency():
    sources = [(f, e) for f in FUNCTIONS for e in (props(f).get("Events") or {}).values()
               if e["Type"] == "SQS"]
    assert sources
    for function, event in sources:
        assert "MaximumConcurrency" in event["Properties"].get("ScalingConfig", {}), function


# -- nothing asynchronous without a safety net ------------------------------------------------

def queue_ids() -> set[str]:
    return set(of_type("AWS::SQS::Queue"))


def async_functions() -> list[str]:
    return [f for f in FUNCTIONS
            if any(e["Type"] in ASYNC_EVENTS for e in (props(f).get("Events") or {}).values())]


def test_every_asynchronously_invoked_function_retries_then_keeps_what_failed():
    assert {"ReplaceBackordersFunction", "WmsEventsFunction"} <= set(async_functions())
    for function in async_functions():
        config = props(function).get("EventInvokeConfig")
        assert config, f"{function} has no EventInvokeConfig"
        assert {"MaximumRetryAttempts", "MaximumEventAgeInSeconds"} <= set(config), function
        on_failure = config["DestinationConfig"]["OnFailure"]
        assert on_failure["Type"] == "SQS"
        queue = ref_target(on_failure["Destination"])
        assert queue in queue_ids(), function
        # Lambda sends the record with the function's own role.
        senders = [p["SQSSendMessagePolicy"] for p in props(function)["Policies"]
                   if isinstance(p, dict) and "SQSSendMessagePolicy" in p]
        assert any(ref_target(s["QueueName"]) == queue for s in senders), function


def rule_targets() -> list[tuple[str, dict[str, Any]]]:
    """Every rule target: AWS::Events::Rule targets and SAM's rule and schedule events."""
    out = [(rule, t) for rule in of_type("AWS::Events::Rule")
           for t in props(rule).get("Targets") or []]
    out += [(f"{f}.{name}", e["Properties"]) for f in FUNCTIONS + sorted(
                of_type("AWS::Serverless::StateMachine"))
            for name, e in (props(f).get("Events") or {}).items() if e["Type"] in ASYNC_EVENTS]
    return out


def test_every_rule_target_has_a_dead_letter_queue_and_a_retry_policy():
    targets = rule_targets()
    assert {"AccountingRule", "ReplaceBackordersFunction.StockReplenished"} <= {t for t, _ in targets}
    for target, spec in targets:
        assert ref_target(spec["DeadLetterConfig"]["Arn"]) in queue_ids(), target
        assert {"MaximumRetryAttempts", "MaximumEventAgeInSeconds"} <= set(spec["RetryPolicy"]), target


def test_eventbridge_may_send_to_the_rule_targets_dead_letter_queue():
    queues = {ref_target(spec["DeadLetterConfig"]["Arn"]) for _, spec in rule_targets()}
    for queue in queues:
        policies = [props(p) for p in of_type("AWS::SQS::QueuePolicy")
                    if any(ref_target(q) == queue for q in props(p)["Queues"])]
        statements = [s for p in policies for s in p["PolicyDocument"]["Statement"]]
        assert any(s["Principal"] == {"Service": "events.amazonaws.com"} and s.get("Condition")
                   for s in statements), queue


def dead_letter_queues() -> set[str]:
    """Queues something sends what failed to: redrive targets, destinations, rule DLQs."""
    found = set()
    for queue in queue_ids():
        redrive = props(queue).get("RedrivePolicy")
        if redrive:
            found.add(ref_target(redrive["deadLetterTargetArn"]))
    for function in FUNCTIONS:
        config = props(function).get("EventInvokeConfig") or {}
        on_failure = (config.get("DestinationConfig") or {}).get("OnFailure")
        if on_failure:
            found.add(ref_target(on_failure["Destination"]))
        for event in (props(function).get("Events") or {}).values():
            on_failure = ((event["Properties"].get("DestinationConfig") or {}).get("OnFailure"))
            if on_failure:
                found.add(ref_target(on_failure["Destination"]))
    found |= {ref_target(spec["DeadLetterConfig"]["Arn"]) for _, spec in rule_targets()}
    return found | {q for q in queue_ids() if q.endswith("DeadLetterQueue")}


def alarms() -> list[dict[str, Any]]:
    return [props(a) for a in of_type("AWS::CloudWatch::Alarm")]


def alarmed(namespace: str, metric: str, dimension: str) -> set[str]:
    """The logical ids alarmed on for `metric`, plain or inside metric math."""
    out = set()
    for alarm in alarms():
        specs = [alarm] + [m["MetricStat"]["Metric"] for m in alarm.get("Metrics") or []
                           if "MetricStat" in m]
        for spec in specs:
            if spec.get("Namespace") == namespace and spec.get("MetricName") == metric:
                out |= {ref_target(d["Value"]) for d in spec.get("Dimensions") or []
                        if d["Name"] == dimension}
    return out


def test_every_dead_letter_queue_has_a_depth_alarm():
    assert {"WmsEventsDeadLetterQueue", "ChannelOrdersDeadLetterQueue",
            "OutboxRelayDeadLetterQueue", "RuleTargetsDeadLetterQueue"} <= dead_letter_queues()
    watched = alarmed("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName")
    assert dead_letter_queues() <= watched, dead_letter_queues() - watched


def test_every_function_has_error_and_throttle_alarms():
    assert set(FUNCTIONS) <= alarmed("AWS/Lambda", "Errors", "FunctionName")
    assert set(FUNCTIONS) <= alarmed("AWS/Lambda", "Throttles", "FunctionName")


def test_the_relays_stream_age_and_failed_workflows_are_alarmed():
    stream_consumers = {f for f in FUNCTIONS for e in (props(f).get("Events") or {}).values()
                        if e["Type"] == "DynamoDB"}
    assert stream_consumers <= alarmed("AWS/Lambda", "IteratorAge", "FunctionName")
    machines = set(of_type("AWS::Serverless::StateMachine"))
    assert machines <= alarmed("AWS/States", "ExecutionsFailed", "StateMachineArn")


def test_every_alarm_notifies_the_alarm_topic_when_one_is_set():
    for alarm in alarms():
        assert alarm["AlarmActions"] == {
            "Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}


def test_every_log_group_expires_and_every_function_has_one():
    groups = of_type("AWS::Logs::LogGroup")
    for group in groups:
        assert props(group).get("RetentionInDays") == {"Ref": "LogRetentionDays"}, group
    names = {props(g)["LogGroupName"].get("Fn::Sub") for g in groups
             if isinstance(props(g)["LogGroupName"], dict)}
    for function in FUNCTIONS:
        assert f"/aws/lambda/${{{function}}}" in names, f"{function} has no log group"


def test_the_table_survives_a_stack_delete_and_a_mistaken_one():
    for table in of_type("AWS::DynamoDB::Table"):
        resource = RESOURCES[table]
        assert resource["DeletionPolicy"] == "Retain" and resource["UpdateReplacePolicy"] == "Retain"
        assert props(table)["DeletionProtectionEnabled"] is True
        assert props(table)["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


def test_every_queue_is_encrypted_at_rest():
    for queue in queue_ids():
        assert props(queue).get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in props(queue), \
            queue


# -- the local stack still starts from it -----------------------------------------------------

def test_the_local_stack_skips_alarms_quietly_and_keeps_the_failure_destinations(real_stack):
    assert not [w for w in real_stack.warnings if "CloudWatch::Alarm" in w or "LogGroup" in w]
    for function in async_functions():
        destination = real_stack.function(function).async_config.on_failure_arn
        queue = ref_target(props(function)["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]
                           ["Destination"])
        assert destination == next(q.arn for q in real_stack.queues if q.logical_id == queue)


# -- checkov baseline -------------------------------------------------------------------------

def test_the_committed_baseline_says_why_for_every_entry():
    baseline = scan.load_baseline()
    assert baseline
    assert all(len(a.why) > 40 for a in baseline)


def test_a_baseline_entry_without_a_reason_is_refused(tmp_path: Path):
    path = tmp_path / "baseline.yaml"
    path.write_text("CKV_AWS_1:\n  resources: '*'\n  why: ''\n")
    with pytest.raises(ValueError, match="not why"):
        scan.load_baseline(path)


def test_findings_outside_the_baseline_fail_and_stale_entries_are_reported():
    report = {"results": {"failed_checks": [
        {"check_id": "CKV_AWS_117", "resource": "AWS::Serverless::Function.A", "check_name": "vpc"},
        {"check_id": "CKV_AWS_119", "resource": "AWS::DynamoDB::Table.Other", "check_name": "cmk"},
    ]}}
    baseline = [scan.Accepted("CKV_AWS_117", ("*",), "why"),
                scan.Accepted("CKV_AWS_119", ("OmsTable",), "why"),
                scan.Accepted("CKV_AWS_27", ("*",), "why")]
    unaccepted, unused = scan.judge(scan.findings(report), baseline)
    assert [(f.check_id, f.resource) for f in unaccepted] == [("CKV_AWS_119", "Other")]
    assert [a.check_id for a in unused] == ["CKV_AWS_119", "CKV_AWS_27"]
