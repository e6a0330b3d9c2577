"""The signature -> form mapping: each annotation's field, what a blank input means, and the
one-line errors naming the argument, for the form's text and for the API's JSON alike."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any, Literal, Optional

import pytest

from jobdeck.errors import ArgumentError, ArgumentsError
from jobdeck.taskform import EXTRA, ArgumentField, TaskForm, form_of


class Tier(enum.Enum):
    GOLD = "gold"
    SILVER = "silver"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


def everything(
    to: str,
    count: int,
    ratio: float,
    urgent: bool,
    due: date,
    at: datetime,
    tier: Tier,
    level: Level,
    mode: Literal["fast", "slow"],
    payload: dict[str, Any],
    note: str | None,
    cc: Optional[list[str]] = None,  # noqa: UP045 - the old spelling must map the same way
    retries: int = 3,
    loose=2.5,  # type: ignore[no-untyped-def]
    anything=None,  # type: ignore[no-untyped-def]
    *,
    dry_run: bool = False,
    fallback: Tier = Tier.SILVER,
) -> None: ...


def fields() -> dict[str, ArgumentField]:
    return {f.name: f for f in form_of("t", everything).fields}


def test_each_annotation_maps_to_its_typed_field() -> None:
    kinds = {name: f.kind for name, f in fields().items()}
    assert kinds == {
        "to": "text",
        "count": "int",
        "ratio": "float",
        "urgent": "bool",
        "due": "date",
        "at": "datetime",
        "tier": "choice",
        "level": "choice",
        "mode": "choice",
        "payload": "json",
        "note": "text",
        "cc": "json",
        "retries": "int",
        "loose": "float",
        "anything": "json",
        "dry_run": "bool",
        "fallback": "choice",
    }


def test_choices_defaults_and_optionals_are_read_from_the_signature() -> None:
    f = fields()
    assert f["tier"].choices == ("gold", "silver")
    assert f["level"].choices == (1, 2)
    assert f["mode"].choices == ("fast", "slow")
    assert (f["note"].required, f["note"].nullable) == (True, True)
    assert (f["cc"].required, f["cc"].nullable, f["cc"].default_text) == (False, True, "null")
    assert (f["retries"].required, f["retries"].default_text) == (False, "3")
    assert f["to"].required and not f["to"].nullable
    assert f["dry_run"].annotation == "bool"
    assert (f["fallback"].default_text, f["fallback"].annotation) == ('"silver"', "Tier")


def test_string_annotations_are_resolved() -> None:
    # This module uses `from __future__ import annotations`: every hint above is a string.
    assert isinstance(everything.__annotations__["count"], str)
    assert fields()["count"].kind == "int"


def test_an_annotation_that_cannot_be_resolved_falls_back_to_json() -> None:
    def task(when: UnknownType, n: int = 1) -> None: ...  # type: ignore[name-defined]  # noqa: F821

    form = form_of("t", task)
    assert [(f.name, f.kind) for f in form.fields] == [("when", "json"), ("n", "int")]


def test_kwargs_adds_an_extra_json_field_and_positional_rest_is_ignored() -> None:
    def task(a: int, *rest: int, **more: Any) -> None: ...

    form = form_of("t", task)
    assert [f.name for f in form.fields] == ["a"] and form.extra
    assert form.parse({"arg:a": "1", "extra": '{"b": [1]}'}) == {"a": 1, "b": [1]}
    with pytest.raises(ArgumentError, match=r"^\*\*kwargs: 'a' has its own field"):
        form.parse({"arg:a": "1", "extra": '{"a": 2}'})
    with pytest.raises(ArgumentError, match=r"^\*\*kwargs: must be a JSON object"):
        form.parse({"arg:a": "1", "extra": "[1]"})
    assert EXTRA == "**kwargs"


FILLED = {
    "arg:to": "a@example.com",
    "arg:count": "7",
    "arg:ratio": "0.5",
    "arg:urgent": "true",
    "arg:due": "2025-01-31",
    "arg:at": "2025-01-31T09:30",
    "arg:tier": "gold",
    "arg:level": "2",
    "arg:mode": "slow",
    "arg:payload": '{"k": [1, 2]}',
    "arg:note": "",
}


def test_the_form_text_becomes_json_ready_arguments() -> None:
    args = form_of("t", everything).parse(FILLED)
    assert args == {
        "to": "a@example.com",
        "count": 7,
        "ratio": 0.5,
        "urgent": True,
        "due": "2025-01-31",
        "at": "2025-01-31T09:30:00",
        "tier": "gold",
        "level": 2,
        "mode": "slow",
        "payload": {"k": [1, 2]},
        "note": None,  # Optional without a default: blank is None
    }  # blank fields with defaults are left out, so the function's own defaults apply


@pytest.mark.parametrize(
    ("field", "text", "message"),
    [
        ("count", "seven", "count: expected a whole number, got 'seven'"),
        ("count", "1" * 40, "count: expected a whole number"),
        ("ratio", "nan", "ratio: expected a number, got 'nan'"),
        ("urgent", "maybe", "urgent: expected true or false, got 'maybe'"),
        ("due", "31/01/2025", "due: expected a date like 2025-01-31, got '31/01/2025'"),
        ("tier", "bronze", "tier: 'bronze' is not one of gold, silver"),
        ("payload", "{oops", "payload: not valid JSON (Expecting property name"),
        ("payload", "[" * 500, "payload: nested more than 100 levels deep"),
        ("to", "", "to: required"),
    ],
)
def test_a_bad_input_is_one_line_naming_its_field(field: str, text: str, message: str) -> None:
    with pytest.raises(ArgumentError) as caught:
        form_of("t", everything).parse({**FILLED, f"arg:{field}": text})
    assert caught.value.field == field
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)
    assert isinstance(caught.value, ArgumentsError)  # answered as enqueue's own refusal (422)


def test_check_holds_decoded_json_to_the_same_types() -> None:
    form = form_of("t", everything)
    good = form.parse(FILLED)
    form.check(good)
    for name, value, message in [
        ("count", "7", "count: expected a whole number, got '7'"),
        ("count", True, "count: expected a whole number, got 'true'"),
        ("ratio", "x", "ratio: expected a number"),
        ("urgent", 1, "urgent: expected true or false, got '1'"),
        ("due", "tomorrow", "due: expected a date like 2025-01-31"),
        ("level", "2", "level: '2' is not one of 1, 2"),
        ("to", None, "to: expected text, got null"),
    ]:
        with pytest.raises(ArgumentError, match=f"^{message}"):
            form.check({**good, name: value})
    form.check({**good, "ratio": 1, "note": None, "cc": None, "anything": {"x": 1}})
    missing = {k: v for k, v in good.items() if k != "count"}
    with pytest.raises(ArgumentError, match=r"^count: required$"):
        form.check(missing)


def test_a_task_without_arguments_has_an_empty_form() -> None:
    def task() -> None: ...

    assert form_of("t", task) == TaskForm("t", (), False)
    assert form_of("t", task).parse({"arg:x": "1"}) == {}
