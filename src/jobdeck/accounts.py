"""Users, passwords, sessions, API tokens and login throttling (audited through auditlog).

Shared by the dashboard, the REST API and the CLI. Passwords are argon2 hashes; session ids
and API tokens are random and stored only as SHA-256 digests.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from jobdeck.extras import require_extra

# Accounts belong to the dashboard: without its extra, say which pip command adds argon2.
require_extra("dashboard", "dashboard accounts and API tokens")

from argon2 import PasswordHasher  # noqa: E402
from argon2.exceptions import InvalidHashError, VerificationError  # noqa: E402

# Re-exported: accounts.Actor and accounts.audit were their home before auditlog.
from jobdeck.auditlog import Actor as Actor  # noqa: E402
from jobdeck.auditlog import audit as audit  # noqa: E402
from jobdeck.clock import Clock  # noqa: E402
from jobdeck.errors import ConfigError, JobDeckError  # noqa: E402
from jobdeck.store.base import (  # noqa: E402
    LoginAttempts,
    SessionRow,
    Store,
    TokenRow,
    UserRow,
)

# "enqueue" is its own permission: Run Now ("trigger") runs a schedule's declared arguments and
# Retry ("operate") a job someone already wrote, but New job runs any task with any arguments
# typed in, so a role given trigger or operate does not gain it silently.
PERMISSIONS = ("view", "logs", "trigger", "operate", "enqueue", "search", "admin")

DEFAULT_ROLES: Mapping[str, frozenset[str]] = {
    "admin": frozenset(PERMISSIONS),
    "partner": frozenset({"view", "logs", "trigger", "operate", "enqueue", "search"}),
    "attorney": frozenset({"search"}),
    "manager": frozenset(),
    "ca": frozenset(),
    "advocate": frozenset(),
    "user": frozenset(),
}

TOKEN_PREFIX = "jdk_"
_hasher = PasswordHasher()
# Verifying against this when the account does not exist costs the same time as a real check,
# so response time does not reveal which emails have accounts.
_DUMMY_HASH = _hasher.hash("jobdeck: not a password")


class LoginRefused(JobDeckError):
    """Wrong email or password, a disabled account, or too many attempts; one message for all."""

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class AccessPolicy:
    """Role map and timings; ``JobDeck(..., role_permissions={...})`` overrides the roles."""

    roles: Mapping[str, frozenset[str]] = field(default_factory=lambda: dict(DEFAULT_ROLES))
    session_idle: timedelta = timedelta(hours=2)
    session_absolute: timedelta = timedelta(hours=12)
    failures_before_delay: int = 5
    failure_window: timedelta = timedelta(minutes=15)
    max_lockout: timedelta = timedelta(minutes=15)

    @classmethod
    def from_settings(
        cls,
        role_permissions: Mapping[str, Any] | None,
        *,
        session_idle: float = 7200.0,
        session_absolute: float = 43200.0,
    ) -> AccessPolicy:
        idle, absolute = timedelta(seconds=session_idle), timedelta(seconds=session_absolute)
        if not role_permissions:
            return cls(session_idle=idle, session_absolute=absolute)
        roles: dict[str, frozenset[str]] = {}
        for role, permissions in role_permissions.items():
            unknown = set(permissions) - set(PERMISSIONS)
            if unknown:
                raise ConfigError(
                    f"role {role!r}: unknown permissions {sorted(unknown)}; "
                    f"use {', '.join(PERMISSIONS)}"
                )
            roles[role] = frozenset(permissions)
        return cls(roles=roles, session_idle=idle, session_absolute=absolute)

    def permissions(self, role: str) -> frozenset[str]:
        return self.roles.get(role, frozenset())

    def check_role(self, role: str) -> str:
        if role not in self.roles:
            raise ConfigError(f"unknown role {role!r}: use one of {', '.join(self.roles)}")
        return role


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# -- users ---------------------------------------------------------------------------------------


# RFC 5321 caps a path at 256 octets; argon2 takes any length, but a sane cap keeps a
# megabyte "password" from costing memory and time before it is refused.
MAX_EMAIL_LENGTH = 254
MAX_PASSWORD_LENGTH = 1024


def normalise_email(email: str) -> str:
    if len(email) > MAX_EMAIL_LENGTH:
        raise ConfigError(f"an email address has at most {MAX_EMAIL_LENGTH} characters")
    cleaned = email.strip().lower()
    if "@" not in cleaned or cleaned.startswith("@") or cleaned.endswith("@") or " " in cleaned:
        raise ConfigError(f"{email!r} is not an email address")
    return cleaned


def check_password_strength(password: str) -> None:
    if len(password) < 8:
        raise ConfigError("passwords need at least 8 characters")


def add_user(
    store: Store,
    clock: Clock,
    policy: AccessPolicy,
    actor: Actor,
    email: str,
    password: str,
    role: str,
    name: str | None = None,
) -> UserRow:
    address = normalise_email(email)
    policy.check_role(role)
    check_password_strength(password)
    user = store.create_user(
        address, name or address.split("@")[0], role, _hasher.hash(password), clock.now()
    )
    if user is None:
        raise ConfigError(f"a user with email {address} already exists")
    audit(store, clock, actor, "user_created", f"user {address}", {"role": role})
    return user


def set_role(
    store: Store, clock: Clock, policy: AccessPolicy, actor: Actor, email: str, role: str
) -> UserRow:
    user = _user(store, email)
    updated = store.update_user(user.id, clock.now(), role=policy.check_role(role))
    assert updated is not None
    store.delete_user_sessions(user.id)  # new permissions apply from the next login
    audit(
        store,
        clock,
        actor,
        "user_role_changed",
        f"user {user.email}",
        {"from": user.role, "to": role},
    )
    return updated


def set_active(store: Store, clock: Clock, actor: Actor, email: str, active: bool) -> UserRow:
    user = _user(store, email)
    updated = store.update_user(user.id, clock.now(), active=active)
    assert updated is not None
    if not active:
        store.delete_user_sessions(user.id)
    audit(
        store, clock, actor, "user_enabled" if active else "user_disabled", f"user {user.email}", {}
    )
    return updated


def reset_password(store: Store, clock: Clock, actor: Actor, email: str, password: str) -> UserRow:
    check_password_strength(password)
    user = _user(store, email)
    updated = store.update_user(user.id, clock.now(), password_hash=_hasher.hash(password))
    assert updated is not None
    store.delete_user_sessions(user.id)
    audit(store, clock, actor, "user_password_reset", f"user {user.email}", {})
    return updated


def _user(store: Store, email: str) -> UserRow:
    user = store.find_user(normalise_email(email))
    if user is None:
        raise ConfigError(f"no user with email {email.strip().lower()}")
    return user


# -- login, sessions -----------------------------------------------------------------------------

GENERIC_REFUSAL = "Wrong email or password."
TOO_LONG = (
    f"Email or password is too long (at most {MAX_EMAIL_LENGTH} and {MAX_PASSWORD_LENGTH} "
    "characters)."
)


def log_in(
    store: Store,
    clock: Clock,
    policy: AccessPolicy,
    email: str,
    password: str,
    ip: str | None,
    user_agent: str | None,
) -> tuple[str, SessionRow, UserRow]:
    """Check a password with throttling; returns (cookie value, session, user).

    Unknown emails, wrong passwords and disabled accounts all get the same answer, and are
    throttled per account and per client address with a growing delay.
    """
    if len(email) > MAX_EMAIL_LENGTH or len(password) > MAX_PASSWORD_LENGTH:
        raise LoginRefused(TOO_LONG)  # before anything is stored, throttles included
    now = clock.now()
    address = email.strip().lower()
    keys = [f"account:{address}", f"ip:{ip or '?'}"]
    wait = max(_locked_for(store, key, now) for key in keys)
    if wait:
        audit(
            store,
            clock,
            Actor(address or "?", None, ip),
            "login_throttled",
            f"user {address}",
            {"retry_after": wait},
        )
        raise LoginRefused(f"Too many attempts. Try again in {wait} s.", retry_after=wait)
    user = store.find_user(address)
    # One password check whatever the account's state: a disabled or unknown account takes
    # as long to refuse as a wrong password, so timing does not tell them apart.
    verified = _verify(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not user.active or not verified:
        for key in keys:
            _count_failure(store, policy, key, now)
        audit(
            store,
            clock,
            Actor(address or "?", None, ip),
            "login_failed",
            f"user {address}",
            {"reason": "bad credentials"},
        )
        raise LoginRefused(GENERIC_REFUSAL)
    for key in keys:
        store.clear_login_attempts(key)
    cookie, session = _new_session(store, clock, policy, user, ip, user_agent)
    store.record_login(user.id, now)
    audit(store, clock, Actor(user.email, user.role, ip), "login", f"user {user.email}", {})
    return cookie, session, user


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def verify_dummy(password: str) -> None:
    _verify(_DUMMY_HASH, password)


def _locked_for(store: Store, key: str, now: datetime) -> int:
    attempts = store.get_login_attempts(key)
    if attempts is None or attempts.locked_until is None or attempts.locked_until <= now:
        return 0
    return max(1, int((attempts.locked_until - now).total_seconds() + 0.999))


def _count_failure(store: Store, policy: AccessPolicy, key: str, now: datetime) -> None:
    previous = store.get_login_attempts(key)
    if previous is None or now - previous.window_started_at > policy.failure_window:
        previous = LoginAttempts(key, 0, now, None)
    failures = previous.failures + 1
    locked_until = None
    over = failures - policy.failures_before_delay
    if over >= 0:
        # 1 s, 2 s, 4 s... capped: a person who mistyped waits a moment, a script crawls.
        delay = min(timedelta(seconds=2**over), policy.max_lockout)
        locked_until = now + delay
    store.save_login_attempts(
        LoginAttempts(key, failures, previous.window_started_at, locked_until)
    )


def _new_session(
    store: Store,
    clock: Clock,
    policy: AccessPolicy,
    user: UserRow,
    ip: str | None,
    user_agent: str | None,
) -> tuple[str, SessionRow]:
    cookie = secrets.token_urlsafe(32)
    now = clock.now()
    session = SessionRow(
        digest(cookie),
        user.id,
        secrets.token_urlsafe(32),
        now,
        now,
        now + policy.session_absolute,
        ip,
        (user_agent or "")[:300],
    )
    store.create_session(session)
    return cookie, session


def session_user(
    store: Store, clock: Clock, policy: AccessPolicy, cookie: str
) -> tuple[SessionRow, UserRow] | None:
    """The session and user behind a cookie, or None when unknown, idle too long or expired."""
    session = store.get_session(digest(cookie))
    if session is None:
        return None
    now = clock.now()
    if now >= session.expires_at or now - session.last_seen_at > policy.session_idle:
        store.delete_session(session.id_hash)
        return None
    user = store.get_user(session.user_id)
    if user is None or not user.active:
        return None
    if now - session.last_seen_at > timedelta(minutes=1):  # one write a minute, not per request
        store.touch_session(session.id_hash, now)
    return session, user


def log_out(store: Store, clock: Clock, cookie: str, actor: Actor) -> None:
    store.delete_session(digest(cookie))
    audit(store, clock, actor, "logout", f"user {actor.name}", {})


def csrf_matches(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected, given or "")


# -- API tokens ----------------------------------------------------------------------------------


def create_token(
    store: Store, clock: Clock, policy: AccessPolicy, actor: Actor, name: str, role: str
) -> tuple[str, TokenRow]:
    """A new token (shown once) scoped to ``role``; only its digest is stored."""
    policy.check_role(role)
    if not name.strip():
        raise ConfigError("a token needs a name saying what uses it")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = store.create_token(
        name.strip()[:100], digest(secret), secret[:10], role, actor.name, clock.now()
    )
    audit(store, clock, actor, "token_created", f"token {token.id}", {"name": name, "role": role})
    return secret, token


def token_role(store: Store, clock: Clock, secret: str) -> TokenRow | None:
    token = store.find_token(digest(secret))
    if token is None or token.revoked_at is not None or _creator_disabled(store, token):
        return None
    now = clock.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        store.touch_token(token.id, now)
    return token


def _creator_disabled(store: Store, token: TokenRow) -> bool:
    """A token made on the dashboard dies with its maker's account; CLI-made tokens
    (created by ``cli:<user>``) have no account behind them."""
    creator = store.find_user(token.created_by) if "@" in token.created_by else None
    return creator is not None and not creator.active


def revoke_token(store: Store, clock: Clock, actor: Actor, token_id: int) -> None:
    if not store.revoke_token(token_id, clock.now()):
        raise ConfigError(f"no active token with id {token_id}")
    audit(store, clock, actor, "token_revoked", f"token {token_id}", {})
