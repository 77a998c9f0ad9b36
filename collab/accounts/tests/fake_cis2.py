"""A small fake of NHS CIS2 (an OpenID Connect provider) for tests: a WSGI app on a local port.

It does what the real provider does that collab relies on: discovery, an authorization endpoint
that redirects back with a code (for whichever identity the test has "put the smartcard in"),
a token endpoint that checks the client secret and the PKCE verifier and returns an RS256 ID
token carrying the nonce and ``selected_roleid``, a UserInfo endpoint with ``nhsid_nrbac_roles``,
and a JWKS. Knobs let tests make it misbehave (mismatched sub, wrong key, no role, a refusal, no
``auth_time``, no ``acr``) or sign the user in with a weaker authenticator (``authenticator_aal``).

Like the real provider it keeps a single sign-on session: a user who authenticated a moment ago
is not asked again, and the ID token's ``auth_time`` says when they last actively authenticated.
``prompt=login``, or ``max_age`` shorter than the time since then (``max_age=0`` always), makes it
authenticate them again. That is OpenID Connect Core 1.0 section 3.1.2.1 (prompt, max_age; "when
max_age is used, the ID Token returned MUST include an auth_time Claim"), which CIS2
Authentication follows: it "conforms to the open standard OpenID Connect" (NHS England, CIS2
Authentication guidance for developers, "Sign in journey",
https://digital.nhs.uk/services/care-identity-service/applications-and-services/cis2-authentication/guidance-for-developers/detailed-guidance/authorization-code-flow).
NHS services send max_age to CIS2 (NHSDigital/manage-vaccinations-in-schools#2239).

The ID token's ``acr`` says how strongly the user authenticated, as CIS2's does. CIS2 rates
authenticators AAL3 ("very high confidence": a smartcard and the like) or AAL2 ("high confidence"),
lets an application ask for a level with ``acr_values`` and names the class satisfied in ``acr``
(NHS England, CIS2 Authentication "Authenticator guidance for developers" and "ACR and AMR values",
https://digital.nhs.uk/services/care-identity-service/applications-and-services/cis2-authentication/guidance-for-developers/detailed-guidance/acr-values).
The class names are those NHS services use with CIS2: ``AAL3_ANY`` (a smartcard sign-in's ``acr``),
``AAL2_OR_AAL3_ANY``, ``AAL2_ANY`` and ``AAL1_USERPASS`` (password only).
``authenticator_aal`` is the level of the authenticator the user signs in with (3 unless a test
says otherwise). ``acr_values`` is honoured as OpenID Connect Core 1.0 section 3.1.2.1 defines it:
a request, in order of preference, answered with the first requested class the authentication
satisfied; it is a voluntary claim, so a class the user's authenticator cannot satisfy does not stop
the sign-in, and the ``acr`` then says what the authentication did satisfy (its own class). A
relying party must therefore check ``acr``, not trust that it asked. ``omit_acr`` leaves it out.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
import urllib.parse
from contextlib import contextmanager
from wsgiref.simple_server import WSGIRequestHandler, make_server

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


# Which authenticator assurance levels satisfy each Authentication Context Class, and each level's own class.
ACR_SATISFIED_BY = {"AAL3_ANY": {3}, "AAL2_OR_AAL3_ANY": {2, 3}, "AAL2_ANY": {2}, "AAL1_USERPASS": {1}}
ACR_OF_LEVEL = {3: "AAL3_ANY", 2: "AAL2_ANY", 1: "AAL1_USERPASS"}


class FakeCis2:
    def __init__(self, *, client_id: str = "collab-test", client_secret: str = "s3cret"):  # noqa: S107
        self.client_id, self.client_secret = client_id, client_secret
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.identity: dict = {}
        self.codes: dict[str, dict] = {}
        self.tokens: dict[str, dict] = {}
        self.userinfo_sub_override: str | None = None
        self.sign_with_other_key = False
        self.nonce_override: str | None = None
        # The single sign-on session: sub -> when that user last actively authenticated (epoch seconds).
        self.authenticated_at: dict[str, int] = {}
        self.omit_auth_time = False
        # The authenticator the user signs in with: its assurance level (3: smartcard or as strong).
        self.authenticator_aal = 3
        # The single sign-on session's strength: sub -> the level of the authentication at authenticated_at.
        self.authenticated_aal: dict[str, int] = {}
        self.omit_acr = False
        self.refuse_with: str | None = None  # an OAuth error code sent back instead of a code
        self.authorize_requests: list[dict] = []
        self._server = make_server("127.0.0.1", 0, self.app, handler_class=_Quiet)
        self.issuer = f"http://127.0.0.1:{self._server.server_port}/realms/NHSIdentity"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def sign_in_as(self, *, sub: str, roles: list[dict], selected_roleid: str | None,
                   authenticated_at: int | None = None):
        """Put this identity's smartcard in. ``authenticated_at``: they already have a CIS2 session from then."""
        self.identity = {"sub": sub, "roles": roles, "selected_roleid": selected_roleid}
        if authenticated_at is not None:
            self.authenticated_at[sub] = authenticated_at

    # ------------------------------------------------------------------ WSGI

    def app(self, environ, start_response):
        path = environ["PATH_INFO"].removeprefix("/realms/NHSIdentity")
        query = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", "")))
        body = {}
        if environ["REQUEST_METHOD"] == "POST":
            size = int(environ.get("CONTENT_LENGTH") or 0)
            body = dict(urllib.parse.parse_qsl(environ["wsgi.input"].read(size).decode()))
        handler = {"/.well-known/openid-configuration": self.discovery, "/authorize": self.authorize,
                   "/access_token": self.token, "/userinfo": self.userinfo, "/connect/jwk_uri": self.jwks}.get(path)
        if handler is None:
            return self._json(start_response, {"error": "not_found"}, "404 Not Found")
        return handler(start_response, query=query, body=body, environ=environ)

    def _json(self, start_response, doc, status="200 OK"):
        start_response(status, [("Content-Type", "application/json")])
        return [json.dumps(doc).encode()]

    def discovery(self, start_response, **_):
        return self._json(start_response, {
            "issuer": self.issuer, "authorization_endpoint": self.issuer + "/authorize",
            "token_endpoint": self.issuer + "/access_token", "userinfo_endpoint": self.issuer + "/userinfo",
            "jwks_uri": self.issuer + "/connect/jwk_uri", "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"], "id_token_signing_alg_values_supported": ["RS256"],
        })

    def authorize(self, start_response, query, **_):
        assert query["client_id"] == self.client_id and query["response_type"] == "code"
        assert query["code_challenge_method"] == "S256" and "openid" in query["scope"].split()
        self.authorize_requests.append(query)
        if self.refuse_with:
            location = query["redirect_uri"] + "?" + urllib.parse.urlencode(
                {"error": self.refuse_with, "state": query["state"]})
            start_response("302 Found", [("Location", location)])
            return [b""]
        now, sub = int(time.time()), self.identity["sub"]
        last = self.authenticated_at.get(sub)
        max_age = int(query["max_age"]) if "max_age" in query else None
        if (last is None or "login" in query.get("prompt", "").split()
                or (max_age is not None and (max_age == 0 or now - last > max_age))):
            self.authenticated_at[sub] = now  # the user signs in again, with their authenticator
            self.authenticated_aal[sub] = self.authenticator_aal
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"challenge": query["code_challenge"], "nonce": query["nonce"],
                            "redirect_uri": query["redirect_uri"], "auth_time": self.authenticated_at[sub],
                            "acr": self._acr(query.get("acr_values", ""), self.authenticated_aal.get(sub, 3)),
                            **self.identity}
        location = query["redirect_uri"] + "?" + urllib.parse.urlencode({"code": code, "state": query["state"]})
        start_response("302 Found", [("Location", location)])
        return [b""]

    @staticmethod
    def _acr(acr_values: str, level: int) -> str:
        """The first requested class this authentication satisfied; failing that, its own class."""
        satisfied = [acr for acr in acr_values.split() if level in ACR_SATISFIED_BY.get(acr, set())]
        return satisfied[0] if satisfied else ACR_OF_LEVEL[level]

    def token(self, start_response, body, **_):
        grant = self.codes.pop(body.get("code", ""), None)
        verifier = body.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if (grant is None or body.get("client_secret") != self.client_secret or challenge != grant["challenge"]
                or body.get("redirect_uri") != grant["redirect_uri"]):
            return self._json(start_response, {"error": "invalid_grant"}, "400 Bad Request")
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": self.client_id, "sub": grant["sub"], "iat": now, "exp": now + 300,
                  "nonce": self.nonce_override or grant["nonce"]}
        if not self.omit_acr:
            claims["acr"] = grant["acr"]
        if not self.omit_auth_time:
            claims["auth_time"] = grant["auth_time"]
        if grant["selected_roleid"]:
            claims["selected_roleid"] = grant["selected_roleid"]
        key = self.other_key if self.sign_with_other_key else self.key
        id_token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "fake-1"})
        access = secrets.token_urlsafe(16)
        self.tokens[access] = grant
        return self._json(start_response, {"access_token": access, "id_token": id_token, "token_type": "Bearer",
                                           "expires_in": 300})

    def userinfo(self, start_response, environ, **_):
        grant = self.tokens.get(environ.get("HTTP_AUTHORIZATION", "").removeprefix("Bearer "))
        if grant is None:
            return self._json(start_response, {"error": "invalid_token"}, "401 Unauthorized")
        return self._json(start_response, {
            "sub": self.userinfo_sub_override or grant["sub"], "nhsid_useruid": grant["sub"],
            "nhsid_nrbac_roles": grant["roles"], "name": "Test Clinician",
        })

    def jwks(self, start_response, **_):
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": "fake-1", "use": "sig", "alg": "RS256"})
        return self._json(start_response, {"keys": [jwk]})


@contextmanager
def configured(settings):
    """A running fake, with collab's CIS2 settings pointing at it (``settings``: pytest-django's fixture)."""
    from collab.accounts import oidc

    with FakeCis2() as fake:
        settings.CIS2_ISSUER = fake.issuer
        settings.CIS2_CLIENT_ID = fake.client_id
        settings.CIS2_CLIENT_SECRET = fake.client_secret
        settings.CIS2_REDIRECT_URI = "http://testserver/account/cis2/callback/"
        oidc._discovery_cache.clear()
        oidc._jwks_clients.clear()
        yield fake
