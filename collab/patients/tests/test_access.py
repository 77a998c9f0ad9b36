"""The access matrix, generated: every role x every place x every relationship x every action.

The expected answer comes from the rules as the issue states them (written out again here, not
read from access.py): a role may do an action in a place; it needs a legitimate relationship
(registered practice; a current or recent appointment, out-of-hours case or referral with the
user's service, "recent" being RELATIONSHIP_RECENT_DAYS, default 28; a triage request in the
service's queue); break-glass opens reading only; privacy officers read audit trails only. Every
attempt writes exactly one audit row, allowed or refused, naming the user, role, organisation and
patient.

Places: a practice; the collaborative's remote hub, out of hours and a PCN's enhanced access; and
social prescribing, standing for the network services triage refers to.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from collab.accounts.models import Role
from collab.booking.models import Appointment, Slot
from collab.booking.services import session_create
from collab.core.models import AuditEvent
from collab.core.tests.factories import (
    CollaborativeFactory,
    HubServiceFactory,
    PatientFactory,
    PcnFactory,
    PracticeFactory,
    RoleAssignmentFactory,
    actor,
    hub_session,
)
from collab.ooh.models import OohCase
from collab.ooh.tests.factories import OohCaseFactory, OohServiceFactory
from collab.organisations.models import Service
from collab.patients.access import PATIENT_ACTIONS, AccessDenied, Action, access_patient
from collab.patients.models import BreakGlassGrant
from collab.triage.models import RuleSet, SendBack, Triage, TriageRequest

pytestmark = pytest.mark.django_db

ROLES = list(Role)
PLACES = ["practice", "hub", "ooh", "enhanced_access", "social_prescribing"]
RELATIONSHIPS = [
    "none", "registered_here", "hub_upcoming", "hub_recent", "hub_old", "hub_cancelled",
    "ooh_open", "ooh_recent", "ooh_old",
    # Appointments with the acting PCN's enhanced access service, and one with another PCN's.
    "ea_upcoming", "ea_recent", "ea_old", "ea_cancelled", "ea_other_pcn",
    # A triage routed the patient to a service: the referral. Recent is 27 days, old 29.
    "referral_sp_recent", "referral_sp_old", "referral_sp_sent_back", "referral_ea_recent",
    "break_glass", "break_glass_expired",
]
ACTIONS = list(PATIENT_ACTIONS)

CLINICAL = {Role.GP, Role.ADVANCED_NURSE_PRACTITIONER, Role.PRACTICE_NURSE, Role.PHYSICIAN_ASSOCIATE,
            Role.CLINICAL_PHARMACIST}
PRACTICE_ADMIN = {Role.CARE_NAVIGATOR, Role.PRACTICE_MANAGER}
# What each role may do in each place, before relationships: the table.
MAY = {
    "practice": {Action.VIEW: CLINICAL | PRACTICE_ADMIN, Action.BOOK: CLINICAL | PRACTICE_ADMIN,
                 Action.CANCEL_APPOINTMENT: CLINICAL | PRACTICE_ADMIN,
                 Action.RECORD_VIEW: CLINICAL | {Role.CARE_NAVIGATOR}, Action.BREAK_GLASS: CLINICAL},
    "hub": {Action.VIEW: CLINICAL | {Role.HUB_MANAGER}, Action.BOOK: CLINICAL, Action.UPDATE_APPOINTMENT: CLINICAL,
            Action.CANCEL_APPOINTMENT: CLINICAL | {Role.HUB_MANAGER}, Action.RECORD_VIEW: CLINICAL,
            Action.RECORD_WRITE: CLINICAL, Action.BREAK_GLASS: CLINICAL},
    "ooh": {Action.VIEW: CLINICAL, Action.RECORD_VIEW: CLINICAL, Action.RECORD_WRITE: CLINICAL,
            Action.BREAK_GLASS: CLINICAL},
    # Enhanced access runs appointments as the hub does, for clinicians only.
    "enhanced_access": {Action.VIEW: CLINICAL, Action.BOOK: CLINICAL, Action.UPDATE_APPOINTMENT: CLINICAL,
                        Action.CANCEL_APPOINTMENT: CLINICAL, Action.RECORD_VIEW: CLINICAL,
                        Action.RECORD_WRITE: CLINICAL, Action.BREAK_GLASS: CLINICAL},
    # A service patients are referred to reads them and their record; nothing else.
    "social_prescribing": {Action.VIEW: CLINICAL, Action.RECORD_VIEW: CLINICAL},
}
RELATED = {
    "practice": {"registered_here"},
    # The hub's own appointments only: an enhanced access appointment or a referral elsewhere is
    # another service's reason to look.
    "hub": {"hub_upcoming", "hub_recent"},
    "ooh": {"ooh_open", "ooh_recent"},
    "enhanced_access": {"ea_upcoming", "ea_recent", "referral_ea_recent"},
    "social_prescribing": {"referral_sp_recent"},
}


def expected(role: str, place: str, relationship: str, action: str) -> bool:
    if action == Action.AUDIT_VIEW:
        return role == Role.PRIVACY_OFFICER and place != "practice"
    if role not in MAY[place].get(action, set()):
        return False
    if action == Action.BREAK_GLASS:
        return True
    if relationship in RELATED[place]:
        return True
    return relationship == "break_glass" and action in (Action.VIEW, Action.RECORD_VIEW)


def _appointment(patient, *, days_ago: int, status: str = "booked", service: Service | None = None) -> None:
    """An appointment with the hub (or ``service``), starting tomorrow or ``days_ago`` days ago."""
    if service is None:
        session = hub_session()
    else:
        start = timezone.now() + dt.timedelta(days=1)
        clinician = RoleAssignmentFactory(organisation=CollaborativeFactory(), role=Role.GP, service=service).user
        session = session_create(service=service, clinician=clinician, clinician_role=Role.GP, starts_at=start,
                                 ends_at=start + dt.timedelta(hours=1), slot_minutes=15, channel="telephone")
    slot = session.slots.first()
    if days_ago:
        start = timezone.now() - dt.timedelta(days=days_ago)
        Slot.objects.filter(pk=slot.pk).update(starts_at=start, ends_at=start + dt.timedelta(minutes=15))
    booker = RoleAssignmentFactory(organisation=patient.registered_practice)
    Appointment.objects.create(slot=slot, patient=patient, practice=patient.registered_practice, booked_by=booker.user,
                               reason="x", status=status, outcome="resolved_remotely" if status == "fulfilled" else "",
                               created_at=timezone.now(), updated_at=timezone.now(),
                               cancellation_reason="no longer needed" if status == "cancelled" else "")


def _hub_appointment(patient, *, days_ago: int, status: str = "booked") -> None:
    _appointment(patient, days_ago=days_ago, status=status)


def _ooh_case(patient, *, days_ago: int | None) -> None:
    if days_ago is None:
        OohCaseFactory(patient=patient)
        return
    at = timezone.now() - dt.timedelta(days=days_ago)
    OohCaseFactory(patient=patient, received_at=at, status=OohCase.Status.COMPLETED, completed_at=at)


def enhanced_access_service(pcn=None) -> Service:
    pcn = pcn or PcnFactory()
    return Service.objects.create(organisation=pcn, kind=Service.Kind.ENHANCED_ACCESS,
                                  name=f"Enhanced access ({pcn.name})")


def social_prescribing_service() -> Service:
    return Service.objects.get_or_create(organisation=CollaborativeFactory(), kind=Service.Kind.SOCIAL_PRESCRIBING,
                                         defaults={"name": "Social prescribing"})[0]


def referral(patient, service: Service, *, days_ago: int, submitted_days_ago: float | None = None,
             sent_back: bool = False) -> Triage:
    """A triage ``days_ago`` that routed the patient to ``service`` (collab's referral), optionally
    sent back for re-triage since. The request came in by phone to the patient's practice."""
    practice = patient.registered_practice
    intake = Service.objects.get_or_create(organisation=practice, kind=Service.Kind.PRACTICE,
                                           defaults={"name": practice.name})[0]
    rule_set = RuleSet.objects.get_or_create(collaborative=CollaborativeFactory(), version=1,
                                             defaults={"created_at": timezone.now(), "targets": {}})[0]
    triaged_at = timezone.now() - dt.timedelta(days=days_ago)
    submitted_at = (timezone.now() - dt.timedelta(days=submitted_days_ago) if submitted_days_ago is not None
                    else triaged_at - dt.timedelta(hours=1))
    route = {Service.Kind.SOCIAL_PRESCRIBING: "social_prescribing", Service.Kind.ENHANCED_ACCESS: "enhanced_access",
             Service.Kind.REMOTE_HUB: "hub"}[service.kind]
    request = TriageRequest.objects.create(
        reference=f"R-T{TriageRequest.objects.count():07d}", source="phone", kind="medical", patient=patient,
        practice=practice, submitted_at=submitted_at, description="Feeling isolated since moving here",
        intake_service=intake, service=service, status=TriageRequest.Status.WAITING, urgency="routine", route=route,
        urgency_rank=3, respond_by=triaged_at + dt.timedelta(days=7), triaged_at=triaged_at)
    triage = Triage.objects.create(
        request=request, number=1, triaged_at=triaged_at, method=Triage.Method.RULE, urgency="routine", route=route,
        reason="Referral", safety_netting="Call the practice if worse", rule_set=rule_set, rule_position=1,
        service=service, respond_by=request.respond_by)
    if sent_back:
        TriageRequest.objects.filter(pk=request.pk).update(status=TriageRequest.Status.AWAITING_TRIAGE, service=intake,
                                                           triaged_at=None, route="")
        SendBack.objects.create(request=request, triage=triage, sent_at=triaged_at, organisation=practice,
                                sent_by=RoleAssignmentFactory(organisation=practice, role=Role.GP).user,
                                reason="Wrong service: needs a GP")
    return triage


def _world(role: str, place: str, relationship: str):
    home = PracticeFactory()
    ea = enhanced_access_service()
    if place == "practice":
        assignment = RoleAssignmentFactory(organisation=home, role=role)
    else:
        service = {"hub": HubServiceFactory, "ooh": OohServiceFactory, "enhanced_access": lambda: ea,
                   "social_prescribing": social_prescribing_service}[place]()
        assignment = RoleAssignmentFactory(organisation=CollaborativeFactory(), role=role, service=service)
    patient = PatientFactory(registered_practice=home if relationship == "registered_here" else PracticeFactory())
    match relationship:
        case "hub_upcoming":
            _hub_appointment(patient, days_ago=0)
        case "hub_recent":
            _hub_appointment(patient, days_ago=20, status="fulfilled")
        case "hub_old":
            _hub_appointment(patient, days_ago=40, status="fulfilled")
        case "hub_cancelled":
            _hub_appointment(patient, days_ago=0, status="cancelled")
        case "ooh_open":
            _ooh_case(patient, days_ago=None)
        case "ooh_recent":
            _ooh_case(patient, days_ago=27)
        case "ooh_old":
            _ooh_case(patient, days_ago=29)
        case "ea_upcoming":
            _appointment(patient, days_ago=0, service=ea)
        case "ea_recent":
            _appointment(patient, days_ago=27, status="fulfilled", service=ea)
        case "ea_old":
            _appointment(patient, days_ago=29, status="fulfilled", service=ea)
        case "ea_cancelled":
            _appointment(patient, days_ago=0, status="cancelled", service=ea)
        case "ea_other_pcn":
            _appointment(patient, days_ago=0, service=enhanced_access_service())
        case "referral_sp_recent":
            referral(patient, social_prescribing_service(), days_ago=27)
        case "referral_sp_old":
            referral(patient, social_prescribing_service(), days_ago=29)
        case "referral_sp_sent_back":
            referral(patient, social_prescribing_service(), days_ago=2, sent_back=True)
        case "referral_ea_recent":
            referral(patient, ea, days_ago=27)
        case "break_glass" | "break_glass_expired":
            granted = timezone.now() - dt.timedelta(minutes=5 if relationship == "break_glass" else 90)
            BreakGlassGrant.objects.create(
                user=assignment.user, role=role, organisation=assignment.organisation, patient=patient,
                reason="Emergency: collapsed", reauthentication="test", granted_at=granted,
                expires_at=granted + dt.timedelta(minutes=30))
    return assignment, patient


@pytest.mark.parametrize(("role", "place", "relationship"), list(itertools.product(ROLES, PLACES, RELATIONSHIPS)))
def test_access_matrix(role, place, relationship):
    assignment, patient = _world(role, place, relationship)
    who = actor(assignment)
    for action in ACTIONS:
        allowed = expected(role, place, relationship, action)
        last = AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0
        if allowed:
            decision = access_patient(actor=who, actor_org_kind=assignment.organisation.kind, patient=patient,
                                      action=action)
            under_glass = relationship == "break_glass" and action in (Action.VIEW, Action.RECORD_VIEW)
            assert decision.break_glass == under_glass, action
        else:
            with pytest.raises(AccessDenied):
                access_patient(actor=who, actor_org_kind=assignment.organisation.kind, patient=patient, action=action)
        rows = list(AuditEvent.objects.filter(sequence__gt=last))
        assert len(rows) == 1, f"{action}: {len(rows)} audit rows"
        row = rows[0]
        assert (row.outcome, row.action, row.patient_id, row.user_id, row.role, row.organisation_ods) == (
            "allowed" if allowed else "refused", action, patient.pk, assignment.user_id, role,
            assignment.organisation.ods_code,
        ), f"{role} in {place} with {relationship}: {action}"
        assert row.reason


def test_the_recent_window_is_a_setting(settings):
    settings.RELATIONSHIP_RECENT_DAYS = 50
    assignment, patient = _world(Role.GP, "hub", "hub_old")
    access_patient(actor=actor(assignment), actor_org_kind="collaborative", patient=patient, action=Action.VIEW)


def _in(service: Service, role: str = Role.GP):
    return RoleAssignmentFactory(organisation=CollaborativeFactory(), role=role, service=service)


def _enhanced_access_appointment(patient, service, days_ago):
    _appointment(patient, days_ago=days_ago, status="fulfilled", service=service)


def _social_prescribing_referral(patient, service, days_ago):
    # Submitted two days before the triage: on day 27 the request itself is older than the window,
    # so only the referral (dated by the triage decision) can give the relationship.
    referral(patient, service, days_ago=days_ago, submitted_days_ago=days_ago + 2)


WINDOWED = {
    "enhanced access appointment": (enhanced_access_service, _enhanced_access_appointment,
                                    "current or recent appointment with Enhanced access ({pcn})"),
    "referral to social prescribing": (social_prescribing_service, _social_prescribing_referral,
                                       "referral to Social prescribing"),
}


@pytest.mark.parametrize("kind", list(WINDOWED))
@pytest.mark.parametrize(("window", "days_ago", "allowed"), [
    (None, 27, True), (None, 29, False), (28, 27, True), (28, 29, False), (50, 29, True), (50, 51, False), (10, 11, False),
])
def test_the_window_bounds_the_new_relationships(settings, kind, window, days_ago, allowed):
    """Day 27 is allowed and day 29 refused under the default 28 days; RELATIONSHIP_RECENT_DAYS moves it."""
    if window is not None:
        settings.RELATIONSHIP_RECENT_DAYS = window
    make_service, make_relationship, reason = WINDOWED[kind]
    service = make_service()
    assignment, patient = _in(service), PatientFactory()
    make_relationship(patient, service, days_ago)
    before = AuditEvent.objects.count()
    for action in (Action.VIEW, Action.RECORD_VIEW):
        if allowed:
            decision = access_patient(actor=actor(assignment), actor_org_kind="collaborative", patient=patient,
                                      action=action)
            assert decision.reason == reason.format(pcn=service.organisation.name)
        else:
            with pytest.raises(AccessDenied, match="no legitimate relationship"):
                access_patient(actor=actor(assignment), actor_org_kind="collaborative", patient=patient, action=action)
    assert AuditEvent.objects.count() == before + 2
    rows = AuditEvent.objects.order_by("-sequence")[:2]
    assert {r.outcome for r in rows} == {"allowed" if allowed else "refused"}


def test_the_default_window_is_28_days():
    assert django_settings.RELATIONSHIP_RECENT_DAYS == 28


def test_a_referral_names_the_receiving_service_in_the_audit_trail():
    """The receiving service's staff look because of the referral, and the audit row says so."""
    service = social_prescribing_service()
    assignment, patient = _in(service), PatientFactory()
    referral(patient, service, days_ago=1)
    access_patient(actor=actor(assignment), actor_org_kind="collaborative", patient=patient, action=Action.RECORD_VIEW,
                   object_type="record", object_id=patient.pk)
    row = AuditEvent.objects.get(patient_id=patient.pk, action=Action.RECORD_VIEW)
    assert (row.outcome, row.reason) == ("allowed", "referral to Social prescribing")


def test_a_referral_gives_only_the_receiving_service_a_relationship():
    sp = social_prescribing_service()
    pharmacy = Service.objects.create(organisation=CollaborativeFactory(), kind=Service.Kind.COMMUNITY_PHARMACY,
                                      name="Community pharmacy")
    patient = PatientFactory()
    referral(patient, sp, days_ago=1, submitted_days_ago=40)
    with pytest.raises(AccessDenied):
        access_patient(actor=actor(_in(pharmacy, Role.CLINICAL_PHARMACIST)), actor_org_kind="collaborative",
                       patient=patient, action=Action.RECORD_VIEW)
    access_patient(actor=actor(_in(sp, Role.PRACTICE_NURSE)), actor_org_kind="collaborative", patient=patient,
                   action=Action.RECORD_VIEW)


def test_an_enhanced_access_appointment_is_that_services_reason_not_the_hubs():
    ea = enhanced_access_service()
    patient = PatientFactory()
    _appointment(patient, days_ago=0, service=ea)
    hub_gp = RoleAssignmentFactory(organisation=CollaborativeFactory(), role=Role.GP)  # names no service: the hub
    with pytest.raises(AccessDenied):
        access_patient(actor=actor(hub_gp), actor_org_kind="collaborative", patient=patient, action=Action.VIEW)
    decision = access_patient(actor=actor(_in(ea)), actor_org_kind="collaborative", patient=patient,
                              action=Action.UPDATE_APPOINTMENT)
    assert decision.reason == f"current or recent appointment with {ea.name}"
    _hub_appointment(patient, days_ago=0)
    decision = access_patient(actor=actor(hub_gp), actor_org_kind="collaborative", patient=patient, action=Action.VIEW)
    assert decision.reason == "current or recent hub appointment"


def test_a_collaborative_role_naming_no_service_acts_in_the_hub_not_out_of_hours():
    assignment = RoleAssignmentFactory(organisation=CollaborativeFactory(), role=Role.GP)
    patient = PatientFactory()
    _ooh_case(patient, days_ago=None)
    with pytest.raises(AccessDenied):
        access_patient(actor=actor(assignment), actor_org_kind="collaborative", patient=patient, action=Action.VIEW)
    _hub_appointment(patient, days_ago=0)
    access_patient(actor=actor(assignment), actor_org_kind="collaborative", patient=patient, action=Action.VIEW)
