"""Optional parts of jobdeck and the one-line error that names the extra to install.

The core install runs tasks, workers and the scheduler on SQLite. The dashboard, PostgreSQL,
documents, S3 and the demo are extras; a part checks for its modules when it is first used, so a
missing extra fails at once with the command that fixes it, never an ImportError traceback.
"""

from __future__ import annotations

import importlib.util

from jobdeck.errors import MissingExtra

# extra -> the importable modules it brings; kept beside pyproject.toml's extras table.
EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "postgres": ("psycopg", "psycopg_pool"),
    "dashboard": ("fastapi", "starlette", "jinja2", "uvicorn", "multipart", "argon2"),
    "documents": ("pypdf", "docx"),
    "s3": ("boto3",),
    "demo": ("aiosmtpd",),
    "metrics": ("prometheus_client",),
    "alerts": ("apprise",),
    "otel": ("opentelemetry",),
}


def missing_modules(extra: str) -> list[str]:
    """The modules of ``extra`` that cannot be found (found, not imported: this stays cheap)."""
    return [name for name in EXTRA_MODULES[extra] if importlib.util.find_spec(name) is None]


def require_extra(extra: str, feature: str) -> None:
    """Raise MissingExtra unless every module of ``extra`` is installed.

    >>> require_extra("postgres", "a PostgreSQL database")
    """
    missing = missing_modules(extra)
    if missing:
        raise MissingExtra(
            f"{feature} needs jobdeck's {extra!r} extra ({', '.join(missing)} not installed): "
            f"pip install 'jobdeck[{extra}]'",
            extra=extra,
        )
