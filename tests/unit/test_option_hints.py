"""Misspelt task and periodic options fail when declared, with a "did you mean" hint."""

from __future__ import annotations

from typing import Any

import pytest

from jobdeck import ConfigError, JobDeck


@pytest.mark.parametrize(
    ("declare", "message"),
    [
        (
            lambda d: d.task(max_attempt=3),
            "unknown task option 'max_attempt'; did you mean 'max_attempts'?",
        ),
        (lambda d: d.task(queu="mail"), "did you mean 'queue'?"),
        (
            lambda d: d.periodic(cron="* * * * *", expected_max_ag="1h"),
            "unknown periodic option 'expected_max_ag'; did you mean 'expected_max_age'?",
        ),
        (lambda d: d.periodic(every="5m", timout=3), "did you mean 'timeout'?"),
    ],
)
def test_a_misspelt_option_names_the_right_one(declare: Any, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        declare(JobDeck("sqlite:///unused.db"))
    assert message in str(caught.value)


def test_periodic_passes_task_options_through() -> None:
    deck = JobDeck("sqlite:///unused.db")

    @deck.periodic(name="nightly", cron="0 3 * * *", max_attempts=2, queue="reports")
    def nightly() -> None: ...

    assert (nightly.max_attempts, nightly.queue) == (2, "reports")
