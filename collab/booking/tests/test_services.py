import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from collab.accounts.models import Role
from collab.booking import selectors, services
from collab.booking.models import Appointment, CapacityRequest, PracticeTask, Slot, UsageEntry
from collab.core.models import AuditEvent
from collab.core.tests.factories import (
    CollaborativeFactory,
    PatientFactory,
    PracticeFactory,
    RoleAssignmentFactory,
    actor,
    hub_session,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def practice():
    return PracticeFactory()


@pytest.fixture
def receptionist(practice):
    return RoleAssignmentFactory(organisation=practice, role=Role.CARE_NAVIGATOR)


@pytest.fixture
def hub_gp():
    return RoleAssignmentFactory(organisation=CollaborativeFactory(), role=Role.GP)


@pytest.fixture
def session(hub_gp):
    return hub_session(clinician=hub_gp.user)


def book(assignment, slot, patient, reason="Chest infection"):
    return services.appointment_book(actor=actor(assignment), actor_org_kind=assignment.organisation.kind,
                                     slot_id=slot.pk, patient=patient, reason=reason)


def test_a_session_makes_its_slots(session):
    slots = list(session.slots.order_by("starts_at"))
    assert len(slots) == 4
    # In local time: in British Summer Time 09:00 is 08:00 UTC.
    assert [timezone.localtime(s.starts_at).strftime("%H:%M") for s in slots] == ["09:00", "09:15", "09:30", "09:45"]
    assert all(s.status == "free" and s.is_pooled for s in slots)


def test_session_rejects_bad_input(hub_gp):
    with pytest.raises(services.BookingError, match="Slot length"):
        hub_session(clinician=hub_gp.user, slot_minutes=3)
    with pytest.raises(services.BookingError, match="clinical role"):
        hub_session(clinician=hub_gp.user, role=Role.CARE_NAVIGATOR)


def test_receptionist_books_own_patient(receptionist, session):
    patient = PatientFactory(registered_practice=receptionist.organisation)
    slot = session.slots.first()
    booked = book(receptionist, slot, patient)
    appointment = Appointment.objects.get(pk=booked.appointment_id)
    assert appointment.status == "booked" and appointment.practice == receptionist.organisation
    slot.refresh_from_db()
    assert slot.status == "busy"
    usage = UsageEntry.objects.get(appointment=appointment)
    assert (usage.delta, usage.minutes, usage.reserved) == (1, 15, False)
    audit = AuditEvent.objects.get(action="appointment.book")
    assert (audit.outcome, audit.patient_id, audit.username) == ("allowed", patient.pk, receptionist.user.username)


def test_second_booking_of_a_slot_is_a_conflict(receptionist, session):
    slot = session.slots.first()
    book(receptionist, slot, PatientFactory(registered_practice=receptionist.organisation))
    with pytest.raises(services.SlotUnavailable):
        book(receptionist, slot, PatientFactory(registered_practice=receptionist.organisation))
    assert Appointment.objects.filter(slot=slot).count() == 1
    assert list(AuditEvent.objects.values_list("outcome", flat=True)) == ["allowed", "refused"]


def test_database_refuses_two_live_appointments_on_one_slot(receptionist, session):
    slot = session.slots.first()
    patient = PatientFactory(registered_practice=receptionist.organisation)
    booked = book(receptionist, slot, patient)
    original = Appointment.objects.get(pk=booked.appointment_id)
    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.create(slot=slot, patient=patient, practice=original.practice, booked_by=original.booked_by,
                                   reason="x", created_at=timezone.now(), updated_at=timezone.now())


def test_other_practices_patient_is_refused_and_audited(receptionist, session):
    stranger = PatientFactory()
    with pytest.raises(services.NotPermitted):
        book(receptionist, session.slots.first(), stranger)
    assert not Appointment.objects.exists()
    audit = AuditEvent.objects.get()
    assert (audit.outcome, audit.patient_id) == ("refused", stranger.pk)
    assert "another practice" in audit.reason


def test_past_slot_is_refused(receptionist, hub_gp):
    past = hub_session(clinician=hub_gp.user, start=timezone.now() - dt.timedelta(hours=2))
    with pytest.raises(services.SlotInPast):
        book(receptionist, past.slots.first(), PatientFactory(registered_practice=receptionist.organisation))


def test_reserved_slot_only_for_its_practice(receptionist, hub_gp):
    other = PracticeFactory()
    reserved = hub_session(clinician=hub_gp.user, reserved_for=other)
    with pytest.raises(services.SlotUnavailable, match="reserved for another practice"):
        book(receptionist, reserved.slots.first(), PatientFactory(registered_practice=receptionist.organisation))
    other_reception = RoleAssignmentFactory(organisation=other)
    booked = book(other_reception, reserved.slots.first(), PatientFactory(registered_practice=other))
    assert Appointment.objects.get(pk=booked.appointment_id).used_reserved_capacity


@pytest.mark.parametrize("reason", ["", "   ", "x" * 201])
def test_reason_is_required_and_short(receptionist, session, reason):
    with pytest.raises(services.BookingError, match="reason|Reason"):
        book(receptionist, session.slots.first(), PatientFactory(registered_practice=receptionist.organisation), reason)
    assert not Appointment.objects.exists()


def test_unknown_slot_is_not_found(receptionist):
    with pytest.raises(services.SlotNotFound):
        services.appointment_book(actor=actor(receptionist), actor_org_kind="practice", slot_id=987654,
                                  patient=PatientFactory(registered_practice=receptionist.organisation), reason="x")


@pytest.fixture
def booked(receptionist, session):
    patient = PatientFactory(registered_practice=receptionist.organisation)
    return Appointment.objects.get(pk=book(receptionist, session.slots.first(), patient).appointment_id)


def test_hub_gp_completes_as_resolved_remotely(booked, hub_gp):
    a = services.appointment_arrive(actor=actor(hub_gp), actor_org_kind="collaborative", appointment=booked)
    assert a.status == "arrived"
    a = services.appointment_complete(actor=actor(hub_gp), actor_org_kind="collaborative", appointment=a,
                                      outcome="resolved_remotely", note="")
    assert (a.status, a.outcome) == ("fulfilled", "resolved_remotely")
    assert not PracticeTask.objects.exists()
    assert selectors.hub_remote_resolution() == {"completed": 1, "resolved_remotely": 1, "share": 1.0}
    assert list(a.events.values_list("status", flat=True)) == ["arrived", "fulfilled"]


def test_face_to_face_outcome_puts_a_task_on_the_practice_list(booked, hub_gp, receptionist):
    services.appointment_complete(actor=actor(hub_gp), actor_org_kind="collaborative", appointment=booked,
                                  outcome="face_to_face", note="Examine the knee")
    task = PracticeTask.objects.get()
    assert (task.practice, task.patient, task.description, task.status) == (
        receptionist.organisation, booked.patient, "Examine the knee", "open")
    assert list(selectors.practice_tasks_open(practice_id=receptionist.organisation_id)) == [task]
    services.practice_task_close(actor=actor(receptionist), task=task)
    assert not selectors.practice_tasks_open(practice_id=receptionist.organisation_id).exists()
    with pytest.raises(services.InvalidTransition):
        services.practice_task_close(actor=actor(receptionist), task=task)


def test_face_to_face_needs_a_note(booked, hub_gp):
    with pytest.raises(services.BookingError, match="Say what"):
        services.appointment_complete(actor=actor(hub_gp), actor_org_kind="collaborative", appointment=booked,
                                      outcome="face_to_face", note=" ")
    booked.refresh_from_db()
    assert booked.status == "booked"


def test_other_practice_cannot_close_a_task(booked, hub_gp):
    services.appointment_complete(actor=actor(hub_gp), actor_org_kind="collaborative", appointment=booked,
                                  outcome="face_to_face", note="Bloods")
    outsider = RoleAssignmentFactory()
    with pytest.raises(services.NotPermitted):
        services.practice_task_close(actor=actor(outsider), task=PracticeTask.objects.get())
    assert AuditEvent.objects.filter(action="task.close", outcome="refused").count() == 1


def test_cancel_frees_the_slot_and_credits_usage(booked, receptionist):
    services.appointment_cancel(actor=actor(receptionist), actor_org_kind="practice", appointment=booked,
                                reason="Patient feels better")
    booked.refresh_from_db()
    assert (booked.status, booked.cancellation_reason) == ("cancelled", "Patient feels better")
    assert Slot.objects.get(pk=booked.slot_id).status == "free"
    assert sorted(UsageEntry.objects.values_list("delta", flat=True)) == [-1, 1]
    again = book(receptionist, booked.slot, booked.patient)
    assert again.slot_id == booked.slot_id
    rows = selectors.usage_by_practice(since=timezone.localdate(), until=timezone.localdate() + dt.timedelta(days=2))
    assert rows[0]["appointments"] == 1 and rows[0]["minutes"] == 15


def test_cancel_needs_a_reason(booked, receptionist):
    with pytest.raises(services.BookingError, match="reason"):
        services.appointment_cancel(actor=actor(receptionist), actor_org_kind="practice", appointment=booked, reason="")


def test_completed_appointment_cannot_be_cancelled_or_marked_dna(booked, hub_gp):
    services.appointment_complete(actor=actor(hub_gp), actor_org_kind="collaborative", appointment=booked,
                                  outcome="referred", note="Physio")
    with pytest.raises(services.InvalidTransition, match="completed"):
        services.appointment_cancel(actor=actor(hub_gp), actor_org_kind="collaborative", appointment=booked, reason="x")
    with pytest.raises(services.InvalidTransition):
        services.appointment_did_not_attend(actor=actor(hub_gp), actor_org_kind="collaborative", appointment=booked)


def test_did_not_attend(booked, hub_gp):
    a = services.appointment_did_not_attend(actor=actor(hub_gp), actor_org_kind="collaborative", appointment=booked)
    assert a.status == "noshow"
    assert Slot.objects.get(pk=a.slot_id).status == "busy"


def test_receptionist_cannot_complete_a_consultation(booked, receptionist):
    with pytest.raises(services.NotPermitted):
        services.appointment_complete(actor=actor(receptionist), actor_org_kind="practice", appointment=booked,
                                      outcome="resolved_remotely", note="")
    assert AuditEvent.objects.filter(action="appointment.update", outcome="refused").count() == 1


# ------------------------------------------------------------ buying capacity


@pytest.fixture
def manager(practice):
    return RoleAssignmentFactory(organisation=practice, role=Role.PRACTICE_MANAGER)


@pytest.fixture
def hub_manager():
    return RoleAssignmentFactory(organisation=CollaborativeFactory(), role=Role.HUB_MANAGER)


def request_capacity(manager, slots=3, **kw):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    return services.capacity_request_create(
        actor=actor(manager), practice=manager.organisation, first_date=kw.get("first", tomorrow),
        last_date=kw.get("last", tomorrow), slots_requested=slots, reason="staff_sickness", detail="GP off sick")


def test_approval_reserves_pooled_slots_for_the_practice(manager, hub_manager, session):
    req = request_capacity(manager, slots=3)
    assert req.status == "requested"
    req = services.capacity_request_decide(actor=actor(hub_manager), request=req, approve=True, note="")
    assert (req.status, req.slots_reserved, req.decided_by) == ("approved", 3, hub_manager.user)
    assert Slot.objects.filter(reserved_for=manager.organisation).count() == 3
    with pytest.raises(services.InvalidTransition):
        services.capacity_request_decide(actor=actor(hub_manager), request=req, approve=False, note="no")


def test_approval_fails_whole_when_too_few_slots(manager, hub_manager, session):
    req = request_capacity(manager, slots=10)
    with pytest.raises(services.BookingError, match="Only 4 free pooled slots"):
        services.capacity_request_decide(actor=actor(hub_manager), request=req, approve=True, note="")
    req.refresh_from_db()
    assert req.status == "requested"
    assert not Slot.objects.filter(reserved_for__isnull=False).exists()


def test_decline_needs_a_note(manager, hub_manager):
    req = request_capacity(manager)
    with pytest.raises(services.BookingError, match="why"):
        services.capacity_request_decide(actor=actor(hub_manager), request=req, approve=False, note="")
    req = services.capacity_request_decide(actor=actor(hub_manager), request=req, approve=False, note="No GPs free")
    assert (req.status, req.decision_note) == (CapacityRequest.Status.DECLINED, "No GPs free")


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"first": timezone.localdate() - dt.timedelta(days=1)}, "today or later"),
        ({"first": timezone.localdate() + dt.timedelta(days=3), "last": timezone.localdate() + dt.timedelta(days=1)}, "on or before"),
        ({"slots": 0}, "between 1 and 500"),
    ],
)
def test_capacity_request_rejects_bad_input(manager, kw, message):
    slots = kw.pop("slots", 3)
    with pytest.raises(services.BookingError, match=message):
        request_capacity(manager, slots=slots, **kw)
    assert not CapacityRequest.objects.exists()


def test_duty_doctor_rota(hub_manager, hub_gp, practice):
    other = PracticeFactory()
    today = timezone.localdate()
    assert services.duty_doctor_assign(actor=actor(hub_manager), date=today, practices=[practice, other],
                                       clinician=hub_gp.user, contact="01432 000200") == 2
    duty = selectors.duty_doctor_today(practice_id=practice.pk)
    assert (duty.clinician, duty.contact) == (hub_gp.user, "01432 000200")
    replacement = RoleAssignmentFactory(organisation=hub_gp.organisation, role=Role.GP).user
    services.duty_doctor_assign(actor=actor(hub_manager), date=today, practices=[practice], clinician=replacement,
                                contact="01432 000201")
    assert selectors.duty_doctor_today(practice_id=practice.pk).clinician == replacement
    assert selectors.duty_rota(day=today).count() == 2
    with pytest.raises(services.BookingError, match="reach"):
        services.duty_doctor_assign(actor=actor(hub_manager), date=today, practices=[practice], clinician=replacement,
                                    contact="")
