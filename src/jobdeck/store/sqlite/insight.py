"""The SQLite store's reading verbs: the shared ones (store/insight.py), with the stats
rollups keyed in epoch seconds, their compaction, the workers view and the search indexer."""

from __future__ import annotations

from datetime import datetime

from jobdeck.clock import Clock
from jobdeck.store.insight import InsightVerbs
from jobdeck.store.records import LatencyRow, StatsRow, WorkerInfo
from jobdeck.store.rows import latency_folds, latency_from_row, stats_from_row, worker_from_row
from jobdeck.store.search import SEARCH_LAG
from jobdeck.store.sqlite.connection import SQLiteDatabase, epoch, from_db, json_list, to_db


class SQLiteInsight(InsightVerbs[SQLiteDatabase]):
    clock: Clock

    def stats_series(self, since: datetime, until: datetime, bucket_seconds: int) -> list[StatsRow]:
        params = {"since": epoch(since), "until": epoch(until), "bucket": bucket_seconds}
        return [stats_from_row(r, "bucket") for r in self._db.read("stats_series", params)]

    def stats_by_task(self, since: datetime, until: datetime) -> list[StatsRow]:
        params = {"since": epoch(since), "until": epoch(until)}
        return [stats_from_row(r, "task") for r in self._db.read("stats_by_task", params)]

    def latency_series(
        self, since: datetime, until: datetime, bucket_seconds: int
    ) -> list[LatencyRow]:
        params = {"since": epoch(since), "until": epoch(until), "bucket": bucket_seconds}
        return [latency_from_row(r, "start") for r in self._db.read("latency_series", params)]

    def latency_by_task(self, since: datetime, until: datetime) -> list[LatencyRow]:
        params = {"since": epoch(since), "until": epoch(until)}
        return [latency_from_row(r, "task") for r in self._db.read("latency_by_task", params)]

    def compact_stats(self, before: datetime) -> int:
        params = {"before": epoch(before)}
        with self._db.write() as db:
            for older_than, size in latency_folds(before):
                fold = {"before": epoch(older_than), "size": size}
                db.execute(self._db.q["compact_latency_fold"], fold)
                db.execute(self._db.q["compact_latency_delete"], fold)
            db.execute(self._db.q["compact_stats_fold"], params)
            return db.execute(self._db.q["compact_stats_delete"], params).rowcount

    def list_workers(self, since: datetime | None = None) -> list[WorkerInfo]:
        # "" sorts before every time: no lower bound.
        rows = self._db.read("list_workers", {"since": to_db(since) or ""})
        return [worker_from_row(r, from_db) for r in rows]

    def index_search(self, limit: int) -> int:
        q = self._db.q
        until = to_db(self.clock.now() - SEARCH_LAG)
        with self._db.write() as db:
            mark = db.execute(q["search_mark"]).fetchone()
            params = {"mark_at": mark[0], "mark_id": mark[1], "until": until, "limit": limit}
            batch = db.execute(q["search_batch"], params).fetchall()
            if not batch:
                return 0
            db.execute(q["search_write"], {"ids": json_list([r[0] for r in batch])})
            last = batch[-1]
            db.execute(q["search_mark_move"], {"finished_at": last[1], "job_id": last[0]})
        return len(batch)
