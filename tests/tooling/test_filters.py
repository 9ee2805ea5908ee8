"""Event source mapping filters (FilterCriteria) on stream records."""

from __future__ import annotations

import pytest

from tools.local import filters


def record(event_name: str = "INSERT", entity: str | None = "OUTBOX", **image: object) -> dict:
    new_image: dict[str, object] = {"PK": {"S": "T#demo#OUTBOX#1"}, "SK": {"S": "OUTBOX"}}
    if entity is not None:
        new_image["entity"] = {"S": entity}
    new_image.update(image)
    return {"eventName": event_name, "eventSource": "aws:dynamodb",
            "dynamodb": {"NewImage": new_image, "SequenceNumber": "100"}}


def test_the_templates_outbox_pattern(real_stack):
    (source,) = real_stack.stream_sources
    assert filters.matches_any(source.filters, record())
    assert not filters.matches_any(source.filters, record(event_name="MODIFY"))
    assert not filters.matches_any(source.filters, record(event_name="REMOVE"))
    # An order's change is relayed when it carries messages, whether it created the item or
    # changed it; one without messages is not.
    messages = {"outbox": {"B": "eJyLjgUAARUAuQ=="}}
    assert filters.matches_any(source.filters, record(entity="ORDER", **messages))
    assert filters.matches_any(source.filters, record(event_name="MODIFY", entity="ORDER", **messages))
    assert not filters.matches_any(source.filters, record(event_name="REMOVE", entity="ORDER", **messages))
    assert not filters.matches_any(source.filters, record(entity="ORDER"))
    assert not filters.matches_any(source.filters, record(event_name="MODIFY", entity="ORDER"))
    assert not filters.matches_any(source.filters, record(entity=None))
    no_image = {"eventName": "INSERT", "dynamodb": {"Keys": {}}}
    assert not filters.matches_any(source.filters, no_image)


def test_no_filters_lets_everything_through():
    assert filters.matches_any([], {"anything": 1})


def test_several_patterns_match_when_any_does():
    patterns = [{"eventName": ["INSERT"]}, {"eventName": ["REMOVE"]}]
    assert filters.matches_any(patterns, {"eventName": "REMOVE"})
    assert not filters.matches_any(patterns, {"eventName": "MODIFY"})


def test_exact_match_is_typed():
    assert filters.matches({"n": [5]}, {"n": 5.0})
    assert not filters.matches({"n": ["5"]}, {"n": 5})
    assert not filters.matches({"b": [True]}, {"b": 1})
    assert filters.matches({"x": [None]}, {"x": None})
    assert not filters.matches({"x": [None]}, {})


def test_nested_object_in_pattern_requires_an_object_in_the_record():
    assert not filters.matches({"a": {"b": ["c"]}}, {"a": "c"})
    assert filters.matches({"a": {"b": ["c"]}}, {"a": {"b": "c", "other": 1}})


def test_array_values_match_when_any_element_does():
    assert filters.matches({"tags": ["red"]}, {"tags": ["blue", "red"]})
    assert not filters.matches({"tags": ["red"]}, {"tags": ["blue"]})


def test_operators():
    assert filters.matches({"pk": [{"prefix": "T#demo#"}]}, {"pk": "T#demo#ORDER#1"})
    assert not filters.matches({"pk": [{"prefix": "T#demo#"}]}, {"pk": "T#other#ORDER#1"})
    assert filters.matches({"f": [{"suffix": ".png"}]}, {"f": "a.png"})
    assert filters.matches({"s": [{"anything-but": ["DRAFT"]}]}, {"s": "ALLOCATED"})
    assert not filters.matches({"s": [{"anything-but": ["DRAFT"]}]}, {"s": "DRAFT"})
    assert filters.matches({"s": [{"anything-but": {"prefix": "T#"}}]}, {"s": "X"})
    assert filters.matches({"q": [{"numeric": [">", 0, "<=", 5]}]}, {"q": 5})
    assert not filters.matches({"q": [{"numeric": [">", 0, "<=", 5]}]}, {"q": 6})
    assert filters.matches({"x": [{"exists": True}]}, {"x": 0})
    assert filters.matches({"x": [{"exists": False}]}, {"y": 0})
    assert not filters.matches({"x": [{"exists": False}]}, {"x": 0})
    assert filters.matches({"s": [{"equals-ignore-case": "oms"}]}, {"s": "OMS"})


def test_unsupported_operator_is_reported_not_ignored():
    with pytest.raises(ValueError, match="unsupported"):
        filters.matches({"x": [{"cidr": "10.0.0.0/24"}]}, {"x": "10.0.0.1"})
