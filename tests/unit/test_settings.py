"""Settings from JOBDECK_* environment variables: every setting, the same validation and hints
as in code, and the precedence default < environment < code < command line."""

from __future__ import annotations

from typing import Any

import pytest

from jobdeck import ConfigError, JobDeck, Settings
from jobdeck.settings import COMMAND_LINE, settings_from_environment

# One value a user might write for each setting, and what it means.
EXAMPLES: dict[str, tuple[str, Any]] = {
    "concurrency": ("20", 20),
    "queues": ("mail, default", ("mail", "default")),
    "heartbeat_interval": ("2s", 2.0),
    "lease_duration": ("1m", 60.0),
    "rescue_interval": ("3", 3.0),
    "cancel_grace": ("10s", 10.0),
    "job_log_lines": ("500", 500),
    "report_flush_interval": ("250ms", 0.25),
    "clock_skew_warning": ("500ms", 0.5),
    "poll_interval": ("500ms", 0.5),
    "fetch_batch_max": ("50", 50),
    "claim_ahead": ("0", 0),
    "complete_batch_max": ("100", 100),
    "complete_flush_interval": ("10ms", 0.01),
    "shutdown_grace": ("2m", 120.0),
    "backoff_base": ("5s", 5.0),
    "backoff_max": ("2h", 7200.0),
    "default_timeout": ("90s", 90.0),
    "default_max_attempts": ("5", 5),
    "expected_duration": ("1m30s", 90.0),
    "max_abandoned_threads": ("20", 20),
    "scheduler_interval": ("250ms", 0.25),
    "scheduler_enabled": ("false", False),
    "misfire_grace": ("5m", 300.0),
    "stale_check_interval": ("10s", 10.0),
    "expected_workers": ("3", 3),
    "alert_webhooks": (
        "https://a.example/h1,https://b.example/h2",
        ("https://a.example/h1", "https://b.example/h2"),
    ),
    "alert_emails": ("ops@example.com", ("ops@example.com",)),
    "smtp_url": ("smtp://mail.example:587", "smtp://mail.example:587"),
    "alert_urls": (
        "slack://T1/B2/C3, mmost://chat.example/token",
        ("slack://T1/B2/C3", "mmost://chat.example/token"),
    ),
    "alert_queue_wait": ("10m", 600.0),
    "alert_failure_percent": ("20", 20),
    "alert_failure_window": ("30m", 1800.0),
    "alert_new_error_group": ("1h", 3600.0),
    "alert_failure_min_attempts": ("5", 5),
    "stats_shard": ("3", 3),
    "role_permissions": ('{"ops": ["view", "logs"]}', {"ops": ("view", "logs")}),
    "job_retention_days": ("7", 7.0),
    "audit_retention_days": ("90.5", 90.5),
    "session_idle": ("30m", 1800.0),
    "session_absolute": ("8h", 28800.0),
    "trusted_proxies": ("127.0.0.1, 10.0.0.0/8", ("127.0.0.1", "10.0.0.0/8")),
    "frame_ancestors": ("https://intranet.example", ("https://intranet.example",)),
    "redact": ("password, token", ("password", "token")),
    "max_arguments_bytes": ("65536", 65536),
    "max_nesting_depth": ("16", 16),
    "max_name_length": ("100", 100),
    "max_labels": ("5", 5),
    "max_label_length": ("64", 64),
    "log_format": ("json", "json"),
    "metrics_port": ("9464", 9464),
    "metrics_host": ("0.0.0.0", "0.0.0.0"),
    "tracing": ("false", False),
    "queue_limits": ('{"mail": 5}', {"mail": 5}),
}


def test_every_setting_has_an_environment_example() -> None:
    assert sorted(EXAMPLES) == sorted(Settings.option_names())


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_each_setting_comes_from_its_variable(name: str) -> None:
    raw, expected = EXAMPLES[name]
    settings = Settings.build(environ={f"JOBDECK_{name.upper()}": raw})
    assert getattr(settings, name) == expected
    assert settings.source_of(name) == "environment"


def test_optional_settings_take_none_and_empty() -> None:
    parsed = settings_from_environment({"JOBDECK_DEFAULT_TIMEOUT": "none", "JOBDECK_SMTP_URL": ""})
    assert parsed == {"default_timeout": None, "smtp_url": None}


def test_code_beats_the_environment_and_the_command_line_beats_code() -> None:
    env = {"JOBDECK_CONCURRENCY": "5", "JOBDECK_LEASE_DURATION": "45s"}
    settings = Settings.build(environ=env, concurrency=20)
    assert (settings.concurrency, settings.source_of("concurrency")) == (20, "code")
    assert (settings.lease_duration, settings.source_of("lease_duration")) == (45.0, "environment")
    assert settings.source_of("queues") == "default"
    worker = settings.overridden(COMMAND_LINE, concurrency=30, queues="a,b")
    assert (worker.concurrency, worker.source_of("concurrency")) == (30, "command line")
    assert (worker.queues, worker.source_of("queues")) == (("a", "b"), "command line")
    assert worker.source_of("lease_duration") == "environment"


def test_jobdeck_reads_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBDECK_CONCURRENCY", "7")
    monkeypatch.setenv("JOBDECK_QUEUES", "mail")
    deck = JobDeck("sqlite:///unused.db", queues=("default", "mail"))
    assert deck.settings.concurrency == 7
    assert deck.settings.queues == ("default", "mail")


@pytest.mark.parametrize(
    ("variable", "raw", "message"),
    [
        (
            "JOBDECK_CONCURENCY",
            "3",
            "unknown setting variable JOBDECK_CONCURENCY; did you mean JOBDECK_CONCURRENCY?",
        ),
        ("JOBDECK_LEASE_DURATON", "30", "did you mean JOBDECK_LEASE_DURATION?"),
        (
            "JOBDECK_CONCURRENCY",
            "ten",
            "JOBDECK_CONCURRENCY='ten': expected a whole number such as 20",
        ),
        ("JOBDECK_LEASE_DURATION", "forever", "JOBDECK_LEASE_DURATION='forever': invalid duration"),
        (
            "JOBDECK_SCHEDULER_ENABLED",
            "maybe",
            "JOBDECK_SCHEDULER_ENABLED='maybe': expected true or false",
        ),
        ("JOBDECK_ROLE_PERMISSIONS", "[1]", "expected a JSON object"),
        ("JOBDECK_JOB_RETENTION_DAYS", "a week", "expected a number such as 30"),
        (
            "JOBDECK_CONCURRENCY",
            "0",
            "concurrency must be at least 1, got 0 (JOBDECK_CONCURRENCY from the environment)",
        ),
        ("JOBDECK_LEASE_DURATION", "1s", "(JOBDECK_LEASE_DURATION from the environment)"),
    ],
)
def test_bad_variables_fail_with_one_clear_line(variable: str, raw: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.build(environ={variable: raw})
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_other_jobdeck_variables_are_not_settings() -> None:
    env = {
        "JOBDECK_DATABASE_URL": "sqlite:///x.db",
        "JOBDECK_DOCUMENTS_STORAGE": "s3://bucket",
        "JOBDECK_DEMO_SMTP": "127.0.0.1:2525",
        "JOBDECK_TEST_SETTINGS": "{}",
    }
    assert Settings.build(environ=env) == Settings()


def test_misspelt_options_in_code_still_get_a_hint() -> None:
    with pytest.raises(
        ConfigError, match="unknown setting 'concurency'; did you mean 'concurrency'"
    ):
        Settings.build(environ={}, concurency=3)


def test_a_session_cannot_idle_longer_than_it_lives() -> None:
    with pytest.raises(ConfigError, match="session_idle"):
        Settings(session_idle=7200, session_absolute=3600)


def test_limits_are_at_least_one() -> None:
    with pytest.raises(ConfigError, match="max_nesting_depth must be at least 1"):
        Settings(max_nesting_depth=0)


def test_nesting_depth_stays_under_the_decoding_ceiling() -> None:
    with pytest.raises(ConfigError, match="max_nesting_depth must be at most 100"):
        Settings(max_nesting_depth=500)
