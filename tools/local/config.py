"""Settings of the local stack: paths, ports, secrets and names, each overridable by environment.

One place for every default the SPEC fixes ("Local stack" section), so the supervisor, the harness,
the tests and the banner all agree.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOCAL = ROOT / ".local"
RUN = LOCAL / "run"
LOGS = RUN / "logs"
VENV = LOCAL / "venv"
NODE = LOCAL / "node"
STATE_FILE = RUN / "state.json"
STACK_ENV_FILE = RUN / "stack.env"
TOKENS_FILE = RUN / "tokens.json"
BANNER_FILE = RUN / "banner.txt"

HOST = "127.0.0.1"
ACCOUNT_ID = "123456789012"
DUMMY_ACCESS_KEY = "test"
DUMMY_SECRET_KEY = "test"
DEMO_TENANT = "demo"

# The local stand-ins for the integrations (README "Registering integrations"). In AWS the
# identity of whoever puts an event or sends a message is stamped on it by AWS (the event's
# `account`, the message's `SenderId`); locally the harness stamps these from the caller's
# access key id (moto only reads 20-character keys), so the registry check runs for real.
# Anyone else (the functions, the tests' own clients) stays moto's default account.
LOCAL_WMS_ACCESS_KEY = "AKIALOCALWMS00000001"
LOCAL_WMS_ACCOUNT = "111122223333"
LOCAL_CHANNEL_ACCESS_KEY = "AKIALOCALCHANNEL0001"
LOCAL_CHANNEL_SENDER_ID = "AIDALOCALCHANNEL0001"
# access key id -> (the `account` of its events, the `SenderId` of its messages): the WMS is an
# account of its own; the connector an IAM user of the OMS's account.
LOCAL_SENDERS = {
    LOCAL_WMS_ACCESS_KEY: (LOCAL_WMS_ACCOUNT, LOCAL_WMS_ACCOUNT),
    LOCAL_CHANNEL_ACCESS_KEY: (ACCOUNT_ID, LOCAL_CHANNEL_SENDER_ID),
}
ROLES = ("sales", "sales_manager", "admin", "dispatcher")

# The local stack's tenant signing key for the TMS webhook (`./dev carrier --key demo-local-1`).
LOCAL_TMS_KEY_ID = "demo-local-1"
LOCAL_TMS_KEYS = json.dumps({"keys": [{"id": LOCAL_TMS_KEY_ID, "tenant_id": DEMO_TENANT,
                                       "secret": "oms-local-tms-demo-key"}]})

# Environment variable that tags every process the stack starts, so `down` can find them all,
# including the function instances `cargo lambda watch` starts in sessions of their own.
RUN_TAG_VAR = "OMS_LOCAL_STACK_RUN"


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "")
    return value if value else default


def _port(name: str, default: int) -> int:
    raw = _env(name, str(default))
    try:
        return int(raw)
    except ValueError as exc:
        raise SystemExit(f"{name}={raw!r} is not a port number") from exc


def _seconds(name: str, default: float) -> float:
    raw = _env(name, str(default))
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value < 0:
        raise SystemExit(f"{name}={raw!r} is not a number of seconds")
    return value


# A comma starts the next override only where a parameter name and `=` follow it: a value may
# be a list (`UnpublishedEvents=OrderStatusChanged,OrderShipped,Metrics=emf`).
_NEXT_OVERRIDE = re.compile(r",(?=\s*[A-Za-z][A-Za-z0-9]*=)")


def _overrides(raw: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in filter(None, (p.strip() for p in _NEXT_OVERRIDE.split(raw))):
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"OMS_PARAMETER_OVERRIDES: {item!r} is not KEY=VALUE")
        out[key.strip()] = value.strip()
    return out


@dataclass(frozen=True)
class Settings:
    stack_name: str
    region: str
    api_port: int
    aws_port: int
    dynamodb_port: int
    watch_port: int
    jwt_secret: str
    tms_webhook_secret: str
    template: Path
    watch_concurrency: int
    parameter_overrides: dict[str, str] = field(default_factory=dict)
    # Values of the template's secrets locally, by logical id (instead of their SecretString).
    secret_values: dict[str, str] = field(default_factory=dict)
    # First wait before retrying a failed asynchronous invocation, doubled for each next retry
    # (AWS waits about 1 then 2 minutes).
    async_retry_delay: float = 0.5
    # Rebuild and reload functions when the code changes (`./dev up`); the test run turns it off
    # so an edit made meanwhile cannot restart functions under the tests.
    watch_reload: bool = True

    @property
    def api_url(self) -> str:
        return f"http://{HOST}:{self.api_port}/v1"

    @property
    def gateway_url(self) -> str:
        return f"http://{HOST}:{self.api_port}"

    @property
    def aws_endpoint(self) -> str:
        return f"http://{HOST}:{self.aws_port}"

    @property
    def dynamodb_endpoint(self) -> str:
        return f"http://{HOST}:{self.dynamodb_port}"

    @property
    def watch_url(self) -> str:
        return f"http://{HOST}:{self.watch_port}"

    def ports(self) -> dict[str, int]:
        return {
            "gateway": self.api_port,
            "moto": self.aws_port,
            "dynamodb": self.dynamodb_port,
            "watch": self.watch_port,
        }

    def aws_env(self) -> dict[str, str]:
        """What an AWS SDK (Rust or boto3) needs to talk to the local emulators only."""
        return {
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": DUMMY_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": DUMMY_SECRET_KEY,
            "AWS_ENDPOINT_URL_DYNAMODB": self.dynamodb_endpoint,
            "AWS_ENDPOINT_URL_EVENTBRIDGE": self.aws_endpoint,
            "AWS_ENDPOINT_URL_SFN": self.aws_endpoint,
            "AWS_ENDPOINT_URL_SQS": self.aws_endpoint,
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": self.aws_endpoint,
            "AWS_EC2_METADATA_DISABLED": "true",
        }


def load() -> Settings:
    # Locally: the event tap on, failed channel orders retried (then dead-lettered) in seconds,
    # and a TMS key rotation seen by the webhook within seconds.
    tms_webhook_secret = _env("OMS_TMS_WEBHOOK_SECRET", "oms-local-tms-secret")
    overrides = {"EnableEventTap": "true", "ChannelIntakeRetryDelaySeconds": "2",
                 "TmsWebhookSecret": tms_webhook_secret, "TmsKeysCacheSeconds": "2"}
    overrides.update(_overrides(os.environ.get("OMS_PARAMETER_OVERRIDES", "")))
    template = Path(_env("OMS_TEMPLATE", str(ROOT / "infra" / "template.yaml")))
    return Settings(
        stack_name=_env("OMS_STACK_NAME", "oms-local"),
        region=_env("OMS_REGION", "us-east-1"),
        api_port=_port("OMS_API_PORT", 3000),
        aws_port=_port("OMS_AWS_PORT", 4566),
        dynamodb_port=_port("OMS_DYNAMODB_PORT", 8000),
        watch_port=_port("OMS_WATCH_PORT", 9000),
        jwt_secret=_env("OMS_JWT_SECRET", "oms-local-dev-secret"),
        tms_webhook_secret=tms_webhook_secret,
        template=template.resolve(),
        watch_concurrency=_port("OMS_WATCH_CONCURRENCY", 4),
        parameter_overrides=overrides,
        secret_values={"TmsSigningKeys": _env("OMS_TMS_SIGNING_KEYS", LOCAL_TMS_KEYS)},
        async_retry_delay=_seconds("OMS_ASYNC_RETRY_DELAY_SECONDS", 0.5),
        watch_reload=_env("OMS_WATCH_RELOAD", "1") != "0",
    )
