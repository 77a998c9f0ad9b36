"""Bearer tokens: each acts as one user in one role at one organisation."""

from __future__ import annotations

import time

from ninja.security import HttpBearer

from collab.accounts.services import actor_from_assignment, api_token_assignment

# Token -> (expires_at, assignment): saves a query per request on the booking hot path.
# A revoked token stops working within TOKEN_CACHE_SECONDS.
TOKEN_CACHE_SECONDS = 30
_cache: dict[str, tuple[float, object]] = {}


class BearerToken(HttpBearer):
    def authenticate(self, request, token: str):
        now = time.monotonic()
        hit = _cache.get(token)
        if hit is not None and hit[0] > now:
            assignment = hit[1]
        else:
            assignment = api_token_assignment(token)
            if assignment is None:
                _cache.pop(token, None)
                return None
            if len(_cache) > 10_000:
                _cache.clear()
            _cache[token] = (now + TOKEN_CACHE_SECONDS, assignment)
        request.acting = assignment
        request.actor = actor_from_assignment(assignment, channel="api")
        return assignment
