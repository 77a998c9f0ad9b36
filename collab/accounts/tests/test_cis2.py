"""CIS2 sign-in against a local fake OIDC provider: code flow with PKCE and nonce, ID token
verified against the JWKS, its acr a multi-factor class (AAL2 or AAL3), selected role mapped to a
local role; no role, a mismatched sub, or a password-only or unstated acr gets no access."""

import os
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import httpx
import pytest
from django.utils import timezone

from collab.accounts import oidc
from collab.accounts.models import Cis2Identity, Role
from collab.accounts.tests.fake_cis2 import configured
from collab.core.models import AuditEvent
from collab.core.tests.factories import PracticeFactory, RoleAssignmentFactory

pytestmark = pytest.mark.django_db
SUB = "555042712105"


@pytest.fixture
def cis2(settings):
    with configured(settings) as fake:
        yield fake


@pytest.fixture
def gp():
    practice = PracticeFactory(ods_code="M81026")
    assignment = RoleAssignmentFactory(organisation=practice, role=Role.GP)
    RoleAssignmentFactory(user=assignment.user, organisation=practice, role=Role.PRACTICE_MANAGER)
    Cis2Identity.objects.create(user=assignment.user, sub=SUB, linked_at=timezone.now())
    return assignment


ROLES = [
    {"person_roleid": "100000000001", "org_code": "M81026", "role_code": "S8000:G8000:R8000",
     "role_name": '"Clinical":"Clinical Provision":"Clinical Practitioner Access Role"'},
    {"person_roleid": "100000000002", "org_code": "M81012", "role_code": "S8000:G8000:R8000"},
    {"person_roleid": "100000000003", "org_code": "M81026", "role_code": "S8000:G8000:R8003"},
]


def sign_in(client, fake, *, tamper=None):
    """Start at collab, through the fake CIS2 (``tamper`` may rewrite the authorize query on the way), back."""
    r = client.get("/account/cis2/")
    assert r.status_code == 302
    auth = urllib.parse.urlparse(r["Location"])
    params = dict(urllib.parse.parse_qsl(auth.query))
    assert params["code_challenge_method"] == "S256" and params["nonce"] and params["state"]
    url = auth._replace(query=urllib.parse.urlencode(tamper(params))).geturl() if tamper else r["Location"]
    back = httpx.get(url, follow_redirects=False)
    callback = urllib.parse.urlparse(back.headers["Location"])
    return client.get(callback.path + "?" + callback.query)


def test_selected_role_maps_to_the_local_role_and_opens_pages_without_totp(client, cis2, gp):
    cis2.sign_in_as(sub=SUB, roles=ROLES, selected_roleid="100000000001")
    r = sign_in(client, cis2)
    assert r.status_code == 302 and r["Location"] == "/"
    assert client.session["collab_acting_assignment"] == gp.pk
    assert client.get("/hub/slots/").status_code == 200
    row = AuditEvent.objects.get(action="signin.cis2")
    assert (row.outcome, row.role, row.organisation_ods) == ("allowed", "gp", "M81026")
    assert row.reason == "selected_roleid 100000000001, acr AAL2_OR_AAL3_ANY"


@pytest.mark.parametrize(("case", "selected", "message"), [
    ("no role selected", None, b"no role selected"),
    ("role at another organisation", "100000000002", b"does not give you access"),
    ("role with no local equivalent", "100000000003", b"does not give you access"),
    ("unknown role id", "999", b"was not found"),
])
def test_no_usable_role_means_no_access(client, cis2, gp, case, selected, message):
    cis2.sign_in_as(sub=SUB, roles=ROLES, selected_roleid=selected)
    r = sign_in(client, cis2)
    assert r.status_code == 403 and message in r.content, case
    assert "_auth_user_id" not in client.session
    assert client.get("/hub/slots/").status_code == 302
    assert AuditEvent.objects.get(action="signin.cis2").outcome == "refused"


def test_mismatched_sub_is_refused(client, cis2, gp):
    cis2.sign_in_as(sub=SUB, roles=ROLES, selected_roleid="100000000001")
    cis2.userinfo_sub_override = "someone-else"
    r = sign_in(client, cis2)
    assert r.status_code == 403 and "_auth_user_id" not in client.session
    assert "sub does not match" in AuditEvent.objects.get(action="signin.cis2").reason


def test_unlinked_sub_is_refused(client, cis2, gp):
    cis2.sign_in_as(sub="123456789012", roles=ROLES, selected_roleid="100000000001")
    r = sign_in(client, cis2)
    assert r.status_code == 403 and b"not linked" in r.content


@pytest.mark.parametrize("tamper", ["wrong_key", "wrong_nonce"])
def test_id_token_must_verify(client, cis2, gp, tamper):
    cis2.sign_in_as(sub=SUB, roles=ROLES, selected_roleid="100000000001")
    if tamper == "wrong_key":
        cis2.sign_with_other_key = True
    else:
        cis2.nonce_override = "replayed"
    r = sign_in(client, cis2)
    assert r.status_code == 403 and "_auth_user_id" not in client.session


def test_state_must_match(client, cis2, gp):
    cis2.sign_in_as(sub=SUB, roles=ROLES, selected_roleid="100000000001")
    client.get("/account/cis2/")
    r = client.get("/account/cis2/callback/?code=x&state=forged")
    assert r.status_code == 403 and "_auth_user_id" not in client.session


def test_cis2_is_off_unless_configured(client, settings):
    settings.CIS2_ISSUER = ""
    assert client.get("/account/cis2/").status_code == 404
    assert b"cis2-sign-in" not in client.get("/account/sign-in/").content


def test_the_fake_signs_in_again_only_when_asked_and_says_when(cis2):
    """The fake keeps a single sign-on session as CIS2 does: prompt=login or max_age make it authenticate
    the user again; otherwise auth_time is when they last did."""
    long_ago = int(time.time()) - 3600
    cis2.sign_in_as(sub=SUB, roles=ROLES, selected_roleid="100000000001", authenticated_at=long_ago)

    def auth_time(**extra) -> int:
        query = {"client_id": cis2.client_id, "response_type": "code", "code_challenge_method": "S256",
                 "code_challenge": "x", "scope": "openid", "nonce": "n", "state": "s",
                 "redirect_uri": "http://testserver/account/cis2/callback/", **extra}
        r = httpx.get(cis2.issuer + "/authorize?" + urllib.parse.urlencode(query), follow_redirects=False)
        code = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(r.headers["Location"]).query))["code"]
        return cis2.codes[code]["auth_time"]

    assert auth_time() == long_ago
    assert auth_time(max_age="7200") == long_ago
    assert auth_time(max_age="60") >= int(time.time()) - 1
    cis2.authenticated_at[SUB] = long_ago
    assert auth_time(prompt="login") >= int(time.time()) - 1
    cis2.authenticated_at[SUB] = long_ago
    assert auth_time(max_age="0") >= int(time.time()) - 1


def test_a_reauthentication_round_trip_is_not_a_sign_in(client, cis2, gp):
    """A code that came back for a re-authentication cannot be used to sign in (the state says why it began)."""
    cis2.sign_in_as(sub=SUB, roles=ROLES, selected_roleid="100000000001")
    session = client.session
    url = oidc.reauthentication_url(session, return_to="/", context={"purpose": "test"}, acr_values="AAL3_ANY",
                                    accepted_acr=["AAL3_ANY"])
    session.save()
    back = urllib.parse.urlparse(httpx.get(url, follow_redirects=False).headers["Location"])
    params = dict(urllib.parse.parse_qsl(back.query))
    with pytest.raises(oidc.Cis2Refused, match="could not be verified"):
        oidc.complete(client.session, state=params["state"], code=params["code"])


def test_the_fake_answers_acr_values_with_the_class_the_sign_in_satisfied(cis2):
    """As CIS2 does: acr names the requested class (first in order of preference) the authentication satisfied.
    acr_values is a voluntary request (OIDC Core 3.1.2.1), so a weaker authenticator still signs in, and the
    acr then says what it did satisfy: the relying party has to check it."""
    cis2.sign_in_as(sub=SUB, roles=ROLES, selected_roleid="100000000001")

    def acr(**extra) -> str:
        query = {"client_id": cis2.client_id, "response_type": "code", "code_challenge_method": "S256",
                 "code_challenge": "x", "scope": "openid", "nonce": "n", "state": "s", "prompt": "login",
                 "redirect_uri": "http://testserver/account/cis2/callback/", **extra}
        r = httpx.get(cis2.issuer + "/authorize?" + urllib.parse.urlencode(query), follow_redirects=False)
        code = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(r.headers["Location"]).query))["code"]
        return cis2.codes[code]["acr"]

    assert acr() == "AAL3_ANY"
    assert acr(acr_values="AAL3_ANY") == "AAL3_ANY"
    assert acr(acr_values="AAL2_OR_AAL3_ANY") == "AAL2_OR_AAL3_ANY"
    assert acr(acr_values="AAL2_ANY AAL2_OR_AAL3_ANY AAL3_ANY") == "AAL2_OR_AAL3_ANY"
    cis2.authenticator_aal = 2
    assert acr() == "AAL2_ANY"
    assert acr(acr_values="AAL3_ANY") == "AAL2_ANY"
    assert acr(acr_values="AAL3_ANY AAL2_OR_AAL3_ANY") == "AAL2_OR_AAL3_ANY"
    cis2.authenticator_aal = 1
    assert acr(acr_values="AAL3_ANY") == "AAL1_USERPASS"
    # Without prompt=login the single sign-on session answers, at the strength it was opened with.
    cis2.authenticator_aal = 3
    assert acr(prompt="", acr_values="AAL3_ANY") == "AAL1_USERPASS"


def _without_acr_values(params: dict) -> dict:
    """What a tampering browser (or a proxy) can do on the way to CIS2: drop the level asked for."""
    return {k: v for k, v in params.items() if k != "acr_values"}


def test_sign_in_asks_cis2_for_a_multi_factor_authentication(client, cis2, gp, settings):
    """acr_values asks for AAL2 or AAL3, and the classes the answer must carry are kept with the round trip."""
    cis2.sign_in_as(sub=SUB, roles=ROLES, selected_roleid="100000000001")
    r = client.get("/account/cis2/")
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(r["Location"]).query))
    assert params["acr_values"] == settings.CIS2_SIGN_IN_ACR_VALUES == "AAL2_OR_AAL3_ANY"
    assert "prompt" not in params and "max_age" not in params  # signing in may use CIS2's single sign-on
    assert client.session["collab_cis2_pending"]["accepted_acr"] == list(settings.CIS2_SIGN_IN_ACCEPTED_ACR)


def test_the_accepted_classes_are_the_multi_factor_ones():
    """The defaults: CIS2's AAL2 and AAL3 classes (NHS England, "ACR and AMR values"), never password only."""
    from django.conf import settings

    assert set(settings.CIS2_SIGN_IN_ACCEPTED_ACR) == {
        "AAL2_OR_AAL3_ANY", "AAL2_ANY", "AAL3_ANY", "AAL3_IOS", "AAL3_FIDO2", "AAL3_N3_SMARTCARD"}


def test_collab_will_not_start_accepting_a_password_only_cis2_sign_in(tmp_path):
    """A CIS2 sign-in stands in for the second factor, so configuring AAL1_USERPASS as accepted is refused."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "COLLAB_"))}
    env.update(COLLAB_ENV="test", COLLAB_SQLITE_PATH=str(tmp_path / "acr.sqlite3"),
               COLLAB_CIS2_SIGN_IN_ACCEPTED_ACR="AAL2_ANY AAL3_ANY AAL1_USERPASS")
    env.pop("DATABASE_URL", None)
    out = subprocess.run([sys.executable, "-c", "import collab.config.settings"], env=env, capture_output=True,
                         text=True, cwd=Path(__file__).resolve().parents[3])
    assert out.returncode != 0 and "must not accept AAL1_USERPASS" in out.stderr, out.stderr[-500:]


@pytest.mark.parametrize(("authenticator_aal", "tamper", "acr"), [
    (3, None, "AAL2_OR_AAL3_ANY"),   # smartcard: CIS2 names the requested class it satisfied
    (2, None, "AAL2_OR_AAL3_ANY"),   # another multi-factor authenticator
    (3, _without_acr_values, "AAL3_ANY"),  # nothing asked for: CIS2 names the authenticator's own class
    (2, _without_acr_values, "AAL2_ANY"),
])
def test_an_aal2_or_aal3_sign_in_is_the_second_factor(client, cis2, gp, authenticator_aal, tamper, acr):
    cis2.sign_in_as(sub=SUB, roles=ROLES, selected_roleid="100000000001")
    cis2.authenticator_aal = authenticator_aal
    r = sign_in(client, cis2, tamper=tamper)
    assert r.status_code == 302 and r["Location"] == "/"
    assert client.session["auth_method"] == "cis2" and client.session["_auth_user_id"] == str(gp.user_id)
    assert client.get("/hub/slots/").status_code == 200  # no collab security code asked for
    row = AuditEvent.objects.get(action="signin.cis2")
    assert (row.outcome, row.username) == ("allowed", gp.user.username)
    assert row.reason.endswith(f", acr {acr}")


@pytest.mark.parametrize(("case", "audit_says"), [
    ("password only", "acr AAL1_USERPASS is not one of AAL2_OR_AAL3_ANY AAL2_ANY AAL3_ANY"),
    ("password only, acr_values stripped", "acr AAL1_USERPASS is not one of AAL2_OR_AAL3_ANY"),
    ("no acr", "ID token has no acr"),
    ("no acr, AAL3 authenticator", "ID token has no acr"),
])
def test_a_sign_in_that_is_not_multi_factor_signs_nobody_in(client, cis2, gp, case, audit_says):
    """A password-only CIS2 sign-in, or one whose strength CIS2 does not state, would skip collab's second
    factor: refused, audited as other CIS2 sign-in refusals are, and the page says what to do instead."""
    cis2.sign_in_as(sub=SUB, roles=ROLES, selected_roleid="100000000001")
    cis2.authenticator_aal = 3 if case == "no acr, AAL3 authenticator" else 1
    cis2.omit_acr = case.startswith("no acr")
    r = sign_in(client, cis2, tamper=_without_acr_values if "stripped" in case else None)

    assert r.status_code == 403, case
    page = r.content.decode()
    assert "Your NHS CIS2 sign-in was not strong enough" in page and 'id="cis2-refused"' in page
    assert "smartcard or another authenticator that uses more than a password" in page
    assert 'href="/account/cis2/"' in page and "multi-factor authenticator" in page
    assert 'href="/account/sign-in/"' in page and "password and security code" in page
    assert "_auth_user_id" not in client.session and "auth_method" not in client.session
    assert client.get("/hub/slots/").status_code == 302
    row = AuditEvent.objects.get(action="signin.cis2")
    assert (row.outcome, row.user_id, row.username, row.role, row.organisation_ods) == ("refused", None, "", "", "")
    assert audit_says in row.reason, row.reason


def test_the_level_asked_for_and_accepted_are_settings(client, cis2, gp, settings):
    """A deployment that wants smartcard-strength sign-in asks for AAL3 and accepts only AAL3: AAL2 is refused."""
    settings.CIS2_SIGN_IN_ACR_VALUES = "AAL3_ANY"
    settings.CIS2_SIGN_IN_ACCEPTED_ACR = ("AAL3_ANY", "AAL3_N3_SMARTCARD")
    cis2.sign_in_as(sub=SUB, roles=ROLES, selected_roleid="100000000001")
    cis2.authenticator_aal = 2
    r = sign_in(client, cis2)
    assert r.status_code == 403 and cis2.authorize_requests[-1]["acr_values"] == "AAL3_ANY"
    assert AuditEvent.objects.get(action="signin.cis2").reason == "acr AAL2_ANY is not one of AAL3_ANY AAL3_N3_SMARTCARD"
