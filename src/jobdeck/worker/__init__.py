"""Workers: fetch, run, heartbeat, rescue and drain."""

from jobdeck.worker.worker import EXIT_RESTART, Worker

__all__ = ["EXIT_RESTART", "Worker"]
