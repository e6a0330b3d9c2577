"""Enqueueing through the task API: bad arguments are refused before anything is written,
batches are one call, handles wait, and a unique key holds under concurrent callers."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from jobdeck import JobDeck
from jobdeck.errors import ArgumentsError, ConfigError, SerializationError, UnknownParentJob
from jobdeck.tasks import JobHandle
from tests.worker import apps
from tests.worker.helpers import count_in, running_worker, wait_until


def test_args_that_are_not_json_are_refused_naming_the_path(deck: JobDeck) -> None:
    echo = deck.get_task("echo")
    with pytest.raises(SerializationError, match=r"^args\.value: datetime is not JSON serial"):
        echo.enqueue(value=datetime.now(UTC))
    with pytest.raises(SerializationError) as caught:
        echo.enqueue(value={"items": [1, {"price": Decimal("1.5")}]})
    assert str(caught.value) == "args.value.items[1].price: Decimal is not JSON serialisable"
    with pytest.raises(SerializationError, match=r"args\.value: key 1 is a int"):
        echo.enqueue(value={1: "x"})
    with pytest.raises(SerializationError, match=r"args"):
        echo.enqueue(value=float("nan"))
    # One bad job in a batch: nothing of the batch is written.
    with pytest.raises(SerializationError, match=r"args\.value: set is not JSON serialisable"):
        echo.enqueue_many([{"value": 1}, {"value": {2}}])
    assert count_in(deck.store) == 0


def test_arguments_that_do_not_fit_the_function_are_refused(deck: JobDeck) -> None:
    echo = deck.get_task("echo")
    with pytest.raises(ArgumentsError, match=r"^echo: .*unexpected keyword argument 'valu'"):
        echo.enqueue(value=1, valu=1)
    with pytest.raises(ArgumentsError, match=r"missing a required argument: 'value'"):
        echo.enqueue()
    with pytest.raises(ArgumentsError):
        echo.enqueue_many([{"value": 1}, {"value": 2, "extra": 3}])
    assert count_in(deck.store) == 0


def test_enqueue_many_inserts_every_job_in_one_store_call(
    deck: JobDeck, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = deck.store
    calls: list[int] = []
    real_insert = store.insert_jobs

    def counting_insert(jobs: Any, conn: Any = None) -> Any:
        calls.append(len(jobs))
        return real_insert(jobs, conn=conn)

    monkeypatch.setattr(store, "insert_jobs", counting_insert)
    handles = deck.get_task("echo").enqueue_many([{"value": i} for i in range(25)])
    assert calls == [25]
    assert len({h.id for h in handles}) == 25
    assert all(h.created for h in handles)
    assert [h.row.args for h in handles] == [{"value": i} for i in range(25)]
    assert count_in(store) == 25


def test_wait_returns_the_finished_handle_and_raises_timeout_error_otherwise(
    deck: JobDeck,
) -> None:
    handle = deck.get_task("echo").enqueue(value=5)
    with pytest.raises(TimeoutError, match=f"job {handle.id} is still available"):
        handle.wait(timeout=0.2)
    with running_worker(deck):
        returned = handle.wait(timeout=10)
    assert returned is handle
    assert returned.state == "succeeded" and returned.result["value"] == 5


def test_fifty_concurrent_enqueues_with_one_unique_key_create_one_job(deck: JobDeck) -> None:
    # Five app instances (five stores, as five processes would have) with ten threads each.
    decks = [deck, *(apps.make_deck(deck.database_url) for _ in range(4))]
    for each in decks:
        each.store.check_schema()  # open the stores before the race, as running apps would have
    barrier = threading.Barrier(50)
    handles: list[JobHandle] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def enqueue(n: int) -> None:
        try:
            echo = decks[n % len(decks)].get_task("echo")
            barrier.wait(10)
            handle = echo.options(unique_key="welcome:42").enqueue(value=n)
            with lock:
                handles.append(handle)
        except BaseException as exc:
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=enqueue, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for each in decks[1:]:
        each.close()
    assert not errors, errors[:3]
    assert len(handles) == 50
    assert len({h.id for h in handles}) == 1
    assert sum(h.created for h in handles) == 1
    assert count_in(deck.store) == 1
    assert handles[0].row.unique_key == "welcome:42"


def test_enqueue_async_inserts_the_job(deck: JobDeck) -> None:
    async def main() -> JobHandle:
        return await deck.get_task("echo").enqueue_async(value="from a coroutine")

    handle = asyncio.run(main())
    assert handle.created and handle.row.args == {"value": "from a coroutine"}


def test_a_unique_key_dedupes_while_active_or_only_while_pending(deck: JobDeck) -> None:
    stuck = deck.get_task("stuck")
    active = stuck.options(unique_key="sync:1")
    pending = stuck.options(unique_key="reindex:1", unique_while="pending")
    first_active, first_pending = active.enqueue(), pending.enqueue()
    with running_worker(deck, concurrency=2):
        wait_until(lambda: len(apps.STUCK) == 2, 10, "both jobs to run")
        # Running: the default key still holds; a "pending" key lets one more queue up.
        again_active = active.enqueue()
        assert (again_active.id, again_active.created) == (first_active.id, False)
        queued = pending.enqueue()
        assert queued.created and queued.id != first_pending.id
        repeat = pending.enqueue()
        assert (repeat.id, repeat.created) == (queued.id, False)
        apps.RELEASE.set()
        for handle in (first_active, first_pending, queued):
            handle.wait(10)
    # Finished jobs hold no key.
    assert active.enqueue().created


def test_after_takes_handles_and_ids_on_enqueue_options_and_batches(deck: JobDeck) -> None:
    echo = deck.get_task("echo")
    first, second = echo.enqueue(value=1), echo.enqueue(value=2)
    for handle in (
        echo.enqueue(value=3, after=[first, second.id]),
        echo.options(priority=3).options(after=[first]).enqueue(value=4),
        *echo.enqueue_many([{"value": 5}, {"value": 6}], after=[second]),
        *echo.options(after=first).enqueue_many([{"value": 7}]),
    ):
        assert handle.refresh().state == "waiting", handle
    links = deck.store.get_job_links(first.id)
    assert sorted(link.job_id for link in links) == [3, 4, 7]
    for bad in (["3"], [0], [True], "3", [1.5]):
        with pytest.raises(ConfigError, match="after= takes JobHandle objects or job ids"):
            echo.enqueue(value=8, after=bad)
    with pytest.raises(UnknownParentJob, match="#99"):
        echo.enqueue_many([{"value": 9}, {"value": 10}], after=[first, 99])
    assert count_in(deck.store) == 7, "the refused batch wrote nothing"


def test_a_task_with_an_argument_named_after_gets_it(db_url: str) -> None:
    made = JobDeck(db_url)

    @made.task(name="remind")
    def remind(after: str) -> None: ...

    try:
        job = remind.enqueue(after="lunch")
        assert job.refresh().row.args == {"after": "lunch"} and job.state == "available"
        child = remind.options(after=[job]).enqueue(after="tea")
        assert child.refresh().state == "waiting" and child.row.args == {"after": "tea"}
    finally:
        made.close()
