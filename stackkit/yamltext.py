"""The one strict YAML reader of every file stackkit loads (stack files, layer.yaml): only what JSON can hold.

PyYAML's C parser (libyaml) with a SafeLoader subclass that constructs mappings with string keys, sequences, strings,
integers, floats, booleans and null, and refuses, with the file, the line and the path of the value:
- tags that are not JSON types (timestamps, !!binary, !!set, !!omap, !!python/..., any local tag);
- complex keys (a mapping or a sequence as a key) and non-string keys are kept as text only when they are scalars;
- merge keys (`<<`), which silently overwrite and hide keys;
- duplicate keys in a mapping (both lines are named);
- recursive aliases, and alias expansion beyond ALIAS_BUDGET nodes in all (the "billion laughs" file): each alias
  costs the size of what it expands to, counted before anything is built, so such a file is refused in milliseconds
  and with bounded memory.
A parse error is one line `file: line N, column C: not valid YAML: problem`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

try:   # libyaml: a C parser, fast on large files; PyYAML is pinned with its wheel that carries it
    from yaml import CSafeLoader as _Base
except ImportError:  # pragma: no cover - a PyYAML built without libyaml
    from yaml import SafeLoader as _Base  # type: ignore[assignment]

from stackkit.errors import ConfigError

# nodes an alias may add by expansion, in all, per file: a stack file of 400 instances with anchors for their shared
# settings stays far below; ten levels of ten aliases (10^10 nodes) is refused at once
ALIAS_BUDGET = 100_000
# the only tags a value may carry: the JSON types (YAML 1.2 JSON schema), resolved implicitly or written explicitly
JSON_TAGS = frozenset({"tag:yaml.org,2002:" + t for t in ("str", "int", "float", "bool", "null", "map", "seq")})


class YamlRefused(Exception):
    def __init__(self, node: Node, path: str, problem: str) -> None:
        super().__init__(problem)
        self.line = node.start_mark.line + 1
        self.path = path
        self.problem = problem


def _where(path: str) -> str:
    return path or "(top)"


class _Checker:
    """Walks the composed node graph once before construction: tags, keys, merges, recursion and alias expansion."""

    def __init__(self, tags: frozenset[str] = frozenset(), what: str = "a stack file") -> None:
        self.tags = JSON_TAGS | tags         # the value tags allowed: JSON's, and a format's own (CloudFormation's)
        self.what = what
        self.sizes: dict[int, int] = {}      # id(node) -> nodes it expands to
        self.expanded = 0
        self.active: set[int] = set()

    def size(self, node: Node, path: str) -> int:
        key = id(node)
        if key in self.active:
            raise YamlRefused(node, path, "a recursive alias (an anchor used inside itself); JSON has no cycles: "
                                          "write the value out")
        if key in self.sizes:
            # a second visit is an alias: what it expands to counts again
            self.expanded += self.sizes[key]
            if self.expanded > ALIAS_BUDGET:
                raise YamlRefused(node, path, f"aliases expand to more than {ALIAS_BUDGET:,} values; write the "
                                              "values out instead of nesting aliases")
            return self.sizes[key]
        if node.tag not in self.tags:
            extra = f" or one of {', '.join(sorted(self.tags - JSON_TAGS))}" if self.tags != JSON_TAGS else ""
            raise YamlRefused(node, path, f"the tag {node.tag} is not a JSON type{extra}; {self.what} holds only "
                                          "mappings, lists, strings, numbers, true/false and null: quote the value "
                                          "to keep it as text")
        if node.tag == "tag:yaml.org,2002:float" and str(node.value).lstrip("+-").lower() in (".inf", ".nan"):
            raise YamlRefused(node, path, f"{node.value} is not a number JSON can hold (infinity, NaN); write a number")
        self.active.add(key)
        total = 1
        if isinstance(node, SequenceNode):
            for i, item in enumerate(node.value):
                total += self.size(item, f"{path}[{i}]")
        elif isinstance(node, MappingNode):
            seen: dict[str, int] = {}
            for k, v in node.value:
                if k.tag == "tag:yaml.org,2002:merge" or (isinstance(k, ScalarNode) and k.value == "<<"
                                                          and not k.style):
                    raise YamlRefused(k, _where(path), "a merge key (<<) is not supported: it overrides keys "
                                                       "silently; write the keys out")
                if not isinstance(k, ScalarNode):
                    raise YamlRefused(k, _where(path), "a key is a mapping or a list; keys are plain text")
                if k.tag not in JSON_TAGS:
                    raise YamlRefused(k, _where(path), f"the key tag {k.tag} is not a JSON type; keys are plain text")
                name = str(k.value)
                child = f"{path}.{name}" if path else name
                if name in seen:
                    raise YamlRefused(k, child, f"duplicate key '{name}' (lines {seen[name]} and "
                                                f"{k.start_mark.line + 1}); a key appears once per mapping: remove "
                                                "or merge the others")
                seen[name] = k.start_mark.line + 1
                total += 1 + self.size(v, child)
        self.active.discard(key)
        self.sizes[key] = total
        return total


class StrictLoader(_Base):  # type: ignore[misc, valid-type]
    """SafeLoader that builds only JSON values, read by YAML 1.2's core schema (as ruamel.yaml did before): `yes`, `on`
    and `1:20` stay text, `0755` is 755. A key is its text as written (`80: x` gives the key '80')."""

    yaml_implicit_resolvers: dict[str, list[tuple[str, re.Pattern[str]]]] = {}

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[str, Any]:  # type: ignore[override]
        return {str(k.value): self.construct_object(v, deep=deep) for k, v in node.value}

    def construct_core_int(self, node: ScalarNode) -> int:
        text = str(self.construct_scalar(node))
        sign, digits = (-1, text[1:]) if text.startswith("-") else (1, text.lstrip("+"))
        if digits.startswith("0o"):
            return sign * int(digits[2:], 8)
        if digits.startswith("0x"):
            return sign * int(digits[2:], 16)
        return sign * int(digits, 10)


# YAML 1.2.2, 10.3.2 "Tag Resolution" (the core schema), and YAML 1.1's timestamp so that an unquoted date is refused
# with advice rather than read as text by one tool and as a date by another
_CORE = (
    ("bool", r"true|True|TRUE|false|False|FALSE", "tTfF"),
    ("int", r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+", "-+0123456789"),
    ("float", r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
     "-+0123456789."),
    ("null", r"~|null|Null|NULL|", "~nN"),
    ("timestamp", r"[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9].*)?",
     "0123456789"),
)
for _tag, _pattern, _first in _CORE:
    StrictLoader.add_implicit_resolver("tag:yaml.org,2002:" + _tag, re.compile(rf"(?:{_pattern})\Z"), list(_first))
StrictLoader.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"\Z"), [""])
StrictLoader.add_constructor("tag:yaml.org,2002:map", lambda loader, node: loader.construct_mapping(node, deep=True))
StrictLoader.add_constructor("tag:yaml.org,2002:int", StrictLoader.construct_core_int)


def _mark(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    if mark is None:
        return ""
    return f"line {mark.line + 1}, column {mark.column + 1}: "


def parse_yaml(text: str, where: Path | str, loader_class: type[StrictLoader] = StrictLoader,
               tags: frozenset[str] = frozenset(), what: str = "a stack file") -> Any:
    """The JSON value `text` holds, or a ConfigError naming `where`, the line and the path. A format with tags of its
    own (CloudFormation's `!Ref`) passes a StrictLoader subclass that constructs them and their names in `tags`."""
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _Checker(tags, what).size(node, "")
        return loader.construct_document(node)
    except YamlRefused as exc:
        raise ConfigError([f"{where}: line {exc.line}: {_where(exc.path)}: {exc.problem}"]) from None
    except yaml.MarkedYAMLError as exc:
        context = ""
        if exc.context and exc.context_mark is not None:
            context = f" ({exc.context}, line {exc.context_mark.line + 1})"
        raise ConfigError([f"{where}: {_mark(exc)}not valid YAML: {exc.problem}{context}"]) from None
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError([f"{where}: not valid YAML: {first}"]) from None
    except RecursionError:
        raise ConfigError([f"{where}: nested too deeply; a stack file is a few levels of mappings and lists"]) from None
    finally:
        loader.dispose()
