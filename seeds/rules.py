"""The topic rule language: a small tree of all / any / not / near / onear over named term groups.

A rule node in YAML is one of:
  group-name                          the group fires when any of its terms occurs
  "a NEAR/n b", "a ONEAR/n b"         a term of group a within n words of one of b (ONEAR: a first)
  {all: [node, ...]}                  every node holds
  {any: [node, ...]}                  at least one node holds
  {not: node}                         the node does not hold (meaningful inside `all`)
  {near: [a, b], within: n}           as the string form; a and b are a group or a list of groups
  {onear: [a, b], within: n}
Errors name the clause by its path, e.g. `rule.all[2].near`.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from monitors.errors import RuleError

OPERATORS = ("all", "any", "not", "near", "onear")
MAX_WITHIN = 50
_OPERAND = r"\([^()]+\)|[^\s()]+"
_PROXIMITY = re.compile(
    rf"^\s*(?P<a>{_OPERAND})\s+(?P<op>NEAR|ONEAR)/(?P<n>\S+)\s+(?P<b>{_OPERAND})\s*$"
)


@dataclass(frozen=True, slots=True)
class GroupRef:
    name: str


@dataclass(frozen=True, slots=True)
class AllOf:
    parts: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    parts: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class NotOf:
    part: Node


@dataclass(frozen=True, slots=True)
class Near:
    left: tuple[str, ...]
    right: tuple[str, ...]
    within: int
    ordered: bool


Node = GroupRef | AllOf | AnyOf | NotOf | Near


def parse_rule(raw: Any, path: str, groups: Collection[str]) -> Node:
    """Turn the YAML form of a rule into a typed tree, or raise RuleError naming the clause."""
    if isinstance(raw, str):
        return _parse_string(raw, path, groups)
    if not isinstance(raw, Mapping):
        raise RuleError(path, f"expected a group name or an operator, got {type(raw).__name__}")
    operators = [key for key in raw if key != "within"]
    if len(operators) != 1:
        raise RuleError(path, f"expected exactly one operator of {', '.join(OPERATORS)}")
    (op,) = operators
    if op not in OPERATORS:
        raise RuleError(path, f"unknown operator {op!r} (expected {', '.join(OPERATORS)})")
    if "within" in raw and op not in ("near", "onear"):
        raise RuleError(path, f"'within' belongs to near/onear, not {op}")
    value = raw[op]
    if op == "not":
        return NotOf(parse_rule(value, f"{path}.not", groups))
    if op in ("near", "onear"):
        return _parse_near(value, raw.get("within"), op == "onear", f"{path}.{op}", groups)
    if not isinstance(value, list) or not value:
        raise RuleError(f"{path}.{op}", "must be a non-empty list")
    parts = tuple(parse_rule(item, f"{path}.{op}[{i}]", groups) for i, item in enumerate(value))
    return AllOf(parts) if op == "all" else AnyOf(parts)


def _parse_string(raw: str, path: str, groups: Collection[str]) -> Node:
    proximity = _PROXIMITY.match(raw)
    if proximity:
        return _parse_near(
            [_split_or(proximity["a"]), _split_or(proximity["b"])],
            proximity["n"],
            proximity["op"] == "ONEAR",
            path,
            groups,
        )
    if re.search(r"\b(O?NEAR)\b", raw, re.IGNORECASE):
        raise RuleError(path, f"bad proximity {raw!r} (write 'group NEAR/5 group')")
    return GroupRef(_group(raw.strip(), path, groups))


def _split_or(operand: str) -> str | list[str]:
    """`(a OR b)` in the string form of a proximity clause is a list of groups."""
    if not operand.startswith("("):
        return operand
    return [name.strip() for name in re.split(r"\s+OR\s+", operand[1:-1].strip())]


def _parse_near(value: Any, within: Any, ordered: bool, path: str, groups: Collection[str]) -> Near:
    if not isinstance(value, list) or len(value) != 2:
        raise RuleError(path, "needs exactly two operands: [group(s), group(s)]")
    distance = _within(within, path)
    left, right = (_operand(v, f"{path}[{i}]", groups) for i, v in enumerate(value))
    return Near(left, right, distance, ordered)


def _within(value: Any, path: str) -> int:
    text = str(value) if value is not None else ""
    if not text.isdigit() or not 1 <= int(text) <= MAX_WITHIN:
        raise RuleError(path, f"bad proximity value {value!r} (a whole number of words, 1..50)")
    return int(text)


def _operand(value: Any, path: str, groups: Collection[str]) -> tuple[str, ...]:
    names = value if isinstance(value, list) else [value]
    if not names or not all(isinstance(n, str) for n in names):
        raise RuleError(path, "a proximity operand is a group name or a list of group names")
    return tuple(_group(n, path, groups) for n in names)


def _group(name: str, path: str, groups: Collection[str]) -> str:
    if name not in groups:
        known = ", ".join(sorted(groups)) or "none defined"
        raise RuleError(path, f"unknown group {name!r} (known: {known})")
    return name


def describe(node: Node) -> str:
    """The rule written back in the compact string form, for evidence and explanations."""
    if isinstance(node, GroupRef):
        return node.name
    if isinstance(node, Near):
        op = "ONEAR" if node.ordered else "NEAR"
        return f"{_names(node.left)} {op}/{node.within} {_names(node.right)}"
    if isinstance(node, NotOf):
        return f"NOT {describe(node.part)}"
    joiner = " AND " if isinstance(node, AllOf) else " OR "
    return "(" + joiner.join(describe(p) for p in node.parts) + ")"


def _names(names: tuple[str, ...]) -> str:
    return names[0] if len(names) == 1 else "(" + " OR ".join(names) + ")"


def referenced_groups(node: Node) -> set[str]:
    """Every group a rule mentions."""
    if isinstance(node, GroupRef):
        return {node.name}
    if isinstance(node, Near):
        return set(node.left) | set(node.right)
    if isinstance(node, NotOf):
        return referenced_groups(node.part)
    return set().union(*(referenced_groups(p) for p in node.parts))
