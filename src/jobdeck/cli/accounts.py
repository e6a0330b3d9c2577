"""``jobdeck users`` and ``jobdeck tokens``: the dashboard's accounts and the API's tokens,
changed as an admin named after the login running the command."""

from __future__ import annotations

import sys

import click

from jobdeck.cli.context import Context, common_options, json_option, subcommand
from jobdeck.control import cli_actor
from jobdeck.errors import ConfigError


@click.group()
def users() -> None:
    """Dashboard users and their roles."""


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():
        raise ConfigError("no terminal to ask for a password: pipe it with --password-stdin")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@subcommand(users, "add", "email")
@click.option("--role", required=True, help="admin, partner, attorney, manager, ca, advocate, user")
@click.option("--name", default=None)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_add(ctx: Context, email: str, role: str, name: str | None, password_stdin: bool) -> None:
    """Add a user (password from a prompt, or --password-stdin)."""
    from jobdeck import accounts

    policy = accounts.AccessPolicy.from_settings(ctx.deck.settings.role_permissions)
    user = accounts.add_user(
        ctx.deck.store,
        ctx.deck.clock,
        policy,
        cli_actor(),
        email,
        _read_password(password_stdin),
        role,
        name,
    )
    click.echo(f"added {user.email} as {user.role}")


@users.command("list")
@common_options
@json_option
def users_list(ctx: Context, as_json: bool) -> None:
    """Users with role, status and last sign-in."""
    from jobdeck.cli.views import print_rows, users_json, users_table

    print_rows(ctx.deck.store.list_users(), as_json, users_table, users_json)


@subcommand(users, "set-role", "email")
@click.argument("role")
def users_set_role(ctx: Context, email: str, role: str) -> None:
    """Change a user's role (their sessions end)."""
    from jobdeck import accounts

    policy = accounts.AccessPolicy.from_settings(ctx.deck.settings.role_permissions)
    user = accounts.set_role(ctx.deck.store, ctx.deck.clock, policy, cli_actor(), email, role)
    click.echo(f"{user.email} is now {user.role}")


@subcommand(users, "disable", "email")
def users_disable(ctx: Context, email: str) -> None:
    """Disable a user (their sessions end)."""
    _set_active(ctx, email, False)


@subcommand(users, "enable", "email")
def users_enable(ctx: Context, email: str) -> None:
    """Enable a disabled user."""
    _set_active(ctx, email, True)


def _set_active(ctx: Context, email: str, active: bool) -> None:
    from jobdeck import accounts

    accounts.set_active(ctx.deck.store, ctx.deck.clock, cli_actor(), email, active)
    click.echo(f"{email} {'enabled' if active else 'disabled'}")


@subcommand(users, "reset-password", "email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_reset_password(ctx: Context, email: str, password_stdin: bool) -> None:
    """Set a new password (their sessions end)."""
    from jobdeck import accounts

    accounts.reset_password(
        ctx.deck.store, ctx.deck.clock, cli_actor(), email, _read_password(password_stdin)
    )
    click.echo(f"password of {email} reset")


@click.group()
def tokens() -> None:
    """API tokens for scripts (Authorization: Bearer ...)."""


@subcommand(tokens, "create", "name")
@click.option("--role", required=True)
def tokens_create(ctx: Context, name: str, role: str) -> None:
    """Create a token; it is printed once and stored only as a digest."""
    from jobdeck import accounts

    policy = accounts.AccessPolicy.from_settings(ctx.deck.settings.role_permissions)
    secret, token = accounts.create_token(
        ctx.deck.store, ctx.deck.clock, policy, cli_actor(), name, role
    )
    click.echo(f"token {token.id} ({token.role}); copy it now, it is not shown again:")
    click.echo(secret)


@tokens.command("list")
@common_options
@json_option
def tokens_list(ctx: Context, as_json: bool) -> None:
    """Tokens with role, prefix, last use and status."""
    from jobdeck.cli.views import print_rows, rows_json, tokens_table

    print_rows(ctx.deck.store.list_tokens(), as_json, tokens_table, rows_json)


@subcommand(tokens, "revoke", "token_id", type=int)
def tokens_revoke(ctx: Context, token_id: int) -> None:
    """Revoke a token at once."""
    from jobdeck import accounts

    accounts.revoke_token(ctx.deck.store, ctx.deck.clock, cli_actor(), token_id)
    click.echo(f"token {token_id} revoked")
