"""Break-glass for a user who signed in with NHS CIS2 (no local password): the reason first, kept in
the session; then a fresh CIS2 sign-in (prompt=login, max_age=0, acr_values asking for AAL3, new state,
nonce and PKCE); the grant opens only if the ID token verifies, its sub is the user's linked identity,
its auth_time is fresh and after the request began, and its acr is an accepted AAL3 class. Every failure
grants nothing and is audited against the patient."""

from __future__ import annotations

import datetime as dt
import time
import urllib.parse

import httpx
import pytest
from django.utils import timezone

from collab.accounts.models import Cis2Identity, Role
from collab.accounts.tests.fake_cis2 import configured
from collab.core.models import AuditEvent
from collab.core.tests.factories import (
    CollaborativeFactory,
    PatientFactory,
    PracticeFactory,
    RoleAssignmentFactory,
)
from collab.patients.access import Action
from collab.patients.models import BreakGlassGrant

pytestmark = pytest.mark.django_db
SUB = "555042712105"
OTHER_SUB = "555042712199"
GP_ROLE = "100000000001"
MANAGER_ROLE = "100000000002"
ROLES = [
    {"person_roleid": GP_ROLE, "org_code": "HGP01", "role_code": "S8000:G8000:R8000"},
    {"person_roleid": MANAGER_ROLE, "org_code": "HGP01", "role_code": "S8000:G8000:R8008"},
]
REASON = "Collapsed at the hub base, no relationship with us"


@pytest.fixture
def cis2(settings):
    with configured(settings) as fake:
        yield fake


@pytest.fixture
def hub_gp():
    assignment = RoleAssignmentFactory(organisation=CollaborativeFactory(), role=Role.GP)
    Cis2Identity.objects.create(user=assignment.user, sub=SUB, linked_at=timezone.now())
    return assignment


@pytest.fixture
def patient():
    return PatientFactory()


def _query(url: str) -> dict:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlparse(url).query))


def _back_from_cis2(client, authorize_url: str):
    """The browser at CIS2, then back at collab's callback: the callback's response."""
    back = httpx.get(authorize_url, follow_redirects=False)
    callback = urllib.parse.urlparse(back.headers["Location"])
    return client.get(callback.path + "?" + callback.query)


def cis2_sign_in(client, fake, *, selected_roleid: str = GP_ROLE, aal: int = 3) -> dict:
    """Sign in with CIS2, from a CIS2 session the user opened half an hour ago with an authenticator of level
    ``aal`` (the one they still have to hand). Returns the authorize query."""
    fake.sign_in_as(sub=SUB, roles=ROLES, selected_roleid=selected_roleid, authenticated_at=int(time.time()) - 1800)
    fake.authenticated_aal[SUB] = fake.authenticator_aal = aal
    start = client.get("/account/cis2/")
    r = _back_from_cis2(client, start["Location"])
    assert r.status_code == 302 and client.session["auth_method"] == "cis2"
    return _query(start["Location"])


def ask_for_break_glass(client, patient):
    r = client.post(f"/patients/{patient.pk}/break-glass/", {"reason": REASON})
    assert r.status_code == 302, r.content[:500]
    return r["Location"]


def finish(client, callback_response):
    """Follow the callback's redirect back to the page that asked for the re-authentication."""
    assert callback_response.status_code == 302
    return client.get(callback_response["Location"])


def test_a_fresh_cis2_sign_in_opens_the_record_and_alerts_the_privacy_officers(client, cis2, hub_gp, patient,
                                                                               settings):
    sign_in_query = cis2_sign_in(client, cis2)
    assert client.get(f"/patients/{patient.pk}/").status_code == 403
    form = client.get(f"/patients/{patient.pk}/break-glass/")
    assert b"break-glass-cis2" in form.content and b'name="password"' not in form.content

    authorize_url = ask_for_break_glass(client, patient)
    params = _query(authorize_url)
    assert authorize_url.startswith(cis2.issuer + "/authorize?")
    assert params["prompt"] == "login" and params["max_age"] == "0"
    assert params["acr_values"] == settings.CIS2_BREAK_GLASS_ACR_VALUES == "AAL3_ANY"
    assert sign_in_query["acr_values"] == settings.CIS2_SIGN_IN_ACR_VALUES == "AAL2_OR_AAL3_ANY"
    for fresh in ("state", "nonce", "code_challenge"):
        assert params[fresh] and params[fresh] != sign_in_query[fresh], fresh
    # The reason is kept on the server, never in a URL.
    assert "Collapsed" not in authorize_url and "reason" not in params
    assert client.session["collab_cis2_pending"]["context"]["reason"] == REASON

    before = AuditEvent.objects.count()
    r = finish(client, _back_from_cis2(client, authorize_url))
    assert r.status_code == 302 and r["Location"] == f"/patients/{patient.pk}/"
    grant = BreakGlassGrant.objects.get()
    assert (grant.user_id, grant.patient_id, grant.reason, grant.reviewed_at) == (hub_gp.user_id, patient.pk,
                                                                                   REASON, None)
    assert grant.reauthentication.startswith("NHS CIS2 (auth_time ")
    assert grant.expires_at - grant.granted_at == dt.timedelta(minutes=settings.BREAK_GLASS_MINUTES)
    rows = list(AuditEvent.objects.order_by("sequence")[before:])
    assert [(e.action, e.outcome, e.patient_id) for e in rows] == [
        ("reauth.cis2", "allowed", None), (Action.BREAK_GLASS, "allowed", patient.pk)]
    assert rows[0].username == hub_gp.user.username and rows[0].object_type == "break_glass"
    assert rows[0].reason.endswith(", acr AAL3_ANY")

    r = client.get(f"/patients/{patient.pk}/")
    assert r.status_code == 200 and b"break-glass-banner" in r.content
    assert AuditEvent.objects.order_by("-sequence").first().reason.startswith(f"BREAK-GLASS (grant {grant.pk})")
    # The alert is on the privacy officers' page, saying how the user was checked.
    officer = RoleAssignmentFactory(organisation=CollaborativeFactory(), role=Role.PRIVACY_OFFICER)
    client.force_login(officer.user)
    session = client.session
    session["collab_acting_assignment"], session["demo_persona"] = officer.pk, True
    session.save()
    officer.user.is_demo_persona = True
    officer.user.save()
    page = client.get("/privacy/").content.decode()
    assert REASON in page and "NHS CIS2 (auth_time" in page and "Not reviewed" in page


def _strip_prompt(url: str) -> str:
    """What a tampering browser (or a proxy) can do: drop prompt and max_age on the way to CIS2."""
    parsed = urllib.parse.urlparse(url)
    query = {k: v for k, v in _query(url).items() if k not in ("prompt", "max_age")}
    return parsed._replace(query=urllib.parse.urlencode(query)).geturl()


def _strip_acr_values(url: str) -> str:
    parsed = urllib.parse.urlparse(url)
    query = {k: v for k, v in _query(url).items() if k != "acr_values"}
    return parsed._replace(query=urllib.parse.urlencode(query)).geturl()


def _forge_state(url: str) -> str:
    return url.replace("state=", "state=forged", 1)


@pytest.mark.parametrize(("case", "audit_says", "page_says"), [
    ("someone else's smartcard", "is not the linked", b"different NHS Care Identity"),
    ("prompt stripped, CIS2 session from sign-in", "not a fresh sign-in", b"did not ask you to sign in again"),
    ("prompt stripped, CIS2 session from before the request", "not a fresh sign-in",
     b"did not ask you to sign in again"),
    ("prompt stripped, CIS2 session from after the request but too old", "not a fresh sign-in",
     b"did not ask you to sign in again"),
    ("no auth_time", "no auth_time", b"did not confirm when you signed in again"),
    ("AAL2 authenticator", "acr AAL2_ANY is not one of AAL3_ANY", b"Emergency access needs your smartcard"),
    ("password only", "acr AAL1_USERPASS is not one of AAL3_ANY", b"Emergency access needs your smartcard"),
    ("acr_values stripped, AAL2 authenticator", "acr AAL2_ANY is not one of", b"Emergency access needs your smartcard"),
    ("no acr", "ID token has no acr", b"Emergency access needs your smartcard"),
    ("provider refused", "provider error access_denied", b"cancelled or failed"),
    ("state forged", "state does not match", b"could not be verified"),
])
def test_a_failed_reauthentication_grants_nothing_and_is_audited(client, cis2, hub_gp, patient, case, audit_says,
                                                                page_says):
    cis2_sign_in(client, cis2)
    authorize_url = ask_for_break_glass(client, patient)
    match case:
        case "someone else's smartcard":
            other = RoleAssignmentFactory(organisation=CollaborativeFactory(), role=Role.GP)
            Cis2Identity.objects.create(user=other.user, sub=OTHER_SUB, linked_at=timezone.now())
            cis2.sign_in_as(sub=OTHER_SUB, roles=ROLES, selected_roleid=GP_ROLE)
        case "prompt stripped, CIS2 session from sign-in":
            authorize_url = _strip_prompt(authorize_url)
        case "prompt stripped, CIS2 session from before the request":
            # Well within five minutes, but before the user asked to break glass: not a re-authentication.
            cis2.authenticated_at[SUB] = int(time.time()) - 60
            authorize_url = _strip_prompt(authorize_url)
        case "prompt stripped, CIS2 session from after the request but too old":
            # The request began eight minutes ago; the user signed in to CIS2 (elsewhere) six minutes ago.
            session = client.session
            session["collab_cis2_pending"]["at"] = time.time() - 480
            session.save()
            cis2.authenticated_at[SUB] = int(time.time()) - 360
            authorize_url = _strip_prompt(authorize_url)
        case "no auth_time":
            cis2.omit_auth_time = True
        case "AAL2 authenticator":
            cis2.authenticator_aal = 2
        case "password only":
            cis2.authenticator_aal = 1
        case "acr_values stripped, AAL2 authenticator":
            cis2.authenticator_aal = 2
            authorize_url = _strip_acr_values(authorize_url)
        case "no acr":
            cis2.omit_acr = True
        case "provider refused":
            cis2.refuse_with = "access_denied"
    before = AuditEvent.objects.count()
    callback = _back_from_cis2(client, authorize_url) if case != "state forged" else None
    if case == "state forged":
        back = urllib.parse.urlparse(httpx.get(authorize_url, follow_redirects=False).headers["Location"])
        callback = client.get(back.path + "?" + _forge_state(back.query))
    r = finish(client, callback)

    assert r.status_code == 403 and b'id="break-glass-refused"' in r.content and page_says in r.content, case
    assert not BreakGlassGrant.objects.exists()
    rows = list(AuditEvent.objects.order_by("sequence")[before:])
    assert [(e.action, e.outcome) for e in rows] == [("reauth.cis2", "refused"), (Action.BREAK_GLASS, "refused")]
    assert audit_says in rows[0].reason and audit_says in rows[1].reason, (rows[0].reason, rows[1].reason)
    assert rows[1].patient_id == patient.pk and rows[1].username == hub_gp.user.username
    assert client.get(f"/patients/{patient.pk}/").status_code == 403


def test_the_outcome_is_for_one_request_and_used_once(client, cis2, hub_gp, patient):
    other_patient = PatientFactory()
    cis2_sign_in(client, cis2)
    callback = _back_from_cis2(client, ask_for_break_glass(client, patient))
    assert callback["Location"] == f"/patients/{patient.pk}/break-glass/cis2/"
    # Taken to another patient's page instead: refused, and the outcome is spent.
    r = client.get(f"/patients/{other_patient.pk}/break-glass/cis2/")
    assert r.status_code == 403 and b"Start again" in r.content
    assert client.get(callback["Location"]).status_code == 403
    assert not BreakGlassGrant.objects.exists()
    refused = AuditEvent.objects.filter(action=Action.BREAK_GLASS, outcome="refused")
    assert sorted(e.patient_id for e in refused) == sorted([patient.pk, other_patient.pk])


def test_coming_back_without_a_round_trip_grants_nothing(client, cis2, hub_gp, patient):
    cis2_sign_in(client, cis2)
    r = client.get(f"/patients/{patient.pk}/break-glass/cis2/")
    assert r.status_code == 403 and not BreakGlassGrant.objects.exists()
    row = AuditEvent.objects.get(action=Action.BREAK_GLASS)
    assert (row.outcome, row.patient_id) == ("refused", patient.pk) and "none for this" in row.reason


def test_changing_role_while_at_cis2_grants_nothing(client, cis2, hub_gp, patient):
    """The grant is for the role that asked; another role of the same user (one that may break glass too)
    does not inherit the re-authentication."""
    practice_gp = RoleAssignmentFactory(user=hub_gp.user, organisation=PracticeFactory(), role=Role.GP)
    cis2_sign_in(client, cis2)
    callback = _back_from_cis2(client, ask_for_break_glass(client, patient))
    session = client.session
    session["collab_acting_assignment"] = practice_gp.pk
    session.save()
    assert client.get(callback["Location"]).status_code == 403
    assert not BreakGlassGrant.objects.exists()


def test_a_role_that_may_not_break_glass_is_refused_before_going_to_cis2(client, cis2, patient):
    manager = RoleAssignmentFactory(organisation=CollaborativeFactory(), role=Role.HUB_MANAGER)
    Cis2Identity.objects.create(user=manager.user, sub=SUB, linked_at=timezone.now())
    cis2_sign_in(client, cis2, selected_roleid=MANAGER_ROLE)
    r = client.post(f"/patients/{patient.pk}/break-glass/", {"reason": REASON})
    assert r.status_code == 403
    assert len(cis2.authorize_requests) == 1  # the sign-in only
    row = AuditEvent.objects.get(action=Action.BREAK_GLASS)
    assert (row.outcome, row.patient_id) == ("refused", patient.pk)


def test_the_reason_is_asked_for_before_going_to_cis2(client, cis2, hub_gp, patient):
    cis2_sign_in(client, cis2)
    r = client.post(f"/patients/{patient.pk}/break-glass/", {"reason": "Urgent"})
    assert r.status_code == 400 and b"at least 10 characters" in r.content
    assert len(cis2.authorize_requests) == 1 and "context" not in client.session.get("collab_cis2_pending", {})


def test_cis2_unavailable_when_asking_is_refused_and_audited(client, cis2, hub_gp, patient, settings):
    cis2_sign_in(client, cis2)
    settings.CIS2_ISSUER = "http://127.0.0.1:9/realms/NHSIdentity"  # nothing listens on the discard port
    r = client.post(f"/patients/{patient.pk}/break-glass/", {"reason": REASON})
    assert r.status_code == 403 and b"CIS2 did not answer" in r.content
    assert not BreakGlassGrant.objects.exists()
    assert AuditEvent.objects.get(action=Action.BREAK_GLASS).outcome == "refused"


def test_asking_cis2_for_less_does_not_lower_the_bar(client, cis2, hub_gp, patient, settings):
    """The level asked for is a setting; what opens the grant is the acr CIS2 vouches for, checked against
    the accepted AAL3 classes. Asked for AAL2-or-AAL3, CIS2 answers with that class: refused."""
    settings.CIS2_BREAK_GLASS_ACR_VALUES = "AAL2_OR_AAL3_ANY"
    cis2_sign_in(client, cis2)
    authorize_url = ask_for_break_glass(client, patient)
    assert _query(authorize_url)["acr_values"] == "AAL2_OR_AAL3_ANY"
    r = finish(client, _back_from_cis2(client, authorize_url))
    assert r.status_code == 403 and b"Emergency access needs your smartcard" in r.content
    assert not BreakGlassGrant.objects.exists()
    row = AuditEvent.objects.get(action="reauth.cis2")
    assert (row.outcome, row.reason) == ("refused", "acr AAL2_OR_AAL3_ANY is not one of " + " ".join(
        settings.CIS2_BREAK_GLASS_ACCEPTED_ACR))


def test_the_accepted_classes_are_a_setting(client, cis2, hub_gp, patient, settings):
    settings.CIS2_BREAK_GLASS_ACR_VALUES = "AAL2_OR_AAL3_ANY"
    settings.CIS2_BREAK_GLASS_ACCEPTED_ACR = ("AAL3_ANY", "AAL2_OR_AAL3_ANY")  # a deliberate (unwise) choice
    cis2_sign_in(client, cis2)
    r = finish(client, _back_from_cis2(client, ask_for_break_glass(client, patient)))
    assert r.status_code == 302 and BreakGlassGrant.objects.count() == 1
    assert AuditEvent.objects.get(action="reauth.cis2").reason.endswith(", acr AAL2_OR_AAL3_ANY")


def test_an_aal2_sign_in_does_not_open_break_glass_with_an_aal2_reauthentication(client, cis2, hub_gp, patient,
                                                                                  settings):
    """Signing in takes AAL2 (multi-factor); breaking glass still takes AAL3. A user who signed in with an AAL2
    authenticator and confirms with it again is refused, and audited as every failed re-authentication is."""
    cis2_sign_in(client, cis2, aal=2)
    signed_in = AuditEvent.objects.get(action="signin.cis2")
    assert (signed_in.outcome, signed_in.reason.rsplit(", ", 1)[-1]) == ("allowed", "acr AAL2_OR_AAL3_ANY")
    authorize_url = ask_for_break_glass(client, patient)
    assert _query(authorize_url)["acr_values"] == "AAL3_ANY"
    before = AuditEvent.objects.count()
    r = finish(client, _back_from_cis2(client, authorize_url))
    assert r.status_code == 403 and b"Emergency access needs your smartcard" in r.content
    assert not BreakGlassGrant.objects.exists()
    rows = list(AuditEvent.objects.order_by("sequence")[before:])
    assert [(e.action, e.outcome) for e in rows] == [("reauth.cis2", "refused"), (Action.BREAK_GLASS, "refused")]
    expected = "acr AAL2_ANY is not one of " + " ".join(settings.CIS2_BREAK_GLASS_ACCEPTED_ACR)
    assert rows[0].reason == expected and rows[1].reason.endswith(expected)
    assert client.get(f"/patients/{patient.pk}/").status_code == 403
