"""One exception tree: every deliberate error is a DeskwatchError, drawn in monitors.errors."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

from monitors import errors
from monitors.errors import DeskwatchError, FeedParseError, RuleError, SeedError
from monitors.feeds import parse_feed
from seeds.rules import parse_rule

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("monitors", "alerts", "seeds", "flows")
EXCEPTIONS = {
    name: cls
    for name, cls in inspect.getmembers(errors, inspect.isclass)
    if issubclass(cls, BaseException) and cls.__module__ == errors.__name__
}


def _drawn_tree() -> dict[str, str | None]:
    """Each class named in the module docstring's tree, with the class drawn above it."""
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    tree = (errors.__doc__ or "").split("\n\n")[1]  # the paragraph after the summary line
    for line in tree.splitlines():
        found = re.match(r"^([ │├└─]*)([A-Z]\w+Error)\b", line)
        if not found:
            continue
        depth, name = len(found.group(1)), found.group(2)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[name] = stack[-1][1] if stack else None
        stack.append((depth, name))
    return parents


def test_the_docstring_draws_every_exception_under_its_real_base() -> None:
    drawn = _drawn_tree()
    assert set(drawn) == set(EXCEPTIONS)
    for name, parent in drawn.items():
        cls = EXCEPTIONS[name]
        if parent is None:
            assert cls is DeskwatchError
        else:
            assert cls.__bases__[0] is EXCEPTIONS[parent], name


def test_every_exception_is_a_deskwatch_error() -> None:
    assert all(issubclass(cls, DeskwatchError) for cls in EXCEPTIONS.values())


def test_exception_classes_are_defined_only_in_monitors_errors() -> None:
    elsewhere: list[str] = []
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            if path == REPO / "monitors" / "errors.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                bases = [ast.unparse(b) for b in getattr(node, "bases", [])]
                exception = any(b.endswith(("Error", "Exception")) for b in bases)
                # A private signal caught in its own module never reaches anyone.
                if isinstance(node, ast.ClassDef) and exception and not node.name.startswith("_"):
                    elsewhere.append(f"{path.relative_to(REPO)}: {node.name}")
    assert elsewhere == []


def test_a_bad_rule_is_a_seed_error_and_still_a_value_error() -> None:
    with pytest.raises(RuleError) as caught:
        parse_rule({"all": ["words", "missing"]}, "rule", {"words"})
    assert isinstance(caught.value, SeedError) and isinstance(caught.value, ValueError)
    assert str(caught.value) == "clause rule.all[1]: unknown group 'missing' (known: words)"


def test_a_body_that_is_not_a_feed_is_a_deskwatch_error_and_a_value_error() -> None:
    with pytest.raises(FeedParseError) as caught:
        parse_feed(b"<html><body>hello</body></html>", {}, "https://wire.example/rss")
    assert isinstance(caught.value, DeskwatchError) and isinstance(caught.value, ValueError)
