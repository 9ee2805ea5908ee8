"""The JSON Schemas of the events the OMS emits and accepts (events/schemas/), for the tests.

`validate_detail("oms", "OrderCreated", detail)` checks an EventBridge detail against
events/schemas/oms/OrderCreated.schema.json (source `wms` for warehouse events; `("tms",
"webhook", body)` for the TMS webhook body) and raises EventSchemaError listing what is wrong.
The schemas' relative `$ref`s (../common.schema.json#/$defs/...) resolve against their files.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SCHEMAS = Path(__file__).resolve().parents[2] / "events" / "schemas"
MAX_ERRORS = 10


class EventSchemaError(AssertionError):
    """A payload that does not match its schema, or one without a schema."""


def schema_path(source: str, detail_type: str) -> Path:
    return SCHEMAS / source / f"{detail_type}.schema.json"


def schema_files() -> list[Path]:
    return sorted(SCHEMAS.rglob("*.schema.json"))


@cache
def registry() -> Registry:
    """Every schema under its file URI, so relative `$ref`s resolve as they would on disk."""
    def resource(path: Path) -> Resource:
        return Resource.from_contents(json.loads(path.read_text()), default_specification=DRAFT202012)

    return Registry().with_resources((path.as_uri(), resource(path)) for path in schema_files())


@cache
def validator(source: str, detail_type: str) -> Draft202012Validator:
    path = schema_path(source, detail_type)
    if not path.is_file():
        where = path.relative_to(SCHEMAS.parents[1])
        raise EventSchemaError(f"no schema for {source}/{detail_type}: add {where}")
    return Draft202012Validator({"$ref": path.as_uri()}, registry=registry(),
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


def validate_detail(source: str, detail_type: str, detail: Any) -> None:
    """Raises EventSchemaError when `detail` does not match the schema of `source`/`detail_type`."""
    errors = sorted(validator(source, detail_type).iter_errors(detail), key=lambda e: e.json_path)
    if not errors:
        return
    lines = [f"  {e.json_path}: {e.message}" for e in errors[:MAX_ERRORS]]
    if len(errors) > MAX_ERRORS:
        lines.append(f"  ... and {len(errors) - MAX_ERRORS} more")
    event_id = detail.get("event_id") if isinstance(detail, dict) else None
    raise EventSchemaError(f"{source}/{detail_type} (event_id {event_id}) does not match its schema:\n"
                           + "\n".join(lines))
