"""Worker and store settings, validated when built, with "did you mean" hints.

Each setting comes from, in rising precedence: its default, a ``JOBDECK_<NAME>`` environment
variable, the code (``JobDeck(url, concurrency=20)``), the command line (``jobdeck worker
--concurrency 30``). ``Settings.source_of(name)`` says which one set it.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jobdeck.durations import parse_duration
from jobdeck.errors import ConfigError
from jobdeck.jsonvalues import DEPTH_CEILING

DEFAULT = "default"
ENVIRONMENT = "environment"
CODE = "code"
COMMAND_LINE = "command line"
ENV_PREFIX = "JOBDECK_"
_TUPLE_OPTIONS = (
    "queues",
    "alert_webhooks",
    "alert_emails",
    "alert_urls",
    "trusted_proxies",
    "frame_ancestors",
    "redact",
)


@dataclass(frozen=True)
class Settings:
    """Timings are in seconds. Defaults suit production; tests shorten them."""

    concurrency: int = 10
    queues: tuple[str, ...] = ("default",)
    heartbeat_interval: float = 5.0
    lease_duration: float = 30.0
    rescue_interval: float = 10.0
    # A worker whose host clock is further than this from the database's logs a warning.
    clock_skew_warning: float = 2.0
    # How often an idle worker looks for due jobs it was not woken for (scheduled and retried jobs).
    poll_interval: float = 1.0
    # Caps one claim so one worker does not hoard a queue.
    fetch_batch_max: int = 100
    # Jobs a claim may take beyond the free slots, and only while jobs finish faster than a
    # claim returns (worker/pacing.py); None: up to 4 x ``concurrency``, or to one full claim
    # (``fetch_batch_max``) for fewer slots; 0: never beyond them.
    claim_ahead: int | None = None
    complete_batch_max: int = 500
    complete_flush_interval: float = 0.005
    shutdown_grace: float = 30.0
    backoff_base: float = 2.0
    backoff_max: float = 3600.0
    default_timeout: float | None = None
    default_max_attempts: int = 3
    expected_duration: float = 60.0
    max_abandoned_threads: int = 50
    # A cancelled sync task that has not stopped this long after its worker asked is left
    # behind (its attempt ends cancelled, its slot goes to other jobs), as a timed-out one is.
    cancel_grace: float = 5.0
    # Log lines kept per attempt (jobdeck.current_job().log and captured logging); past it, one
    # line says how many more were left out.
    job_log_lines: int = 200
    # How often a worker writes the progress and log lines its tasks reported, in one batch.
    report_flush_interval: float = 0.5
    scheduler_interval: float = 1.0
    scheduler_enabled: bool = True
    # Ticks later than this are "missed" (downtime) and follow the schedule's catch_up policy.
    misfire_grace: float = 60.0
    stale_check_interval: float = 5.0
    # The fleet's floor: with fewer workers heartbeating the health pill turns amber (0: any).
    expected_workers: int = 0
    alert_webhooks: tuple[str, ...] = ()
    alert_emails: tuple[str, ...] = ()
    smtp_url: str | None = None
    # Chat and paging channels by apprise URL (slack://, msteams://, discord://, ...): [alerts].
    alert_urls: tuple[str, ...] = ()
    # Alert rules checked by the scheduler loop beside staleness; None turns a rule off.
    # A queue whose oldest available job has waited longer than this.
    alert_queue_wait: float | None = None
    # A task whose attempts failed more than this percentage over the last alert_failure_window,
    # once it has at least alert_failure_min_attempts attempts there.
    alert_failure_percent: int | None = None
    alert_failure_window: float = 900.0
    alert_failure_min_attempts: int = 10
    # An error group first seen less than this long ago (unless muted); it recovers once it has
    # not failed for as long, or is muted.
    alert_new_error_group: float | None = None
    stats_shard: int | None = None
    # Role -> permissions; None keeps the defaults (admin all, partner all but admin, ...).
    role_permissions: dict[str, tuple[str, ...]] | None = None
    job_retention_days: float = 30.0
    audit_retention_days: float = 365.0
    # The dashboard's sign-in: a session ends after this long unused, or this long after sign-in.
    session_idle: float = 7200.0
    session_absolute: float = 43200.0
    # Addresses (or networks, 10.0.0.0/8) of proxies whose X-Forwarded-For/-Proto are believed.
    trusted_proxies: tuple[str, ...] = ()
    # Pages that may frame the dashboard (CSP frame-ancestors sources); none by default.
    frame_ancestors: tuple[str, ...] = ()
    # What enqueue accepts: anything larger is refused with one line naming field and limit.
    max_arguments_bytes: int = 1_000_000
    max_nesting_depth: int = 32
    max_name_length: int = 200
    max_labels: int = 20
    max_label_length: int = 200
    # What long-running commands log on stderr: text for people, json (a line each) for shippers.
    log_format: str = "text"
    # A worker's own Prometheus endpoint ([metrics] extra): off unless a port is given (0: any
    # free port), on localhost unless told; the dashboard's /metrics covers the whole deck.
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    # OpenTelemetry spans for enqueue and execution, when the application has set up OTel.
    tracing: bool = True
    # Argument keys whose values every view, the API and the audit log mask ("password", ...).
    redact: tuple[str, ...] = ()
    # How many jobs of a queue may run at once across every worker and host: {"mail": 5}.
    queue_limits: dict[str, int] | None = None

    def __post_init__(self) -> None:
        positive = (
            "heartbeat_interval",
            "lease_duration",
            "rescue_interval",
            "poll_interval",
            "complete_flush_interval",
            "scheduler_interval",
            "clock_skew_warning",
            "cancel_grace",
            "report_flush_interval",
        )
        for name in positive:
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)!r}")
        if self.concurrency < 1:
            raise ConfigError(f"concurrency must be at least 1, got {self.concurrency}")
        if self.lease_duration <= self.heartbeat_interval:
            raise ConfigError(
                f"lease_duration ({self.lease_duration}s) must be longer than "
                f"heartbeat_interval ({self.heartbeat_interval}s), or leases expire between beats"
            )
        if self.claim_ahead is not None and self.claim_ahead < 0:
            raise ConfigError(f"claim_ahead must be 0 or more, got {self.claim_ahead}")
        if self.job_log_lines < 0:
            raise ConfigError(f"job_log_lines must be 0 or more, got {self.job_log_lines}")
        if self.expected_workers < 0:
            raise ConfigError(f"expected_workers must be 0 or more, got {self.expected_workers}")
        if self.alert_queue_wait is not None and self.alert_queue_wait <= 0:
            raise ConfigError(f"alert_queue_wait must be positive, got {self.alert_queue_wait!r}")
        if self.alert_failure_percent is not None and not 0 < self.alert_failure_percent <= 100:
            raise ConfigError(
                f"alert_failure_percent must be between 1 and 100, got {self.alert_failure_percent}"
            )
        if self.alert_new_error_group is not None and self.alert_new_error_group <= 0:
            raise ConfigError(
                f"alert_new_error_group must be positive, got {self.alert_new_error_group!r}"
            )
        if self.alert_failure_window <= 0 or self.alert_failure_min_attempts < 1:
            raise ConfigError(
                "alert_failure_window must be positive and alert_failure_min_attempts at least 1"
            )
        if self.default_max_attempts < 1:
            raise ConfigError("default_max_attempts must be at least 1")
        if self.session_idle <= 0 or self.session_absolute < self.session_idle:
            raise ConfigError(
                f"session_idle ({self.session_idle}s) must be positive and no longer than "
                f"session_absolute ({self.session_absolute}s)"
            )
        limits = ("max_arguments_bytes", "max_nesting_depth", "max_name_length", "max_labels")
        for name in (*limits, "max_label_length"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)!r}")
        if self.log_format not in ("text", "json"):
            raise ConfigError(f"log_format must be text or json, got {self.log_format!r}")
        if self.metrics_port is not None and not 0 <= self.metrics_port <= 65535:
            raise ConfigError(f"metrics_port must be between 0 and 65535, got {self.metrics_port}")
        for queue, limit in (self.queue_limits or {}).items():
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
                raise ConfigError(
                    f"queue_limits[{queue!r}] must be a whole number of at least 1, got {limit!r}"
                )
        if self.max_nesting_depth > DEPTH_CEILING:
            raise ConfigError(
                f"max_nesting_depth must be at most {DEPTH_CEILING} (deeper values are not "
                f"decoded, to keep every page safe), got {self.max_nesting_depth}"
            )

    # Which of default, environment, code or command line set each option; not a setting.
    sources: Mapping[str, str] = field(
        default_factory=dict, compare=False, repr=False, metadata={"setting": False}
    )

    @classmethod
    def build(cls, *, environ: Mapping[str, str] | None = None, **options: Any) -> Settings:
        """Settings from ``JOBDECK_*`` variables of ``environ`` (default: ``os.environ``)
        overridden by keyword options; a misspelt option or variable fails with a hint."""
        check_option_names(options, cls.option_names(), "setting")
        from_env = settings_from_environment(os.environ if environ is None else environ)
        sources = {name: ENVIRONMENT for name in from_env} | {name: CODE for name in options}
        return _checked(cls, {**from_env, **_normalized(options)}, sources)

    @classmethod
    def option_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls) if f.metadata.get("setting", True)]

    def replace(self, **options: Any) -> Settings:
        return self.overridden(CODE, **options)

    def overridden(self, source: str, **options: Any) -> Settings:
        """A copy with ``options`` replaced, recorded as coming from ``source``."""
        check_option_names(options, self.option_names(), "setting")
        sources = {**self.sources, **dict.fromkeys(options, source)}
        current = {name: getattr(self, name) for name in self.option_names()}
        return _checked(type(self), {**current, **_normalized(options)}, sources)

    def source_of(self, name: str) -> str:
        """``default``, ``environment``, ``code`` or ``command line``."""
        return self.sources.get(name, DEFAULT)


def _normalized(options: dict[str, Any]) -> dict[str, Any]:
    return {
        name: _as_tuple(value) if name in _TUPLE_OPTIONS else value
        for name, value in options.items()
    }


def _checked(cls: type[Settings], options: dict[str, Any], sources: dict[str, str]) -> Settings:
    """Build, naming the environment variable when a value from it breaks a rule."""
    try:
        return cls(**options, sources=sources)
    except ConfigError as exc:
        from_env = [n for n, src in sources.items() if src == ENVIRONMENT and n in str(exc)]
        if not from_env:
            raise
        variables = ", ".join(env_name(name) for name in from_env)
        raise ConfigError(f"{exc} ({variables} from the environment)") from None


def _as_tuple(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return tuple(value)


def check_option_names(options: Mapping[str, Any], known: list[str], kind: str) -> None:
    for name in options:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"unknown {kind} {name!r}{hint}")


# -- the environment ----------------------------------------------------------------------------

# JOBDECK_* variables that are not settings of this class; other unknown ones are ignored
# unless they look like a misspelt setting.
OTHER_VARIABLES = frozenset({"JOBDECK_DATABASE_URL", "JOBDECK_DOCUMENTS_STORAGE"})


def env_name(setting: str) -> str:
    return ENV_PREFIX + setting.upper()


def settings_from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """The settings set by ``JOBDECK_<NAME>`` variables, parsed and type-checked.

    >>> settings_from_environment({"JOBDECK_CONCURRENCY": "20", "JOBDECK_LEASE_DURATION": "1m"})
    {'concurrency': 20, 'lease_duration': 60.0}
    """
    names = Settings.option_names()
    parsers = _parsers()
    found: dict[str, Any] = {}
    for variable, raw in sorted(environ.items()):
        if not variable.startswith(ENV_PREFIX) or variable in OTHER_VARIABLES:
            continue
        name = variable[len(ENV_PREFIX) :].lower()
        if name in parsers:
            found[name] = _parse_variable(variable, raw, parsers[name])
            continue
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.8)
        if close:
            raise ConfigError(
                f"unknown setting variable {variable}; did you mean {env_name(close[0])}?"
            )
    return found


@dataclass(frozen=True)
class _Parser:
    parse: Callable[[str], Any]
    optional: bool  # "" or "none" means None


def _parse_variable(variable: str, raw: str, parser: _Parser) -> Any:
    text = raw.strip()
    if parser.optional and text.lower() in ("", "none"):
        return None
    try:
        return parser.parse(text)
    except ConfigError as exc:
        raise ConfigError(f"{variable}={raw!r}: {exc}") from None
    except ValueError:
        raise ConfigError(f"{variable}={raw!r}: {_EXPECTED[parser.parse]}") from None


def _parsers() -> dict[str, _Parser]:
    hints = typing.get_type_hints(Settings)
    return {name: _parser_for(name, hints[name]) for name in Settings.option_names()}


def _parser_for(name: str, hint: Any) -> _Parser:
    args = typing.get_args(hint)
    optional = type(None) in args
    base = next(arg for arg in args if arg is not type(None)) if optional else hint
    if name == "queue_limits":
        return _Parser(_limit_map, optional)
    if base is float:
        return _Parser(_number if name.endswith("_days") else _seconds, optional)
    return _Parser(_BY_TYPE.get(typing.get_origin(base) or base, _text), optional)


def _text(raw: str) -> str:
    return raw


def _seconds(raw: str) -> float:
    return parse_duration(raw, allow_zero=True).total_seconds()


def _number(raw: str) -> float:
    return float(raw)


def _whole(raw: str) -> int:
    return int(raw)


def _flag(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)


def _names(raw: str) -> tuple[str, ...]:
    return _as_tuple(raw)


def _role_map(raw: str) -> dict[str, tuple[str, ...]]:
    value = json.loads(raw)
    if not isinstance(value, dict) or not all(
        isinstance(perms, list) and all(isinstance(p, str) for p in perms)
        for perms in value.values()
    ):
        raise ValueError(raw)
    return {str(role): tuple(perms) for role, perms in value.items()}


def _limit_map(raw: str) -> dict[str, int]:
    value = json.loads(raw)
    if not isinstance(value, dict) or not all(isinstance(n, int) for n in value.values()):
        raise ValueError(raw)
    return {str(queue): int(n) for queue, n in value.items()}


_BY_TYPE: dict[Any, Callable[[str], Any]] = {
    int: _whole,
    bool: _flag,
    tuple: _names,
    dict: _role_map,
}
_EXPECTED: dict[Callable[[str], Any], str] = {
    _names: "expected names separated by commas",
    _text: "expected text",
    _seconds: "expected a duration such as 30s or 5m",
    _whole: "expected a whole number such as 20",
    _number: "expected a number such as 30",
    _flag: "expected true or false",
    _role_map: 'expected a JSON object such as {"ops": ["view", "logs"]}',
    _limit_map: 'expected a JSON object such as {"mail": 5}',
}
