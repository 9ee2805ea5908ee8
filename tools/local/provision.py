"""Creates the resolved template's resources: tables on DynamoDB Local, the rest on moto.

Idempotent: a resource that already exists is left as it is. Functions are registered in moto with
a dummy zip and role only so that their ARNs resolve (invokes go to watch); IAM policies are not
enforced locally.
"""

from __future__ import annotations

import io
import json
import logging
import time
import zipfile
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from .config import ACCOUNT_ID, DUMMY_ACCESS_KEY, DUMMY_SECRET_KEY, Settings
from .template import LocalStack

log = logging.getLogger("provision")

LAMBDA_ROLE = "oms-local-lambda-role"
STATES_ROLE = "oms-local-states-role"


def client(service: str, settings: Settings, endpoint: str | None = None) -> Any:
    if endpoint is None:
        endpoint = settings.dynamodb_endpoint if service in ("dynamodb", "dynamodbstreams") \
            else settings.aws_endpoint
    return boto3.session.Session().client(
        service,
        endpoint_url=endpoint,
        region_name=settings.region,
        aws_access_key_id=DUMMY_ACCESS_KEY,
        aws_secret_access_key=DUMMY_SECRET_KEY,
        config=Config(retries={"max_attempts": 3, "mode": "standard"}, read_timeout=60),
    )


def _exists(exc: ClientError, *codes: str) -> bool:
    return exc.response.get("Error", {}).get("Code") in codes


def _dummy_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("bootstrap", "#!/bin/sh\necho 'served by cargo lambda watch'\n")
    return buffer.getvalue()


def provision(stack: LocalStack, settings: Settings) -> None:
    started = time.monotonic()
    _tables(stack, settings)
    _roles(settings)
    _functions(stack, settings)
    _queues(stack, settings)
    _buses(stack, settings)
    _secrets(stack, settings)
    _state_machines(stack, settings)
    _rules(stack, settings)
    log.info("provisioned in %.1f s", time.monotonic() - started)


def _tables(stack: LocalStack, settings: Settings) -> None:
    ddb = client("dynamodb", settings)
    for table in stack.tables:
        try:
            ddb.create_table(**table.create_args)
            log.info("table %s created", table.name)
        except ClientError as exc:
            if not _exists(exc, "ResourceInUseException"):
                raise
            log.info("table %s exists", table.name)
        ddb.get_waiter("table_exists").wait(TableName=table.name,
                                            WaiterConfig={"Delay": 1, "MaxAttempts": 30})
        if table.ttl_attribute:
            try:
                ddb.update_time_to_live(TableName=table.name, TimeToLiveSpecification={
                    "Enabled": True, "AttributeName": table.ttl_attribute})
            except ClientError as exc:
                if "already enabled" not in str(exc).lower():
                    raise


def _roles(settings: Settings) -> None:
    iam = client("iam", settings)
    for role, service in ((LAMBDA_ROLE, "lambda.amazonaws.com"),
                          (STATES_ROLE, "states.amazonaws.com")):
        policy = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]}
        try:
            iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(policy))
        except ClientError as exc:
            if not _exists(exc, "EntityAlreadyExists"):
                raise


def _functions(stack: LocalStack, settings: Settings) -> None:
    lam = client("lambda", settings)
    code = _dummy_zip()
    for fn in stack.functions:
        try:
            lam.create_function(
                FunctionName=fn.name,
                Runtime="provided.al2023",
                Role=f"arn:aws:iam::{ACCOUNT_ID}:role/{LAMBDA_ROLE}",
                Handler="bootstrap",
                Code={"ZipFile": code},
                Timeout=fn.timeout,
                MemorySize=fn.memory,
                Environment={"Variables": fn.environment},
                Description=f"local: served by binary {fn.binary} in cargo lambda watch",
            )
            log.info("function %s -> binary %s", fn.name, fn.binary)
        except ClientError as exc:
            if not _exists(exc, "ResourceConflictException"):
                raise


def _queues(stack: LocalStack, settings: Settings) -> None:
    sqs = client("sqs", settings)
    for queue in stack.queues:
        response = sqs.create_queue(QueueName=queue.name, Attributes=queue.attributes)
        if response["QueueUrl"] != queue.url:
            log.warning("queue %s: moto says %s, template model says %s", queue.name,
                        response["QueueUrl"], queue.url)
        log.info("queue %s", queue.url)
    # Redrive targets must exist before a policy points at them.
    for queue in stack.queues:
        if queue.redrive_policy:
            sqs.set_queue_attributes(QueueUrl=queue.url, Attributes={
                "RedrivePolicy": json.dumps(queue.redrive_policy)})


def _buses(stack: LocalStack, settings: Settings) -> None:
    events = client("events", settings)
    for bus in stack.buses:
        try:
            events.create_event_bus(Name=bus.name)
            log.info("event bus %s", bus.name)
        except ClientError as exc:
            if not _exists(exc, "ResourceAlreadyExistsException"):
                raise


def _secrets(stack: LocalStack, settings: Settings) -> None:
    """The template's secrets, each with the local stack's value if it has one (settings), else
    the template's SecretString. An existing secret is set to that value again: a restarted stack
    starts from the same keys whatever a test put meanwhile."""
    sm = client("secretsmanager", settings)
    for secret in stack.secrets:
        value = settings.secret_values.get(secret.logical_id, secret.secret_string)
        try:
            sm.create_secret(Name=secret.name, SecretString=value)
        except ClientError as exc:
            if not _exists(exc, "ResourceExistsException"):
                raise
            sm.put_secret_value(SecretId=secret.arn, SecretString=value)
        log.info("secret %s", secret.arn)


def _state_machines(stack: LocalStack, settings: Settings) -> None:
    sfn = client("stepfunctions", settings)
    for sm in stack.state_machines:
        try:
            response = sfn.create_state_machine(
                name=sm.name,
                definition=sm.definition,
                roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/{STATES_ROLE}",
                type=sm.type,
            )
            if response["stateMachineArn"] != sm.arn:
                log.warning("state machine %s: moto ARN %s differs from %s", sm.name,
                            response["stateMachineArn"], sm.arn)
            log.info("state machine %s", sm.arn)
        except ClientError as exc:
            if not _exists(exc, "StateMachineAlreadyExists"):
                raise


def _rules(stack: LocalStack, settings: Settings) -> None:
    events = client("events", settings)
    for rule in stack.rules:
        events.put_rule(Name=rule.name, EventBusName=rule.bus_name,
                        EventPattern=json.dumps(rule.pattern), State=rule.state)
        if rule.targets:
            events.put_targets(Rule=rule.name, EventBusName=rule.bus_name,
                               Targets=[t.to_api() for t in rule.targets])
        log.info("rule %s on %s -> %s", rule.name, rule.bus_name,
                 ", ".join(t.arn for t in rule.targets))
