"""The ``jobdeck`` program: the CLI over a plain `JobDeck` when --app names no deck.

``jobdeck.cli`` sits below the facade and never imports it; this module, beside app.py, is
where the two meet. The console script and ``python -m jobdeck.cli`` run ``run``.
"""

from __future__ import annotations

from jobdeck import cli
from jobdeck.app import JobDeck

main = cli.with_bare_deck(cli.main, JobDeck)


def run(args: list[str] | None = None, prog_name: str | None = None) -> None:
    """``jobdeck ARGS``, with one-line errors (``jobdeck.cli.run``)."""
    cli.run(main, args, prog_name)


if __name__ == "__main__":
    run()
