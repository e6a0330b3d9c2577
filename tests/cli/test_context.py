"""The CLI below the facade: it imports nothing above it, checks --app against the `Deck`
protocol, and builds a deck without --app only through the `BareDeck` its front end hands it."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

from click.testing import CliRunner

import jobdeck.cli
from jobdeck import JobDeck
from jobdeck.cli.context import is_deck
from jobdeck.console import main
from jobdeck.errors import ConfigError

CLI_PACKAGE = Path(jobdeck.cli.__file__).parent


def _imported_modules(source: Path) -> set[str]:
    """Every module ``source`` imports, in functions and under TYPE_CHECKING too."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(), str(source))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module != "jobdeck":
            found.add(node.module)
        elif isinstance(node, ast.ImportFrom) and node.module:
            # ``from jobdeck import control`` imports jobdeck.control, not the package's API.
            for alias in node.names:
                submodule = f"jobdeck.{alias.name}"
                found.add(submodule if importlib.util.find_spec(submodule) else "jobdeck")
    return found


def test_the_cli_imports_neither_the_facade_nor_the_package_api() -> None:
    modules = sorted(p for p in CLI_PACKAGE.glob("*.py") if p.name != "__main__.py")
    assert len(modules) > 5
    for module in modules:
        imported = _imported_modules(module)
        assert not imported & {"jobdeck", "jobdeck.app", "jobdeck.console"}, module.name


def test_is_deck_checks_the_protocol_without_opening_the_store(tmp_path: Path) -> None:
    database = tmp_path / "never-opened.db"
    deck = JobDeck(f"sqlite:///{database}")
    assert is_deck(deck)
    assert not database.exists()  # the store property was not called
    assert not is_deck(JobDeck)  # the class lacks the instance's registry
    assert not is_deck(42) and not is_deck(None)


def test_without_a_bare_deck_a_command_needs_app(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    env = {"JOBDECK_DATABASE_URL": None}
    bare = CliRunner().invoke(jobdeck.cli.main, ["jobs", "list", "--database", url], env=env)
    assert bare.exit_code == 1 and isinstance(bare.exception, ConfigError)
    assert "no --app given" in str(bare.exception)
    migrated = CliRunner().invoke(main, ["db", "migrate", "--database", url], env=env)
    assert migrated.exit_code == 0, migrated.output
    with_app = ["jobs", "list", "--app", "tests.worker.apps:deck", "--database", url]
    assert CliRunner().invoke(jobdeck.cli.main, with_app, env=env).exit_code == 0


def test_the_console_group_shares_the_cli_commands() -> None:
    assert main is not jobdeck.cli.main
    assert main.commands is jobdeck.cli.main.commands
