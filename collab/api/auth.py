"""Bearer tokens: each acts as one user in one role at one organisation."""

from __future__ import annotations

import time

from ninja.security import HttpBearer

from collab.accounts.models import RoleAssignment
from collab.accounts.services import actor_from_assignment, api_token_assignment
from collab.core.audit import Actor

# Token -> (expires_at, assignment, actor): saves a query per request on the booking hot path.
# A revoked token stops working within TOKEN_CACHE_SECONDS.
TOKEN_CACHE_SECONDS = 30
_cache: dict[str, tuple[float, RoleAssignment, Actor]] = {}


def assignment_for_token(token: str) -> tuple[RoleAssignment, Actor] | None:
    """The role assignment a bearer token acts as, and the Actor the audit trail names; None if invalid."""
    now = time.monotonic()
    hit = _cache.get(token)
    if hit is not None and hit[0] > now:
        return hit[1], hit[2]
    assignment = api_token_assignment(token)
    if assignment is None:
        _cache.pop(token, None)
        return None
    if len(_cache) > 10_000:
        _cache.clear()
    actor = actor_from_assignment(assignment, channel="api")
    _cache[token] = (now + TOKEN_CACHE_SECONDS, assignment, actor)
    return assignment, actor


class BearerToken(HttpBearer):
    def authenticate(self, request, token: str):
        found = assignment_for_token(token)
        if found is None:
            return None
        request.acting, request.actor = found
        return found[0]
