"""``python -m jobdeck``: the ``jobdeck`` program, as the console script runs it."""

from jobdeck.console import run

run()
