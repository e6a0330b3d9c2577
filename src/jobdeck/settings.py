"""Worker and store settings, validated when built, with "did you mean" hints."""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass
from typing import Any

from jobdeck.errors import ConfigError


@dataclass(frozen=True)
class Settings:
    """Timings are in seconds. Defaults suit production; tests shorten them."""

    concurrency: int = 10
    queues: tuple[str, ...] = ("default",)
    heartbeat_interval: float = 5.0
    lease_duration: float = 30.0
    rescue_interval: float = 10.0
    # How often an idle worker looks for due jobs it was not woken for (scheduled and retried jobs).
    poll_interval: float = 1.0
    # Claims never exceed free slots; this caps one claim so one worker does not hoard a queue.
    fetch_batch_max: int = 100
    complete_batch_max: int = 500
    complete_flush_interval: float = 0.005
    shutdown_grace: float = 30.0
    backoff_base: float = 2.0
    backoff_max: float = 3600.0
    default_timeout: float | None = None
    default_max_attempts: int = 3
    expected_duration: float = 60.0
    max_abandoned_threads: int = 50
    scheduler_interval: float = 1.0
    scheduler_enabled: bool = True
    # Ticks later than this are "missed" (downtime) and follow the schedule's catch_up policy.
    misfire_grace: float = 60.0
    stale_check_interval: float = 5.0
    alert_webhooks: tuple[str, ...] = ()
    alert_emails: tuple[str, ...] = ()
    smtp_url: str | None = None
    stats_shard: int | None = None
    # Role -> permissions; None keeps the defaults (admin all, partner all but admin, ...).
    role_permissions: dict[str, tuple[str, ...]] | None = None
    job_retention_days: float = 30.0
    audit_retention_days: float = 365.0

    def __post_init__(self) -> None:
        positive = (
            "heartbeat_interval",
            "lease_duration",
            "rescue_interval",
            "poll_interval",
            "complete_flush_interval",
            "scheduler_interval",
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
        if self.default_max_attempts < 1:
            raise ConfigError("default_max_attempts must be at least 1")

    @classmethod
    def build(cls, **options: Any) -> Settings:
        """Settings from keyword options; a misspelt option fails with a hint."""
        check_option_names(options, cls.option_names(), "setting")
        for name in ("queues", "alert_webhooks", "alert_emails"):
            if name in options:
                options[name] = _as_tuple(options[name])
        return cls(**options)

    @classmethod
    def option_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    def replace(self, **options: Any) -> Settings:
        check_option_names(options, self.option_names(), "setting")
        for name in ("queues", "alert_webhooks", "alert_emails"):
            if name in options:
                options[name] = _as_tuple(options[name])
        return dataclasses.replace(self, **options)


def _as_tuple(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return tuple(value)


def check_option_names(options: dict[str, Any], known: list[str], kind: str) -> None:
    for name in options:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"unknown {kind} {name!r}{hint}")
