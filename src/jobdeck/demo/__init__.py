"""The demo app: example tasks and a light stream of jobs, run by ``jobdeck demo``."""

from jobdeck.extras import require_extra

# The demo is a whole host application: it serves the dashboard and processes documents too.
for _extra in ("demo", "dashboard", "documents"):
    require_extra(_extra, "the demo")
