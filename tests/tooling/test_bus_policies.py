"""The two buses' resource policies (infra/template.yaml), evaluated the way EventBridge evaluates
a PutEvents request against them: the local stack does not enforce IAM, so this is where "only
the relay puts OMS events, only warehouses put wms events, and only on the integration bus" is
proved. Also: every rule reads the bus its source lives on."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tools.local.template import LocalStack

ACCOUNT = "123456789012"
WMS_ACCOUNT = "111122223333"
WMS_ROOT = f"arn:aws:iam::{WMS_ACCOUNT}:root"
RELAY_ROLE = f"arn:aws:iam::{ACCOUNT}:role/oms-local-OutboxRelayFunctionRole"
OTHER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/oms-local-WmsEventsFunctionRole"


def _matches_principal(principal: Any, caller: str) -> bool:
    if principal == "*":
        return True
    arns = principal.get("AWS", [])
    arns = [arns] if isinstance(arns, str) else arns
    # An account's root ARN stands for every principal of that account.
    return any(arn == caller or (arn.endswith(":root") and arn.split(":")[4] == caller.split(":")[4])
               for arn in arns)


def _condition_holds(condition: dict[str, Any], context: dict[str, str]) -> bool:
    for operator, tests in condition.items():
        for key, expected in tests.items():
            expected = [expected] if isinstance(expected, str) else expected
            value = context[key]
            if operator in ("StringEquals", "ArnEquals") and value not in expected:
                return False
            if operator in ("StringNotEquals", "ArnNotEquals") and value in expected:
                return False
            if operator not in ("StringEquals", "ArnEquals", "StringNotEquals", "ArnNotEquals"):
                raise AssertionError(f"the evaluator does not know {operator}")
    return True


def put_allowed(policy: dict[str, Any], bus_arn: str, caller: str, source: str, iam_allows: bool) -> bool:
    """Whether PutEvents of one entry of `source` by `caller` onto the bus is allowed: no Deny
    applies, and the bus's policy allows it, or (a caller of the bus's own account) its IAM
    policy does."""
    context = {"events:source": source, "aws:PrincipalArn": caller}
    allowed, denied = False, False
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        applies = ("events:PutEvents" in actions and statement["Resource"] == bus_arn
                   and _matches_principal(statement["Principal"], caller)
                   and _condition_holds(statement.get("Condition", {}), context))
        if applies:
            denied |= statement["Effect"] == "Deny"
            allowed |= statement["Effect"] == "Allow"
    same_account = caller.split(":")[4] == bus_arn.split(":")[4]
    return not denied and (allowed or (same_account and iam_allows))


def _policies(stack: LocalStack) -> dict[str, tuple[str, dict[str, Any]]]:
    resources = stack.resolver.template["Resources"]
    buses = {bus.logical_id: bus for bus in stack.buses}
    return {logical_id: (buses[logical_id].arn,
                         stack.resolver.resolve(resources[logical_id]["Properties"]["Policy"]))
            for logical_id in ("OmsEventBus", "IntegrationEventBus")}


@pytest.fixture
def with_wms(settings) -> LocalStack:
    overrides = dict(settings.parameter_overrides, WmsPrincipalArns=WMS_ROOT)
    return LocalStack.from_template(replace(settings, parameter_overrides=overrides))


def test_only_the_relay_puts_events_on_the_oms_bus_and_only_oms_events(with_wms):
    arn, policy = _policies(with_wms)["OmsEventBus"]
    assert put_allowed(policy, arn, RELAY_ROLE, "oms", iam_allows=False), "the bus itself lets the relay in"
    assert not put_allowed(policy, arn, RELAY_ROLE, "wms", iam_allows=True)
    for caller in (OTHER_ROLE, f"arn:aws:iam::{WMS_ACCOUNT}:role/wms", f"arn:aws:iam::{ACCOUNT}:root"):
        for source in ("oms", "wms"):
            # An explicit deny: not even an IAM policy of the OMS's own account lets them in.
            assert not put_allowed(policy, arn, caller, source, iam_allows=True), (caller, source)


def test_the_integration_bus_takes_wms_events_from_the_warehouses_and_oms_events_from_nobody(with_wms):
    arn, policy = _policies(with_wms)["IntegrationEventBus"]
    wms_role = f"arn:aws:iam::{WMS_ACCOUNT}:role/wms-publisher"
    assert put_allowed(policy, arn, wms_role, "wms", iam_allows=False)
    stranger = "arn:aws:iam::999988887777:role/x"
    assert not put_allowed(policy, arn, stranger, "wms", iam_allows=False), "only the listed principals"
    for caller in (wms_role, RELAY_ROLE, OTHER_ROLE, stranger):
        for source in ("oms", "aws.events", "partner"):
            assert not put_allowed(policy, arn, caller, source, iam_allows=True), (caller, source)
    assert not [s for s in policy["Statement"] if s["Effect"] == "Allow"
                and "oms" in s.get("Condition", {}).get("StringEquals", {}).get("events:source", [])]


def test_a_single_account_deployment_lets_no_other_account_in(real_stack):
    arn, policy = _policies(real_stack)["IntegrationEventBus"]
    assert [s["Effect"] for s in policy["Statement"]] == ["Deny"], "no principals: no Allow statement"
    assert put_allowed(policy, arn, f"arn:aws:iam::{ACCOUNT}:role/wms", "wms", iam_allows=True)
    assert not put_allowed(policy, arn, f"arn:aws:iam::{WMS_ACCOUNT}:role/wms", "wms", iam_allows=True)
    assert not put_allowed(policy, arn, f"arn:aws:iam::{ACCOUNT}:role/wms", "oms", iam_allows=True)


def test_oms_consumers_read_the_oms_bus_and_warehouse_consumers_the_integration_bus(real_stack):
    buses = {bus.logical_id: bus.name for bus in real_stack.buses}
    by_source: dict[str, set[str]] = {}
    for rule in real_stack.rules:
        for source in (rule.pattern or {}).get("source", []):
            by_source.setdefault(source, set()).add(rule.bus_name)
    assert by_source["oms"] == {buses["OmsEventBus"]}
    assert by_source["wms"] == {buses["IntegrationEventBus"]}
    wms_rules = {r.logical_id for r in real_stack.rules if r.bus_name == buses["IntegrationEventBus"]}
    assert any("WarehouseEvents" in r for r in wms_rules) and any("ReturnReceived" in r for r in wms_rules), wms_rules
