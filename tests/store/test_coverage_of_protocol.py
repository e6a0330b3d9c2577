"""Every method of the Store protocol has a test here that calls it on a store, so the
conformance suite runs it against both databases.

The check reads the test modules' source: a method counts as covered by a call
``<store>.method(...)`` inside a function that takes the ``store`` or ``db_url`` fixture (both
parametrized over the two dialects in tests/conftest.py), where ``<store>`` is that fixture, a
name bound to ``open_store(...)`` in the function, or ``<something>.store``. Calls on anything
else (``deck.migrate()``) do not count, and neither do tests pinned to one dialect.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from jobdeck.store import base

HERE = Path(__file__).parent
BOTH_DIALECTS = {"store", "db_url"}


def protocol_methods(protocol: type) -> set[str]:
    """The public methods a protocol declares, with those of the role protocols it joins."""
    names: set[str] = set()
    for cls in inspect.getmro(protocol):
        if cls is Protocol or not getattr(cls, "_is_protocol", False):
            continue
        names |= {
            name
            for name, value in vars(cls).items()
            if inspect.isfunction(value) and not name.startswith("_")
        }
    return names


def store_calls(source: str) -> set[str]:
    """The method names called on a store by the two-dialect functions of one test module."""
    called: set[str] = set()
    for function in ast.parse(source).body:
        if isinstance(function, ast.FunctionDef) and runs_on_both(function):
            stores = store_names(function)
            for node in ast.walk(function):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and is_store(node.func.value, stores)
                ):
                    called.add(node.func.attr)
    return called


def runs_on_both(function: ast.FunctionDef) -> bool:
    params = {a.arg for a in function.args.args + function.args.kwonlyargs}
    pinned = any(
        isinstance(d, ast.Call)
        and ast.unparse(d.func).endswith("parametrize")
        and isinstance(d.args[0], ast.Constant)
        and d.args[0].value in BOTH_DIALECTS
        for d in function.decorator_list
    )
    return bool(params & BOTH_DIALECTS) and not pinned


def store_names(function: ast.FunctionDef) -> set[str]:
    names = {"store"}
    for node in ast.walk(function):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and ast.unparse(node.value.func).endswith("open_store")
        ):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def is_store(receiver: ast.expr, names: set[str]) -> bool:
    if isinstance(receiver, ast.Name):
        return receiver.id in names
    return isinstance(receiver, ast.Attribute) and receiver.attr == "store"


def suite_sources() -> Iterator[str]:
    for path in sorted(HERE.glob("test_*.py")):
        yield path.read_text(encoding="utf-8")


def uncovered(methods: set[str]) -> list[str]:
    covered = set().union(*(store_calls(source) for source in suite_sources()))
    return sorted(methods - covered)


def test_every_store_method_is_called_by_a_test_on_both_databases() -> None:
    methods = protocol_methods(base.Store)
    # Every role is read, not only the joining protocol's own body (which declares nothing).
    assert {"migrate", "claim_jobs", "count_jobs", "enqueue_tick", "create_user"} <= methods
    missing = uncovered(methods)
    assert not missing, f"Store methods that no test in tests/store calls on a store: {missing}"


def test_the_check_names_a_method_that_no_test_calls() -> None:
    class Wider(base.Store, Protocol):
        def method_without_a_test(self) -> None: ...

    assert uncovered(protocol_methods(Wider)) == ["method_without_a_test"]
    source = (
        "def test_a(store, deck):\n"
        "    deck.migrate()\n"  # a deck is not a store
        "    deck.store.claim_jobs(1)\n"
        "    other = open_store(url)\n"
        "    other.count_jobs(f)\n"
        "def test_b(tmp_path):\n"  # one dialect only
        "    fresh = open_store(url)\n"
        "    fresh.check_schema()\n"
    )
    assert store_calls(source) == {"claim_jobs", "count_jobs"}
