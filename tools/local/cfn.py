"""CloudFormation template reading: a YAML loader for the short tags and an intrinsic resolver.

`load_template` turns `!Ref X`, `!GetAtt A.B`, `!Sub ...` and friends into their long JSON form
(`{"Ref": "X"}`, `{"Fn::GetAtt": ["A", "B"]}`, ...). `Resolver` evaluates those forms against
parameters, pseudo parameters, conditions, mappings and a callback that knows each resource's
local Ref value and attributes. It is deliberately independent of what the resources are: the
local meaning of a resource lives in `template.py`.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

_SHORT_TAGS = (
    "Base64", "Cidr", "FindInMap", "GetAZs", "ImportValue", "Join", "Select", "Split", "Sub",
    "Transform", "And", "Equals", "If", "Not", "Or", "GetAtt", "Ref", "Condition", "ToJsonString",
    "Length",
)


class TemplateError(Exception):
    """The template uses something the local resolver cannot evaluate."""


class _Loader(yaml.SafeLoader):
    pass


def _construct(tag: str) -> Callable[[yaml.Loader, yaml.Node], dict[str, Any]]:
    key = tag if tag in ("Ref", "Condition") else f"Fn::{tag}"

    def construct(loader: yaml.Loader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if tag == "GetAtt":
                resource, _, attribute = str(value).partition(".")
                value = [resource, attribute]
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {key: value}

    return construct


for _tag in _SHORT_TAGS:
    _Loader.add_constructor(f"!{_tag}", _construct(_tag))


def load_template(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        try:
            doc = yaml.load(fh, Loader=_Loader)  # noqa: S506 - SafeLoader subclass
        except yaml.YAMLError as exc:
            raise TemplateError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict) or "Resources" not in doc:
        raise TemplateError(f"{path}: not a CloudFormation template (no Resources)")
    return doc


class _NoValue:
    """AWS::NoValue: the property it stands in for is removed."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()

_SUB_VAR = re.compile(r"\$\{([^}]*)\}")

# (logical id, attribute or None for Ref) -> value
ResourceLookup = Callable[[str, str | None], Any]


class Resolver:
    """Evaluates intrinsic functions. Condition names resolve lazily and are cached."""

    def __init__(
        self,
        template: dict[str, Any],
        parameters: dict[str, Any],
        pseudo: dict[str, Any],
        resource_lookup: ResourceLookup,
    ) -> None:
        self.template = template
        self.parameters = parameters
        self.pseudo = dict(pseudo)
        self.pseudo.setdefault("AWS::NoValue", NO_VALUE)
        self.resource_lookup = resource_lookup
        self._conditions: dict[str, bool] = {}
        self._evaluating: set[str] = set()

    def condition(self, name: str) -> bool:
        if name in self._conditions:
            return self._conditions[name]
        definitions = self.template.get("Conditions") or {}
        if name not in definitions:
            raise TemplateError(f"unknown condition {name!r}")
        if name in self._evaluating:
            raise TemplateError(f"condition {name!r} refers to itself")
        self._evaluating.add(name)
        try:
            value = self.resolve(definitions[name])
        finally:
            self._evaluating.discard(name)
        if not isinstance(value, bool):
            raise TemplateError(f"condition {name!r} did not evaluate to a boolean: {value!r}")
        self._conditions[name] = value
        return value

    def ref(self, name: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in (self.template.get("Resources") or {}):
            return self.resource_lookup(name, None)
        raise TemplateError(f"Ref to unknown name {name!r}")

    def get_att(self, resource: str, attribute: str) -> Any:
        if resource not in (self.template.get("Resources") or {}):
            raise TemplateError(f"GetAtt on unknown resource {resource!r}")
        return self.resource_lookup(resource, attribute)

    def resolve(self, value: Any) -> Any:
        """A new structure with every intrinsic evaluated and AWS::NoValue entries removed."""
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return [v for v in items if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            handler = _FUNCTIONS.get(key)
            if handler is not None and not (key == "Condition" and not isinstance(arg, str)):
                return handler(self, arg)
        out = {}
        for key, item in value.items():
            resolved = self.resolve(item)
            if resolved is not NO_VALUE:
                out[key] = resolved
        return out

    def sub(self, text: str, variables: dict[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return _scalar_text(variables[name], name)
            if "." in name and not name.startswith("AWS::"):
                resource, _, attribute = name.partition(".")
                return _scalar_text(self.get_att(resource, attribute), name)
            return _scalar_text(self.ref(name), name)

        return _SUB_VAR.sub(replace, text)


def _scalar_text(value: Any, name: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise TemplateError(f"${{{name}}} in Fn::Sub is not a scalar: {value!r}")


def _fn_ref(r: Resolver, arg: Any) -> Any:
    return r.ref(r.resolve(arg))


def _fn_get_att(r: Resolver, arg: Any) -> Any:
    if isinstance(arg, str):
        arg = arg.split(".", 1)
    resource, attribute = r.resolve(arg)
    return r.get_att(resource, attribute)


def _fn_sub(r: Resolver, arg: Any) -> str:
    if isinstance(arg, str):
        return r.sub(arg, {})
    text, variables = arg
    return r.sub(text, {k: r.resolve(v) for k, v in variables.items()})


def _fn_join(r: Resolver, arg: Any) -> str:
    sep, items = r.resolve(arg)
    return str(sep).join(_scalar_text(i, "Fn::Join item") for i in items)


def _fn_select(r: Resolver, arg: Any) -> Any:
    index, items = r.resolve(arg)
    return items[int(index)]


def _fn_split(r: Resolver, arg: Any) -> list[str]:
    sep, text = r.resolve(arg)
    return str(text).split(sep)


def _fn_if(r: Resolver, arg: Any) -> Any:
    name, when_true, when_false = arg
    return r.resolve(when_true if r.condition(name) else when_false)


def _fn_equals(r: Resolver, arg: Any) -> bool:
    left, right = r.resolve(arg)
    if isinstance(left, (list, dict)) or isinstance(right, (list, dict)):
        return left == right
    return _scalar_text(left, "Fn::Equals") == _scalar_text(right, "Fn::Equals")


def _fn_not(r: Resolver, arg: Any) -> bool:
    (value,) = arg
    return not _boolean(r, value)


def _fn_and(r: Resolver, arg: Any) -> bool:
    return all(_boolean(r, v) for v in arg)


def _fn_or(r: Resolver, arg: Any) -> bool:
    return any(_boolean(r, v) for v in arg)


def _boolean(r: Resolver, value: Any) -> bool:
    resolved = r.resolve(value)
    if not isinstance(resolved, bool):
        raise TemplateError(f"expected a condition, got {resolved!r}")
    return resolved


def _fn_condition(r: Resolver, arg: Any) -> bool:
    return r.condition(arg)


def _fn_find_in_map(r: Resolver, arg: Any) -> Any:
    name, top, second = r.resolve(arg)[:3]
    try:
        return r.template["Mappings"][name][top][second]
    except KeyError as exc:
        raise TemplateError(f"Fn::FindInMap {name}/{top}/{second} not found") from exc


def _fn_base64(r: Resolver, arg: Any) -> str:
    return base64.b64encode(str(r.resolve(arg)).encode()).decode()


def _fn_get_azs(r: Resolver, arg: Any) -> list[str]:
    region = r.resolve(arg) or r.pseudo["AWS::Region"]
    return [f"{region}{zone}" for zone in "abc"]


def _fn_to_json_string(r: Resolver, arg: Any) -> str:
    return json.dumps(r.resolve(arg), separators=(",", ":"))


def _fn_length(r: Resolver, arg: Any) -> int:
    return len(r.resolve(arg))


def _unsupported(name: str) -> Callable[[Resolver, Any], Any]:
    def fail(_r: Resolver, arg: Any) -> Any:
        raise TemplateError(f"{name} is not supported locally ({arg!r})")

    return fail


_FUNCTIONS: dict[str, Callable[[Resolver, Any], Any]] = {
    "Ref": _fn_ref,
    "Fn::GetAtt": _fn_get_att,
    "Fn::Sub": _fn_sub,
    "Fn::Join": _fn_join,
    "Fn::Select": _fn_select,
    "Fn::Split": _fn_split,
    "Fn::If": _fn_if,
    "Fn::Equals": _fn_equals,
    "Fn::Not": _fn_not,
    "Fn::And": _fn_and,
    "Fn::Or": _fn_or,
    "Condition": _fn_condition,
    "Fn::FindInMap": _fn_find_in_map,
    "Fn::Base64": _fn_base64,
    "Fn::GetAZs": _fn_get_azs,
    "Fn::ToJsonString": _fn_to_json_string,
    "Fn::Length": _fn_length,
    "Fn::ImportValue": _unsupported("Fn::ImportValue"),
    "Fn::Cidr": _unsupported("Fn::Cidr"),
    "Fn::Transform": _unsupported("Fn::Transform"),
}
