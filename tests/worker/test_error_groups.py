"""A real worker fingerprints its failures: jobs failing alike share one group, written with
the attempts in the completer's batch, and the frame is the task's own code."""

from __future__ import annotations

from datetime import timedelta

from jobdeck import JobDeck
from jobdeck.store.base import JobFilter
from tests.worker.helpers import running_worker


def test_jobs_failing_with_different_ids_share_one_group_with_the_tasks_frame(
    deck: JobDeck,
) -> None:
    boom = deck.get_task("boom").options(max_attempts=1)
    handles = [boom.enqueue(message=f"no invoice {n} for customer {n * 7}") for n in (3, 41)]
    other = boom.enqueue(message="disk full")
    fine = deck.get_task("echo").enqueue(value="ok")
    with running_worker(deck):
        for handle in [*handles, other, fine]:
            handle.wait(15)
    now = deck.clock.now()
    groups = deck.store.list_error_groups(
        now - timedelta(hours=1), now + timedelta(minutes=1), True, 10
    )
    assert [(g.exception, g.title, g.failures) for g in groups] == [
        ("ValueError", "no invoice <n> for customer <n>", 2),
        ("ValueError", "disk full", 1),
    ]
    assert {g.frame for g in groups} == {"worker/apps.py in _explode"}
    fingerprint = groups[0].fingerprint
    assert {h.row.error_group for h in handles} == {fingerprint}
    assert fine.row.error_group is None
    assert deck.store.count_jobs(JobFilter(error_group=fingerprint)) == 2
