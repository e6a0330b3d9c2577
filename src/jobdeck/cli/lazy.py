"""`LazyGroup`: a click group that imports a subcommand's module only when the subcommand is
run, or when help lists it.

``jobdeck worker`` is a long-lived process whose memory counts: loaded eagerly, the other
commands would bring the control layer, the accounts and the documents plugin into every
worker, for commands it never runs (issue 20: about 3 MB of its RSS).
"""

from __future__ import annotations

import importlib
from typing import Any

import click

# click 8.4+ raises it for an unknown command, with "Did you mean ...?"; older click names none.
_NO_SUCH_COMMAND: Any = getattr(click, "NoSuchCommand", ())


class LazyGroup(click.Group):
    """A group whose subcommands may be named as ``"module:attribute"`` and loaded on use.

    >>> main.add_lazy_command("jobs", "jobdeck.cli.jobs:jobs")
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands: dict[str, str] = {}

    def add_lazy_command(self, name: str, target: str) -> None:
        """Register ``target`` ("module:attribute", a click command) as ``name``."""
        module, _, attribute = target.partition(":")
        if not module or not attribute:
            raise ValueError(f"lazy command {name!r}: {target!r} is not 'module:attribute'")
        self.lazy_commands[name] = target

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy_commands:
            self.commands[cmd_name] = self._load(cmd_name)
        return self.commands.get(cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as error:
            if not isinstance(error, _NO_SUCH_COMMAND):
                raise
            # click suggests a close name from the loaded commands only: offer every name.
            raise click.NoSuchCommand(
                error.command_name, possibilities=self.list_commands(ctx), ctx=ctx
            ) from None

    def _load(self, name: str) -> click.Command:
        module, _, attribute = self.lazy_commands[name].partition(":")
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"lazy command {name!r}: {self.lazy_commands[name]} is no command")
        return command
