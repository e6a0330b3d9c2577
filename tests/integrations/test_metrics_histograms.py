"""/metrics exposes the rollups' wait and duration histograms as Prometheus histograms
(cumulative ``_bucket{le=...}``, ``_sum``, ``_count``), read back with prometheus_client's own
parser, on both stores."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from jobdeck import JobDeck, ManualClock
from jobdeck.states import AttemptStatus, JobState
from jobdeck.store.base import ClaimRequest, NewJob, Outcome
from jobdeck.web.access import local_operator

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
WAITS_MS = [3, 40, 40, 700, 12_000]
DURATIONS_MS = [0, 2, 30, 30, 2_400]


@pytest.fixture
def deck(db_url: str) -> Iterator[JobDeck]:
    deck = JobDeck(db_url, clock=ManualClock(NOW))
    store = deck.store
    store.insert_jobs([NewJob("resize", run_at=NOW - timedelta(milliseconds=w)) for w in WAITS_MS])
    claimed = sorted(
        store.claim_jobs(ClaimRequest("w1", ["default"], 10, 30.0)), key=lambda j: j.wait_ms or 0
    )
    outcomes = [
        Outcome(
            job.id,
            job.attempt,
            job.task,
            AttemptStatus.SUCCEEDED,
            JobState.SUCCEEDED,
            job.started_at,
            job.started_at + timedelta(milliseconds=ms),
            wait_ms=job.wait_ms,
        )
        for job, ms in zip(claimed, DURATIONS_MS, strict=True)
    ]
    store.complete_jobs("w1", outcomes, shard=1)
    yield deck
    deck.close()


def histogram(deck: JobDeck, name: str, task: str) -> dict[float | str, float]:
    """The samples of one histogram series: by ``le`` bound (a float), "sum" and "count"."""
    client = TestClient(deck.asgi(authorize=local_operator))
    response = client.get("/metrics")
    assert response.status_code == 200
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    family = families[name]
    assert family.type == "histogram"
    found: dict[float | str, float] = {}
    for sample in family.samples:
        if sample.labels.get("task") != task:
            continue
        if sample.name == f"{name}_bucket":
            found[float(sample.labels["le"])] = sample.value
        else:
            found[sample.name.removeprefix(f"{name}_")] = sample.value
    return found


def test_wait_and_duration_histograms_count_each_attempt_in_its_buckets(deck: JobDeck) -> None:
    inf = float("inf")
    wait = histogram(deck, "jobdeck_job_wait_seconds", "resize")
    assert wait["count"] == 5 and wait[inf] == 5
    assert wait["sum"] == pytest.approx(sum(WAITS_MS) / 1000)
    assert (wait[0.001], wait[0.0025], wait[0.005]) == (0, 0, 1)  # 3 ms
    assert (wait[0.025], wait[0.05]) == (1, 3)  # 40 ms twice
    assert (wait[0.5], wait[1], wait[10], wait[25]) == (3, 4, 4, 5)
    duration = histogram(deck, "jobdeck_job_duration_seconds", "resize")
    assert duration["count"] == 5 and duration[inf] == 5
    assert duration["sum"] == pytest.approx(sum(DURATIONS_MS) / 1000)
    assert (duration[0.001], duration[0.0025], duration[0.025]) == (1, 2, 2)  # 0 and 2 ms
    assert (duration[0.05], duration[2.5], duration[100_000]) == (4, 5, 5)


def test_bounds_rise_and_counts_never_fall(deck: JobDeck) -> None:
    for name in ("jobdeck_job_wait_seconds", "jobdeck_job_duration_seconds"):
        samples = histogram(deck, name, "resize")
        bounds = sorted((le, count) for le, count in samples.items() if isinstance(le, float))
        counts = [count for _, count in bounds]
        assert counts == sorted(counts) and len(bounds) == 26
        assert bounds[0][0] == 0.001 and bounds[-2][0] == 100_000 and bounds[-1][0] == float("inf")
