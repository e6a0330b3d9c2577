"""RQ: jobs are plain functions referenced by import path; results kept (result_ttl 500 s).

Worker: ``rq worker --worker-class rq.worker.SimpleWorker`` (runs jobs in the worker process;
RQ's default ``Worker`` forks a work horse per job).
"""

from bench.peers.apps import sink


def noop() -> None:
    sink.hit()


def ping(t0: float) -> None:
    sink.ping(t0)
