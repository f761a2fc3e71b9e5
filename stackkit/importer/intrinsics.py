"""CloudFormation's intrinsic functions, resolved offline: parameters (defaults, or values given on the command line),
pseudo-parameters, mappings, conditions, and references to the template's own resources.

A `Ref` to a resource resolves to its logical id (the importer's id for it); `Fn::GetAtt` to "<logical id>.<attribute>".
A NoEcho parameter resolves to a `Secret`, and anything built from one (Join, Sub) is a Secret too: its value never
reaches the stack file. A problem raises `TemplateProblem` with the place (Resources.MyLayer.Properties.Packages[0]).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from stackkit.config import aws_rules
from stackkit.importer.snapshot import Secret

NO_VALUE = object()        # AWS::NoValue: the key it stands in is dropped
INTRINSICS = ("Ref", "Condition", "Fn::GetAtt", "Fn::Join", "Fn::Sub", "Fn::FindInMap", "Fn::GetAZs", "Fn::Select",
              "Fn::If", "Fn::Split", "Fn::Base64", "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or")
UNRESOLVABLE = {"Fn::ImportValue": "another stack's export", "Fn::Cidr": "an address plan",
                "Fn::GetStackOutput": "another stack's output", "Fn::Transform": "a macro",
                "Fn::ToJsonString": "a language extension", "Fn::Length": "a language extension",
                "Fn::ForEach": "a language extension"}
ACCOUNT_ID = "123456789012"


class AttributeRef(str):
    """Fn::GetAtt of a resource of the template: known only once CloudFormation made it ("<logical id>.<attribute>")."""


class TemplateProblem(Exception):
    def __init__(self, place: str, message: str) -> None:
        super().__init__(f"{place}: {message}")
        self.place = place
        self.message = message


class Resolver:
    def __init__(self, template: Mapping[str, Any], region: str, stack_name: str,
                 values: Mapping[str, str]) -> None:
        self.template = template
        self.region = region
        self.stack_name = stack_name
        self.parameters = _mapping(template, "Parameters")
        self.mappings = _mapping(template, "Mappings")
        self.resources = _mapping(template, "Resources")
        self.values = dict(values)
        for name in self.values:
            if name not in self.parameters:
                raise TemplateProblem("Parameters", f"--parameter {name}: the template has no parameter {name} "
                                      f"(it has: {', '.join(sorted(self.parameters)) or 'none'})")
        self.conditions: dict[str, bool] = {}
        raw_conditions = _mapping(template, "Conditions")
        self._raw_conditions = raw_conditions
        for name in raw_conditions:
            self.condition(name, f"Conditions.{name}")

    # --- references ----------------------------------------------------------------------------------------------

    def parameter(self, name: str, place: str) -> Any:
        spec = self.parameters[name]
        if not isinstance(spec, Mapping):
            raise TemplateProblem(f"Parameters.{name}", "a parameter is a mapping (Type, Default...)")
        if str(spec.get("NoEcho", "false")).lower() == "true":
            return Secret(f"parameter {name}")
        if name in self.values:
            value: Any = self.values[name]
        elif "Default" in spec:
            value = spec["Default"]
        else:
            raise TemplateProblem(place, f"Ref {name}: the parameter has no Default; give its value with "
                                  f"--parameter {name}=VALUE")
        if str(spec.get("Type", "")).startswith("List<") or spec.get("Type") == "CommaDelimitedList":
            return [v.strip() for v in str(value).split(",")] if isinstance(value, str) else value
        return value

    def ref(self, name: Any, place: str) -> Any:
        if not isinstance(name, str):
            raise TemplateProblem(place, f"Ref takes a name, not {_show(name)}")
        pseudo = {"AWS::Region": self.region, "AWS::AccountId": ACCOUNT_ID, "AWS::StackName": self.stack_name,
                  "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com", "AWS::NotificationARNs": [],
                  "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{ACCOUNT_ID}:stack/{self.stack_name}/import"}
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameter(name, place)
        if name in self.resources:
            return name
        raise TemplateProblem(place, f"Ref {name}: no parameter, pseudo-parameter or resource of that name (a "
                              "dangling reference); check its spelling")

    def condition(self, name: Any, place: str) -> bool:
        if not isinstance(name, str) or name not in self._raw_conditions:
            raise TemplateProblem(place, f"condition {_show(name)} is not defined under Conditions")
        if name not in self.conditions:
            self.conditions[name] = False        # a loop resolves to false rather than recursing forever
            self.conditions[name] = _truth(self.resolve(self._raw_conditions[name], f"Conditions.{name}"),
                                           f"Conditions.{name}")
        return self.conditions[name]

    # --- values --------------------------------------------------------------------------------------------------

    def resolve(self, value: Any, place: str) -> Any:
        if isinstance(value, list):
            out = [self.resolve(v, f"{place}[{i}]") for i, v in enumerate(value)]
            return [v for v in out if v is not NO_VALUE]
        if not isinstance(value, Mapping):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            if key in INTRINSICS:
                return self._function(key, arg, f"{place}.{key}")
            if key in UNRESOLVABLE:
                raise TemplateProblem(place, f"{key} ({UNRESOLVABLE[key]}) cannot be resolved from the template "
                                      "alone; replace it with its value, or pass the parameter it comes from")
            if key.startswith("Fn::"):
                raise TemplateProblem(place, f"{key} is not an intrinsic function CloudFormation has (known: "
                                      f"{', '.join(INTRINSICS)})")
        resolved = {k: self.resolve(v, f"{place}.{k}") for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    def _function(self, key: str, arg: Any, place: str) -> Any:  # noqa: C901 - one branch per function
        if key == "Ref":
            return self.ref(arg, place)
        if key == "Condition":
            return self.condition(arg, place)
        if key == "Fn::GetAtt":
            parts = arg.split(".", 1) if isinstance(arg, str) else arg
            if not (isinstance(parts, list) and len(parts) == 2):
                raise TemplateProblem(place, f"Fn::GetAtt takes [LogicalId, Attribute], not {_show(arg)}")
            res, attr = parts[0], self.resolve(parts[1], place)
            if res not in self.resources:
                raise TemplateProblem(place, f"Fn::GetAtt {res}.{attr}: no resource {res} in the template (a dangling "
                                      "reference)")
            return AttributeRef(f"{res}.{attr}")
        if key == "Fn::Join":
            args = self._list(arg, 2, place, "[delimiter, [values...]]")
            delimiter, items = args[0], self.resolve(args[1], place)
            if not isinstance(items, list):
                raise TemplateProblem(place, "Fn::Join's second argument must be a list")
            if any(isinstance(i, Secret) for i in items):
                return next(i for i in items if isinstance(i, Secret))
            return str(delimiter).join(_text(i, place) for i in items)
        if key == "Fn::Sub":
            return self._sub(arg, place)
        if key == "Fn::FindInMap":
            name, top, second = (self.resolve(a, place) for a in self._list(arg, 3, place, "[Map, TopKey, SecondKey]"))
            try:
                return self.mappings[name][top][second]
            except (KeyError, TypeError):
                raise TemplateProblem(place, f"Fn::FindInMap [{name}, {top}, {second}]: no such entry under "
                                      "Mappings") from None
        if key == "Fn::GetAZs":
            region = self.resolve(arg, place) or self.region
            count = aws_rules.REGION_AZS.get(region)
            if count is None:
                raise TemplateProblem(place, f"Fn::GetAZs {region!r}: not an AWS region stackkit knows")
            return [f"{region}{chr(ord('a') + i)}" for i in range(count)]
        if key == "Fn::Select":
            index, items = self._list(arg, 2, place, "[index, [values...]]")
            index, items = self.resolve(index, place), self.resolve(items, place)
            try:
                return items[int(index)]
            except (IndexError, ValueError, TypeError):
                raise TemplateProblem(place, f"Fn::Select {index}: out of range of {_show(items)}") from None
        if key == "Fn::Split":
            delimiter, text = self._list(arg, 2, place, "[delimiter, text]")
            return _text(self.resolve(text, place), place).split(str(delimiter))
        if key == "Fn::If":
            name, then, otherwise = self._list(arg, 3, place, "[Condition, value if true, value if false]")
            return self.resolve(then if self.condition(name, place) else otherwise, place)
        if key == "Fn::Base64":
            return self.resolve(arg, place)
        if key == "Fn::Equals":
            a, b = (self.resolve(x, place) for x in self._list(arg, 2, place, "[value, value]"))
            return str(a) == str(b)
        if key == "Fn::Not":
            (a,) = self._list(arg, 1, place, "[condition]")
            return not _truth(self.resolve(a, place), place)
        values = [_truth(self.resolve(a, place), place) for a in self._list(arg, None, place, "[conditions...]")]
        return all(values) if key == "Fn::And" else any(values)

    def _sub(self, arg: Any, place: str) -> Any:
        if isinstance(arg, str):
            text, variables = arg, {}
        else:
            text, raw = self._list(arg, 2, place, "text or [text, {Name: value}]")
            variables = self.resolve(raw, place)
            if not isinstance(text, str) or not isinstance(variables, Mapping):
                raise TemplateProblem(place, "Fn::Sub takes a text or [text, {Name: value}]")
        secret: list[Secret] = []

        def one(m: re.Match[str]) -> str:
            name = m.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                value = variables[name]
            elif "." in name and name.split(".", 1)[0] in self.resources:
                value = f"{name}"
            else:
                value = self.ref(name, place)
            if isinstance(value, Secret):
                secret.append(value)
                return ""
            return _text(value, place)

        out = re.sub(r"\$\{([^}]*)\}", one, text)
        return secret[0] if secret else out

    def _list(self, arg: Any, n: int | None, place: str, shape: str) -> list[Any]:
        if not isinstance(arg, list) or (n is not None and len(arg) != n):
            raise TemplateProblem(place, f"takes {shape}, not {_show(arg)}")
        return arg


def _mapping(template: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = template.get(key) or {}
    if not isinstance(value, Mapping):
        raise TemplateProblem(key, "must be a mapping")
    return value


def _truth(value: Any, place: str) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "false"):
        return str(value).lower() == "true"
    raise TemplateProblem(place, f"a condition must be true or false, not {_show(value)}")


def _text(value: Any, place: str) -> str:
    if isinstance(value, (dict, list)):
        raise TemplateProblem(place, f"expected a text, not {_show(value)}")
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
