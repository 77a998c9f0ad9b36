"""Break-glass (reason, re-authentication, time limit, alert) and the privacy officer's pages."""

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from collab.accounts.models import Role
from collab.accounts.services import reauthenticate
from collab.core.models import AuditEvent
from collab.core.tests.factories import (
    CollaborativeFactory,
    PatientFactory,
    RoleAssignmentFactory,
    actor,
)
from collab.patients.access import AccessDenied, Action, access_patient
from collab.patients.models import BreakGlassGrant

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


def act_as(client, assignment, *, demo: bool):
    client.force_login(assignment.user)
    session = client.session
    session["collab_acting_assignment"] = assignment.pk
    session["demo_persona"] = demo
    session.save()
    if demo:
        assignment.user.is_demo_persona = True
        assignment.user.save()


def verified(client, user):
    """Sign in for real: password, then TOTP (so the session is second-factor verified)."""
    user.set_password(PASSWORD)
    user.save()
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    client.post("/account/sign-in/", {"username": user.username, "password": PASSWORD})
    client.post("/account/verify/", {"code": code(device)})
    device.refresh_from_db()
    return device


def code(device) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


@pytest.fixture
def hub_gp():
    return RoleAssignmentFactory(organisation=CollaborativeFactory(), role=Role.GP)


@pytest.fixture
def privacy_officer():
    return RoleAssignmentFactory(organisation=CollaborativeFactory(), role=Role.PRIVACY_OFFICER)


def test_break_glass_needs_reason_and_reauthentication_then_opens_read_access_for_a_while(client, hub_gp, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    patient = PatientFactory()
    device = verified(client, hub_gp.user)
    r = client.get(f"/patients/{patient.pk}/")
    assert r.status_code == 403 and b"break-glass" in r.content and patient.family_name.encode() not in r.content

    r = client.post(f"/patients/{patient.pk}/break-glass/", {"reason": "Urgent", "password": PASSWORD,
                                                            "code": code(device)})
    assert r.status_code == 400 and b"at least 10 characters" in r.content
    r = client.post(f"/patients/{patient.pk}/break-glass/", {"reason": "Collapsed at the OOH base, no relationship",
                                                            "password": "wrong", "code": "123456"})
    assert r.status_code == 400 and b"password or security code is not right" in r.content
    assert not BreakGlassGrant.objects.exists()

    device.refresh_from_db()
    device.last_t = -1  # the sign-in code may be the current one; TOTP refuses reuse
    device.save()
    r = client.post(f"/patients/{patient.pk}/break-glass/", {"reason": "Collapsed at the OOH base, no relationship",
                                                            "password": PASSWORD, "code": code(device)})
    assert r.status_code == 302
    grant = BreakGlassGrant.objects.get()
    assert grant.reauthentication == "password and authenticator code"
    assert grant.expires_at - grant.granted_at == dt.timedelta(minutes=settings.BREAK_GLASS_MINUTES)

    before = AuditEvent.objects.count()
    r = client.get(f"/patients/{patient.pk}/")
    assert r.status_code == 200 and b"break-glass-banner" in r.content
    row = AuditEvent.objects.order_by("sequence")[before]
    assert row.outcome == "allowed" and row.reason.startswith(f"BREAK-GLASS (grant {grant.pk})")

    # Read-only: break-glass never allows changing the record.
    with pytest.raises(AccessDenied):
        access_patient(actor=actor(hub_gp), actor_org_kind="collaborative", patient=patient,
                       action=Action.RECORD_WRITE)
    # And it runs out.
    past = timezone.now() - dt.timedelta(hours=2)
    BreakGlassGrant.objects.filter(pk=grant.pk).update(granted_at=past, expires_at=past + dt.timedelta(minutes=30))
    assert client.get(f"/patients/{patient.pk}/").status_code == 403


def test_non_clinicians_cannot_break_glass(client):
    manager = RoleAssignmentFactory(organisation=CollaborativeFactory(), role=Role.HUB_MANAGER)
    patient = PatientFactory()
    act_as(client, manager, demo=True)
    r = client.get(f"/patients/{patient.pk}/")
    assert r.status_code == 403 and b"break-glass" not in r.content
    r = client.post(f"/patients/{patient.pk}/break-glass/", {"reason": "I would like to look please"})
    assert r.status_code == 403
    assert not BreakGlassGrant.objects.exists()
    assert AuditEvent.objects.filter(action=Action.BREAK_GLASS, outcome="refused").count() == 1


def test_demo_persona_reauthentication_is_recorded_as_such_and_never_in_production(client, hub_gp, settings):
    patient = PatientFactory()
    act_as(client, hub_gp, demo=True)
    client.post(f"/patients/{patient.pk}/break-glass/", {"reason": "Demo: emergency in the OOH base"})
    assert BreakGlassGrant.objects.get().reauthentication == "demo persona (not production)"
    settings.PRODUCTION = True
    r = client.post(f"/patients/{patient.pk}/break-glass/", {"reason": "Demo: emergency in the OOH base"})
    assert r.status_code == 302 and r["Location"] == "/account/verify/" and BreakGlassGrant.objects.count() == 1
    assert reauthenticate(user=hub_gp.user, password="", code="", address="1.2.3.4", demo_session=True) == ""


def test_privacy_officer_sees_alert_trail_and_exports_it(client, hub_gp, privacy_officer):
    patient = PatientFactory()
    act_as(client, hub_gp, demo=True)
    client.get(f"/patients/{patient.pk}/")  # refused
    client.post(f"/patients/{patient.pk}/break-glass/", {"reason": "Demo: emergency in the OOH base"})
    client.get(f"/patients/{patient.pk}/")  # allowed, break-glass

    act_as(client, privacy_officer, demo=True)
    page = client.get("/privacy/").content.decode()
    assert "Demo: emergency in the OOH base" in page and "Not reviewed" in page
    r = client.get(f"/privacy/patients/{patient.pk}/")
    assert r.status_code == 200
    body = r.content.decode()
    assert body.count("Break glass") >= 2 and "Refused" in body

    r = client.get(f"/privacy/patients/{patient.pk}/access.csv")
    rows = list(csv.DictReader(io.StringIO(r.content.decode())))

    by_action = [(x["username"], x["action"], x["outcome"]) for x in reversed(rows)]
    u = hub_gp.user.username
    assert by_action[:4] == [(u, "patient.view", "refused"), (u, "record.break_glass", "allowed"),
                             (u, "patient.view", "allowed"), (privacy_officer.user.username, "audit.view", "allowed")]
    # The officer's looks are on the trail too.
    assert AuditEvent.objects.filter(patient_id=patient.pk, action="audit.view").count() == 2

    grant = BreakGlassGrant.objects.get()
    client.post(f"/privacy/alerts/{grant.pk}/review/", {"note": "Confirmed with the OOH lead: genuine emergency"})
    grant.refresh_from_db()
    assert grant.reviewed_by_id == privacy_officer.user_id


@pytest.mark.parametrize("role", [Role.GP, Role.HUB_MANAGER, Role.ANALYST])
def test_only_privacy_officers_open_the_privacy_pages(client, role):
    act_as(client, RoleAssignmentFactory(organisation=CollaborativeFactory(), role=role), demo=True)
    patient = PatientFactory()
    assert client.get("/privacy/").status_code == 403
    assert client.get(f"/privacy/patients/{patient.pk}/access.csv").status_code == 403
