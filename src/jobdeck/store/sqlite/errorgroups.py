"""The SQLite store's error groups: the shared verbs (store/errorgroups.py) over a rollup keyed
in epoch seconds, and what ``complete_jobs`` writes of a batch's failures."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from jobdeck.store.errorgroups import ErrorGroupVerbs
from jobdeck.store.records import Outcome
from jobdeck.store.sqlite.connection import SQLiteDatabase, epoch, minute_key, to_db
from jobdeck.store.sqlite.wake import Wakeups


class SQLiteErrorGroups(ErrorGroupVerbs[SQLiteDatabase]):
    _wakeups: Wakeups

    def _minute_param(self, moment: datetime) -> Any:
        return epoch(moment)

    def _minute_value(self, value: Any) -> datetime:
        return datetime.fromtimestamp(int(value), UTC)

    def retry_error_group(
        self, fingerprint: str, now: datetime, after_id: int, limit: int
    ) -> list[int]:
        retried = super().retry_error_group(fingerprint, now, after_id, limit)
        if retried:
            self._wakeups.notify()
        return retried

    def compact_error_groups(self, before: datetime, bucket_seconds: int = 3600) -> int:
        params = {"before": epoch(before), "bucket": bucket_seconds}
        with self._db.write() as db:
            db.execute(self._db.q["compact_error_groups_fold"], params)
            return db.execute(self._db.q["compact_error_groups_delete"], params).rowcount


def record_error_groups(
    db: sqlite3.Connection,
    q: Mapping[str, str],
    outcomes: Sequence[Outcome],
    applied: Collection[int],
    shard: int,
) -> None:
    """Inside complete_jobs' transaction: each new group once, and the failures per (minute,
    group, task) in this worker's shard. A batch without failures costs one loop."""
    failed = [o for o in outcomes if o.error_group is not None and o.job_id in applied]
    if not failed:
        return
    firsts: dict[str, Outcome] = {}
    counts: Counter[tuple[int, str, str]] = Counter()
    for outcome in sorted(failed, key=lambda o: o.finished_at):
        assert outcome.error_group is not None
        firsts.setdefault(outcome.error_group.fingerprint, outcome)
        counts[minute_key(outcome.finished_at), outcome.error_group.fingerprint, outcome.task] += 1
    db.executemany(q["add_error_group"], [_group_params(o) for o in firsts.values()])
    db.executemany(
        q["add_error_group_failures"],
        [
            {"minute": m, "fingerprint": f, "task": t, "shard": shard, "failures": n}
            for (m, f, t), n in counts.items()
        ],
    )


def _group_params(outcome: Outcome) -> dict[str, Any]:
    key = outcome.error_group
    assert key is not None
    return {
        "fingerprint": key.fingerprint,
        "exception": key.exception,
        "title": key.title,
        "frame": key.frame,
        "task": outcome.task,
        "first_seen": to_db(outcome.finished_at),
        "sample_job_id": outcome.job_id,
        "sample_error": outcome.error or "",
        "sample_traceback": outcome.traceback,
    }
