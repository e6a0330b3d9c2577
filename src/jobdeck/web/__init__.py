"""The monitoring dashboard: server-rendered pages (Jinja2 + htmx) over the control layer."""

from jobdeck.web.access import DEFAULT_ROLES, PERMISSIONS, Principal
from jobdeck.web.app import create_app

__all__ = ["DEFAULT_ROLES", "PERMISSIONS", "Principal", "create_app"]
