"""The one place operations happen: the web pages, the REST API and the CLI all call these.

Reads (jobs, stats, health, schedules) and the state-changing actions, each of which takes an
`Actor` and writes its own audit row (`jobdeck.control.audit`).
"""

from jobdeck.control.audit import audited, cli_actor, os_user
from jobdeck.control.failures import (
    Failures,
    GroupSummary,
    error_group,
    failures,
    mute_error_group,
    retry_error_group,
    retryable_in_group,
)
from jobdeck.control.jobs import (
    PAGE_SIZE,
    JobAction,
    JobDetail,
    JobPage,
    JobQuery,
    act_on_job,
    can_cancel,
    cancel_job,
    count_jobs,
    job_detail,
    list_jobs,
    resolve_task_names,
    retry_job,
    running_progress,
    states_for_status,
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
from jobdeck.control.stats import DEFAULT_PERIOD, PERIODS, Stats, stats
from jobdeck.fleet import DEGRADED, HEALTHY, LOST_VISIBLE, UNHEALTHY, Health, worker_health

__all__ = [
    "DEFAULT_PERIOD",
    "DEGRADED",
    "HEALTHY",
    "LOST_VISIBLE",
    "PAGE_SIZE",
    "PERIODS",
    "UNHEALTHY",
    "Failures",
    "GroupSummary",
    "Health",
    "JobAction",
    "JobDetail",
    "JobPage",
    "JobQuery",
    "RunNowResult",
    "Stats",
    "act_on_job",
    "audited",
    "can_cancel",
    "cancel_job",
    "cli_actor",
    "count_jobs",
    "error_group",
    "failures",
    "job_detail",
    "list_jobs",
    "mute_error_group",
    "os_user",
    "recent_runs",
    "resolve_task_names",
    "retry_error_group",
    "retry_job",
    "retryable_in_group",
    "run_now",
    "running_progress",
    "schedule_status",
    "schedule_statuses",
    "set_paused",
    "states_for_status",
    "stats",
    "to_filter",
    "worker_health",
]
