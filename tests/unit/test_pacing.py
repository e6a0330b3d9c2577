"""Claiming ahead: only while jobs finish faster than a claim returns, and only as many as the
slots finish within one claim's round trip."""

from __future__ import annotations

from jobdeck.settings import Settings
from jobdeck.worker.pacing import ClaimPacing, claim_ahead_cap


def paced(cap: int, round_trip: float, run_time: float, slots: int = 10) -> ClaimPacing:
    """Pacing that has timed one claim and one job."""
    pacing = ClaimPacing(slots=slots, cap=cap)
    pacing.claimed(round_trip)
    pacing.ran(run_time)
    return pacing


def test_nothing_is_claimed_ahead_before_a_claim_and_a_job_were_timed() -> None:
    pacing = ClaimPacing(slots=10, cap=40)
    assert pacing.ahead() == 0
    pacing.claimed(0.001)
    assert pacing.ahead() == 0
    pacing.ran(0.0001)
    assert pacing.ahead() > 0


def test_short_jobs_are_claimed_ahead_up_to_what_the_slots_finish_in_one_round_trip() -> None:
    pacing = paced(1000, 0.002, 0.001)  # each slot finishes two jobs while a claim is out
    assert pacing.ahead() == 20


def test_the_cap_bounds_the_allowance() -> None:
    assert paced(40, 0.002, 0.00001).ahead() == 40


def test_jobs_slower_than_the_slots_round_trips_get_no_allowance() -> None:
    assert paced(40, 0.002, 0.5).ahead() == 0


def test_the_allowance_follows_jobs_that_turn_slow() -> None:
    pacing = paced(40, 0.002, 0.00001)
    for _ in range(30):
        pacing.ran(1.0)
    assert pacing.ahead() == 0


def test_a_cap_of_zero_never_claims_ahead() -> None:
    assert paced(0, 0.002, 0.0).ahead() == 0


def test_the_default_cap_is_four_per_slot_or_one_full_claim_and_a_setting_replaces_it() -> None:
    # A few slots still fill one whole claim; more slots claim 4 x theirs ahead.
    assert claim_ahead_cap(Settings(concurrency=10)) == 90
    assert claim_ahead_cap(Settings(concurrency=10, fetch_batch_max=20)) == 40
    assert claim_ahead_cap(Settings(concurrency=100)) == 400
    assert claim_ahead_cap(Settings(concurrency=10, claim_ahead=0)) == 0
    assert claim_ahead_cap(Settings(concurrency=10, claim_ahead=5)) == 5
