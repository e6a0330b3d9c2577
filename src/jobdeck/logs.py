"""One log format for every jobdeck process: the CLI's and the children it starts."""

from __future__ import annotations

import logging
import signal
import sys


def setup_logging(level: str | int) -> None:
    logging.basicConfig(
        level=level.upper() if isinstance(level, str) else level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def prepare_child(log_level: int) -> None:
    """First steps of every child process jobdeck starts (process tasks, document extractors).

    A new process has no logging set up, so what it logs would reach the worker's stderr as
    bare lines: it logs like its parent instead. And Ctrl-C in a terminal reaches the whole
    process group, but stopping children is the parent's job (a draining worker lets its
    running jobs finish), so a child must not die of it with a traceback.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    setup_logging(log_level)
