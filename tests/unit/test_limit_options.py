"""How a deck declares limits: task options, the concurrency key, queue_limits, and the one-line
errors for a limit that cannot be."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from jobdeck import JobDeck
from jobdeck.errors import ConfigError
from jobdeck.store.limiting import ClaimLimits, Rate
from jobdeck.tasks import claim_limits


def test_rates_parse_and_space_their_starts() -> None:
    assert Rate.parse("100/m") == Rate(100, 60.0)
    assert Rate.parse("5/s").interval == timedelta(seconds=0.2)
    assert Rate.parse("10/2h") == Rate(10, 7200.0)
    assert str(Rate.parse("100/m")) == "100/m"


@pytest.mark.parametrize("text", ["", "100", "0/s", "5/d", "x/s", "-1/s"])
def test_a_rate_that_cannot_be_is_one_clear_error(text: str) -> None:
    with pytest.raises(ConfigError, match="rate limit must look like 100/m"):
        Rate.parse(text)


def test_a_deck_declares_its_limits_for_the_claim(tmp_path: Path) -> None:
    deck = JobDeck(f"sqlite:///{tmp_path / 'x.db'}", queue_limits={"mail": 5})
    deck.task(name="send", concurrency=2, rate_limit="100/m")(print)
    deck.task(name="sync", key_concurrency=1, key_rate_limit="1/s")(print)
    deck.task(name="plain")(print)
    limits = claim_limits(deck.tasks.values(), deck.settings.queue_limits or {})
    assert limits == ClaimLimits(
        queues={"mail": 5},
        tasks={"send": 2},
        per_key={"sync": 1},
        task_rates={"send": Rate(100, 60.0)},
        key_rates={"sync": Rate(1, 1.0)},
    )
    assert not claim_limits([deck.tasks["plain"]], {})


def test_the_concurrency_key_rides_in_the_labels(tmp_path: Path) -> None:
    deck = JobDeck(f"sqlite:///{tmp_path / 'x.db'}")
    deck.migrate()
    sync = deck.task(name="sync", key_concurrency=1)(print)
    job = sync.options(concurrency_key="tenant:42").enqueue()
    row = deck.store.get_job(job.id)
    assert row is not None and row.labels["concurrency_key"] == "tenant:42"
    plain = deck.task(name="plain")(print)
    with pytest.raises(ConfigError, match="concurrency_key needs key_concurrency="):
        plain.options(concurrency_key="tenant:42").enqueue()
    deck.close()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"concurrency": 0}, "concurrency must be a whole number"),
        ({"key_concurrency": "2"}, "key_concurrency must be a whole number"),
        ({"rate_limit": "fast"}, "task t: rate_limit: rate limit must look like"),
    ],
)
def test_a_task_limit_that_cannot_be_is_refused_at_declaration(
    options: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        JobDeck("sqlite:///:memory:").task(name="t", **options)(print)


def test_queue_limits_must_be_positive_whole_numbers() -> None:
    with pytest.raises(ConfigError, match=r"queue_limits\['mail'\] must be a whole number"):
        JobDeck("sqlite:///:memory:", queue_limits={"mail": 0})
