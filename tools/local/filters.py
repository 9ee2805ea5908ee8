"""Event filtering as Lambda event source mappings (and EventBridge) do it on a record's JSON.

A pattern is an object whose leaves are lists of accepted values. A record matches when, for every
key of the pattern, the record's value at that key matches: nested objects recurse; a list of
literals is an exact match on any of them (an array value in the record matches when any element
does). Supported operators inside the lists: `prefix`, `suffix`, `equals-ignore-case`,
`anything-but` (value, list, or `{"prefix": ...}`), `numeric` (comparisons) and `exists`.
Several patterns (FilterCriteria.Filters) match when any one does.
"""

from __future__ import annotations

from typing import Any

_MISSING = object()


def matches_any(patterns: list[dict[str, Any]], record: Any) -> bool:
    """No patterns means no filtering."""
    return not patterns or any(matches(p, record) for p in patterns)


def matches(pattern: dict[str, Any], record: Any) -> bool:
    if not isinstance(pattern, dict):
        raise ValueError(f"a filter pattern must be an object, got {pattern!r}")
    for key, expected in pattern.items():
        value = record.get(key, _MISSING) if isinstance(record, dict) else _MISSING
        if isinstance(expected, dict):
            if value is _MISSING or not isinstance(value, dict):
                return False
            if not matches(expected, value):
                return False
        elif isinstance(expected, list):
            if not _leaf_matches(expected, value):
                return False
        else:
            raise ValueError(f"pattern value for {key!r} must be an object or a list")
    return True


def _leaf_matches(accepted: list[Any], value: Any) -> bool:
    for rule in accepted:
        if isinstance(rule, dict) and "exists" in rule:
            present = value is not _MISSING
            if present == bool(rule["exists"]):
                return True
            continue
        if value is _MISSING:
            continue
        candidates = value if isinstance(value, list) else [value]
        if any(_value_matches(rule, v) for v in candidates):
            return True
    return False


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _value_matches(rule: Any, value: Any) -> bool:
    if isinstance(rule, dict):
        (op, arg), = rule.items()
        if op == "prefix":
            return isinstance(value, str) and value.startswith(_text_arg(arg))
        if op == "suffix":
            return isinstance(value, str) and value.endswith(_text_arg(arg))
        if op == "equals-ignore-case":
            return isinstance(value, str) and value.lower() == str(arg).lower()
        if op == "anything-but":
            if isinstance(arg, dict):
                return not _value_matches(arg, value)
            excluded = arg if isinstance(arg, list) else [arg]
            return not any(_literal_equal(e, value) for e in excluded)
        if op == "numeric":
            return _numeric(arg, value)
        raise ValueError(f"unsupported filter operator {op!r}")
    return _literal_equal(rule, value)


def _text_arg(arg: Any) -> str:
    if isinstance(arg, dict) and "equals-ignore-case" in arg:
        raise ValueError("prefix/suffix with equals-ignore-case is not supported locally")
    return str(arg)


def _literal_equal(rule: Any, value: Any) -> bool:
    if rule is None or value is None:
        return rule is None and value is None
    if _is_number(rule) and _is_number(value):
        return float(rule) == float(value)
    if isinstance(rule, bool) or isinstance(value, bool):
        return rule is value
    return type(rule) is type(value) and rule == value


def _numeric(conditions: list[Any], value: Any) -> bool:
    if not _is_number(value):
        return False
    ops = {
        "=": lambda a, b: a == b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
    }
    for i in range(0, len(conditions), 2):
        op, bound = conditions[i], conditions[i + 1]
        if op not in ops:
            raise ValueError(f"unsupported numeric operator {op!r}")
        if not ops[op](float(value), float(bound)):
            return False
    return True
