"""Event filtering as Lambda event source mappings do it on a record's JSON (FilterCriteria).

The matching is moto's EventBridge pattern matcher (`moto.events.models.EventPattern`). What
this adds is what Lambda does differently from it: a pattern is refused when it uses an operator
Lambda's filtering does not have (only `prefix`, `suffix`, `equals-ignore-case`, `anything-but`,
`numeric` and `exists`; moto would also take `cidr` and `wildcard`, and let an unknown one match
everything), and literal values match by JSON type (`true` is not `1`; moto compares them with
Python's `==`). Several patterns (FilterCriteria.Filters) match when any one does.
"""

from __future__ import annotations

from typing import Any

from moto.events.models import UNDEFINED, EventPattern

LAMBDA_OPERATORS = frozenset(
    {"prefix", "suffix", "equals-ignore-case", "anything-but", "numeric", "exists"})


class _LambdaPattern(EventPattern):
    def _does_item_match_filters(self, item: Any, filters: list[Any]) -> bool:
        values = item if isinstance(item, list) else [item]
        for rule in filters:
            if isinstance(rule, dict):
                if self._does_item_match_named_filter(item, rule):
                    return True
            elif item is not UNDEFINED and any(_same_json(rule, v) for v in values):
                return True
        return False


def _same_json(rule: Any, value: Any) -> bool:
    # Numbers compare by value (5 matches 5.0); a boolean only ever equals a boolean.
    return isinstance(rule, bool) == isinstance(value, bool) and rule == value


def matches_any(patterns: list[dict[str, Any]], record: Any) -> bool:
    """No patterns means no filtering."""
    return not patterns or any(matches(p, record) for p in patterns)


def matches(pattern: dict[str, Any], record: Any) -> bool:
    _check(pattern)
    return _LambdaPattern(None, pattern).matches_event(record if isinstance(record, dict) else {})


def _check(pattern: Any) -> None:
    if not isinstance(pattern, dict):
        raise ValueError(f"a filter pattern must be an object, got {pattern!r}")
    for key, expected in pattern.items():
        if isinstance(expected, dict):
            _check(expected)
        elif isinstance(expected, list):
            for rule in expected:
                if isinstance(rule, dict):
                    unsupported = set(rule) - LAMBDA_OPERATORS
                    if unsupported or len(rule) != 1:
                        raise ValueError(f"unsupported filter operator {sorted(rule)!r} for {key!r}")
        else:
            raise ValueError(f"pattern value for {key!r} must be an object or a list")
