"""CIS2 sign-in against a local fake OIDC provider: code flow with PKCE and nonce, ID token
verified against the JWKS, selected role mapped to a local role; no role or a mismatched sub
gets no access."""

import time
import urllib.parse

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


def sign_in(client, fake):
    r = client.get("/account/cis2/")
    assert r.status_code == 302
    auth = urllib.parse.urlparse(r["Location"])
    params = dict(urllib.parse.parse_qsl(auth.query))
    assert params["code_challenge_method"] == "S256" and params["nonce"] and params["state"]
    back = httpx.get(r["Location"], follow_redirects=False)
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


def test_ordinary_sign_in_asks_for_no_assurance_level_and_still_takes_an_aal2_authenticator(client, cis2, gp):
    """Only break-glass asks CIS2 for AAL3 (ADR 0003); signing in is unchanged."""
    cis2.sign_in_as(sub=SUB, roles=ROLES, selected_roleid="100000000001")
    cis2.authenticator_aal = 2
    r = sign_in(client, cis2)
    assert r.status_code == 302 and client.session["auth_method"] == "cis2"
    assert "acr_values" not in cis2.authorize_requests[-1]
