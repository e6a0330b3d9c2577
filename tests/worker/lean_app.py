"""The smallest real application: a deck with one no-op task and nothing imported of its own,
so that what ``jobdeck worker --app tests.worker.lean_app:deck`` loads is jobdeck's doing
(tests/worker/test_worker_weight.py). At exit it writes ``sys.modules`` to the file named by
``JOBDECK_TEST_MODULES``, one name a line."""

from __future__ import annotations

import atexit
import os
import sys

from jobdeck import JobDeck

NOOP = "lean.noop"

deck = JobDeck()


@deck.task(name=NOOP)
def noop() -> None:
    return None


def _write_modules(path: str) -> None:
    with open(path, "w", encoding="utf-8") as out:
        out.write("\n".join(sorted(sys.modules)) + "\n")


if os.environ.get("JOBDECK_TEST_MODULES"):
    atexit.register(_write_modules, os.environ["JOBDECK_TEST_MODULES"])
