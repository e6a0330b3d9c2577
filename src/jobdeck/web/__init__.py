"""The monitoring dashboard: server-rendered pages (Jinja2 + htmx) over the control layer."""

from jobdeck.extras import require_extra

# Before anything imports FastAPI: a missing extra is one line naming the pip command.
require_extra("dashboard", "the dashboard")

from jobdeck.web.access import DEFAULT_ROLES, PERMISSIONS, Principal  # noqa: E402
from jobdeck.web.app import create_app  # noqa: E402

__all__ = ["DEFAULT_ROLES", "PERMISSIONS", "Principal", "create_app"]
