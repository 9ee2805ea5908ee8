"""The local meaning of infra/template.yaml: every resource the stack needs, resolved.

`LocalStack.from_template` reads the SAM template once and answers, for the local stack: the
physical name, ARN and URL of each resource, the DynamoDB tables to create, queues, buses, secrets, rules,
functions with their environment and EventInvokeConfig, state machines with substituted
definitions, HTTP routes and JWT authorizers, and event source mappings. Provisioning, the harness,
the gateway, the pollers, the banner and the test environment all read this one model; nothing
is declared twice.

`AWS::Serverless::*` resources are expanded by SAM's own translator (`samtranslator`, what
CloudFormation runs for the transform), so the model is read from plain CloudFormation: Globals
merged, `<Function>Role`s, EventInvokeConfig, event source mappings and rules from the functions'
events, and the HTTP API as an OpenAPI body. What stays here is what the translator does not do:
local code locations, parameter values, intrinsic functions (`cfn.Resolver`) and local names.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.parser.parser import Parser as SamParser
from samtranslator.translator.translator import Translator as SamTranslator

from . import cfn
from .config import ACCOUNT_ID, Settings

FUNCTION_TYPES = ("AWS::Lambda::Function",)
STATE_MACHINE_TYPES = ("AWS::StepFunctions::StateMachine",)
# Nothing to emulate: permissions are not enforced locally, logs go to .local/run/logs, an
# alarm watches CloudWatch metrics the local stack does not produce, and the gateway serves the
# API's routes on one local stage.
IGNORED_TYPES = ("AWS::SQS::QueuePolicy", "AWS::IAM::Role", "AWS::IAM::Policy",
                 "AWS::Lambda::Permission", "AWS::Logs::LogGroup", "AWS::CloudWatch::Alarm",
                 "AWS::ApiGatewayV2::Stage")
_NAME_PROPERTY = {
    "AWS::DynamoDB::Table": "TableName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::Events::EventBus": "Name",
    "AWS::Events::Rule": "Name",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::SecretsManager::Secret": "Name",
}
# The S3 bucket local code and definition paths are given as, for the translator (it takes
# nothing else, like CloudFormation after `sam package`); a state machine's definition is read
# back from the path, a function's code is what `cargo lambda watch` serves.
_LOCAL_BUCKET = "local-files"
# The integration URI SAM writes for an HTTP API route names the function it calls.
_INTEGRATION_FUNCTION = re.compile(r"\$\{([A-Za-z0-9]+)\.Arn\}")


@dataclass
class Table:
    logical_id: str
    name: str
    arn: str
    stream_view_type: str | None
    create_args: dict[str, Any]
    ttl_attribute: str | None


@dataclass
class Queue:
    logical_id: str
    name: str
    arn: str
    url: str
    attributes: dict[str, str]
    redrive_policy: dict[str, Any] | None


@dataclass
class EventBus:
    logical_id: str
    name: str
    arn: str


@dataclass
class Secret:
    logical_id: str
    name: str
    arn: str  # partial (no random suffix): Secrets Manager, moto included, accepts it as SecretId
    secret_string: str


@dataclass
class Target:
    id: str
    arn: str
    input: str | None = None
    input_path: str | None = None
    input_transformer: dict[str, Any] | None = None

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"Id": self.id, "Arn": self.arn}
        if self.input is not None:
            out["Input"] = self.input
        if self.input_path is not None:
            out["InputPath"] = self.input_path
        if self.input_transformer is not None:
            out["InputTransformer"] = self.input_transformer
        return out


@dataclass
class Rule:
    logical_id: str
    name: str
    arn: str
    bus_name: str
    pattern: dict[str, Any]
    state: str
    targets: list[Target]


@dataclass
class AsyncInvokeConfig:
    """A function's EventInvokeConfig: what Lambda does when an asynchronous invocation fails.
    The defaults are AWS's when the function has none."""
    max_retry_attempts: int = 2
    on_failure_arn: str | None = None  # an SQS queue; other destination types are not emulated


@dataclass
class Function:
    logical_id: str
    name: str
    arn: str
    binary: str
    environment: dict[str, str]
    timeout: int
    memory: int
    async_config: AsyncInvokeConfig = field(default_factory=AsyncInvokeConfig)
    architecture: str = "x86_64"  # what AWS runs it on; locally it runs on the host's


@dataclass
class StateMachine:
    logical_id: str
    name: str
    arn: str
    type: str
    definition: str


@dataclass
class Route:
    method: str  # upper case, or ANY
    path: str  # e.g. /v1/orders/{id}; "$default" for the catch-all route
    function: str  # logical id
    binary: str
    authorized: bool

    @property
    def route_key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"


@dataclass
class StreamSource:
    function: str
    binary: str
    event_id: str
    table: str  # table name
    starting_position: str
    batch_size: int
    max_retry_attempts: int  # -1: until the record expires
    parallelization_factor: int  # batches of one shard at the function at once (by partition key)
    bisect_on_error: bool
    report_batch_item_failures: bool
    filters: list[dict[str, Any]]
    on_failure_arn: str | None
    enabled: bool


@dataclass
class QueueSource:
    function: str
    binary: str
    event_id: str
    queue_url: str
    queue_arn: str
    batch_size: int
    report_batch_item_failures: bool
    filters: list[dict[str, Any]]
    enabled: bool


@dataclass
class JwtAuthorizer:
    name: str
    issuer: str | None
    audience: list[str]


@dataclass
class LocalStack:
    settings: Settings
    template_path: Path
    tables: list[Table] = field(default_factory=list)
    queues: list[Queue] = field(default_factory=list)
    buses: list[EventBus] = field(default_factory=list)
    secrets: list[Secret] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    functions: list[Function] = field(default_factory=list)
    state_machines: list[StateMachine] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    stream_sources: list[StreamSource] = field(default_factory=list)
    queue_sources: list[QueueSource] = field(default_factory=list)
    authorizers: list[JwtAuthorizer] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    resolver: cfn.Resolver | None = None

    @classmethod
    def from_template(cls, settings: Settings, path: Path | None = None) -> LocalStack:
        path = Path(path or settings.template)
        return _Builder(settings, path).build()

    def function(self, logical_id: str) -> Function:
        for fn in self.functions:
            if fn.logical_id == logical_id:
                return fn
        raise KeyError(logical_id)

    def queue_by_arn(self, arn: str) -> Queue | None:
        return next((q for q in self.queues if q.arn == arn), None)

    def binaries_by_function_name(self) -> dict[str, str]:
        return {fn.name: fn.binary for fn in self.functions}

    def function_by_name(self, name: str) -> Function | None:
        return next((fn for fn in self.functions if fn.name == name), None)

    def function_environment(self) -> dict[str, str]:
        """Union of every function's variables: one `cargo lambda watch` runs them all."""
        merged: dict[str, str] = {}
        for fn in self.functions:
            for key, value in fn.environment.items():
                if key in merged and merged[key] != value:
                    self.warnings.append(
                        f"environment variable {key} differs between functions "
                        f"({merged[key]!r} vs {value!r} in {fn.logical_id}); using the first"
                    )
                    continue
                merged[key] = value
        return merged

    def ref(self, logical_id: str) -> Any:
        assert self.resolver is not None
        return self.resolver.ref(logical_id)

    def test_environment(self) -> dict[str, str]:
        """The OMS_* names the functions see, plus every queue's URL (`EventTapQueue` ->
        OMS_EVENT_TAP_QUEUE_URL, `WmsEventsDeadLetterQueue` -> OMS_WMS_EVENTS_DEAD_LETTER_QUEUE_URL),
        state machine's ARN (`ReservationHoldStateMachine` ->
        OMS_RESERVATION_HOLD_STATE_MACHINE_ARN) and the integration bus's name
        (OMS_INTEGRATION_BUS_NAME), for tests and developers."""
        env = {k: v for k, v in self.function_environment().items() if k.startswith("OMS_")}
        for queue in self.queues:
            env[f"OMS_{_snake(queue.logical_id)}_URL"] = queue.url
        for machine in self.state_machines:
            env[f"OMS_{_snake(machine.logical_id)}_ARN"] = machine.arn
        for bus in self.buses:
            # The OMS bus is the relay's OMS_EVENT_BUS_NAME already.
            if bus.logical_id == "IntegrationEventBus":
                env["OMS_INTEGRATION_BUS_NAME"] = bus.name
        return env


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def _snake(logical_id: str) -> str:
    """`WmsEventsDeadLetterQueue` -> `WMS_EVENTS_DEAD_LETTER_QUEUE`."""
    return _kebab(logical_id).replace("-", "_").upper()


def _as_bool(value: Any, default: bool = False) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).lower() == "true"


def _env_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _Builder:
    def __init__(self, settings: Settings, path: Path) -> None:
        self.settings = settings
        self.path = path
        self.doc = cfn.load_template(path)
        self.stack = LocalStack(settings=settings, template_path=path)
        self.region = settings.region
        parameters = self._parameters()
        self.doc = _expand_serverless(self.doc, parameters, self.region)
        self.resources: dict[str, dict[str, Any]] = self.doc.get("Resources") or {}
        self.resolver = cfn.Resolver(
            self.doc,
            parameters,
            {
                "AWS::StackName": settings.stack_name,
                "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{ACCOUNT_ID}:stack/"
                                f"{settings.stack_name}/local",
                "AWS::Region": self.region,
                "AWS::AccountId": ACCOUNT_ID,
                "AWS::Partition": "aws",
                "AWS::URLSuffix": "amazonaws.com",
                "AWS::NotificationARNs": [],
            },
            self._lookup,
        )
        self.stack.resolver = self.resolver
        self._names: dict[str, str] = {}

    # -- parameters, names, Ref/GetAtt ------------------------------------------------------

    def _parameters(self) -> dict[str, Any]:
        declared = self.doc.get("Parameters") or {}
        values: dict[str, Any] = {}
        for name, spec in declared.items():
            if name in self.settings.parameter_overrides:
                value: Any = self.settings.parameter_overrides[name]
            elif "Default" in spec:
                value = spec["Default"]
            else:
                raise cfn.TemplateError(
                    f"parameter {name} has no default: "
                    f"set it with OMS_PARAMETER_OVERRIDES={name}=..."
                )
            allowed = spec.get("AllowedValues")
            if allowed and str(value) not in [str(a) for a in allowed]:
                raise cfn.TemplateError(f"parameter {name}={value!r} not in {allowed}")
            if str(spec.get("Type", "String")).startswith("List<") or spec.get("Type") == \
                    "CommaDelimitedList":
                value = [v.strip() for v in str(value).split(",")]
            values[name] = value
        unknown = set(self.settings.parameter_overrides) - set(declared)
        for name in sorted(unknown):
            if name != "EnableEventTap":
                self.stack.warnings.append(f"parameter override {name} is not declared; ignored")
        return values

    def _active(self, logical_id: str) -> bool:
        condition = self.resources[logical_id].get("Condition")
        return condition is None or self.resolver.condition(condition)

    def _type(self, logical_id: str) -> str:
        return str(self.resources[logical_id].get("Type", ""))

    def _props(self, logical_id: str) -> dict[str, Any]:
        return self.resources[logical_id].get("Properties") or {}

    def name(self, logical_id: str) -> str:
        if logical_id in self._names:
            return self._names[logical_id]
        rtype = self._type(logical_id)
        prop = _NAME_PROPERTY.get(rtype)
        raw = self._props(logical_id).get(prop) if prop else None
        if raw is not None:
            value = str(self.resolver.resolve(raw))
        else:
            value = f"{self.settings.stack_name}-{logical_id}"
            if rtype == "AWS::SQS::Queue" and _as_bool(self._props(logical_id).get("FifoQueue")):
                value += ".fifo"
            if rtype in ("AWS::Events::Rule",) and len(value) > 64:
                value = value[:64]
        self._names[logical_id] = value
        return value

    def _arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{ACCOUNT_ID}:{resource}"

    def _bus_name_of_rule(self, logical_id: str) -> str:
        raw = self._props(logical_id).get("EventBusName", "default")
        bus = str(self.resolver.resolve(raw))
        return bus.rsplit("/", 1)[-1] if bus.startswith("arn:") else bus

    def _lookup(self, logical_id: str, attribute: str | None) -> Any:
        if not self._active(logical_id):
            raise cfn.TemplateError(f"{logical_id} is referenced but its condition is false")
        rtype = self._type(logical_id)
        name = self.name(logical_id)
        values: dict[str | None, Any]
        if rtype == "AWS::DynamoDB::Table":
            arn = self._arn("dynamodb", f"table/{name}")
            values = {None: name, "Arn": arn, "StreamArn": f"{arn}/stream/local"}
        elif rtype == "AWS::SQS::Queue":
            url = f"{self.settings.aws_endpoint}/{ACCOUNT_ID}/{name}"
            values = {None: url, "Arn": self._arn("sqs", name), "QueueName": name, "QueueUrl": url}
        elif rtype == "AWS::Events::EventBus":
            values = {None: name, "Arn": self._arn("events", f"event-bus/{name}"), "Name": name}
        elif rtype == "AWS::Events::Rule":
            bus = self._bus_name_of_rule(logical_id)
            path = f"rule/{name}" if bus == "default" else f"rule/{bus}/{name}"
            values = {None: name if bus == "default" else f"{bus}|{name}",
                      "Arn": self._arn("events", path)}
        elif rtype in FUNCTION_TYPES:
            values = {None: name, "Arn": self._arn("lambda", f"function:{name}")}
        elif rtype in STATE_MACHINE_TYPES:
            arn = self._arn("states", f"stateMachine:{name}")
            values = {None: arn, "Arn": arn, "Name": name}
        elif rtype == "AWS::SecretsManager::Secret":
            # AWS's ARN ends in a random suffix; without it (a partial ARN) it names the same
            # secret, so Ref can be known before the secret exists.
            arn = self._arn("secretsmanager", f"secret:{name}")
            values = {None: arn, "Id": arn}
        elif rtype == "AWS::IAM::Role":
            values = {None: name, "Arn": f"arn:aws:iam::{ACCOUNT_ID}:role/{name}"}
        elif rtype == "AWS::ApiGatewayV2::Api":
            values = {None: "local", "ApiEndpoint": self.settings.gateway_url}
        else:
            values = {None: logical_id}
        if attribute not in values:
            if attribute is None:
                return logical_id
            raise cfn.TemplateError(f"GetAtt {logical_id}.{attribute} is not known locally")
        return values[attribute]

    # -- resources ------------------------------------------------------------------------

    def build(self) -> LocalStack:
        handlers = {
            "AWS::DynamoDB::Table": self._table,
            "AWS::SQS::Queue": self._queue,
            "AWS::Events::EventBus": self._bus,
            "AWS::SecretsManager::Secret": self._secret,
            "AWS::Events::Rule": self._rule,
            "AWS::Lambda::Function": self._function,
            "AWS::StepFunctions::StateMachine": self._state_machine,
        }
        # These attach to functions, tables and queues, so they are read once those are known.
        attached = {
            "AWS::Lambda::EventInvokeConfig": self._event_invoke_config,
            "AWS::Lambda::EventSourceMapping": self._event_source_mapping,
            "AWS::ApiGatewayV2::Api": self._http_api,
        }
        active = [i for i in self.resources if self._active(i)]
        for logical_id in active:
            rtype = self._type(logical_id)
            if rtype in handlers:
                handlers[rtype](logical_id)
            elif rtype not in attached and rtype not in IGNORED_TYPES:
                self.stack.warnings.append(
                    f"{logical_id}: {rtype} is not emulated locally; skipped")
        for logical_id in active:
            handler = attached.get(self._type(logical_id))
            if handler is not None:
                handler(logical_id)
        return self.stack

    def _table(self, logical_id: str) -> None:
        p = self.resolver.resolve(self._props(logical_id))
        name = self.name(logical_id)
        args: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": p["AttributeDefinitions"],
            "KeySchema": p["KeySchema"],
            "BillingMode": "PAY_PER_REQUEST",
        }
        gsis = []
        for gsi in p.get("GlobalSecondaryIndexes") or []:
            gsis.append({k: gsi[k] for k in ("IndexName", "KeySchema", "Projection")})
        if gsis:
            args["GlobalSecondaryIndexes"] = gsis
        lsis = [{k: i[k] for k in ("IndexName", "KeySchema", "Projection")}
                for i in p.get("LocalSecondaryIndexes") or []]
        if lsis:
            args["LocalSecondaryIndexes"] = lsis
        view = (p.get("StreamSpecification") or {}).get("StreamViewType")
        if view:
            args["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": view}
        ttl = p.get("TimeToLiveSpecification") or {}
        self.stack.tables.append(Table(
            logical_id=logical_id,
            name=name,
            arn=self._lookup(logical_id, "Arn"),
            stream_view_type=view,
            create_args=args,
            ttl_attribute=ttl.get("AttributeName") if _as_bool(ttl.get("Enabled")) else None,
        ))

    def _queue(self, logical_id: str) -> None:
        p = self.resolver.resolve(self._props(logical_id))
        attributes: dict[str, str] = {}
        for key in ("DelaySeconds", "MaximumMessageSize", "MessageRetentionPeriod",
                    "ReceiveMessageWaitTimeSeconds", "VisibilityTimeout", "FifoQueue",
                    "ContentBasedDeduplication"):
            if key in p:
                attributes[key] = _env_text(p[key])
        redrive = p.get("RedrivePolicy")
        if isinstance(redrive, str):
            redrive = json.loads(redrive)
        self.stack.queues.append(Queue(
            logical_id=logical_id,
            name=self.name(logical_id),
            arn=self._lookup(logical_id, "Arn"),
            url=self._lookup(logical_id, None),
            attributes=attributes,
            redrive_policy=redrive,
        ))

    def _bus(self, logical_id: str) -> None:
        self.stack.buses.append(EventBus(
            logical_id=logical_id,
            name=self.name(logical_id),
            arn=self._lookup(logical_id, "Arn"),
        ))

    def _secret(self, logical_id: str) -> None:
        p = self.resolver.resolve(self._props(logical_id))
        if "GenerateSecretString" in p:
            self.stack.warnings.append(f"{logical_id}: GenerateSecretString is not emulated; "
                                       "the secret starts empty")
        self.stack.secrets.append(Secret(
            logical_id=logical_id,
            name=self.name(logical_id),
            arn=self._lookup(logical_id, None),
            secret_string=str(p.get("SecretString", "")),
        ))

    def _rule(self, logical_id: str) -> None:
        p = self.resolver.resolve(self._props(logical_id))
        pattern = p.get("EventPattern")
        if pattern is None:
            self.stack.warnings.append(f"{logical_id}: scheduled rules are not emulated; skipped")
            return
        if isinstance(pattern, str):
            pattern = json.loads(pattern)
        targets = [
            Target(
                id=str(t["Id"]),
                arn=str(t["Arn"]),
                input=t.get("Input"),
                input_path=t.get("InputPath"),
                input_transformer=t.get("InputTransformer"),
            )
            for t in p.get("Targets") or []
        ]
        self.stack.rules.append(Rule(
            logical_id=logical_id,
            name=self.name(logical_id),
            arn=self._lookup(logical_id, "Arn"),
            bus_name=self._bus_name_of_rule(logical_id),
            pattern=pattern,
            state=str(p.get("State", "ENABLED")),
            targets=targets,
        ))

    def _function(self, logical_id: str) -> None:
        own = self._props(logical_id)
        variables = ((own.get("Environment") or {}).get("Variables")) or {}
        environment = {k: _env_text(v) for k, v in self.resolver.resolve(variables).items()}
        metadata = self.resources[logical_id].get("Metadata") or {}
        binary = (metadata.get("BuildProperties") or {}).get("Binary")
        if not binary:
            binary = _kebab(logical_id.removesuffix("Function"))
            self.stack.warnings.append(
                f"{logical_id}: no Metadata.BuildProperties.Binary; assuming binary {binary!r}")
        self.stack.functions.append(Function(
            logical_id=logical_id,
            name=self.name(logical_id),
            arn=self._lookup(logical_id, "Arn"),
            binary=str(binary),
            environment=environment,
            timeout=int(self.resolver.resolve(own.get("Timeout", 3))),
            memory=int(self.resolver.resolve(own.get("MemorySize", 128))),
            architecture=str(self.resolver.resolve(own.get("Architectures", ["x86_64"]))[0]),
        ))

    def _function_of(self, logical_id: str) -> Function | None:
        """The function a resource's `FunctionName: !Ref <function>` names (as SAM writes it)."""
        ref = self._props(logical_id).get("FunctionName")
        fn_id = ref.get("Ref") if isinstance(ref, dict) else None
        return next((fn for fn in self.stack.functions if fn.logical_id == fn_id), None)

    def _event_invoke_config(self, logical_id: str) -> None:
        fn = self._function_of(logical_id)
        if fn is None:
            self.stack.warnings.append(f"{logical_id}: not for a function of this template; skipped")
            return
        props = self.resolver.resolve(self._props(logical_id))
        destination = (((props.get("DestinationConfig") or {}).get("OnFailure")) or {}).get(
            "Destination")
        service = str(destination).split(":")[2] if str(destination).startswith("arn:") else "?"
        if destination and service != "sqs":
            # SNS, Lambda, EventBridge and S3 destinations have nothing to land in locally.
            self.stack.warnings.append(
                f"{fn.logical_id}: EventInvokeConfig OnFailure {service.upper()} {destination} "
                "is not emulated; failed async events are dropped")
            destination = None
        fn.async_config = AsyncInvokeConfig(
            max_retry_attempts=int(props.get("MaximumRetryAttempts", 2)),
            on_failure_arn=str(destination) if destination else None,
        )

    def _state_machine(self, logical_id: str) -> None:
        p = self._props(logical_id)
        if "DefinitionS3Location" in p:
            location = self.resolver.resolve(p["DefinitionS3Location"])
            if location.get("Bucket") != _LOCAL_BUCKET:
                self.stack.warnings.append(f"{logical_id}: a definition in S3 is not supported")
                return
            definition = (self.path.parent / location["Key"]).read_text(encoding="utf-8")
        elif "Definition" in p:
            definition = json.dumps(self.resolver.resolve(p["Definition"]), indent=2)
        elif "DefinitionString" in p:
            definition = str(self.resolver.resolve(p["DefinitionString"]))
        else:
            self.stack.warnings.append(f"{logical_id}: no definition; skipped")
            return
        substitutions = self.resolver.resolve(p.get("DefinitionSubstitutions") or {})
        for key, value in substitutions.items():
            definition = definition.replace("${" + key + "}", _env_text(value))
        leftover = sorted(set(re.findall(r"\$\{([A-Za-z0-9_]+)\}", definition)))
        if leftover:
            self.stack.warnings.append(
                f"{logical_id}: definition placeholders without a substitution: {leftover}")
        sm_type = str(self.resolver.resolve(p.get("StateMachineType", "STANDARD")))
        self.stack.state_machines.append(StateMachine(
            logical_id=logical_id,
            name=self.name(logical_id),
            arn=self._lookup(logical_id, "Arn"),
            type=sm_type,
            definition=definition,
        ))

    def _http_api(self, logical_id: str) -> None:
        """Routes and JWT authorizers from the OpenAPI body SAM writes for an HttpApi."""
        body = self._props(logical_id).get("Body") or {}
        schemes = ((body.get("components") or {}).get("securitySchemes")) or {}
        jwt_schemes = set()
        for name, scheme in schemes.items():
            authorizer = scheme.get("x-amazon-apigateway-authorizer") or {}
            if authorizer.get("type") != "jwt":
                continue
            jwt_schemes.add(name)
            jwt = self.resolver.resolve(authorizer.get("jwtConfiguration") or {})
            audience = jwt.get("audience") or []
            self.stack.authorizers.append(JwtAuthorizer(
                name=name,
                issuer=jwt.get("issuer"),
                audience=[audience] if isinstance(audience, str) else list(audience),
            ))
        for path, operations in (body.get("paths") or {}).items():
            for method, operation in operations.items():
                integration = operation.get("x-amazon-apigateway-integration") or {}
                uri = integration.get("uri") or {}
                found = _INTEGRATION_FUNCTION.search(json.dumps(uri))
                fn = next((f for f in self.stack.functions if found and f.logical_id == found[1]),
                          None)
                if fn is None:
                    self.stack.warnings.append(
                        f"{logical_id}: {method.upper()} {path} does not call a function of this "
                        "template; skipped")
                    continue
                security = operation.get("security") or []
                self.stack.routes.append(Route(
                    method="ANY" if method == "x-amazon-apigateway-any-method" else method.upper(),
                    path=path,
                    function=fn.logical_id,
                    binary=fn.binary,
                    authorized=any(name in jwt_schemes for req in security for name in req),
                ))

    @staticmethod
    def _filters(props: dict[str, Any]) -> list[dict[str, Any]]:
        out = []
        for f in ((props.get("FilterCriteria") or {}).get("Filters")) or []:
            pattern = f.get("Pattern")
            out.append(json.loads(pattern) if isinstance(pattern, str) else pattern)
        return out

    def _event_source_mapping(self, logical_id: str) -> None:
        fn = self._function_of(logical_id)
        props = self.resolver.resolve(self._props(logical_id))
        source_arn = str(props.get("EventSourceArn", ""))
        table = next((t for t in self.stack.tables if source_arn.startswith(t.arn + "/stream/")),
                     None)
        queue = self.stack.queue_by_arn(source_arn)
        if fn is None or (table is None and queue is None):
            self.stack.warnings.append(
                f"{logical_id}: {source_arn} is not a table stream or queue of this template, or "
                "the function is not; skipped")
            return
        # SAM names the mapping <Function><EventId>.
        event_id = logical_id.removeprefix(fn.logical_id) or logical_id
        report_failures = "ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or [])
        enabled = _as_bool(props.get("Enabled"), default=True)
        if table is not None:
            on_failure = ((props.get("DestinationConfig") or {}).get("OnFailure")) or {}
            self.stack.stream_sources.append(StreamSource(
                function=fn.logical_id,
                binary=fn.binary,
                event_id=event_id,
                table=table.name,
                starting_position=str(props.get("StartingPosition", "LATEST")),
                batch_size=int(props.get("BatchSize", 100)),
                max_retry_attempts=int(props.get("MaximumRetryAttempts", -1)),
                parallelization_factor=int(props.get("ParallelizationFactor", 1)),
                bisect_on_error=_as_bool(props.get("BisectBatchOnFunctionError")),
                report_batch_item_failures=report_failures,
                filters=self._filters(props),
                on_failure_arn=on_failure.get("Destination"),
                enabled=enabled,
            ))
        elif queue is not None:
            self.stack.queue_sources.append(QueueSource(
                function=fn.logical_id,
                binary=fn.binary,
                event_id=event_id,
                queue_url=queue.url,
                queue_arn=queue.arn,
                batch_size=int(props.get("BatchSize", 10)),
                report_batch_item_failures=report_failures,
                filters=self._filters(props),
                enabled=enabled,
            ))


def _expand_serverless(doc: dict[str, Any], parameters: dict[str, Any],
                       region: str) -> dict[str, Any]:
    """The template with its `AWS::Serverless::*` resources expanded by SAM's translator."""
    resources = doc.get("Resources") or {}
    if not any(str(r.get("Type", "")).startswith("AWS::Serverless::")
               for r in resources.values()):
        return doc
    doc = copy.deepcopy(doc)
    function_globals = (doc.get("Globals") or {}).get("Function") or {}
    if "CodeUri" in function_globals:
        _local_code(function_globals)
    for resource in doc["Resources"].values():
        props = resource.setdefault("Properties", {})
        if resource.get("Type") == "AWS::Serverless::Function":
            if "CodeUri" in props or "CodeUri" not in function_globals:
                _local_code(props)
            # Whatever a template says, locally every function is a `cargo lambda watch` binary;
            # the translator wants a runtime for a zip function.
            for key, value in (("Runtime", "provided.al2023"), ("Handler", "bootstrap")):
                if key not in function_globals:
                    props.setdefault(key, value)
        elif resource.get("Type") == "AWS::Serverless::StateMachine" and \
                isinstance(props.get("DefinitionUri"), str):
            props["DefinitionUri"] = {"Bucket": _LOCAL_BUCKET, "Key": props["DefinitionUri"]}
    # Its pseudo parameters come from a session's region; no call is made, no credentials read.
    session = boto3.session.Session(region_name=region)
    translator = SamTranslator(None, SamParser(), boto_session=session)
    try:
        # Managed policies are looked up by name only for IAM, which is not emulated.
        return translator.translate(doc, dict(parameters), passthrough_metadata=True,
                                    get_managed_policy_map=dict)
    except InvalidDocumentException as exc:
        raise cfn.TemplateError("the SAM transform failed: " +
                                "; ".join(str(cause) for cause in exc.causes)) from exc


def _local_code(props: dict[str, Any]) -> None:
    """A function's local code (a path, or none: `cargo lambda watch` builds it) as the S3
    location the translator requires."""
    if "InlineCode" in props or "ImageUri" in props:
        return
    code = props.get("CodeUri")
    if code is None or (isinstance(code, str) and not code.startswith("s3://")):
        props["CodeUri"] = f"s3://{_LOCAL_BUCKET}/{code or 'cargo-lambda-watch'}"
