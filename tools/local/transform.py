"""EventBridge target input: Input, InputPath and InputTransformer applied to an event.

Used for the targets the harness delivers itself (Lambda and Step Functions). Paths are read with
jsonpath-ng (the library moto's own transformer uses). The template rendering stays here because
moto's (`moto.events.utils.EventTemplateParser`) does not do what EventBridge does: it replaces
placeholders as raw text and parses the result as JSON, so a string template (`"order <id>"`), a
value with quotes inside a JSON string, and `<aws.events.rule-name>`/`<aws.events.rule-arn>` all
fail there. Here, as in EventBridge, a placeholder inside a JSON string is inserted as text and
outside a string as JSON, and the template may be any text.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from jsonpath_ng.ext import parse as jsonpath_parse

_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")
# A rule's paths are few and fixed; parsing one is the costly part of reading it.
_compiled = lru_cache(maxsize=256)(jsonpath_parse)


def json_path(document: Any, path: str) -> Any:
    """The value at path, or None when it does not exist."""
    if not path.strip().startswith("$"):
        raise ValueError(f"not a JSONPath: {path!r}")
    try:
        found = _compiled(path.strip()).find(document)
    except Exception as exc:  # jsonpath-ng raises bare Exceptions for syntax errors
        raise ValueError(f"unsupported JSONPath: {path!r}: {exc}") from exc
    return found[0].value if found else None


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
