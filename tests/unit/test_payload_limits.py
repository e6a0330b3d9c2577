"""The payload checks without a database: iterative walks (no RecursionError at any depth),
JSON text depth, decoding past the ceiling, previews for people, and outcomes the store can hold."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from jobdeck import InvalidPayload, SerializationError, Settings
from jobdeck.jsonvalues import (
    DEEPER_NOT_DECODED,
    DEPTH_CEILING,
    dumps_checked,
    loads,
    preview,
    text_depth,
)
from jobdeck.limits import PayloadLimits, encode_args, encode_labels, labels_as_text
from jobdeck.states import JobState
from jobdeck.store.base import ClaimedJob
from jobdeck.worker.execution import failure_outcome, success_outcome

LIMITS = PayloadLimits.of(Settings())


def nest(levels: int, leaf: Any = 1) -> Any:
    value = leaf
    for _ in range(levels):
        value = [value]
    return value


def test_nesting_is_measured_without_recursion_at_any_depth() -> None:
    # A recursive walk would raise RecursionError long before a million levels; no wall-clock
    # bound here, which failed on a loaded machine and proved nothing more.
    for levels in (33, 10_000, 1_000_000):
        with pytest.raises(InvalidPayload, match=r"^args\.x: nested more than 32 levels deep"):
            encode_args({"x": nest(levels)}, LIMITS)
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(InvalidPayload, match=r"^args\.x: nested more than 32"):
        encode_args({"x": loop}, LIMITS)
    # Without limits (a schedule's declared args) the ceiling still holds.
    with pytest.raises(InvalidPayload, match=rf"nested more than {DEPTH_CEILING} levels"):
        dumps_checked({"x": nest(100_000)}, "args")


def test_type_errors_still_name_their_path_first() -> None:
    with pytest.raises(SerializationError) as caught:
        encode_args({"a": [1, {"b": {1, 2}}], "z": nest(50)}, LIMITS)
    assert str(caught.value) == "args.a[1].b: set is not JSON serialisable"
    with pytest.raises(SerializationError, match="args: "):
        encode_args({"x": float("inf")}, LIMITS)


def test_label_values_are_made_text_without_recursing() -> None:
    assert labels_as_text({"n": 3, "ok": True}) == {"n": "3", "ok": "True"}
    with pytest.raises(InvalidPayload, match=r"^labels\.deep: "):
        labels_as_text({"deep": nest(100_000)})
    assert encode_labels({"team": "mail"}, LIMITS) == '{"team":"mail"}'


def test_text_depth_ignores_brackets_inside_strings() -> None:
    assert text_depth("1") == 0
    assert text_depth('{"a": [1, {"b": []}]}') == 4
    assert text_depth('{"a": "[[[[\\"[[[", "b": "\\\\"}') == 1
    assert text_depth("[" * 1_000_000 + "]" * 1_000_000) == 1_000_000


def test_json_deeper_than_the_ceiling_decodes_with_a_marker() -> None:
    text = '{"x": ' + "[" * 5_000 + "1" + "]" * 5_000 + ', "y": [2]}'
    value = loads(text)
    inner = value["x"]
    for _ in range(DEPTH_CEILING - 2):
        inner = inner[0]
    assert inner == [DEEPER_NOT_DECODED] and value["y"] == [2]
    assert loads('{"a": "[[[["}') == {"a": "[[[["}
    assert loads(None) is None
    loads("[" * 1_000_000 + "]" * 1_000_000)  # no RecursionError: decoding stops deep down


def test_previews_keep_small_values_whole_and_shorten_large_ones() -> None:
    small = {"to": "a@example.com", "tags": ["x"]}
    shown = preview(small)
    assert not shown.truncated
    assert shown.text == '{\n  "to": "a@example.com",\n  "tags": [\n    "x"\n  ]\n}'
    for large in (
        {"blob": "x" * 900_000},
        {"tree": nest(30)},
        {f"k{i}": i for i in range(5_000)},
        list(range(100_000)),
        nest(DEPTH_CEILING),
    ):
        shown = preview(large)
        assert shown.truncated and len(shown.text) < 12_000
    assert "900,000 characters" in preview({"blob": "x" * 900_000}).text
    assert "4,970 more keys" in preview({f"k{i}": i for i in range(5_000)}).text


def claimed() -> ClaimedJob:
    return ClaimedJob(1, "t", "default", "{}", 1, 1, None, datetime.now(UTC))


def test_a_result_past_the_limits_becomes_a_failure_naming_the_limit() -> None:
    outcome = success_outcome(claimed(), {"rows": nest(40)}, datetime.now(UTC), Settings(), None)
    assert outcome.next_state == JobState.FAILED
    assert outcome.error == (
        "result.rows: nested more than 32 levels deep; the limit is max_nesting_depth=32"
    )
    long_summary = success_outcome(
        claimed(), {"summary": "s" * 10_000}, datetime.now(UTC), Settings(), None
    )
    assert long_summary.summary is not None and len(long_summary.summary) <= 500


def test_failure_text_is_made_storable_and_bounded() -> None:
    outcome = failure_outcome(
        claimed(),
        "ValueError: a\x00b\ud800" + "x" * 100_000,
        "Traceback\n" + "y" * 1_000_000 + "\nValueError: end\x00",
        datetime.now(UTC),
        Settings(),
        None,
    )
    assert outcome.error is not None and outcome.traceback is not None
    assert outcome.error.startswith("ValueError: a\\x00b\\ud800xxx") and len(outcome.error) < 3_000
    assert outcome.traceback.endswith("ValueError: end\\x00")
    assert len(outcome.traceback) < 60_000
    outcome.error.encode("utf-8")
    outcome.traceback.encode("utf-8")
