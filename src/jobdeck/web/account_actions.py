"""The accounts verbs (users and API tokens) as the admin page and the API call them: bound to
the request's store, clock and access policy and to the person acting, so that each surface
passes only what was typed, and both record the same audit trail."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from jobdeck import accounts
from jobdeck.accounts import AccessPolicy, Actor
from jobdeck.clock import Clock
from jobdeck.store.base import Store, TokenRow, UserRow
from jobdeck.web.access import Principal, actor_of
from jobdeck.web.params import deck_of


@dataclass(frozen=True)
class AccountActions:
    """``AccountActions.of(request, principal).add_user("a@example.com", password, "partner")``"""

    store: Store
    clock: Clock
    policy: AccessPolicy
    actor: Actor

    @classmethod
    def of(cls, request: Request, principal: Principal) -> AccountActions:
        deck = deck_of(request)
        return cls(deck.store, deck.clock, request.app.state.policy, actor_of(request, principal))

    def users(self) -> list[UserRow]:
        return self.store.list_users()

    def add_user(self, email: str, password: str, role: str, name: str | None = None) -> UserRow:
        return accounts.add_user(
            self.store, self.clock, self.policy, self.actor, email, password, role, name
        )

    def set_role(self, email: str, role: str) -> UserRow:
        return accounts.set_role(self.store, self.clock, self.policy, self.actor, email, role)

    def set_active(self, email: str, active: bool) -> UserRow:
        return accounts.set_active(self.store, self.clock, self.actor, email, active)

    def reset_password(self, email: str, password: str) -> UserRow:
        return accounts.reset_password(self.store, self.clock, self.actor, email, password)

    def tokens(self) -> list[TokenRow]:
        return self.store.list_tokens()

    def create_token(self, name: str, role: str) -> tuple[str, TokenRow]:
        """The secret (shown once, stored as a digest) and the token."""
        return accounts.create_token(self.store, self.clock, self.policy, self.actor, name, role)

    def revoke_token(self, token_id: int) -> None:
        accounts.revoke_token(self.store, self.clock, self.actor, token_id)
