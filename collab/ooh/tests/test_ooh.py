"""The out-of-hours case list and taking a case into a consultation."""

import pytest

from collab.accounts.models import Role
from collab.core.models import AuditEvent
from collab.core.tests.factories import CollaborativeFactory, RoleAssignmentFactory
from collab.ooh.models import OohCase
from collab.ooh.tests.factories import OohCaseFactory, ooh_clinician
from collab.records.models import Consultation

pytestmark = pytest.mark.django_db


def act_as(client, assignment):
    assignment.user.is_demo_persona = True
    assignment.user.save()
    client.force_login(assignment.user)
    s = client.session
    s["collab_acting_assignment"], s["demo_persona"] = assignment.pk, True
    s.save()


def test_case_list_most_urgent_first_each_patient_audited_and_taking_opens_a_note(client):
    gp = ooh_clinician()
    routine = OohCaseFactory(service=gp.service, priority=OohCase.Priority.ROUTINE)
    urgent = OohCaseFactory(service=gp.service, priority=OohCase.Priority.URGENT)
    act_as(client, gp)
    before = AuditEvent.objects.count()
    page = client.get("/ooh/").content.decode()
    assert page.index(urgent.patient.family_name.upper()) < page.index(routine.patient.family_name.upper())
    assert AuditEvent.objects.count() - before == 2
    r = client.post(f"/ooh/cases/{urgent.pk}/take/")
    c = Consultation.objects.get()
    assert r["Location"] == f"/records/consultations/{c.pk}/" and c.ooh_case_id == urgent.pk
    urgent.refresh_from_db()
    assert urgent.status == "in_consultation" and urgent.clinician_id == gp.user_id
    # Taking it again returns to the same draft.
    assert client.post(f"/ooh/cases/{urgent.pk}/take/")["Location"] == r["Location"]
    assert client.get(r["Location"]).status_code == 200


def test_another_clinician_cannot_take_a_case_already_taken(client):
    gp = ooh_clinician()
    case = OohCaseFactory(service=gp.service)
    act_as(client, gp)
    client.post(f"/ooh/cases/{case.pk}/take/")
    other = ooh_clinician(Role.ADVANCED_NURSE_PRACTITIONER)
    act_as(client, other)
    client.post(f"/ooh/cases/{case.pk}/take/")
    assert Consultation.objects.count() == 1


@pytest.mark.parametrize("where", ["hub_gp", "hub_manager"])
def test_only_out_of_hours_clinicians_see_the_case_list(client, where):
    role = Role.GP if where == "hub_gp" else Role.HUB_MANAGER
    act_as(client, RoleAssignmentFactory(organisation=CollaborativeFactory(), role=role))
    assert client.get("/ooh/").status_code == 403
