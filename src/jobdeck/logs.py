"""One log format for every jobdeck process: the CLI's and the children it starts."""

from __future__ import annotations

import logging
import sys


def setup_logging(level: str | int) -> None:
    logging.basicConfig(
        level=level.upper() if isinstance(level, str) else level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
