"""EventBridge target input: Input, InputPath and InputTransformer applied to an event.

Used for the targets the harness delivers itself (Lambda and Step Functions). Paths are the
simple JSONPath EventBridge accepts (`$`, `$.a.b`, `$.a[0]`, `$['a-b']`). In an InputTemplate, a
placeholder inside a JSON string is inserted as text; outside a string, as JSON.
"""

from __future__ import annotations

import json
import re
from typing import Any

_MISSING = object()
_SEGMENT = re.compile(r"\.([A-Za-z0-9_\-$@]+)|\[(\d+)\]|\[['\"]([^'\"]+)['\"]\]")
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")


def json_path(document: Any, path: str) -> Any:
    """The value at path, or None when it does not exist."""
    path = path.strip()
    if not path.startswith("$"):
        raise ValueError(f"not a JSONPath: {path!r}")
    value = document
    pos = 1
    while pos < len(path):
        m = _SEGMENT.match(path, pos)
        if not m:
            raise ValueError(f"unsupported JSONPath: {path!r}")
        pos = m.end()
        if m.group(2) is not None:
            index = int(m.group(2))
            value = value[index] if isinstance(value, list) and index < len(value) else _MISSING
        else:
            key = m.group(1) or m.group(3)
            value = value.get(key, _MISSING) if isinstance(value, dict) else _MISSING
        if value is _MISSING:
            return None
    return value


def render_template(template: str, values: dict[str, Any]) -> str:
    out = []
    in_string = False
    escaped = False
    pos = 0
    while pos < len(template):
        ch = template[pos]
        if ch == "<":
            m = _PLACEHOLDER.match(template, pos)
            if m and m.group(1) in values:
                value = values[m.group(1)]
                if in_string:
                    text = value if isinstance(value, str) else json.dumps(value)
                    out.append(json.dumps(text)[1:-1])
                else:
                    out.append(json.dumps(value))
                pos = m.end()
                continue
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        out.append(ch)
        pos += 1
    return "".join(out)


def target_input(target: dict[str, Any], event: dict[str, Any], rule_arn: str,
                 rule_name: str) -> str:
    """The payload text EventBridge would send to the target for this event."""
    if target.get("Input") is not None:
        return str(target["Input"])
    if target.get("InputPath"):
        return json.dumps(json_path(event, target["InputPath"]))
    transformer = target.get("InputTransformer")
    if transformer:
        values: dict[str, Any] = {
            name: json_path(event, path)
            for name, path in (transformer.get("InputPathsMap") or {}).items()
        }
        values.setdefault("aws.events.rule-arn", rule_arn)
        values.setdefault("aws.events.rule-name", rule_name)
        values.setdefault("aws.events.event.ingestion-time", event.get("time"))
        values.setdefault("aws.events.event", event)
        values.setdefault("aws.events.event.json", event)
        return render_template(str(transformer["InputTemplate"]), values)
    return json.dumps(event)
