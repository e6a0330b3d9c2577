"""``python -m jobdeck.cli``: the ``jobdeck`` command."""

from jobdeck.cli import run

run()
