"""The worker's view of its leases: when a job must stop, on its own monotonic clock."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from jobdeck.worker.leases import Leases


def test_a_job_stops_a_margin_before_its_lease_ends() -> None:
    leases = Leases(duration=30.0, heartbeat_interval=5.0)
    assert leases.margin == 5.0
    assert leases.stop_by(100.0) == 125.0


def test_the_margin_leaves_room_for_a_beat_when_the_lease_is_short() -> None:
    leases = Leases(duration=1.2, heartbeat_interval=1.0)
    assert abs(leases.margin - 0.1) < 1e-9, "half of what the lease has beyond a beat"


def test_a_renewal_moves_the_stop_and_a_stale_one_does_not() -> None:
    leases = Leases(duration=30.0, heartbeat_interval=5.0)
    leases.renewed(200.0)
    assert leases.stop_by(100.0) == 225.0
    leases.renewed(150.0)  # an older request that answered late
    assert leases.stop_by(100.0) == 225.0
    assert leases.stop_by(300.0) == 325.0, "a job claimed after the renewal keeps its claim"


def test_without_a_clock_offset_a_claim_is_dated_from_when_it_was_sent() -> None:
    leases = Leases(duration=30.0, heartbeat_interval=5.0)
    assert leases.claimed_from(datetime.now(UTC), sent=10.0, returned=50.0) == 10.0


def test_a_claim_that_waited_out_a_partition_is_dated_near_its_stamp() -> None:
    """Sent 20 s ago, stamped by the database just now: dated now (less the offset's error)."""
    leases = Leases(duration=30.0, heartbeat_interval=5.0)
    leases.measured_offset(0.0)
    now = time.monotonic()
    dated = leases.claimed_from(datetime.now(UTC), sent=now - 20.0, returned=now)
    assert now - 0.6 < dated <= now - 0.4


def test_a_wrong_offset_never_dates_a_claim_outside_its_round_trip() -> None:
    leases = Leases(duration=30.0, heartbeat_interval=5.0)
    now = time.monotonic()
    stamped = datetime.now(UTC) - timedelta(seconds=5)
    leases.measured_offset(-3600.0)  # said to be an hour behind: the stamp looks an hour old
    assert leases.claimed_from(stamped, sent=now - 2.0, returned=now) == now - 2.0
    leases.measured_offset(3600.0)  # an hour ahead: the stamp looks to be in the future
    assert leases.claimed_from(stamped, sent=now - 2.0, returned=now) == now
