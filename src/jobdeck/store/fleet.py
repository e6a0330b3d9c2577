"""The fleet verbs both dialects share: pausing and resuming queues, asking a worker to drain
and stop, and the one read a worker makes at each heartbeat to learn both (and which of its
running jobs operators cancelled)."""

from __future__ import annotations

from datetime import datetime
from typing import Generic, TypeVar

from jobdeck.states import JobState
from jobdeck.store.base import FleetStore
from jobdeck.store.dialect import Statements
from jobdeck.store.records import QueuePause, WorkerOrders
from jobdeck.store.rows import from_row

D = TypeVar("D", bound=Statements)


class FleetVerbs(FleetStore, Generic[D]):
    """The base of each dialect's fleet group; the store sets ``_db``."""

    _db: D

    def pause_queue(self, pause: QueuePause) -> bool:
        params = {
            "queue": pause.queue,
            "paused_at": self._db.encode_time(pause.paused_at),
            "paused_by": pause.paused_by,
            "reason": pause.reason,
        }
        return bool(self._db.write_rows("pause_queue", params))

    def resume_queue(self, queue: str) -> bool:
        return bool(self._db.write_rows("resume_queue", {"queue": queue}))

    def list_paused_queues(self) -> list[QueuePause]:
        rows = self._db.read("list_paused_queues")
        return [from_row(QueuePause, r, self._db.parse_time) for r in rows]

    def request_worker_stop(self, worker_id: str, now: datetime) -> bool:
        params = {"worker_id": worker_id, "now": self._db.encode_time(now)}
        return bool(self._db.write_rows("request_worker_stop", params))

    def count_open_by_queue(self) -> dict[str, dict[JobState, int]]:
        counts: dict[str, dict[JobState, int]] = {}
        for row in self._db.read("count_open_by_queue"):
            counts.setdefault(row["queue"], {})[JobState(row["state"])] = int(row["n"])
        return counts

    def worker_orders(self, worker_id: str) -> WorkerOrders:
        rows = self._db.read("worker_orders", {"worker_id": worker_id})
        paused = frozenset(r["queue"] for r in rows if r["queue"] is not None)
        cancelled = {
            (int(r["job_id"]), int(r["attempt"])): r["cancelled_by"] or "?"
            for r in rows
            if r["job_id"] is not None
        }
        return WorkerOrders(paused, any(r["stop"] for r in rows), cancelled)
