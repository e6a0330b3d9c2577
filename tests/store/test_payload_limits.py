"""Payload limits on both stores: enqueue refuses what is too big, too deep or not storable with
one line and writes nothing; rows from before the limits still decode; a result past the
limits fails its job; a task's unstorable error text cannot stall the worker."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner

from jobdeck import InvalidPayload, JobDeck
from jobdeck.console import main
from jobdeck.jsonvalues import DEEPER_NOT_DECODED, DEPTH_CEILING
from jobdeck.states import JobState
from jobdeck.store.base import JobFilter, NewJob
from tests.worker.helpers import FAST, running_worker


def nest(levels: int, leaf: Any = 1) -> Any:
    """``levels`` lists one inside the other, built without recursion."""
    value = leaf
    for _ in range(levels):
        value = [value]
    return value


def nest_text(levels: int) -> str:
    return "[" * levels + "1" + "]" * levels


@pytest.fixture
def deck(db_url: str) -> Iterator[JobDeck]:
    made = JobDeck(db_url, **FAST)

    @made.task(name="take")
    def take(**kwargs: Any) -> None:
        return None

    @made.task(name="deep_result", max_attempts=1)
    def deep_result(levels: int) -> Any:
        return {"rows": nest(levels)}

    @made.task(name="big_result", max_attempts=1)
    def big_result(size: int) -> str:
        return "x" * size

    @made.task(name="raise_char", max_attempts=1)
    def raise_char(code: int) -> None:
        raise ValueError(f"bad input {chr(code)} here")

    @made.task(name="fine")
    def fine() -> dict[str, int]:
        return {"ok": 1}

    yield made
    made.close()


def count(deck: JobDeck) -> int:
    return deck.store.count_jobs(JobFilter())


def refused(call: Any) -> str:
    with pytest.raises(InvalidPayload) as caught:
        call()
    message = str(caught.value)
    assert "\n" not in message
    return message


# -- enqueue ------------------------------------------------------------------------------------


def test_arguments_past_the_limits_are_refused_in_one_line_and_nothing_is_written(
    deck: JobDeck,
) -> None:
    take = deck.get_task("take")
    depth = "args.x: nested more than 32 levels deep; the limit is max_nesting_depth=32"
    assert refused(lambda: take.enqueue(x=nest(32))) == depth  # the args object is level 1
    assert refused(lambda: take.enqueue(x=nest(10_000))) == depth
    assert refused(lambda: take.enqueue(x=nest(1_000_000))) == depth
    assert refused(lambda: take.enqueue(a=1, x={"y": nest(40)})) == depth
    assert (
        refused(lambda: take.enqueue(x="a" * 1_000_000))
        == "args: 1000008 bytes as JSON; the limit is max_arguments_bytes=1000000"
    )
    # Bytes, not characters: é is two bytes in UTF-8.
    assert refused(lambda: take.enqueue(x="é" * 500_000)).startswith("args: 1000008 bytes")
    assert refused(lambda: take.enqueue(x="a\ud800b")) == (
        "args.x: contains a lone surrogate ('\\ud800'), which is not valid Unicode and cannot be "
        "stored"
    )
    assert refused(lambda: take.enqueue(x={"k\udc80": 1})).startswith(
        "args.x: key 'k\\udc80' contains a lone surrogate"
    )
    assert refused(lambda: take.enqueue(x=["ok", "a\x00b"])) == (
        "args.x[1]: contains a NUL character ('\\x00'), which the store cannot hold"
    )
    assert refused(lambda: take.enqueue(x={"a\x00": 1})).startswith(
        "args.x: key 'a\\x00' contains a NUL character"
    )
    assert count(deck) == 0


def test_a_string_that_only_looks_like_an_escaped_nul_is_accepted(deck: JobDeck) -> None:
    handle = deck.get_task("take").enqueue(x="C:\\u0000 is a path", y="\\\\u0000")
    assert handle.refresh().row.args == {"x": "C:\\u0000 is a path", "y": "\\\\u0000"}


def test_names_and_labels_past_the_limits_are_refused(deck: JobDeck) -> None:
    take = deck.get_task("take")
    long = "n" * 201
    assert refused(lambda: take.options(queue="q" * 1_000_000).enqueue()) == (
        "queue: 1000000 characters; the limit is max_name_length=200"
    )
    assert refused(lambda: take.options(unique_key=long).enqueue()).startswith(
        "unique_key: 201 characters; the limit is max_name_length=200"
    )
    assert refused(lambda: take.options(schedule=long).enqueue()).startswith("schedule: 201")
    assert refused(lambda: take.options(triggered_by=long).enqueue()).startswith("triggered_by:")
    named = deck.task(name=long)(lambda: None)
    assert refused(named.enqueue) == "task: 201 characters; the limit is max_name_length=200"
    nul_named = deck.task(name="send\x00mail")(lambda: None)
    assert refused(nul_named.enqueue) == (
        "task: contains a NUL character ('\\x00'), which the store cannot hold"
    )
    assert refused(lambda: take.options(queue="mail\ud800").enqueue()).startswith(
        "queue: contains a lone surrogate"
    )
    assert refused(lambda: take.options(queue=7).enqueue()) == "queue: must be text, not int"
    many = {f"k{i}": "v" for i in range(21)}
    assert refused(lambda: take.options(labels=many).enqueue()) == (
        "labels: 21 labels; the limit is max_labels=20"
    )
    assert refused(lambda: take.options(labels={"k" * 201: "v"}).enqueue()) == (
        f"labels: key '{'k' * 40}…' is 201 characters; the limit is max_label_length=200"
    )
    assert refused(lambda: take.options(labels={"team": "v" * 201}).enqueue()) == (
        "labels.team: 201 characters; the limit is max_label_length=200"
    )
    assert refused(lambda: take.options(labels={"team": "a\x00"}).enqueue()).startswith(
        "labels.team: contains a NUL character"
    )
    assert refused(lambda: take.options(labels={"team": nest(10_000)}).enqueue()).startswith(
        "labels.team: "
    )
    assert count(deck) == 0


def test_one_bad_job_in_a_batch_or_an_async_enqueue_writes_nothing(deck: JobDeck) -> None:
    take = deck.get_task("take")
    batch = [{"x": 1}, {"x": nest(5_000)}, {"x": 3}]
    assert refused(lambda: take.enqueue_many(batch)).startswith("args.x: nested more than 32")
    assert refused(lambda: asyncio.run(take.enqueue_async(x="\x00"))).startswith("args.x: ")
    bound = take.options(priority=1)
    assert refused(lambda: asyncio.run(bound.enqueue_async(x="\ud800"))).startswith("args.x: ")
    assert count(deck) == 0


def test_values_at_the_limits_are_accepted_and_read_back(deck: JobDeck) -> None:
    take = deck.get_task("take")
    labels = {f"{i:03d}" + "k" * 197: "v" * 200 for i in range(20)}
    room = 1_000_000 - len(json.dumps({"x": nest(31), "text": ""}, separators=(",", ":")))
    handle = take.options(
        queue="q" * 200, unique_key="u" * 200, labels=labels, triggered_by="t" * 200
    ).enqueue(x=nest(31), text="a" * room)
    row = handle.refresh().row
    assert row.args["x"] == nest(31) and len(row.args["text"]) == room
    assert len(json.dumps(row.args, separators=(",", ":"))) == 1_000_000
    assert row.labels == labels and row.queue == "q" * 200
    assert deck.task(name="n" * 200)(lambda: None).enqueue().refresh().row.task == "n" * 200


def test_the_limits_are_settings(db_url: str) -> None:
    deck = JobDeck(db_url, max_nesting_depth=3, max_arguments_bytes=50, max_name_length=10)
    try:
        take = deck.task(name="take")(lambda **kwargs: None)
        take.enqueue(x=[[1]])
        assert refused(lambda: take.enqueue(x=[[[1]]])) == (
            "args.x: nested more than 3 levels deep; the limit is max_nesting_depth=3"
        )
        assert refused(lambda: take.enqueue(x="a" * 50)).endswith("max_arguments_bytes=50")
        assert refused(lambda: take.options(queue="q" * 11).enqueue()).endswith(
            "max_name_length=10"
        )
    finally:
        deck.close()


# -- the CLI ------------------------------------------------------------------------------------


def cli(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), env={"JOBDECK_DATABASE_URL": None})


def test_cli_enqueue_refuses_in_one_line(db_url: str) -> None:
    deep = cli(
        "enqueue", "take", "--args", '{"x": ' + nest_text(10_000) + "}", "--database", db_url
    )
    assert isinstance(deep.exception, InvalidPayload), deep.output
    assert str(deep.exception) == (
        "--args: nested more than 32 levels deep; the limit is max_nesting_depth=32"
    )
    for args, start in (
        (["--args", '{"x": "\\ud800"}'], "args.x: contains a lone surrogate"),
        (["--args", '{"x": "\\u0000"}'], "args.x: contains a NUL character"),
        (["--queue", "q" * 201], "queue: 201 characters"),
        (["--unique-key", "k" * 201], "unique_key: 201 characters"),
    ):
        result = cli("enqueue", "take", *args, "--database", db_url)
        assert isinstance(result.exception, InvalidPayload), (args, result.output)
        assert str(result.exception).startswith(start)
    ok = cli("enqueue", "take", "--args", '{"x": ' + nest_text(31) + "}", "--database", db_url)
    assert ok.exit_code == 0, ok.output


def test_cli_jobs_show_shortens_large_values(deck: JobDeck) -> None:
    handle = deck.get_task("take").enqueue(blob="x" * 900_000, rows=list(range(10_000)))
    result = cli("jobs", "show", str(handle.id), "--database", deck.database_url)
    assert result.exit_code == 0, result.output
    assert len(result.output) < 30_000 and "values shortened" in result.output


# -- rows from before the limits -----------------------------------------------------------------


def test_rows_written_before_the_limits_decode_with_their_deepest_parts_marked(
    deck: JobDeck,
) -> None:
    store = deck.store
    shallow = {"keep": nest(40), "n": 1}
    ids = [
        store.insert_jobs([NewJob(task="old", args_json=text)])[0].job_id
        for text in (
            json.dumps(shallow),
            '{"x": ' + nest_text(300) + ', "after": "kept"}',
            '{"s": "' + "[" * 5_000 + '", "x": ' + nest_text(2_000) + "}",
        )
    ]
    assert store.get_job(ids[0]).args == shallow  # deep but under the ceiling: untouched
    for job_id in ids[1:]:
        args = store.get_job(job_id).args
        inner = args["x"]
        for _ in range(DEPTH_CEILING - 2):
            assert isinstance(inner, list) and len(inner) == 1
            inner = inner[0]
        assert inner == [DEEPER_NOT_DECODED]
    assert store.get_job(ids[1]).args["after"] == "kept"
    assert store.get_job(ids[2]).args["s"] == "[" * 5_000  # brackets in strings do not count
    assert len(store.list_jobs(JobFilter(), None, 10)) == 3
    for command in (["jobs", "list"], *(["jobs", "show", str(i)] for i in ids)):
        result = cli(*command, "--database", deck.database_url)
        assert result.exit_code == 0, (command, result.output, result.exception)
        assert len(result.output) < 60_000


# -- results and errors in the worker ------------------------------------------------------------


def test_a_result_past_the_limits_fails_its_job_and_bad_error_text_cannot_stall_the_worker(
    deck: JobDeck, caplog: pytest.LogCaptureFixture
) -> None:
    deep = deck.get_task("deep_result").enqueue(levels=40)
    big = deck.get_task("big_result").enqueue(size=1_000_001)
    surrogate = deck.get_task("raise_char").enqueue(code=0xD800)
    nul = deck.get_task("raise_char").enqueue(code=0)
    fine = deck.get_task("fine").enqueue()
    with running_worker(deck, concurrency=1):
        for handle in (deep, big, surrogate, nul, fine):
            handle.wait(15)
    assert deep.state == JobState.FAILED and deep.result is None
    assert deep.error == (
        "result.rows: nested more than 32 levels deep; the limit is max_nesting_depth=32"
    )
    assert big.error == "result: 1000003 bytes as JSON; the limit is max_arguments_bytes=1000000"
    assert surrogate.error == "ValueError: bad input \\ud800 here"
    assert nul.error == "ValueError: bad input \\x00 here"
    assert "\\x00" in (deck.store.get_attempts(nul.id)[-1].traceback or "")
    assert fine.state == JobState.SUCCEEDED and fine.result == {"ok": 1}
    # Nor a log handler: the worker logs the stored text, which a strict UTF-8 sink can write.
    for record in caplog.records:
        record.getMessage().encode("utf-8")
        assert "\x00" not in record.getMessage()
