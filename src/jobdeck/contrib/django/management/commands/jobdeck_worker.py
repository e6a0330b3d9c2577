"""``manage.py jobdeck_worker``: ``jobdeck worker`` for this project's Django tasks, with the
settings manage.py already chose (the same as ``jobdeck worker --app
jobdeck.contrib.django.worker:deck`` under DJANGO_SETTINGS_MODULE)."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand  # type: ignore[import-not-found]

WORKER_APP = "jobdeck.contrib.django.worker:deck"


class Command(BaseCommand):  # type: ignore[misc]
    help = (
        "Run a jobdeck worker for the Django tasks of one TASKS backend. Takes jobdeck "
        "worker's options (--queues, --concurrency, --no-scheduler, --database, --log-level) "
        "and --backend ALIAS (default: default)."
    )

    def run_from_argv(self, argv: list[str]) -> None:
        # Every option is jobdeck worker's, so Django's parser is skipped: argv goes to click
        # as it is. sys.argv stays manage.py's, so a worker that restarts itself (os.execv of
        # sys.argv) comes back through this same command.
        from jobdeck.cli import run, worker

        args = list(argv[2:])
        if "--backend" in args:
            at = args.index("--backend")
            if at + 1 >= len(args):
                raise SystemExit("error: --backend needs a TASKS alias")
            os.environ["JOBDECK_DJANGO_BACKEND"] = args[at + 1]
            del args[at : at + 2]
        run(worker, ["--app", WORKER_APP, *args], "manage.py jobdeck_worker")

    def handle(self, *args: Any, **options: Any) -> None:  # pragma: no cover - run_from_argv
        raise NotImplementedError("call through manage.py jobdeck_worker")
