"""What every command shares: the deck from --app and --database, the common options, and the
mapping of errors users can fix to one line.

The CLI sits below the `JobDeck` facade and never imports it: it works with any `Deck`, takes the
one --app names, and builds one without --app through the `BareDeck` its front end hands it
(``jobdeck.console`` hands it ``JobDeck``).
"""

from __future__ import annotations

import functools
import importlib
import inspect
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol, TypeGuard, TypeVar

import click

from jobdeck.deck import Deck
from jobdeck.errors import ConfigError, JobDeckError
from jobdeck.logs import LOG_FORMATS
from jobdeck.settings import COMMAND_LINE, DEFAULT, ENVIRONMENT, Settings
from jobdeck.store import DEFAULT_URL

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class BareDeck:
    """How a front end builds the deck of a command run without --app, from the database URL.

    It travels as click's ``obj`` (see ``jobdeck.cli.with_bare_deck``), so that the CLI need
    not import the facade that builds it: ``BareDeck(JobDeck)``.
    """

    build: Callable[[str], Deck]


class Context:
    """What every command needs: the deck from --app (if any) bound to the chosen database."""

    def __init__(self, app: str | None, database: str | None) -> None:
        self.app_ref = app
        app_deck = load_app(app) if app else None
        url, source = choose_database(database, app_deck)
        self.deck = app_deck or _bare_deck().build(url)
        if url != self.deck.database_url:
            self.deck.use_database(url, source)
        self.deck.database_url_source = source


def _bare_deck() -> BareDeck:
    click_ctx = click.get_current_context(silent=True)
    found = click_ctx.find_object(BareDeck) if click_ctx is not None else None
    if found is None:
        # Only code that runs jobdeck.cli's commands itself gets here: the jobdeck command
        # (jobdeck.console) always hands one over.
        raise ConfigError(
            "no --app given and no deck to fall back on: pass --app MODULE:DECK, "
            "or run the command through jobdeck.console"
        )
    return found


def choose_database(explicit: str | None, deck: Deck | None) -> tuple[str, str]:
    """--database, else JOBDECK_DATABASE_URL, else the --app deck's URL, else jobdeck.db here;
    with where the URL came from."""
    if explicit:
        return explicit, COMMAND_LINE
    from_env = os.environ.get("JOBDECK_DATABASE_URL")
    if from_env:
        return from_env, ENVIRONMENT
    if deck is not None:
        return deck.database_url, deck.database_url_source
    return DEFAULT_URL, DEFAULT


def load_app(ref: str) -> Deck:
    """Import ``module:attribute`` (attribute defaults to ``deck``) from the current folder."""
    module_name, _, attribute = ref.partition(":")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise ConfigError(f"--app {ref}: cannot import {module_name!r} ({exc})") from None
    deck = getattr(module, attribute or "deck", None)
    if not is_deck(deck):
        raise ConfigError(f"--app {ref}: {attribute or 'deck'!r} in {module_name} is not a JobDeck")
    return deck


def _protocol_members(protocol: type) -> frozenset[str]:
    """The public names ``protocol`` and the protocols it extends declare."""
    return frozenset(
        name
        for cls in protocol.__mro__
        if Protocol in cls.__bases__
        for name in (*inspect.get_annotations(cls), *vars(cls))
        if not name.startswith("_")
    )


_DECK_MEMBERS = _protocol_members(Deck)
_ABSENT = object()


def is_deck(value: object) -> TypeGuard[Deck]:
    """Whether ``value`` has every member of `Deck`, looked up without running any of them.

    Not ``isinstance`` on a runtime-checkable protocol: on Python 3.11 that calls ``hasattr``,
    and a deck's ``store`` property opens the database, before --database has chosen it.
    """
    return all(
        inspect.getattr_static(value, name, _ABSENT) is not _ABSENT for name in _DECK_MEMBERS
    )


def common_options(command: F) -> F:
    """--app and --database on every command, as DESIGN.md's one rule for finding the database."""

    @click.option(
        "--database",
        metavar="URL",
        help="Database URL (default: $JOBDECK_DATABASE_URL, the app's, or jobdeck.db).",
    )
    @click.option(
        "--app", metavar="MODULE:DECK", help="Your JobDeck object, e.g. myproject.jobs:deck."
    )
    @functools.wraps(command)
    def wrapper(*args: Any, app: str | None, database: str | None, **kwargs: Any) -> Any:
        ctx = Context(app, database)
        try:
            return command(ctx, *args, **kwargs)
        finally:
            # Closed here, not by the garbage collector at exit: on Python 3.13 a psycopg pool
            # left open waits 5 s per worker thread at shutdown, after an error was printed.
            ctx.deck.close()

    return wrapper  # type: ignore[return-value]


def subcommand(
    group: click.Group, name: str, argument: str, **argument_options: Any
) -> Callable[[Callable[..., Any]], click.Command]:
    """``group``'s command ``name`` with --app, --database and one ``argument``:
    ``@subcommand(jobs, "retry", "job_id", type=int)`` is ``jobdeck jobs retry JOB_ID``."""

    def decorate(function: Callable[..., Any]) -> click.Command:
        with_argument = click.argument(argument, **argument_options)(function)
        return group.command(name)(common_options(with_argument))

    return decorate


reason_option = click.option(
    "--reason", default=None, help="Why you did it: stored with the action in the audit log."
)
json_option = click.option(
    "--json", "as_json", is_flag=True, help="One JSON document on stdout instead of a table."
)
log_format_option = click.option(
    "--log-format",
    type=click.Choice(LOG_FORMATS),
    default=None,
    help="text, or json: one object per line (default: the log_format setting, text).",
)


def logging_options(command: F) -> F:
    """--log-level and --log-format, on the commands that run until stopped."""
    return click.option("--log-level", default="INFO", show_default=True)(
        log_format_option(command)
    )


def command_line_settings(
    ctx: Context,
    queues: str | None = None,
    concurrency: int | None = None,
    no_scheduler: bool = False,
    log_format: str | None = None,
) -> Settings:
    """The deck's settings with the worker options given on the command line."""
    overrides: dict[str, Any] = {}
    if log_format is not None:
        overrides["log_format"] = log_format
    if no_scheduler:
        overrides["scheduler_enabled"] = False
    if queues:
        overrides["queues"] = queues
    if concurrency is not None:
        overrides["concurrency"] = concurrency
    return ctx.deck.settings.overridden(COMMAND_LINE, **overrides)


@contextmanager
def one_line_errors() -> Iterator[None]:
    """Exit with one line on stderr instead of a traceback for problems users can fix."""
    try:
        yield
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except JobDeckError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
