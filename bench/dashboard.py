"""Dashboard requests over a big history: seeds 1,000,000 jobs and 3,000,000 attempts (plus
30 days of per-minute rollups and of 15-minute wait and duration histograms, eight buckets
of each per task and slot, 20 busy error groups, a 20,000-job backlog and 20 busy workers)
and times every request the Jobs, Failures, Queues and Workers pages make, p50/p95.

    .venv/bin/python bench/dashboard.py --dialect sqlite [--jobs 1000000] [--keep PATH]
    .venv/bin/python bench/dashboard.py --dialect postgres

Seeding uses SQL that generates rows inside the database (recursive CTE / generate_series),
so the million rows take a minute, not an hour. Requests go through the real ASGI app.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from fastapi.testclient import TestClient

from jobdeck import JobDeck
from jobdeck.store.base import ClaimRequest, NewJob, WorkerInfo
from jobdeck.web.access import local_operator
from jobdeck.worker.upkeep import Pruner, SearchIndexer

TASKS = [
    "send_claim_verification_email",
    "check_trial_reminders",
    "process_trial_expirations",
    "process_document",
    "index_document_chunks",
]

SQLITE_SEED = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {jobs})
INSERT INTO jobs (task, queue, args, labels, priority, state, attempt, max_attempts,
                  enqueued_at, run_at, started_at, finished_at, duration_ms, worker_id, trigger,
                  result, error)
SELECT CASE i % 5 WHEN 0 THEN '{t0}' WHEN 1 THEN '{t1}' WHEN 2 THEN '{t2}' WHEN 3 THEN '{t3}'
       ELSE '{t4}' END,
       'default', '{{"n":' || i || '}}', '{{"user_id":"' || (i % 997) || '"}}', 0,
       CASE WHEN i % 50 = 0 THEN 'failed' WHEN i % 333 = 0 THEN 'retryable' ELSE 'succeeded' END,
       3, 3,
       strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || ((({jobs} - i) * 2592) / {jobs}) || ' seconds'),
       strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || ((({jobs} - i) * 2592) / {jobs}) || ' seconds'),
       strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || ((({jobs} - i) * 2592) / {jobs}) || ' seconds'),
       strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || ((({jobs} - i) * 2592) / {jobs}) || ' seconds'),
       (i * 37) % 2000, 'bench', 'code',
       CASE WHEN i % 50 = 0 THEN NULL ELSE '{{"ok":true}}' END,
       CASE WHEN i % 50 = 0 THEN 'ValueError: boom' ELSE NULL END
FROM n;
INSERT INTO attempts (job_id, attempt, status, worker_id, started_at, finished_at, duration_ms,
                      error, traceback)
SELECT j.id, a.k, CASE WHEN a.k < 3 OR j.state = 'failed' THEN 'failed' ELSE 'succeeded' END,
       'bench', j.started_at, j.finished_at, j.duration_ms,
       CASE WHEN a.k < 3 OR j.state = 'failed' THEN 'ValueError: boom' END,
       CASE WHEN a.k < 3 OR j.state = 'failed' THEN 'Traceback (most recent call last): ...' END
FROM jobs j JOIN (SELECT 1 AS k UNION ALL SELECT 2 UNION ALL SELECT 3) a;
WITH RECURSIVE m(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM m WHERE i < 43200)
INSERT INTO stats_minute (minute, task, shard, succeeded, failed, duration_ms)
SELECT (CAST(strftime('%s', 'now') AS INTEGER) / 60 - i) * 60, t.task, 1,
       20 + i % 7, i % 3, (20 + i % 7) * 150
FROM m, (SELECT '{t0}' AS task UNION ALL SELECT '{t1}' UNION ALL SELECT '{t2}'
         UNION ALL SELECT '{t3}' UNION ALL SELECT '{t4}') t;
WITH RECURSIVE m(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM m WHERE i < 2880),
b(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM b WHERE k < 7)
INSERT INTO stats_latency (slot, task, shard, kind, bucket, n, total_ms)
SELECT (CAST(strftime('%s', 'now') AS INTEGER) / 900 - i) * 900, t.task, 1, kd.kind,
       kd.base + k + i % 3, 1 + (i + k) % 9, (1 + (i + k) % 9) * (kd.base + k) * 10
FROM m, b, (SELECT 'wait' AS kind, 14 AS base UNION ALL SELECT 'duration', 20) kd,
     (SELECT '{t0}' AS task UNION ALL SELECT '{t1}' UNION ALL SELECT '{t2}'
      UNION ALL SELECT '{t3}' UNION ALL SELECT '{t4}') t;
-- Error groups (migration 0011): the failed and retrying jobs' latest failure in one of 20
-- groups, each failing in its task every minute of the 30 days (864,000 rollup rows before
-- the pruner's fold). attempts.error_group is left empty: no request reads it.
UPDATE jobs SET error_group = printf('%016x', 1 + (id / 50) % 20)
WHERE state IN ('failed', 'retryable');
WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 20)
INSERT INTO error_groups (fingerprint, exception, title, frame, task, first_seen,
                          sample_job_id, sample_error, sample_traceback)
SELECT printf('%016x', n), 'ValueError', 'boom <n>', 'app/tasks.py in run', '{t0}',
       strftime('%Y-%m-%d %H:%M:%f', 'now', '-30 days'), n * 50, 'ValueError: boom',
       'Traceback (most recent call last): ...'
FROM g;
WITH RECURSIVE m(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM m WHERE i < 43200),
     g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 20)
INSERT INTO error_group_minute (minute, fingerprint, task, shard, failures)
SELECT (CAST(strftime('%s', 'now') AS INTEGER) / 60 - i) * 60, printf('%016x', n),
       CASE n % 5 WHEN 0 THEN '{t0}' WHEN 1 THEN '{t1}' WHEN 2 THEN '{t2}' WHEN 3 THEN '{t3}'
       ELSE '{t4}' END, 1, 1 + (i + n) % 3
FROM m, g;
ANALYZE;
"""

POSTGRES_SEED = """
INSERT INTO jobs (task, queue, args, labels, priority, state, attempt, max_attempts,
                  enqueued_at, run_at, started_at, finished_at, duration_ms, worker_id, trigger,
                  result, error)
SELECT (ARRAY['{t0}','{t1}','{t2}','{t3}','{t4}'])[i % 5 + 1], 'default',
       jsonb_build_object('n', i), jsonb_build_object('user_id', (i % 997)::text), 0,
       CASE WHEN i % 50 = 0 THEN 'failed' WHEN i % 333 = 0 THEN 'retryable' ELSE 'succeeded' END,
       3, 3, t, t, t, t, (i * 37) % 2000, 'bench', 'code',
       CASE WHEN i % 50 = 0 THEN NULL ELSE '{{"ok": true}}'::jsonb END,
       CASE WHEN i % 50 = 0 THEN 'ValueError: boom' END
FROM (SELECT i, now() - (({jobs} - i) * interval '2.592 seconds') AS t
      FROM generate_series(1, {jobs}) i) s;
INSERT INTO attempts (job_id, attempt, status, worker_id, started_at, finished_at, duration_ms,
                      error, traceback)
SELECT j.id, k, CASE WHEN k < 3 OR j.state = 'failed' THEN 'failed' ELSE 'succeeded' END,
       'bench', j.started_at, j.finished_at, j.duration_ms,
       CASE WHEN k < 3 OR j.state = 'failed' THEN 'ValueError: boom' END,
       CASE WHEN k < 3 OR j.state = 'failed' THEN 'Traceback (most recent call last): ...' END
FROM jobs j CROSS JOIN generate_series(1, 3) k;
INSERT INTO stats_minute (minute, task, shard, succeeded, failed, duration_ms)
SELECT date_trunc('minute', now()) - i * interval '1 minute', t, 1, 20 + i % 7, i % 3,
       (20 + i % 7) * 150
FROM generate_series(0, 43200) i, unnest(ARRAY['{t0}','{t1}','{t2}','{t3}','{t4}']) t;
INSERT INTO stats_latency (slot, task, shard, kind, bucket, n, total_ms)
SELECT to_timestamp((floor(extract(epoch FROM now()) / 900) - i) * 900), t, 1, kd.kind,
       kd.base + k + i % 3, 1 + (i + k) % 9, (1 + (i + k) % 9) * (kd.base + k) * 10
FROM generate_series(0, 2880) i, generate_series(0, 7) k,
     (VALUES ('wait', 14), ('duration', 20)) AS kd(kind, base),
     unnest(ARRAY['{t0}','{t1}','{t2}','{t3}','{t4}']) t;
UPDATE jobs SET error_group = lpad(to_hex(1 + (id / 50) % 20), 16, '0')
WHERE state IN ('failed', 'retryable');
INSERT INTO error_groups (fingerprint, exception, title, frame, task, first_seen,
                          sample_job_id, sample_error, sample_traceback)
SELECT lpad(to_hex(n), 16, '0'), 'ValueError', 'boom <n>', 'app/tasks.py in run', '{t0}',
       now() - interval '30 days', n * 50, 'ValueError: boom',
       'Traceback (most recent call last): ...'
FROM generate_series(1, 20) n;
INSERT INTO error_group_minute (minute, fingerprint, task, shard, failures)
SELECT date_trunc('minute', now()) - i * interval '1 minute', lpad(to_hex(n), 16, '0'),
       (ARRAY['{t0}','{t1}','{t2}','{t3}','{t4}'])[n % 5 + 1], 1, 1 + (i + n) % 3
FROM generate_series(0, 43200) i, generate_series(1, 20) n;
VACUUM ANALYZE;
"""


def seed(deck: JobDeck, jobs: int) -> float:
    started = time.perf_counter()
    names = {f"t{i}": name for i, name in enumerate(TASKS)}
    if deck.store.dialect == "sqlite":
        import sqlite3

        path = deck.database_url.removeprefix("sqlite:///")
        with sqlite3.connect(path) as conn:
            conn.executescript(SQLITE_SEED.format(jobs=jobs, **names))
    else:
        import psycopg

        with psycopg.connect(deck.database_url, autocommit=True) as conn:
            for statement in POSTGRES_SEED.format(jobs=jobs, **names).split(";"):
                if statement.strip():
                    conn.execute(statement)
    return time.perf_counter() - started


def requests(client: TestClient, some_id: int) -> dict[str, Callable[[], object]]:
    day = time.strftime("%Y-%m-%d")
    month_ago = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 29 * 86400))
    calls: dict[str, Callable[[], object]] = {
        "page /jobs": lambda: client.get("/jobs"),
        "health pill": lambda: client.get("/health"),
        "list, no filter": lambda: client.get("/jobs/table"),
        "list, task text": lambda: client.get("/jobs/table", params={"task": "document"}),
        "list, status failed": lambda: client.get("/jobs/table", params={"status": "failed"}),
        "list, task + failed": lambda: client.get(
            "/jobs/table", params={"task": "process_document", "status": "failed"}
        ),
        "list, running (none)": lambda: client.get("/jobs/table", params={"status": "running"}),
        "list, today": lambda: client.get("/jobs/table", params={"from": day, "to": day}),
        "list, a month ago": lambda: client.get(
            "/jobs/table", params={"from": month_ago, "to": month_ago}
        ),
        "list, page 100": lambda: client.get("/jobs/table", params={"before": some_id}),
        "drawer": lambda: client.get(f"/jobs/{some_id}/drawer"),
    }
    for period in ("1h", "24h", "7d", "30d"):
        calls[f"stats {period}"] = lambda p=period: client.get("/jobs/stats", params={"period": p})
    for period in ("24h", "30d"):  # the same numbers, latency percentiles included, as JSON
        calls[f"api stats {period}"] = lambda p=period: client.get(
            "/api/stats", params={"period": p}
        )
    group = f"{1:016x}"  # seeded with 1,000 failed jobs
    calls["page /failures"] = lambda: client.get("/failures")
    for period in ("1h", "24h", "7d", "30d"):
        calls[f"failures {period}"] = lambda p=period: client.get(
            "/failures/groups", params={"period": p}
        )
    calls["api /errors 24h"] = lambda: client.get("/api/errors")
    calls["list, error group"] = lambda: client.get("/jobs/table", params={"group": group})
    calls["retry-all count"] = lambda: client.get(f"/failures/{group}/retry")
    calls["/metrics (histograms, error groups)"] = lambda: client.get("/metrics")
    calls.update(fleet_requests(client))
    calls.update(search_requests(client, some_id))
    return calls


# One job near the start of the history (far outside the scan's window of the newest 20,000)
# gets an error no other job has: the search that only the index can answer.
OLD_JOB_ID = 5_000
OLD_JOB_ERROR = "LedgerError: account 7781 is locked"


def mark_an_old_job(deck: JobDeck) -> None:
    deck.store.get_job(OLD_JOB_ID)  # the store is open, the seed written
    if deck.store.dialect == "sqlite":
        import sqlite3

        with sqlite3.connect(deck.database_url.removeprefix("sqlite:///")) as conn:
            conn.execute("UPDATE jobs SET error = ? WHERE id = ?", (OLD_JOB_ERROR, OLD_JOB_ID))
        return
    import psycopg

    with psycopg.connect(deck.database_url, autocommit=True) as conn:
        conn.execute("UPDATE jobs SET error = %s WHERE id = %s", (OLD_JOB_ERROR, OLD_JOB_ID))


def catch_up_search_index(deck: JobDeck, while_draining: bool) -> None:
    """What a worker's SearchIndexer does after an upgrade over a long history: index every
    finished job (in its batches, resting between them on SQLite), timed; with
    ``while_draining``, also the rate a worker's claims and completions keep meanwhile."""
    indexer = SearchIndexer(deck.store)
    if not while_draining:
        started = time.perf_counter()
        indexer.run_once()
        took = time.perf_counter() - started
    else:
        import threading

        # The drain's rate alone, then for 10 s of the catch-up (its backlog would not last
        # the whole catch-up), then the catch-up's own time.
        drain = Drain(deck)
        before = drain.rate_alone()
        catching_up = threading.Thread(target=indexer.run_once)
        started = time.perf_counter()
        catching_up.start()
        during = drain.rate_alone(10.0)
        drain.finish()
        catching_up.join()
        took = time.perf_counter() - started
        print(f"  drain rate: {before:,.0f} jobs/s alone, {during:,.0f} during the catch-up")
    rate = indexer.indexed / took if took else 0.0
    print(f"  search index caught up: {indexer.indexed:,} jobs in {took:.0f} s ({rate:,.0f}/s)")
    if deck.store.dialect == "postgres":
        # What autovacuum does within a minute of a million new rows: without statistics the
        # planner takes every LIKE for a rare one (a text every job holds took 2.5 s).
        import psycopg

        with psycopg.connect(deck.database_url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE job_search")


def search_requests(client: TestClient, some_id: int) -> dict[str, Callable[[], object]]:
    """The search box and the counts header (issue 17, items 1 and 8). The worst search is
    one that matches nothing: it reads the whole window of the newest jobs."""

    def table(q: str, **more: str) -> Callable[[], object]:
        return lambda: client.get("/jobs/table", params={"q": q, **more})

    return {
        "search, no match": table("nowhere-at-all"),
        "search, only an old job": table(OLD_JOB_ERROR.lower()),
        "search, every job matches": table("user_id"),
        "search, 2 characters": table("zq"),
        "search, a word's middle": table("lueerr"),
        "search, error text": table("boom"),
        "search, text + failed": table("boom", status="failed"),
        "search, args.n term": table(f"args.n:{some_id}"),
        "search, label term": table("label.user_id:5"),
        "search, a job id": table(str(some_id)),
        "api search, no match": lambda: client.get("/api/jobs", params={"q": "nowhere"}),
        "api counts": lambda: client.get("/api/jobs/counts"),
        "api counts, search": lambda: client.get("/api/jobs/counts", params={"q": "boom"}),
        "api counts, old job": lambda: client.get("/api/jobs/counts", params={"q": OLD_JOB_ERROR}),
        "api counts, task": lambda: client.get("/api/jobs/counts", params={"task": "document"}),
    }


DRAIN_BACKLOG = 60_000


class Drain:
    """A loop that claims and completes a backlog of its own 100 at a time, the way a worker
    does, on a thread: what the rates before and during some other work are measured with."""

    def __init__(self, deck: JobDeck) -> None:
        import threading

        self.deck, self.store = deck, deck.store
        self.drained = 0
        self.stop = threading.Event()
        # Its own queue, big enough to last: the rates before and during drain the same work,
        # and jobs the other work makes runnable (in "default") do not feed it.
        backlog = [NewJob("drain_me", queue="bench-drain") for _ in range(DRAIN_BACKLOG)]
        for start in range(0, len(backlog), 1000):
            self.store.insert_jobs(backlog[start : start + 1000])
        self.store.register_worker(
            WorkerInfo("bench-drain", "bench", 1, ("bench-drain",), 100, *[deck.clock.now()] * 2)
        )
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        from jobdeck.states import AttemptStatus, JobState
        from jobdeck.store.base import Outcome

        while not self.stop.is_set():
            request = ClaimRequest("bench-drain", ("bench-drain",), 100, 600)
            claimed = self.store.claim_jobs(request)
            now = self.deck.clock.now()
            outcomes = [
                Outcome(
                    c.id,
                    c.attempt,
                    c.task,
                    AttemptStatus.SUCCEEDED,
                    JobState.SUCCEEDED,
                    c.started_at,
                    now,
                )
                for c in claimed
            ]
            if outcomes:
                self.store.complete_jobs("bench-drain", outcomes, shard=1)
            self.drained += len(outcomes)

    def rate_alone(self, seconds: float = 3.0) -> float:
        mark = self.drained
        time.sleep(seconds)
        return (self.drained - mark) / seconds

    def rate_during(self, work: Callable[[], object]) -> tuple[float, float]:
        """(the drain rate while ``work`` runs, the seconds it took)."""
        mark, started = self.drained, time.perf_counter()
        work()
        took = time.perf_counter() - started
        return (self.drained - mark) / took, took

    def finish(self) -> None:
        self.stop.set()
        self.thread.join()
        if self.drained >= DRAIN_BACKLOG:
            print("warning: the drain backlog ran out; its rates are lower bounds")


def bench_bulk_retry(deck: JobDeck, jobs: int) -> None:
    """Retry 100,000 failed jobs in batches while a drain loop claims and completes the
    backlog the way workers do: report the bulk's time and the drain rate before and during."""
    from jobdeck import control

    _fail_every_tenth(deck)
    drain = Drain(deck)
    before = drain.rate_alone()
    query = control.JobQuery(status="failed")
    count = control.bulk_count(deck.store, "retry", query)
    done = [0]

    def retry() -> None:
        done[0] = control.bulk_act(deck.store, deck.clock, "retry", query, control.cli_actor())

    during, took = drain.rate_during(retry)
    drain.finish()
    print(
        f"\nbulk retry of {done[0]:,} jobs (counted {count:,} first): {took:.1f} s (target < 30 s)"
    )
    print(f"drain rate: {before:,.0f} jobs/s before, {during:,.0f} jobs/s during the bulk retry")


def bench_bulk_retry_by_text(deck: JobDeck, text: str) -> None:
    """The same 100,000 jobs failed again, retried by a search every job matches (the text
    index serves it): the bulk pages the matches and acts on their ids, not on the search."""
    from jobdeck import control

    with deck.store.transaction() as conn:
        # Back to failed as they were, finished when they ran: within the index's mark again.
        conn.execute(
            "UPDATE jobs SET state = 'failed', finished_at = started_at"
            " WHERE id % 10 = 0 AND state = 'available' AND started_at IS NOT NULL"
        )
    query = control.JobQuery(status="failed", search=text)
    started = time.perf_counter()
    count = control.bulk_count(deck.store, "retry", query)
    counted = time.perf_counter() - started
    started = time.perf_counter()
    done = control.bulk_act(deck.store, deck.clock, "retry", query, control.cli_actor())
    took = time.perf_counter() - started
    print(
        f"bulk retry of {done:,} jobs matching {text!r} (counted {count:,} in {counted:.1f} s): "
        f"{took:.1f} s (target < 30 s)"
    )


def _fail_every_tenth(deck: JobDeck) -> None:
    """100,000 failed jobs at a million, for the bulk retry (the seed fails one in fifty)."""
    sql = "UPDATE jobs SET state = 'failed' WHERE id % 10 = 0 AND state = 'succeeded'"
    with deck.store.transaction() as conn:
        conn.execute(sql)


def fleet_requests(client: TestClient) -> dict[str, Callable[[], object]]:
    """The Queues and Workers pages, over the backlog and workers ``seed_fleet`` adds."""
    return {
        "page /queues": lambda: client.get("/queues"),
        "queues table 30d": lambda: client.get("/queues/table", params={"period": "30d"}),
        "page /workers": lambda: client.get("/workers"),
        "workers table": lambda: client.get("/workers/table"),
    }


def seed_fleet(deck: JobDeck, pending: int = 20_000, workers: int = 20) -> None:
    """A backlog beside the history (pending, scheduled and running jobs in three queues) and
    ``workers`` heartbeating workers, each running some of it: the Queues page counts the
    backlog and the Workers page lists what each worker runs."""
    now = deck.clock.now()
    queues = ("default", "mail", "reports")
    later = now + timedelta(hours=1)
    jobs = [
        NewJob(TASKS[i % 5], queue=queues[i % 3], run_at=later if i % 4 == 0 else None)
        for i in range(pending)
    ]
    for start in range(0, len(jobs), 1000):
        deck.store.insert_jobs(jobs[start : start + 1000])
    for n in range(workers):
        worker_id = f"bench-host-{n % 4}:{1000 + n}:w{n}"
        info = WorkerInfo(worker_id, f"bench-host-{n % 4}", 1000 + n, queues, 10, now, now)
        deck.store.register_worker(info)
        deck.store.claim_jobs(ClaimRequest(worker_id, queues, 10, 3600))


def measure(call: Callable[[], object], repeats: int) -> tuple[float, float]:
    call()  # warm caches the way a real dashboard is warm
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        response = call()
        times.append((time.perf_counter() - started) * 1000)
        assert getattr(response, "status_code", 200) == 200, response
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dialect", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--only", default="", help="Time only requests whose name has this.")
    parser.add_argument("--bulk", action="store_true", help="Also time a bulk retry of 100k.")
    parser.add_argument(
        "--indexer", action="store_true", help="Drain a queue while the search index catches up."
    )
    args = parser.parse_args()
    url, cleanup = _database(args.dialect)
    try:
        deck = JobDeck(url)
        deck.migrate()
        print(f"seeding {args.jobs:,} jobs and {3 * args.jobs:,} attempts on {args.dialect}...")
        print(f"  seeded in {seed(deck, args.jobs):.0f} s")
        seed_fleet(deck)
        mark_an_old_job(deck)
        catch_up_search_index(deck, args.indexer)
        # The worker's pruner folds rollups older than 25 h into hours every hour (and the
        # error groups' older than 1 h and 6 h into 5 and 15 minutes).
        cutoff = deck.clock.now() - timedelta(hours=25)
        deck.store.compact_stats(cutoff.replace(minute=0, second=0, microsecond=0))
        Pruner(deck.store, deck.clock, deck.settings).compact_error_groups(deck.clock.now())
        _settle_rollups(deck)
        client = TestClient(deck.asgi(authorize=local_operator))
        some_id = args.jobs - 100 * 50
        print(f"\n{'request':<24}{'p50 ms':>10}{'p95 ms':>10}")
        worst = 0.0
        for name, call in requests(client, some_id).items():
            if args.only not in name:
                continue
            p50, p95 = measure(call, args.repeats)
            worst = max(worst, p95)
            print(f"{name:<24}{p50:>10.1f}{p95:>10.1f}")
        print(f"\nworst p95: {worst:.1f} ms (target < 100 ms)")
        if args.bulk:
            bench_bulk_retry(deck, args.jobs)
            bench_bulk_retry_by_text(deck, "user_id")
        deck.close()
    finally:
        cleanup()


def _settle_rollups(deck: JobDeck) -> None:
    """What autovacuum does after the pruner's hourly compaction: the seed wrote 30 days of
    rows at once and the folds deleted most of them, which a running deck never holds at one
    time. On PostgreSQL the stats are vacuumed, and the error-group rollup is rewritten to its
    steady-state size rather than timed as a table nine tenths dead."""
    if deck.store.dialect != "postgres":
        return
    import psycopg

    with psycopg.connect(deck.database_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE stats_minute, stats_latency")
        conn.execute("VACUUM FULL ANALYZE error_group_minute")


def _database(dialect: str) -> tuple[str, Callable[[], None]]:
    if dialect == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="jd-dash-"))
        # ~1 GB at a million jobs: gone when the run ends, as PostgreSQL's database is.
        return f"sqlite:///{folder / 'dash.db'}", lambda: shutil.rmtree(folder, ignore_errors=True)
    import psycopg

    name = f"jd_dash_{uuid.uuid4().hex[:8]}"
    admin = "postgresql://postgres@127.0.0.1:5432/test"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"postgresql://postgres@127.0.0.1:5432/{name}", drop


if __name__ == "__main__":
    main()
