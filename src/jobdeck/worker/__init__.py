"""Workers: fetch, run, heartbeat, rescue and drain."""

from jobdeck.worker.worker import Worker

__all__ = ["Worker"]
