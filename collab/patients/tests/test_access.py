"""Every role x relationship x action: allow or deny, and exactly one audit row per attempt."""

import itertools

import pytest

from collab.accounts.models import Role
from collab.booking.services import appointment_book
from collab.core.models import AuditEvent
from collab.core.tests.factories import (
    CollaborativeFactory,
    PatientFactory,
    PracticeFactory,
    RoleAssignmentFactory,
    actor,
    hub_session,
)
from collab.patients.access import AccessDenied, Action, access_patient

pytestmark = pytest.mark.django_db

PRACTICE_ROLES = [Role.GP, Role.PRACTICE_NURSE, Role.CARE_NAVIGATOR, Role.PRACTICE_MANAGER, Role.ANALYST]
HUB_ROLES = [Role.GP, Role.ADVANCED_NURSE_PRACTITIONER, Role.PHYSICIAN_ASSOCIATE, Role.HUB_MANAGER, Role.ANALYST,
             Role.PRIVACY_OFFICER]
VIEW_AT_PRACTICE = {Role.GP, Role.PRACTICE_NURSE, Role.CARE_NAVIGATOR, Role.PRACTICE_MANAGER}
VIEW_AT_HUB = {Role.GP, Role.ADVANCED_NURSE_PRACTITIONER, Role.PHYSICIAN_ASSOCIATE, Role.HUB_MANAGER}


def _expected(where, role, relationship):
    if where == "practice":
        return role in VIEW_AT_PRACTICE and relationship == "registered"
    return role in VIEW_AT_HUB and relationship == "hub_appointment"


@pytest.mark.parametrize(
    ("where", "role", "relationship"),
    [("practice", r, rel) for r, rel in itertools.product(PRACTICE_ROLES, ["registered", "other_practice"])]
    + [("hub", r, rel) for r, rel in itertools.product(HUB_ROLES, ["hub_appointment", "none"])],
)
def test_view_matrix(where, role, relationship):
    home = PracticeFactory()
    org = home if where == "practice" else CollaborativeFactory()
    assignment = RoleAssignmentFactory(organisation=org, role=role)
    patient = PatientFactory(registered_practice=home if relationship in ("registered", "hub_appointment") else PracticeFactory())
    if relationship == "hub_appointment":
        reception = RoleAssignmentFactory(organisation=home)
        appointment_book(actor=actor(reception), actor_org_kind="practice", slot_id=hub_session().slots.first().pk,
                         patient=patient, reason="x")
    before = AuditEvent.objects.count()
    allowed = _expected(where, role, relationship)
    if allowed:
        access_patient(actor=actor(assignment), actor_org_kind=org.kind, patient=patient, action=Action.VIEW)
    else:
        with pytest.raises(AccessDenied):
            access_patient(actor=actor(assignment), actor_org_kind=org.kind, patient=patient, action=Action.VIEW)
    rows = list(AuditEvent.objects.filter(sequence__gt=0).order_by("sequence"))[before:]
    assert len(rows) == 1
    row = rows[0]
    assert (row.outcome, row.patient_id, row.role, row.organisation_ods, row.action) == (
        "allowed" if allowed else "refused", patient.pk, role, org.ods_code, Action.VIEW)
