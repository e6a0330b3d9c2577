"""The demo app: example tasks and a light stream of jobs, run by ``jobdeck demo``."""
