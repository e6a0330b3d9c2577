"""How drain throughput scales with worker processes, and whether a big history slows it down.

    .venv/bin/python bench/scaling.py                  # 20,000 jobs, 1M history, median of 3
    .venv/bin/python bench/scaling.py --quick          # 5,000 jobs, 100k history, 1 repeat
    .venv/bin/python bench/scaling.py --dialect sqlite

Every case runs on a fresh, migrated database: queue ``--jobs`` no-op jobs with
``enqueue_many``, start K worker processes at once (``python -m jobdeck worker``) and wait
until nothing is unfinished. jobs/s spans the first attempt's start to the last attempt's
finish of the queued jobs (store timestamps); wall time runs from spawning the processes.
The history case first inserts ``--history`` succeeded jobs (with their attempts) spread over
the past days in server-side SQL, indexes them for search (as a running deck's indexer has),
vacuums and analyzes, then drains with one process. On
PostgreSQL the claim query is also run under EXPLAIN ANALYZE (rolled back) before each
one-process drain, so its plan and time can be compared with and without history.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repo root importable for bench.*
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bench.app import NOOP_TASK
from bench.common import describe_machine, number
from bench.hosts import CannotMakeHosts, LinkedHost, linked_hosts, postgres_cpu_seconds
from bench.targets import (
    DEFAULT_PG_ADMIN_URL,
    PostgresTarget,
    SQLiteTarget,
    Target,
    postgres_unavailable,
)
from bench.workloads import (
    REPO_ROOT,
    BenchError,
    Config,
    WorkerProcess,
    cpu_reference,
    queue_noop_jobs,
    wait_until,
)
from jobdeck.store import open_store
from jobdeck.store.queries import load_queries
from jobdeck.worker.upkeep import SearchIndexer

RESULTS = REPO_ROOT / "bench" / "results"
HISTORY_DAYS = 7  # well inside the default 30-day retention: the pruner must not touch it
HISTORY_WORKER = "bench-history"
console = Console(stderr=True)


@dataclass(frozen=True)
class Case:
    key: str
    processes: int
    history: int  # finished jobs already in the table
    hosts: int = 0  # >0: one worker process on each of this many namespace hosts

    @property
    def label(self) -> str:
        if self.hosts:
            return f"drain, {self.hosts} hosts, 1 process each"
        plural = "process" if self.processes == 1 else "processes"
        text = f"drain, {self.processes} {plural}"
        return f"{text}, {self.history:,} jobs of history" if self.history else text


@dataclass(frozen=True)
class Options:
    config: Config
    history: int
    repeats: int
    processes: tuple[int, ...]
    explain: bool
    hosts: tuple[int, ...] = ()

    def cases(self) -> list[Case]:
        cases = [Case(f"drain_{k}p", k, 0) for k in self.processes]
        cases += [Case(f"drain_{h}h", h, 0, hosts=h) for h in self.hosts]
        if self.history:
            cases.append(Case("history_1p", 1, self.history))
        return cases


# -- raw SQL on one bench database ---------------------------------------------------------------


class SqlSession:
    """An autocommit connection to one bench database; params are named (``%(n)s`` / ``:n``)."""

    def __init__(self, dialect: str, url: str) -> None:
        self.dialect = dialect
        self.conn: Any
        if dialect == "postgres":
            import psycopg

            self.conn = psycopg.connect(url, autocommit=True)
        else:
            path = url.split("?", 1)[0].removeprefix("sqlite:///")
            self.conn = sqlite3.connect(path, timeout=30, isolation_level=None)

    def rows(self, sql: str, params: dict[str, Any] | None = None) -> list[Any]:
        cursor = self.conn.execute(sql, params or {})
        return list(cursor.fetchall()) if cursor.description else []

    def close(self) -> None:
        self.conn.close()


def _seconds(value: Any) -> float:
    """A store timestamp (datetime from psycopg, UTC text from SQLite) as epoch seconds."""
    if not isinstance(value, datetime):
        value = datetime.fromisoformat(str(value))
    moment: datetime = value if value.tzinfo else value.replace(tzinfo=UTC)
    return moment.timestamp()


# -- history -------------------------------------------------------------------------------------

_HISTORY_COLUMNS = (
    "task, queue, args, labels, priority, state, attempt, max_attempts, "
    "enqueued_at, run_at, started_at, finished_at, duration_ms, worker_id"
)
# Job g finishes (n - g) / n of the span ago, so ids grow with time as they would live.
_PG_HISTORY_JOBS = f"""
INSERT INTO jobs ({_HISTORY_COLUMNS})
SELECT %(task)s, 'default', '{{}}', '{{}}', 0, 'succeeded', 1, 3,
       f - interval '3 ms', f - interval '3 ms', f - interval '2 ms', f, 2, %(worker)s
FROM (
    SELECT now() - make_interval(secs => (%(n)s - g) * %(span)s::float8 / %(n)s) AS f
    FROM generate_series(1, %(n)s) AS g
) AS t
"""
_SQLITE_AGO = "strftime('%Y-%m-%d %H:%M:%f', 'now', printf('-%.3f seconds', s + {extra})) || '000'"
_SQLITE_HISTORY_JOBS = f"""
WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < :n)
INSERT INTO jobs ({_HISTORY_COLUMNS})
SELECT :task, 'default', '{{}}', '{{}}', 0, 'succeeded', 1, 3,
       {_SQLITE_AGO.format(extra="0.003")}, {_SQLITE_AGO.format(extra="0.003")},
       {_SQLITE_AGO.format(extra="0.002")}, {_SQLITE_AGO.format(extra="0")}, 2, :worker
FROM (SELECT (:n - i) * CAST(:span AS REAL) / :n AS s FROM g)
"""
_HISTORY_ATTEMPTS = """
INSERT INTO attempts (job_id, attempt, status, worker_id, started_at, finished_at, duration_ms)
SELECT id, 1, 'succeeded', worker_id, started_at, finished_at, duration_ms FROM jobs
"""
_PG_SESSIONS = """
SELECT state, wait_event_type, wait_event, now() - state_change, left(query, 100)
FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
"""
_MAX_JOB_ID = "SELECT COALESCE(MAX(id), 0) FROM jobs"


def insert_history(session: SqlSession, count: int) -> float:
    """``count`` succeeded jobs and their attempts, in two statements; returns the seconds."""
    sql = _PG_HISTORY_JOBS if session.dialect == "postgres" else _SQLITE_HISTORY_JOBS
    params = {"task": NOOP_TASK, "worker": HISTORY_WORKER, "n": count, "span": HISTORY_DAYS * 86400}
    started = time.perf_counter()
    if session.dialect == "sqlite":
        session.rows("BEGIN")
    session.rows(sql, params)
    session.rows(_HISTORY_ATTEMPTS)
    if session.dialect == "sqlite":
        session.rows("COMMIT")
    return time.perf_counter() - started


def index_history(url: str) -> float:
    """What a long-running deck's SearchIndexer has done already: every finished job in the
    search index. Left to the worker, its catch-up of the million jobs (about a minute at
    19k jobs/s on PostgreSQL) ran inside the drain and took 0.3 of its rate; returns the
    seconds. The store verb itself, not SearchIndexer.run_once: that rests between SQLite
    batches for the workers' sake and logs a failure instead of raising it."""
    store = open_store(url)
    started = time.perf_counter()
    try:
        while store.index_search(SearchIndexer.BATCH):
            pass
    finally:
        store.close()
    return time.perf_counter() - started


def settle_history(session: SqlSession) -> float:
    """Vacuum and analyze as a long-lived table would be, and checkpoint the new pages away,
    so neither autovacuum nor a checkpoint lands inside the drain; returns the seconds."""
    started = time.perf_counter()
    if session.dialect == "postgres":
        session.rows("VACUUM (ANALYZE) jobs")
        session.rows("VACUUM (ANALYZE) attempts")
        session.rows("VACUUM (ANALYZE) job_search")
        session.rows("CHECKPOINT")
    else:
        session.rows("ANALYZE")
        session.rows("PRAGMA wal_checkpoint(TRUNCATE)")
    return time.perf_counter() - started


def add_history(dialect: str, url: str, count: int) -> dict[str, float]:
    session = SqlSession(dialect, url)
    try:
        insert_s = insert_history(session, count)
        index_s = index_history(url)
        settle_s = settle_history(session)
        found = session.rows("SELECT COUNT(*) FROM jobs")[0][0]  # the database was empty
    finally:
        session.close()
    if found != count:
        raise BenchError(f"expected {count} history jobs, found {found}")
    return {"history_insert_s": insert_s, "history_index_s": index_s, "history_settle_s": settle_s}


# -- the claim query under EXPLAIN ANALYZE (PostgreSQL) ------------------------------------------


def _plan_nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _plan_nodes(child)


def explain_claim(url: str, limit: int, tries: int = 3) -> dict[str, Any]:
    """``claim_jobs`` as the worker runs it, rolled back each time; the fastest of ``tries``."""
    import psycopg

    sql = "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)\n" + load_queries("postgres")["claim_jobs"]
    params = {
        "worker_id": "bench-explain",
        "queues": ["default"],
        "now": None,  # the database's clock, as for a worker on the real clock
        "lease_seconds": 60.0,
        "limit": limit,
        "labels": False,  # as a worker claims without tracing
    }
    plans: list[dict[str, Any]] = []
    with psycopg.connect(url, options="-c jit=off") as conn:
        for _ in range(tries):
            row = conn.execute(sql, params).fetchone()
            conn.rollback()
            assert row is not None
            plans.append(row[0][0])
    best = min(plans, key=lambda p: float(p["Execution Time"]))
    return summarize_plan(best)


def _scan_name(node: dict[str, Any]) -> str:
    index = f" {node['Index Name']}" if "Index Name" in node else ""
    return f"{node['Node Type']}{index} on {node['Relation Name']}"


def summarize_plan(plan: dict[str, Any]) -> dict[str, Any]:
    nodes = _plan_nodes(plan["Plan"])
    scans = sorted({_scan_name(n) for n in nodes if "Relation Name" in n})
    top = plan["Plan"]
    return {
        "claim_ms": float(plan["Execution Time"]),
        "claim_planning_ms": float(plan["Planning Time"]),
        "claim_buffers": int(top.get("Shared Hit Blocks", 0))
        + int(top.get("Shared Read Blocks", 0)),
        "claim_scans": "; ".join(scans),
    }


# -- one drain -----------------------------------------------------------------------------------


def drain_span(dialect: str, url: str, after_id: int) -> dict[str, float]:
    """First start, last finish and worker count among the attempts of jobs after ``after_id``."""
    session = SqlSession(dialect, url)
    try:
        rows = session.rows(
            "SELECT MIN(started_at), MAX(finished_at), COUNT(DISTINCT worker_id) FROM attempts "
            f"WHERE job_id > {int(after_id)}"
        )
    finally:
        session.close()
    first, last, workers = rows[0]
    if first is None or last is None:
        raise BenchError("no attempts recorded for the queued jobs")
    return {"span_s": _seconds(last) - _seconds(first), "workers_used": int(workers)}


def max_job_id(dialect: str, url: str) -> int:
    session = SqlSession(dialect, url)
    try:
        return int(session.rows(_MAX_JOB_ID)[0][0])
    finally:
        session.close()


def stop_workers(workers: Sequence[WorkerProcess], timeout: float) -> list[int]:
    """SIGTERM each once, all first, so they drain and exit side by side (a second SIGTERM means
    "stop at once"); one still running after ``timeout`` gets that, then SIGKILL 5 s later."""
    for worker in workers:
        if worker.proc.poll() is None:
            worker.proc.terminate()
    deadline = time.monotonic() + timeout
    for worker in workers:
        with contextlib.suppress(subprocess.TimeoutExpired):
            worker.proc.wait(max(deadline - time.monotonic(), 0.1))
    return [worker.stop(timeout=5) for worker in workers]


def wait_for(
    what: str, condition: Callable[[], bool], workers: Sequence[WorkerProcess], config: Config
) -> None:
    """Poll ``condition`` until it holds; fail at once when any worker has exited."""

    def check() -> bool:
        for worker in workers[1:]:  # wait_until itself watches the first one
            worker.check_alive()
        return condition()

    wait_until(what, check, config.drain_timeout, config.poll, workers[0])


def handles_sigterm(worker: WorkerProcess) -> bool:
    """Whether the worker has installed its SIGTERM handler (``SigCgt`` in /proc): it does so
    only after registering, and SIGTERM before that kills it instead of stopping it."""
    try:
        status = Path(f"/proc/{worker.pid}/status").read_text()
    except OSError:
        return True  # gone, or no /proc: stop() will tell
    for line in status.splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (signal.SIGTERM - 1) & 1)
    return True


def check_succeeded(target: Target, url: str, expected: int) -> None:
    probe = target.probe(url)
    try:
        found = probe.count_state("succeeded")
    finally:
        probe.close()
    if found != expected:
        raise BenchError(f"expected {expected} succeeded jobs, found {found}")


def stall_report(dialect: str, url: str) -> str:
    """What the database looks like while a drain is stuck: job states, workers, sessions."""
    session = SqlSession(dialect, url)
    try:
        states = session.rows("SELECT state, COUNT(*) FROM jobs GROUP BY state ORDER BY state")
        workers = session.rows("SELECT id, state, last_heartbeat FROM workers")
        lines = [f"jobs by state: {dict(states)}", f"workers: {workers}"]
        if dialect == "postgres":
            sessions = session.rows(_PG_SESSIONS)
            lines += [f"session: {row}" for row in sessions]
    finally:
        session.close()
    return "\n".join(lines)


def run_workers(
    target: Target, url: str, config: Config, processes: int, on: Sequence[LinkedHost] = ()
) -> dict[str, float]:
    """Start ``processes`` workers at once (one on each of ``on``, when given), wait for the
    drain, stop them; wall time, their CPU and, on PostgreSQL, the server's."""
    workers: list[WorkerProcess] = []
    server = target.dialect == "postgres"
    try:
        database = url.rsplit("/", 1)[-1]
        server_cpu = postgres_cpu_seconds(database) if server else 0.0
        spawned = time.perf_counter()
        if on:
            workers = [WorkerProcess(h.url_for(url), config, wrap=h.wrap) for h in on]
        else:
            workers = [WorkerProcess(url, config) for _ in range(processes)]
        probe = target.probe(url)
        try:
            wait_for("the drain", lambda: not probe.has_unfinished(), workers, config)
        except BenchError as exc:
            raise BenchError(f"{exc}\n{stall_report(target.dialect, url)}") from exc
        finally:
            probe.close()
        wall = time.perf_counter() - spawned
        server_cpu = postgres_cpu_seconds(database) - server_cpu if server else 0.0
        cpu = sum(worker.cpu_seconds() for worker in workers)
        # A short drain can end while a worker is still starting up.
        wait_for("SIGTERM handlers", lambda: all(map(handles_sigterm, workers)), workers, config)
        codes = stop_workers(workers, timeout=30)
        workers = []
    finally:
        stop_workers(workers, timeout=5)
    if any(codes):
        raise BenchError(f"worker exit codes after SIGTERM: {codes}")
    figures = {"wall_s": wall, "worker_cpu_s": cpu, "worker_cores": cpu / wall}
    if server:
        figures["db_cores"] = server_cpu / wall
    return figures


def drain_case(target: Target, options: Options, case: Case) -> dict[str, Any]:
    config = options.config
    url = target.fresh()
    try:
        figures: dict[str, Any] = (
            add_history(target.dialect, url, case.history) if case.history else {}
        )
        after_id = max_job_id(target.dialect, url)
        queue_noop_jobs(url, config.jobs, config.chunk)
        if options.explain and target.dialect == "postgres" and case.processes == 1:
            figures.update(explain_claim(url, limit=min(100, config.concurrency)))
        if case.hosts:
            try:
                with linked_hosts(case.hosts) as on:
                    figures.update(run_workers(target, url, config, case.processes, on))
            except CannotMakeHosts as exc:
                raise BenchError(f"cannot make the hosts: {exc}") from exc
        else:
            figures.update(run_workers(target, url, config, case.processes))
        check_succeeded(target, url, case.history + config.jobs)
        figures.update(drain_span(target.dialect, url, after_id))
    finally:
        target.discard(url)
    return {"jobs_per_s": config.jobs / figures["span_s"], **figures}


# -- the run -------------------------------------------------------------------------------------


def open_targets(dialect: str, admin_url: str) -> list[Target]:
    targets: list[Target] = []
    if dialect in ("postgres", "both"):
        reason = postgres_unavailable(admin_url)
        if reason is not None:
            raise SystemExit(f"PostgreSQL benchmarks cannot run: {reason}")
        targets.append(PostgresTarget(admin_url))
    if dialect in ("sqlite", "both"):
        targets.append(SQLiteTarget())
    return targets


def brief(figures: dict[str, Any]) -> str:
    shown = ("jobs_per_s", "wall_s", "worker_cores", "claim_ms", "history_insert_s")
    return ", ".join(f"{k}={figures[k]:,.4g}" for k in shown if k in figures)


def run_case(
    target: Target, options: Options, case: Case, note: str, errors: list[str]
) -> dict[str, Any] | None:
    console.print(f"{note} {target.label:<10} {case.label} ...", end="", soft_wrap=True)
    try:
        figures = drain_case(target, options, case)
    except BenchError as exc:
        errors.append(f"{target.label} {case.label}, {Text.from_markup(note).plain.strip()}: {exc}")
        console.print(f" [red]failed: {str(exc).splitlines()[0]}[/]", soft_wrap=True)
        return None
    console.print(" " + brief(figures), soft_wrap=True, highlight=False)
    return figures


def run_all(
    options: Options, targets: list[Target]
) -> tuple[dict[str, Any], list[float], list[str]]:
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {
        t.dialect: {case.key: [] for case in options.cases()} for t in targets
    }
    cpu_ms: list[float] = []
    errors: list[str] = []
    started = time.perf_counter()
    for repeat in range(1, options.repeats + 1):
        cpu_ms.append(cpu_reference())
        for target in targets:
            for case in options.cases():
                elapsed = time.perf_counter() - started
                note = f"[dim]{elapsed:6.1f}s[/] repeat {repeat}/{options.repeats}"
                figures = run_case(target, options, case, note, errors)
                if figures is not None:
                    runs[target.dialect][case.key].append(figures)
    return runs, cpu_ms, errors


def medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    if not runs:
        return {}
    numeric = [k for k, v in runs[0].items() if isinstance(v, int | float)]
    return {k: statistics.median(r[k] for r in runs) for k in numeric}


def summarize(options: Options, runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Medians per case, speed-up over one process, and history over empty."""
    summary: dict[str, Any] = {key: medians(case_runs) for key, case_runs in runs.items()}
    base = summary.get("drain_1p", {}).get("jobs_per_s")
    for case in options.cases():
        rate = summary[case.key].get("jobs_per_s")
        if base and rate:
            summary[case.key]["vs_1p_empty"] = rate / base
    return summary


def run(options: Options, dialect: str, admin_url: str) -> dict[str, Any]:
    load_before = os.getloadavg()
    started = time.perf_counter()
    targets = open_targets(dialect, admin_url)
    try:
        runs, cpu_ms, errors = run_all(options, targets)
        described = {t.dialect: t.describe() for t in targets}
    finally:
        for target in targets:
            target.close()
    return {
        "kind": "jobdeck-scaling",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "elapsed_s": round(time.perf_counter() - started, 1),
        "machine": describe_machine(load_before),
        "cpu_reference_ms": statistics.median(cpu_ms),
        "cpu_reference_runs_ms": cpu_ms,
        "config": {
            "jobs": options.config.jobs,
            "chunk": options.config.chunk,
            "concurrency": options.config.concurrency,
            "drain_timeout": options.config.drain_timeout,
            "history": options.history,
            "history_days": HISTORY_DAYS,
            "repeats": options.repeats,
            "processes": list(options.processes),
        },
        "cases": {
            c.key: {"label": c.label, "processes": c.processes, "history": c.history}
            for c in options.cases()
        },
        "targets": described,
        "errors": errors,
        "median": {d: summarize(options, by_case) for d, by_case in runs.items()},
        "runs": runs,
    }


# -- output --------------------------------------------------------------------------------------


def spread(runs: list[dict[str, Any]], key: str, median: float | None) -> str:
    if median is None:
        return "-"
    values = [r[key] for r in runs if key in r]
    if len(values) < 2:
        return number(median)
    return f"{number(median)} ({number(min(values))}-{number(max(values))})"


def whole_range(runs: list[dict[str, Any]], key: str) -> str:
    values = sorted({int(r[key]) for r in runs if key in r})
    return "-".join(str(v) for v in values[:: max(len(values) - 1, 1)]) or "-"


def render(result: dict[str, Any], dialect: str) -> Table:
    label = {"postgres": "PostgreSQL", "sqlite": "SQLite"}.get(dialect, dialect)
    table = Table(title=f"jobdeck drain scaling, {label}, {result['date'][:10]}")
    columns = (
        "case",
        "jobs/s",
        "wall s",
        "vs 1 process",
        "workers used",
        "worker CPU",
        "database CPU",
        "claim ms",
    )
    for name in columns:
        table.add_column(name, justify="left" if name == "case" else "right")
    for key, case in result["cases"].items():
        runs = result["runs"][dialect][key]
        median = result["median"][dialect][key]
        ratio = median.get("vs_1p_empty")
        table.add_row(
            case["label"],
            spread(runs, "jobs_per_s", median.get("jobs_per_s")),
            spread(runs, "wall_s", median.get("wall_s")),
            f"{ratio:.2f}x" if ratio else "-",
            whole_range(runs, "workers_used"),
            spread(runs, "worker_cores", median.get("worker_cores")),
            spread(runs, "db_cores", median.get("db_cores")),
            spread(runs, "claim_ms", median.get("claim_ms")),
        )
    return table


def notes(result: dict[str, Any], dialect: str) -> list[str]:
    config, machine = result["config"], result["machine"]
    spread_note = f"median of {config['repeats']} (min-max)" if config["repeats"] > 1 else "1 run"
    lines = [
        f"{config['jobs']:,} no-op jobs per case, {spread_note}, each case on a fresh database; "
        f"each worker process: concurrency={config['concurrency']}.",
        "jobs/s: first attempt start to last attempt finish of the queued jobs; "
        "wall: spawning the processes to nothing unfinished; workers used: processes that ran "
        "any of the jobs; worker CPU: their CPU seconds per wall second, summed; database CPU: "
        "the bench database's backends and the server's background processes, per wall "
        f"second (both in cores, of the machine's {machine['cores']}).",
    ]
    history_runs = result["runs"][dialect].get("history_1p", [])
    if history_runs:
        insert = statistics.median(r["history_insert_s"] for r in history_runs)
        settle = statistics.median(r["history_settle_s"] for r in history_runs)
        index = statistics.median(r.get("history_index_s", 0.0) for r in history_runs)
        lines.append(
            f"history: {config['history']:,} succeeded jobs + attempts over "
            f"{config['history_days']} days, inserted in {insert:.1f} s, search-indexed in "
            f"{index:.1f} s (before the drain, as a running deck's indexer has), "
            f"vacuum/analyze/checkpoint {settle:.1f} s."
        )
    for key in result["cases"]:
        for run in result["runs"][dialect][key][:1]:
            if "claim_scans" in run:
                lines.append(f"claim plan ({key}): {run['claim_scans']}")
    lines.append(
        f"machine: {machine['cores']} cores ({machine['cpu']}); CPU reference loop "
        f"{result['cpu_reference_ms']:.0f} ms; load average {machine['loadavg_before'][0]:.2f} "
        f"before, {machine['loadavg_after'][0]:.2f} after; run took {result['elapsed_s']:.0f} s."
    )
    return lines


def write_json(result: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    console.print(f"wrote {path}")


def print_result(result: dict[str, Any]) -> None:
    out = Console()
    if not out.is_terminal:  # piped or captured: do not wrap the table at 80 columns
        out = Console(width=140)
    for dialect in result["runs"]:
        out.print(render(result, dialect))
        for line in notes(result, dialect):
            out.print(f"  {line}", highlight=False, soft_wrap=True)
    for error in result["errors"]:
        out.print(f"[red]  error: {error.splitlines()[0]}[/]", highlight=False, soft_wrap=True)


# -- command line --------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5,000 jobs, 100k history, 1 repeat")
    parser.add_argument("--dialect", choices=("postgres", "sqlite", "both"), default="postgres")
    parser.add_argument("--jobs", type=int, default=None, help="jobs per drain (20,000)")
    parser.add_argument("--history", type=int, default=None, help="finished jobs (1,000,000)")
    parser.add_argument("--repeats", type=int, default=None, help="repeats per case (3)")
    parser.add_argument("--processes", default="1,2,4", help="worker process counts (1,2,4)")
    parser.add_argument(
        "--hosts",
        default="2,3",
        help="host counts, one worker process on each network-namespace host, PostgreSQL only "
        "(2,3; empty: none). Needs root, iproute2 and socat",
    )
    parser.add_argument("--concurrency", type=int, default=Config.concurrency)
    parser.add_argument("--chunk", type=int, default=1_000, help="jobs per enqueue_many call")
    parser.add_argument("--drain-timeout", type=float, default=Config.drain_timeout)
    parser.add_argument("--no-explain", action="store_true", help="skip EXPLAIN of claim_jobs")
    parser.add_argument(
        "--pg-admin-url",
        default=os.environ.get("JOBDECK_BENCH_PG", DEFAULT_PG_ADMIN_URL),
        help="a PostgreSQL URL allowed to CREATE/DROP DATABASE",
    )
    parser.add_argument("--output", type=Path, default=None, help="JSON path")
    parser.add_argument("--no-json", action="store_true", help="print only")
    return parser.parse_args(argv)


def build_options(args: argparse.Namespace) -> Options:
    processes = tuple(int(p) for p in args.processes.split(",") if p.strip())
    if 1 not in processes:
        processes = (1, *processes)  # the baseline every ratio is taken against
    config = Config(
        jobs=args.jobs or (5_000 if args.quick else 20_000),
        chunk=args.chunk,
        concurrency=args.concurrency,
        drain_timeout=args.drain_timeout,
    )
    history = args.history if args.history is not None else (100_000 if args.quick else 1_000_000)
    repeats = args.repeats or (1 if args.quick else 3)
    hosts = tuple(int(h) for h in args.hosts.split(",") if h.strip())
    if args.dialect != "postgres":
        hosts = ()  # a SQLite file is one host's
    return Options(config, history, repeats, processes, not args.no_explain, hosts)


def exit_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so workers are stopped and databases dropped either way."""

    def handle(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handle)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    exit_on_sigterm()
    result = run(build_options(args), args.dialect, args.pg_admin_url)
    print_result(result)
    if not args.no_json:
        suffix = "-quick" if args.quick else ""
        write_json(result, args.output or RESULTS / f"scaling-{result['date'][:10]}{suffix}.json")
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
