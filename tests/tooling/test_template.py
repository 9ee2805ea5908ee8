"""The template resolver: the real infra/template.yaml as the local stack sees it, and the
intrinsic functions on small templates."""

from __future__ import annotations

import json

import pytest

from tools.local import cfn

ACCOUNT = "123456789012"


def test_placement_definition_gets_the_task_function_arns(real_stack):
    (machine,) = [m for m in real_stack.state_machines
                  if m.logical_id == "OrderPlacementStateMachine"]
    definition = json.loads(machine.definition)
    assign = real_stack.function("AssignHubFunction")
    reserve = real_stack.function("ReserveStockFunction")
    assert assign.arn == f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:oms-local-AssignHubFunction"
    assert definition["States"]["AssignHub"]["Resource"] == assign.arn
    assert definition["States"]["ReserveStock"]["Resource"] == reserve.arn
    assert "${" not in machine.definition
    assert machine.type == "EXPRESS"
    assert machine.arn == (f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:"
                           "oms-local-OrderPlacementStateMachine")


def test_a_held_orders_timer_is_a_standard_machine_the_express_placement_starts(real_stack):
    machines = {m.logical_id: m for m in real_stack.state_machines}
    placement, hold = machines["OrderPlacementStateMachine"], machines["ReservationHoldStateMachine"]
    assert hold.type == "STANDARD", "it waits longer than an Express execution may run"
    start = json.loads(placement.definition)["States"]["StartHoldTimer"]
    assert start["Resource"] == "arn:aws:states:::states:startExecution"
    assert start["Parameters"]["StateMachineArn"] == hold.arn
    states = json.loads(hold.definition)["States"]
    assert states["WaitOutReservation"]["SecondsPath"] == "$.dispatch.expires_in_seconds"
    assert states["ExpireReservation"]["Resource"] == real_stack.function("ExpireReservationFunction").arn
    assert "${" not in hold.definition


def test_every_function_gets_globals_merged_with_its_own_variables(real_stack):
    table = real_stack.tables[0].name
    for fn in real_stack.functions:
        assert fn.environment["OMS_TABLE_NAME"] == table, fn.logical_id
        assert fn.environment["RUST_LOG"] == "info", fn.logical_id
    relay = real_stack.function("OutboxRelayFunction")
    assert relay.environment["OMS_EVENT_BUS_NAME"] == "oms-local-bus"
    machine = next(m for m in real_stack.state_machines
                   if m.logical_id == "OrderPlacementStateMachine")
    assert relay.environment["OMS_ORDER_PLACEMENT_STATE_MACHINE_ARN"] == machine.arn
    assert "OMS_EVENT_BUS_NAME" not in real_stack.function("CreateOrderFunction").environment


def test_the_tms_signing_keys_are_a_secret_the_webhook_alone_gets_by_its_arn(real_stack):
    (secret,) = [s for s in real_stack.secrets if s.logical_id == "TmsSigningKeys"]
    assert secret.arn == f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:oms-local-TmsSigningKeys"
    assert json.loads(secret.secret_string) == {"keys": []}, "created empty; keys never in the template"
    webhook = real_stack.function("TmsWebhookFunction").environment
    assert webhook["OMS_TMS_KEYS_SECRET_ARN"] == secret.arn
    assert webhook["OMS_TMS_KEYS_CACHE_SECONDS"] == "2", "the local stack sees a rotation in seconds"
    assert webhook["OMS_TMS_KEY_GRACE_SECONDS"] == "86400"
    others = [fn.logical_id for fn in real_stack.functions
              if fn.logical_id != "TmsWebhookFunction" and "OMS_TMS_KEYS_SECRET_ARN" in fn.environment]
    assert others == []
    doc = cfn.load_template(real_stack.template_path)
    policies = doc["Resources"]["TmsWebhookFunction"]["Properties"]["Policies"]
    assert {"AWSSecretsManagerGetSecretValuePolicy": {"SecretArn": {"Ref": "TmsSigningKeys"}}} in policies
    readers = [name for name, r in doc["Resources"].items()
               if "TmsSigningKeys" in json.dumps((r.get("Properties") or {}).get("Policies") or [])]
    assert readers == ["TmsWebhookFunction"]


def test_function_binaries_come_from_the_build_metadata(real_stack):
    binaries = {fn.logical_id: fn.binary for fn in real_stack.functions}
    assert binaries["CreateOrderFunction"] == "create-order"
    assert binaries["OutboxRelayFunction"] == "outbox-relay"
    by_name = real_stack.binaries_by_function_name()
    assert by_name["oms-local-OrdersApiFunction"] == "orders-api"
    assert by_name["oms-local-ShipmentsApiFunction"] == "shipments-api"
    assert by_name["oms-local-ReturnsApiFunction"] == "returns-api"


def test_functions_run_on_the_architecture_of_the_globals(real_stack):
    assert {fn.architecture for fn in real_stack.functions} == {"arm64"}


def test_table_has_the_templates_indexes_the_stream_and_ttl(real_stack):
    (table,) = real_stack.tables
    args = table.create_args
    assert table.name == "oms-local-OmsTable"
    assert args["BillingMode"] == "PAY_PER_REQUEST"
    assert args["KeySchema"] == [{"AttributeName": "PK", "KeyType": "HASH"},
                                 {"AttributeName": "SK", "KeyType": "RANGE"}]
    indexes = {g["IndexName"]: g for g in args["GlobalSecondaryIndexes"]}
    raw = cfn.load_template(real_stack.template_path)["Resources"]["OmsTable"]["Properties"]
    assert sorted(indexes) == sorted(g["IndexName"] for g in raw["GlobalSecondaryIndexes"])
    assert {"GSI1", "GSI2", "GSI3", "GSI4"} <= set(indexes)
    for name, gsi in indexes.items():
        assert gsi["KeySchema"][0] == {"AttributeName": f"{name}PK", "KeyType": "HASH"}
        assert gsi["KeySchema"][1] == {"AttributeName": f"{name}SK", "KeyType": "RANGE"}
    # The lists by date and customer hold nothing a change rewrites (GSI3 reuses GSI1's
    # projection through a YAML anchor); the status list holds the summary (it moves anyway).
    assert indexes["GSI3"]["Projection"] == indexes["GSI1"]["Projection"]
    assert indexes["GSI1"]["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["created_by"]}
    assert {"status", "on_hold", "skus"} <= set(indexes["GSI2"]["Projection"]["NonKeyAttributes"])
    assert indexes["GSI4"]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    # Old images too: the relay tells stock changes apart (replenished, fell under threshold).
    assert args["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table.ttl_attribute == "expires_at"
    defined = {a["AttributeName"] for a in args["AttributeDefinitions"]}
    used = {k["AttributeName"] for g in indexes.values() for k in g["KeySchema"]} | {"PK", "SK"}
    assert used == defined


def test_routes_come_from_http_api_events_with_the_default_authorizer(real_stack):
    routes = {r.route_key: r for r in real_stack.routes}
    assert routes["GET /v1/orders/{id}"].binary == "orders-api"
    assert routes["POST /v1/orders"].binary == "create-order"
    assert routes["PUT /v1/inventory/{hub_id}/{sku}"].binary == "inventory-api"
    assert routes["POST /v1/orders/{id}/shipments"].binary == "shipments-api"
    assert routes["GET /v1/shipments/{shipment_id}"].binary == "shipments-api"
    assert routes["POST /v1/orders/{id}/returns"].binary == "returns-api"
    assert routes["POST /v1/returns/{return_id}/receive"].binary == "return-receive"
    # Every route needs a JWT but the TMS webhook (signed by the TMS, checked by the function)
    # and the API's OpenAPI document (public, and it holds no data).
    assert {r.route_key for r in real_stack.routes if not r.authorized} == {
        "POST /v1/webhooks/tms", "GET /v1/openapi.json"}
    assert routes["GET /v1/openapi.json"].binary == "api-docs"
    (authorizer,) = real_stack.authorizers
    assert (authorizer.issuer, authorizer.audience) == ("https://auth.example.com/", ["oms"])


def test_every_function_with_http_routes_holds_them_to_its_route_enum():
    # The Rust side (oms_aws::edge::routes::template) compares a function's HttpApi events with its
    # enum; this makes sure no function serving routes goes without that test.
    from tools.local.config import ROOT
    resources = cfn.load_template(ROOT / "infra" / "template.yaml")["Resources"]
    http_binaries = {r["Metadata"]["BuildProperties"]["Binary"] for r in resources.values()
                     if any(e["Type"] == "HttpApi"
                            for e in ((r.get("Properties") or {}).get("Events") or {}).values())}
    assert {"orders-api", "shipments-api", "returns-api", "tms-webhook"} <= http_binaries
    for binary in sorted(http_binaries):
        handler = (ROOT / "functions" / binary / "src" / "handler.rs").read_text(encoding="utf-8")
        assert "oms_aws::http_routes!" in handler, binary
        assert "assert_template_routes::<Route>(env!(\"CARGO_PKG_NAME\")" in handler, binary


def test_outbox_stream_mapping(real_stack):
    (source,) = real_stack.stream_sources
    assert (source.binary, source.table) == ("outbox-relay", "oms-local-OmsTable")
    assert source.starting_position == "TRIM_HORIZON"
    # Never discards: undeliverable records are parked by the relay, the rest retried until they pass.
    assert (source.batch_size, source.max_retry_attempts) == (100, -1)
    assert source.report_batch_item_failures and source.bisect_on_error
    assert source.filters == [{"eventName": ["INSERT", "MODIFY"],
                               "dynamodb": {"NewImage": {"entity": {"S": ["ORDER"]},
                                                         "outbox": {"B": [{"exists": True}]}}}},
                              {"eventName": ["INSERT"],
                               "dynamodb": {"NewImage": {"entity": {"S": ["OUTBOX"]}}}},
                              {"eventName": ["INSERT", "MODIFY"],
                               "dynamodb": {"NewImage": {"entity": {"S": ["STOCK"]}}}}]
    dlq = real_stack.queue_by_arn(source.on_failure_arn)
    assert dlq is not None and dlq.logical_id == "OutboxRelayDeadLetterQueue"


def test_parked_relay_messages_raise_an_alarm_and_the_relay_writes_nothing_else(real_stack):
    resources = cfn.load_template(real_stack.template_path)["Resources"]
    relay = resources["OutboxRelayFunction"]["Properties"]
    stream = relay["Events"]["TableStream"]["Properties"]
    assert stream["MaximumRecordAgeInSeconds"] == -1
    statements = [s for p in relay["Policies"] if "Statement" in p for s in p["Statement"]]
    writes = [s for s in statements if s["Action"] in ("dynamodb:PutItem", "dynamodb:UpdateItem",
                                                        "dynamodb:DeleteItem")]
    assert [s["Action"] for s in writes] == ["dynamodb:PutItem"]
    parked = writes[0]["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
    assert parked == ["T#*#PARKED#*", "PARKED#*"], "parked items only"
    assert not any("DynamoDBCrudPolicy" in p for p in relay["Policies"])
    alarm = resources["ParkedEventsAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == ("OMS", "ParkedEvents", "Sum")
    assert (alarm["Period"], alarm["Threshold"], alarm["ComparisonOperator"]) == (300, 0, "GreaterThanThreshold")


def test_event_tap_exists_locally_and_feeds_the_test_environment(real_stack, stack_from):
    tap = next(q for q in real_stack.queues if q.logical_id == "EventTapQueue")
    assert tap.url == f"http://127.0.0.1:4566/{ACCOUNT}/oms-local-EventTapQueue"
    rule = next(r for r in real_stack.rules if r.logical_id == "EventTapRule")
    assert rule.bus_name == "oms-local-bus" and rule.pattern == {"source": ["oms"]}
    assert [t.arn for t in rule.targets] == [tap.arn]
    env = real_stack.test_environment()
    assert env["OMS_EVENT_TAP_QUEUE_URL"] == tap.url
    assert env["OMS_TABLE_NAME"] == "oms-local-OmsTable"
    assert env["OMS_EVENT_BUS_NAME"] == "oms-local-bus"


def test_conditions_follow_parameter_overrides(settings, real_stack):
    from dataclasses import replace

    from tools.local.template import LocalStack

    off = LocalStack.from_template(replace(settings, parameter_overrides={
        **settings.parameter_overrides, "EnableEventTap": "false"}))
    on_queues = {q.logical_id for q in real_stack.queues}
    assert "EventTapQueue" in on_queues
    assert {q.logical_id for q in off.queues} == on_queues - {"EventTapQueue"}
    assert not [r for r in off.rules if r.logical_id == "EventTapRule"]
    assert "OMS_EVENT_TAP_QUEUE_URL" not in off.test_environment()


def test_stack_name_changes_every_default_name(settings):
    from dataclasses import replace

    from tools.local.template import LocalStack

    other = LocalStack.from_template(replace(settings, stack_name="other"))
    assert other.tables[0].name == "other-OmsTable"
    assert other.buses[0].name == "other-bus"
    assert other.function("AssignHubFunction").arn.endswith(":function:other-AssignHubFunction")


SMALL = """
Parameters:
  Env: {Type: String, Default: dev}
  Names: {Type: CommaDelimitedList, Default: "a,b,c"}
Mappings:
  Sizes:
    dev: {Memory: 256}
    prod: {Memory: 512}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  NotProd: !Not [!Condition IsProd]
  Both: !And [!Condition NotProd, !Equals [x, x]]
Globals:
  Function:
    Timeout: 7
    Environment:
      Variables:
        SHARED: !Sub "${AWS::StackName}-${AWS::Region}"
Resources:
  Dlq:
    Type: AWS::SQS::Queue
  Work:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Join ["-", [work, !Select [1, !Ref Names]]]
      VisibilityTimeout: 45
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt Dlq.Arn
        maxReceiveCount: 3
  ProdOnly:
    Type: AWS::SQS::Queue
    Condition: IsProd
  Bus:
    Type: AWS::Events::EventBus
    Properties: {Name: !Sub "${Env}-bus"}
  Fn:
    Type: AWS::Serverless::Function
    Metadata: {BuildProperties: {Binary: worker}}
    Properties:
      MemorySize: !FindInMap [Sizes, !Ref Env, Memory]
      Environment:
        Variables:
          QUEUE: !Ref Work
          BUS_ARN: !GetAtt Bus.Arn
          MAYBE: !If [IsProd, prod-only, !Ref "AWS::NoValue"]
          FLAG: !If [Both, "yes", "no"]
          SUBVARS: !Sub ["${A}/${Work.QueueName}", {A: !Select [0, !Split ["/", "x/y"]]}]
      Events:
        FromBus:
          Type: EventBridgeRule
          Properties:
            EventBusName: !Ref Bus
            Pattern: {source: [wms], detail-type: [PickCompleted]}
            InputPath: $.detail
        Jobs:
          Type: SQS
          Properties:
            Queue: !GetAtt Work.Arn
            BatchSize: 5
            FunctionResponseTypes: [ReportBatchItemFailures]
"""


def test_intrinsics_on_a_small_template(stack_from):
    stack = stack_from(SMALL)
    queues = {q.logical_id: q for q in stack.queues}
    assert set(queues) == {"Dlq", "Work"}  # ProdOnly's condition is false
    assert queues["Work"].name == "work-b"
    assert queues["Dlq"].name == "oms-local-Dlq"
    assert queues["Work"].attributes == {"VisibilityTimeout": "45"}
    assert queues["Work"].redrive_policy == {
        "deadLetterTargetArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:oms-local-Dlq",
        "maxReceiveCount": 3}
    fn = stack.function("Fn")
    assert fn.environment == {
        "SHARED": "oms-local-us-east-1",
        "QUEUE": f"http://127.0.0.1:4566/{ACCOUNT}/work-b",
        "BUS_ARN": f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/dev-bus",
        "FLAG": "yes",
        "SUBVARS": "x/work-b",
    }
    assert (fn.timeout, fn.memory, fn.binary) == (7, 256, "worker")
    assert fn.architecture == "x86_64"  # Lambda's default when neither says


def test_sam_event_bridge_rule_event_becomes_a_rule_targeting_the_function(stack_from):
    stack = stack_from(SMALL)
    (rule,) = stack.rules
    assert rule.bus_name == "dev-bus"
    assert rule.pattern == {"source": ["wms"], "detail-type": ["PickCompleted"]}
    (target,) = rule.targets
    assert target.arn == stack.function("Fn").arn
    assert target.input_path == "$.detail"
    (source,) = stack.queue_sources
    assert (source.binary, source.batch_size, source.report_batch_item_failures) == \
        ("worker", 5, True)
    assert source.queue_url.endswith("/work-b")


def test_parameter_override_flips_conditions(stack_from):
    stack = stack_from(SMALL, Env="prod")
    assert "ProdOnly" in {q.logical_id for q in stack.queues}
    fn = stack.function("Fn")
    assert fn.environment["MAYBE"] == "prod-only"
    assert fn.environment["FLAG"] == "no"


def test_unknown_reference_is_an_error(stack_from):
    with pytest.raises(cfn.TemplateError, match="Nope"):
        stack_from("""
Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties: {QueueName: !Ref Nope}
""")


def test_reference_to_a_resource_whose_condition_is_false_is_an_error(stack_from):
    with pytest.raises(cfn.TemplateError, match="condition is false"):
        stack_from("""
Conditions:
  Never: !Equals [a, b]
Resources:
  Hidden:
    Type: AWS::SQS::Queue
    Condition: Never
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Environment: {Variables: {Q: !Ref Hidden}}
""")


def test_unknown_resource_types_are_skipped_with_a_warning(stack_from):
    stack = stack_from("""
Resources:
  Topic:
    Type: AWS::SNS::Topic
""")
    assert any("AWS::SNS::Topic" in w for w in stack.warnings)


def test_the_relay_leaves_the_template_default_unpublished_and_an_empty_override_publishes_all(settings):
    """`./dev up` and `./dev bench` keep the template's default (what the bench prices);
    `OMS_PARAMETER_OVERRIDES=UnpublishedEvents=` gives the relay an empty list: every event."""
    from dataclasses import replace

    from tools.local import config
    from tools.local.template import LocalStack

    defaults = {k: v for k, v in settings.parameter_overrides.items() if k != "UnpublishedEvents"}
    default = LocalStack.from_template(replace(settings, parameter_overrides=defaults))
    assert default.function("OutboxRelayFunction").environment["OMS_UNPUBLISHED_EVENTS"] == "OrderStatusChanged"
    empty = LocalStack.from_template(replace(settings, parameter_overrides={
        **defaults, **config._overrides("Metrics=emf,UnpublishedEvents=")}))
    assert empty.function("OutboxRelayFunction").environment["OMS_UNPUBLISHED_EVENTS"] == ""
    assert "OMS_UNPUBLISHED_EVENTS" not in default.function("CreateOrderFunction").environment
    # A list value: a comma starts the next override only where a name and `=` follow.
    two = LocalStack.from_template(replace(settings, parameter_overrides={
        **defaults, **config._overrides("UnpublishedEvents=OrderStatusChanged,OrderShipped, Metrics=emf")}))
    relay = two.function("OutboxRelayFunction").environment
    assert relay["OMS_UNPUBLISHED_EVENTS"] == "OrderStatusChanged,OrderShipped"
    assert relay["OMS_METRICS"] == "emf"
