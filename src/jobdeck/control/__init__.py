"""The one place operations happen: the web pages, the REST API and the CLI all call these.

Reads (jobs, stats, health, schedules) and the state-changing actions, each of which takes an
`Actor` and writes its own audit row (`jobdeck.control.audit`).
"""

from jobdeck.control.audit import audited, cli_actor, os_user
from jobdeck.control.bulk import BULK_ACTIONS, MAX_SELECTED, bulk_act, bulk_count
from jobdeck.control.jobs import (
    COUNT_CAP,
    PAGE_SIZE,
    JobAction,
    JobDetail,
    JobPage,
    JobQuery,
    StatusCount,
    act_on_job,
    cancel_job,
    count_jobs,
    job_detail,
    job_of_search,
    list_jobs,
    resolve_task_names,
    retry_job,
    states_for_status,
    status_counts,
    to_filter,
)
from jobdeck.control.schedules import (
    RunNowResult,
    recent_runs,
    run_now,
    schedule_status,
    schedule_statuses,
    set_paused,
)
from jobdeck.control.search import MAX_SEARCH, SEARCH_WINDOW, parse_search, redact_job
from jobdeck.control.stats import DEFAULT_PERIOD, PERIODS, Stats, stats
from jobdeck.fleet import DEGRADED, HEALTHY, LOST_VISIBLE, UNHEALTHY, Health, worker_health

__all__ = [
    "BULK_ACTIONS",
    "COUNT_CAP",
    "DEFAULT_PERIOD",
    "DEGRADED",
    "HEALTHY",
    "LOST_VISIBLE",
    "MAX_SEARCH",
    "MAX_SELECTED",
    "PAGE_SIZE",
    "PERIODS",
    "SEARCH_WINDOW",
    "UNHEALTHY",
    "Health",
    "JobAction",
    "JobDetail",
    "JobPage",
    "JobQuery",
    "RunNowResult",
    "Stats",
    "StatusCount",
    "act_on_job",
    "audited",
    "bulk_act",
    "bulk_count",
    "cancel_job",
    "cli_actor",
    "count_jobs",
    "job_detail",
    "job_of_search",
    "list_jobs",
    "os_user",
    "parse_search",
    "recent_runs",
    "redact_job",
    "resolve_task_names",
    "retry_job",
    "run_now",
    "schedule_status",
    "schedule_statuses",
    "set_paused",
    "states_for_status",
    "stats",
    "status_counts",
    "to_filter",
    "worker_health",
]
