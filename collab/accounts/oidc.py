"""Sign in with NHS CIS2: OpenID Connect, authorization code flow with PKCE and a nonce.

1. ``authorization_url`` makes a state, a nonce and a PKCE verifier (kept in the session) and
   sends the browser to the provider, asking for a multi-factor sign-in (``acr_values``).
2. ``complete`` checks the state, exchanges the code (with the verifier) at the token endpoint,
   verifies the ID token with PyJWT against the provider's JWKS (signature, issuer, audience,
   expiry, nonce), fetches UserInfo and refuses a ``sub`` that differs from the ID token's, and
   refuses an ID token whose ``acr`` is missing or not an accepted multi-factor class (below).
3. The ``sub`` must be linked to a local user (Cis2Identity); the role the user selected at
   CIS2 (``selected_roleid``) is looked up in their ``nhsid_nrbac_roles`` and mapped to exactly one
   local RoleAssignment: same organisation (ODS code), same national RBAC job role. A user with no
   selected role, or one that maps to nothing, gets no access.

Re-authentication (before break-glass) is the same round trip with ``prompt=login`` and
``max_age=0`` (``reauthentication_url``, then ``reauthenticate``). Neither parameter can be trusted
to have reached the provider (the browser carries them), so the answer is checked instead: the ID
token's ``auth_time`` must be present, at most REAUTH_MAX_AGE_SECONDS old, and not earlier than the
moment the re-authentication was asked for; and its ``sub`` must be the signed-in user's linked
identity. OpenID Connect Core 1.0 section 3.1.2.1: with ``prompt=login`` the provider must
re-authenticate the user, and "when max_age is used, the ID Token returned MUST include an auth_time
Claim"; CIS2 Authentication conforms to OpenID Connect (its "Sign in journey" guidance).

How strongly the user authenticated matters on both round trips. The caller names the
Authentication Context Class it asks for (``acr_values``) and the classes it accepts (kept with the
round trip in the session); the ID token's ``acr`` claim must be one of those, else nobody is signed
in and nothing is confirmed. ``acr_values`` is only a request (OpenID Connect Core 3.1.2.1 makes it a
voluntary claim, and the browser carries it too), so the answer is what counts, and a token with no
``acr`` is refused. CIS2 puts the authenticator assurance level in ``acr`` (AAL3 "very high
confidence": smartcards and the like; AAL2 "high confidence", still multi-factor; and a password-only
class, ``AAL1_USERPASS``; NHS England, CIS2 Authentication "Authenticator guidance for developers",
https://digital.nhs.uk/services/care-identity-service/applications-and-services/cis2-authentication/guidance-for-developers/detailed-guidance/acr-values).
Sign-in asks for ``AAL2_OR_AAL3_ANY`` and accepts only multi-factor classes (AAL2 or AAL3:
settings.CIS2_SIGN_IN_*), which is why a CIS2 sign-in needs no collab security code; break-glass
re-authentication asks for and accepts only AAL3 (settings.CIS2_BREAK_GLASS_*).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass

import jwt
from django.conf import settings

from collab.accounts.models import RBAC_JOB_ROLES, Cis2Identity, RoleAssignment, User

SESSION_KEY = "collab_cis2_pending"
# Why the browser went to CIS2: to sign in, or to confirm who is already signed in.
SIGN_IN = "sign_in"
REAUTHENTICATE = "reauthenticate"
# How recent a re-authentication must be (OIDC auth_time), and the clock skew allowed between CIS2
# and us when checking that it happened after it was asked for.
REAUTH_MAX_AGE_SECONDS = 300
REAUTH_CLOCK_SKEW_SECONDS = 5
PENDING_MAX_SECONDS = 600
# The outcome of a re-authentication, kept in the session for the page that asked for it, once.
OUTCOME_KEY = "collab_cis2_reauthentication"
OUTCOME_MAX_SECONDS = 60
# A sign-in or re-authentication CIS2 did not confirm at an accepted assurance level (its ID token's acr).
WEAK_ACR = "weak_acr"
WEAK_ACR_MESSAGE = ("CIS2 did not confirm that you signed in again with your smartcard, or another authenticator "
                    "as strong. Try again, and use your smartcard when CIS2 asks.")
SIGN_IN_WEAK_ACR_MESSAGE = ("NHS CIS2 did not confirm that you signed in with your smartcard or another authenticator "
                            "that uses more than a password, so you have not been signed in to collab.")
_discovery_cache: dict[str, tuple[float, dict]] = {}
_jwks_clients: dict[str, jwt.PyJWKClient] = {}


class Cis2Refused(Exception):
    """Sign-in refused; ``message`` is safe to show, ``reason`` goes to the audit trail, ``code`` (if any)
    lets the page that asked explain a particular refusal in its own words (``WEAK_ACR``)."""

    def __init__(self, message: str, reason: str = "", *, code: str = ""):
        super().__init__(message)
        self.message = message
        self.reason = reason or message
        self.code = code


@dataclass(frozen=True, slots=True)
class Cis2SignIn:
    user: User
    assignment: RoleAssignment
    sub: str
    selected_roleid: str
    acr: str


@dataclass(frozen=True, slots=True)
class Cis2Reauthentication:
    sub: str
    auth_time: int
    acr: str


def enabled() -> bool:
    return bool(settings.CIS2_ISSUER and settings.CIS2_CLIENT_ID)


def _check_url(url: str) -> str:
    local = url.startswith(("http://127.0.0.1", "http://localhost"))
    if not url.startswith("https://") and not (local and not settings.PRODUCTION):
        raise Cis2Refused("CIS2 is not available", f"refusing non-HTTPS endpoint {url}")
    return url


def _http_json(url: str, *, data: dict | None = None, token: str = "") -> dict:
    headers = {"Accept": "application/json"}
    body = None
    if data is not None:
        body = urllib.parse.urlencode(data).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(_check_url(url), data=body, headers=headers, method="POST" if body else "GET")  # noqa: S310
    try:
        with urllib.request.urlopen(req, timeout=settings.CIS2_TIMEOUT_SECONDS) as resp:  # noqa: S310 - checked
            return json.loads(resp.read())
    except (OSError, ValueError) as e:
        raise Cis2Refused("CIS2 did not answer. Try again, or sign in with your password.", f"{url}: {e}") from e


def discovery() -> dict:
    issuer = settings.CIS2_ISSUER.rstrip("/")
    hit = _discovery_cache.get(issuer)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    doc = _http_json(issuer + "/.well-known/openid-configuration")
    if doc.get("issuer", "").rstrip("/") != issuer:
        raise Cis2Refused("CIS2 is not available", "discovery issuer does not match the configured issuer")
    _discovery_cache[issuer] = (time.monotonic() + 3600, doc)
    return doc


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _authorize(session, *, purpose: str, acr_values: str, accepted_acr: Iterable[str], extra: dict | None = None,
               keep: dict | None = None) -> str:
    """A fresh state, nonce and PKCE verifier for every round trip, kept in the session.

    ``acr_values`` (space-separated, in order of preference) is the assurance asked of CIS2;
    ``accepted_acr`` (kept in the session) the ``acr`` values the answer must carry (``_check_acr``).
    Accepting nothing refuses everything.
    """
    doc = discovery()
    state, nonce, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48)
    session[SESSION_KEY] = {"state": state, "nonce": nonce, "verifier": verifier, "at": time.time(),
                            "purpose": purpose, "accepted_acr": list(accepted_acr), **(keep or {})}
    query = urllib.parse.urlencode({
        "response_type": "code", "client_id": settings.CIS2_CLIENT_ID, "redirect_uri": settings.CIS2_REDIRECT_URI,
        "scope": settings.CIS2_SCOPES, "state": state, "nonce": nonce,
        "code_challenge": _b64(hashlib.sha256(verifier.encode()).digest()), "code_challenge_method": "S256",
        **({"acr_values": acr_values} if acr_values else {}), **(extra or {}),
    })
    return _check_url(doc["authorization_endpoint"]) + "?" + query


def authorization_url(session, *, acr_values: str, accepted_acr: Iterable[str]) -> str:
    """Send the browser to CIS2 to sign in, asking for ``acr_values``; ``complete`` takes only ``accepted_acr``."""
    return _authorize(session, purpose=SIGN_IN, acr_values=acr_values, accepted_acr=accepted_acr)


def reauthentication_url(session, *, return_to: str, context: dict, acr_values: str,
                         accepted_acr: Iterable[str]) -> str:
    """Send the signed-in user back to CIS2 to prove, now, that it is them (prompt=login, max_age=0).

    ``return_to`` (a local path) is where the callback sends the browser with the outcome;
    ``context`` (what is being confirmed, e.g. a break-glass reason) stays in the session, never in a URL.
    ``acr_values`` and ``accepted_acr`` as for ``_authorize``: the ``acr`` values ``reauthenticate`` will take.
    """
    return _authorize(session, purpose=REAUTHENTICATE, acr_values=acr_values, accepted_acr=accepted_acr,
                      extra={"prompt": "login", "max_age": "0"}, keep={"return_to": return_to, "context": context})


def pending(session) -> dict | None:
    """The round trip in progress, if any (not removed: ``complete``/``reauthenticate`` do that)."""
    return session.get(SESSION_KEY)


def _verify_id_token(id_token: str, *, doc: dict, nonce: str) -> dict:
    jwks_uri = _check_url(doc["jwks_uri"])
    client = _jwks_clients.setdefault(jwks_uri, jwt.PyJWKClient(jwks_uri, cache_keys=True, lifespan=3600))
    try:
        key = client.get_signing_key_from_jwt(id_token)
        claims = jwt.decode(
            id_token, key.key, algorithms=["RS256", "RS512", "ES256"], audience=settings.CIS2_CLIENT_ID,
            issuer=doc["issuer"], options={"require": ["exp", "iat", "sub", "aud", "iss", "nonce"]}, leeway=30,
        )
    except jwt.PyJWTError as e:
        raise Cis2Refused("CIS2 sign-in could not be verified", f"ID token invalid: {e}") from e
    if not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
        raise Cis2Refused("CIS2 sign-in could not be verified", "ID token nonce does not match")
    return claims


def _check_acr(claims: dict, started: dict, *, message: str) -> str:
    """The ID token's ``acr``, if it is one the round trip said it would accept; else refused (``WEAK_ACR``)."""
    acr = claims.get("acr")
    if not isinstance(acr, str) or not acr:
        raise Cis2Refused(message, "ID token has no acr", code=WEAK_ACR)
    accepted = started.get("accepted_acr") or []
    if acr not in accepted:
        raise Cis2Refused(message, f"acr {acr[:40]} is not one of {' '.join(accepted) or 'none'}", code=WEAK_ACR)
    return acr


def _rbac_code(role_code: str) -> str:
    """The job role code from CIS2's "S8000:G8000:R8000" (or a bare "R8000")."""
    return next((part for part in role_code.split(":") if part.startswith("R")), "")


def map_role(*, user: User, selected_roleid: str, nrbac_roles: list[dict]) -> RoleAssignment:
    if not selected_roleid:
        raise Cis2Refused("You have no role selected in your NHS Care Identity, so you have no access to collab.",
                          "no selected_roleid")
    selected = next((r for r in nrbac_roles if str(r.get("person_roleid")) == str(selected_roleid)), None)
    if selected is None:
        raise Cis2Refused("Your selected role was not found. Sign in again and choose a role.",
                          f"selected_roleid {selected_roleid} not in nhsid_nrbac_roles")
    ods, code = selected.get("org_code", ""), _rbac_code(selected.get("role_code", ""))
    candidates = [a for a in RoleAssignment.objects.filter(user=user, is_active=True, organisation__ods_code=ods)
                  .select_related("organisation", "user", "service") if RBAC_JOB_ROLES.get(a.role) == code]
    if len(candidates) != 1:
        raise Cis2Refused("Your selected role does not give you access to collab. Ask your administrator.",
                          f"{len(candidates)} local roles match {code} at {ods}")
    return candidates[0]


def _exchange(session, *, purpose: str, state: str, code: str, error: str) -> tuple[dict, dict, dict]:
    """Check the state, swap the code for tokens, verify the ID token and UserInfo.

    Returns (ID token claims, UserInfo, the round trip as started). The round trip is used once.
    """
    started = session.pop(SESSION_KEY, None)
    if error:
        raise Cis2Refused("CIS2 sign-in was cancelled or failed.", f"provider error {error}"[:120])
    if not started or not state or not secrets.compare_digest(started["state"], state):
        raise Cis2Refused("CIS2 sign-in could not be verified. Start again.", "state does not match")
    if started.get("purpose", SIGN_IN) != purpose:
        raise Cis2Refused("CIS2 sign-in could not be verified. Start again.",
                          f"round trip was for {started.get('purpose')}, not {purpose}")
    if time.time() - started["at"] > PENDING_MAX_SECONDS:
        raise Cis2Refused("CIS2 sign-in took too long. Start again.", "sign-in older than 10 minutes")
    doc = discovery()
    tokens = _http_json(doc["token_endpoint"], data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": settings.CIS2_REDIRECT_URI,
        "client_id": settings.CIS2_CLIENT_ID, "client_secret": settings.CIS2_CLIENT_SECRET,
        "code_verifier": started["verifier"],
    })
    if "id_token" not in tokens or "access_token" not in tokens:
        raise Cis2Refused("CIS2 sign-in could not be verified", f"token endpoint: {tokens.get('error', 'no tokens')}")
    claims = _verify_id_token(tokens["id_token"], doc=doc, nonce=started["nonce"])
    userinfo = _http_json(doc["userinfo_endpoint"], token=tokens["access_token"])
    if userinfo.get("sub") != claims["sub"]:
        raise Cis2Refused("CIS2 sign-in could not be verified", "UserInfo sub does not match the ID token sub")
    return claims, userinfo, started


def complete(session, *, state: str, code: str, error: str = "") -> Cis2SignIn:
    """Finish an ``authorization_url`` round trip: who signed in, and the one local role they act in.

    Refused unless the ID token verifies, its ``acr`` is one of the (multi-factor) classes the round
    trip said it would accept, its ``sub`` is linked to an active account and the selected role maps.
    """
    claims, userinfo, started = _exchange(session, purpose=SIGN_IN, state=state, code=code, error=error)
    acr = _check_acr(claims, started, message=SIGN_IN_WEAK_ACR_MESSAGE)
    link = Cis2Identity.objects.select_related("user").filter(sub=claims["sub"], user__is_active=True).first()
    if link is None:
        raise Cis2Refused("Your NHS Care Identity is not linked to a collab account. Ask your administrator.",
                          f"sub {claims['sub']} not linked")
    selected = str(claims.get("selected_roleid") or userinfo.get("selected_roleid") or "")
    assignment = map_role(user=link.user, selected_roleid=selected, nrbac_roles=userinfo.get("nhsid_nrbac_roles", []))
    return Cis2SignIn(user=link.user, assignment=assignment, sub=claims["sub"], selected_roleid=selected, acr=acr)


def reauthenticate(session, *, user: User, state: str, code: str, error: str = "") -> Cis2Reauthentication:
    """Finish a ``reauthentication_url`` round trip: the signed-in ``user`` proved it is them, just now.

    Refused unless the ID token verifies as at sign-in, its ``sub`` is the identity linked to ``user``,
    its ``auth_time`` is no older than REAUTH_MAX_AGE_SECONDS and not before the round trip began, and
    its ``acr`` is one of the values the round trip said it would accept.
    """
    claims, _userinfo, started = _exchange(session, purpose=REAUTHENTICATE, state=state, code=code, error=error)
    linked = Cis2Identity.objects.filter(user=user, user__is_active=True).values_list("sub", flat=True).first()
    if linked is None:
        raise Cis2Refused("Your collab account is not linked to an NHS Care Identity. Ask your administrator.",
                          f"user {user.username} has no linked CIS2 identity")
    if not secrets.compare_digest(str(claims["sub"]), linked):
        raise Cis2Refused("You confirmed with a different NHS Care Identity from the one linked to your account. "
                          "Use your own smartcard or authenticator.", f"re-authenticated sub {claims['sub']} is not "
                          f"the linked {linked}")
    auth_time = claims.get("auth_time")
    if not isinstance(auth_time, int) or isinstance(auth_time, bool):
        raise Cis2Refused("CIS2 did not confirm when you signed in again. Try again.", "ID token has no auth_time")
    now = time.time()
    if auth_time > now + REAUTH_CLOCK_SKEW_SECONDS:
        raise Cis2Refused("CIS2 did not confirm when you signed in again. Try again.", "auth_time is in the future")
    if now - auth_time > REAUTH_MAX_AGE_SECONDS or auth_time < started["at"] - REAUTH_CLOCK_SKEW_SECONDS:
        raise Cis2Refused("CIS2 did not ask you to sign in again just now, so it cannot confirm it is you. Try "
                          "again, and sign in with your smartcard or authenticator when CIS2 asks.",
                          f"auth_time {int(now - auth_time)}s old, not a fresh sign-in")
    acr = _check_acr(claims, started, message=WEAK_ACR_MESSAGE)
    return Cis2Reauthentication(sub=claims["sub"], auth_time=auth_time, acr=acr)


def outcome_keep(session, *, user_id: int, context: dict, done: Cis2Reauthentication | None = None,
                 refused: Cis2Refused | None = None) -> None:
    """Keep the outcome of a re-authentication for the page that asked for it (``context`` says which)."""
    session[OUTCOME_KEY] = {
        "user_id": user_id, "context": context, "at": time.time(), "ok": done is not None,
        "sub": done.sub if done else "", "auth_time": done.auth_time if done else 0, "acr": done.acr if done else "",
        "message": refused.message if refused else "", "reason": refused.reason if refused else "",
        "code": refused.code if refused else "",
    }


def outcome_take(session, *, user_id: int) -> dict | None:
    """The outcome kept by ``outcome_keep``, used once, for this user, and only while it is fresh."""
    outcome = session.pop(OUTCOME_KEY, None)
    if not outcome or outcome.get("user_id") != user_id or time.time() - outcome.get("at", 0) > OUTCOME_MAX_SECONDS:
        return None
    return outcome
