import pytest

from collab.accounts.models import Role
from collab.booking import services
from collab.core.models import AuditEvent
from collab.core.tests.factories import (
    CollaborativeFactory,
    PatientFactory,
    PracticeFactory,
    RoleAssignmentFactory,
    act_as,
    actor,
    hub_session,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def booked():
    practice = PracticeFactory()
    reception = RoleAssignmentFactory(organisation=practice)
    gp = RoleAssignmentFactory(organisation=CollaborativeFactory(), role=Role.GP)
    patients = [PatientFactory(registered_practice=practice) for _ in range(3)]
    session = hub_session(clinician=gp.user)
    for patient, slot in zip(patients, session.slots.all(), strict=False):
        services.appointment_book(actor=actor(reception), actor_org_kind="practice", slot_id=slot.pk,
                                  patient=patient, reason="x")
    return reception, gp, patients, session


def test_lists_of_patients_audit_each_patient_shown(client, booked):
    reception, gp, patients, session = booked
    act_as(client, reception)
    before = AuditEvent.objects.count()
    r = client.get("/hub/appointments/")
    assert r.status_code == 200
    rows = AuditEvent.objects.order_by("sequence")[before:]
    assert sorted(e.patient_id for e in rows) == sorted(p.pk for p in patients)
    assert {e.action for e in rows} == {"patient.list"}

    act_as(client, gp)
    before = AuditEvent.objects.count()
    day = session.starts_at.date().isoformat()
    r = client.get(f"/hub/day/?date={day}")
    assert r.status_code == 200 and all(p.family_name.upper() in r.content.decode() for p in patients)
    assert AuditEvent.objects.count() - before == 3


def test_bad_date_on_day_list_says_so(client, booked):
    _, gp, _, _ = booked
    act_as(client, gp)
    r = client.get("/hub/day/?date=31-02-2026", follow=True)
    assert b"Enter a real date" in r.content


def test_slot_search_rejects_a_range_over_14_days(client, booked):
    reception, *_ = booked
    act_as(client, reception)
    r = client.get("/hub/slots/?start=2026-12-01&end=2026-12-31")
    assert b"Search at most 14 days at a time" in r.content


def test_capacity_form_names_each_missing_field(client):
    manager = RoleAssignmentFactory(organisation=PracticeFactory(), role=Role.PRACTICE_MANAGER)
    act_as(client, manager)
    r = client.post("/hub/capacity/", {})
    assert r.status_code == 400
    for message in [b"Enter the first date", b"Enter the last date", b"Enter how many slots you need", b"Choose a reason"]:
        assert message in r.content


def test_every_page_sends_security_headers(client, booked):
    reception, *_ = booked
    act_as(client, reception)
    for url in ["/", "/hub/slots/", "/account/sign-in/", "/help/", "/fhir/openapi.json"]:
        r = client.get(url)
        assert "default-src 'self'" in r["Content-Security-Policy"], url
        assert r["Strict-Transport-Security"].startswith("max-age="), url
        assert r["Referrer-Policy"] == "same-origin", url
