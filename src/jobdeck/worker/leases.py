"""What this worker knows of its jobs' leases, on its own monotonic clock, so that it stops a job
before the lease the database holds for it runs out.

The database decides a lease on its own clock: a claim or a renewal stamps ``now + lease``, and
another worker's rescuer takes the job once that has passed. A worker cut off from the database
(a partition, a server that stopped answering) cannot renew, and without this it would run on
while the rescued job runs elsewhere: twice at once, past any concurrency limit. So each job's
lease is dated here from a moment no later than the database's stamp, and the timeout watch
stops the job ``margin`` before that lease can end.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime

# How far a reading of the clock offset may be off: the heartbeat keeps only readings whose
# round trip took under a second, and the middle of the trip is then within half of it.
_OFFSET_ERROR_S = 0.5


class Leases:
    def __init__(self, duration: float, heartbeat_interval: float) -> None:
        self.duration = duration
        # Long enough to stop a task (cancel a coroutine, end a child) before the lease ends,
        # short enough that a beat or two missed by a slow round trip does not stop anything.
        self.margin = min(heartbeat_interval, (duration - heartbeat_interval) / 2)
        self._renewed_from: float | None = None
        self._clock_offset: float | None = None  # seconds this host is ahead of the database
        self._lock = threading.Lock()

    def renewed(self, sent: float) -> None:
        """The heartbeat renewed every lease of this worker with a request sent at ``sent``:
        the database stamped it after that moment."""
        with self._lock:
            if self._renewed_from is None or sent > self._renewed_from:
                self._renewed_from = sent

    def measured_offset(self, offset: float) -> None:
        self._clock_offset = offset

    def claimed_from(self, stamped_at: datetime, sent: float, returned: float) -> float:
        """The monotonic time a claim's lease is dated from: the database stamped it at
        ``stamped_at`` on its clock, between ``sent`` and ``returned`` on ours.

        With a known clock offset the stamp is placed on our clock (early by the offset's error
        bound, to be safe), and always kept within the round trip; without one it is ``sent``.
        A claim that waited out a partition was stamped after the heal, near ``returned``: its
        job is not stopped for the time its claim was on the way.
        """
        offset = self._clock_offset
        if offset is None:
            return sent
        age = time.time() - (stamped_at.timestamp() + offset)
        estimate = time.monotonic() - age - _OFFSET_ERROR_S
        return min(max(estimate, sent), returned)

    def dated_from(self, claimed_from: float) -> float:
        """Where the lease of a job claimed from ``claimed_from`` runs from now: its claim or
        the last renewal, whichever came later."""
        renewed = self._renewed_from
        return claimed_from if renewed is None else max(claimed_from, renewed)

    def stop_by(self, claimed_from: float) -> float:
        """When a job whose claim is dated ``claimed_from`` must be stopped, on our clock."""
        return self.dated_from(claimed_from) + self.duration - self.margin
