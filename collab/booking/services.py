"""Writes for the hub. Keyword-only, each in one transaction, each audited.

Booking takes the database's guarantee: a conditional UPDATE claims the slot (only one writer
can move it from free to busy) and the partial unique constraint on live appointments stands
behind it. There is no check-then-insert.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from collab.accounts.models import CLINICAL_ROLES, User
from collab.booking.models import (
    Appointment,
    AppointmentEvent,
    CapacityRequest,
    DeliveryChannel,
    DutyDoctor,
    HubSession,
    PracticeTask,
    Slot,
    SlotType,
    UsageEntry,
)
from collab.booking.sql import APPOINTMENT_SQL as _APPOINTMENT_SQL
from collab.booking.sql import BOOK_IN_ONE_STATEMENT_SQL as _BOOK_IN_ONE_STATEMENT_SQL
from collab.booking.sql import CLAIM_SQL as _CLAIM_SQL
from collab.booking.sql import USAGE_SQL as _USAGE_SQL
from collab.core.audit import Actor, audit_record, audit_row
from collab.core.db import db_datetime, hot_path_cursor
from collab.organisations.models import Organisation, Service
from collab.patients.access import Action, decide
from collab.patients.models import Patient


class BookingError(Exception):
    """A booking request that cannot be carried out; ``code`` is the FHIR issue code."""

    code = "INVALID_REQUEST"
    http_status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class SlotUnavailable(BookingError):
    code = "DUPLICATE_REJECTED"
    http_status = 409


class SlotNotFound(BookingError):
    code = "NO_RECORD_FOUND"
    http_status = 404


class SlotInPast(BookingError):
    code = "INVALID_RESOURCE"
    http_status = 422


class NotPermitted(BookingError):
    code = "ACCESS_DENIED"
    http_status = 403


class InvalidTransition(BookingError):
    code = "INVALID_REQUEST"
    http_status = 409


@dataclass(frozen=True, slots=True)
class Booked:
    appointment_id: int
    slot_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    created_at: dt.datetime


# ---------------------------------------------------------------- sessions and slots


def session_create(
    *,
    service: Service,
    clinician: User,
    clinician_role: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    slot_minutes: int,
    channel: str,
    reserved_for: Organisation | None = None,
    capacity_request: CapacityRequest | None = None,
    slot_type: str = SlotType.GENERAL,
) -> HubSession:
    if clinician_role not in CLINICAL_ROLES:
        raise BookingError("A session needs a clinical role")
    if channel not in DeliveryChannel.values:
        raise BookingError(f"Unknown delivery channel {channel!r}")
    if not starts_at < ends_at:
        raise BookingError("A session must start before it ends")
    if slot_type not in SlotType.values:
        raise BookingError(f"Unknown slot type {slot_type!r}")
    if not 5 <= slot_minutes <= 120:
        raise BookingError("Slot length must be between 5 and 120 minutes")
    with transaction.atomic():
        session = HubSession.objects.create(
            service=service,
            clinician=clinician,
            clinician_role=clinician_role,
            starts_at=starts_at,
            ends_at=ends_at,
            slot_minutes=slot_minutes,
            channel=channel,
            reserved_for=reserved_for,
            capacity_request=capacity_request,
            slot_type=slot_type,
        )
        step = dt.timedelta(minutes=slot_minutes)
        slots = []
        start = starts_at
        while start + step <= ends_at:
            slots.append(
                Slot(
                    session=session,
                    service=service,
                    clinician=clinician,
                    starts_at=start,
                    ends_at=start + step,
                    channel=channel,
                    clinician_role=clinician_role,
                    slot_type=slot_type,
                    reserved_for=reserved_for,
                )
            )
            start += step
        Slot.objects.bulk_create(slots)
    return session


# ---------------------------------------------------------------- booking


def appointment_book(
    *, actor: Actor, actor_org_kind: str, slot_id: int, patient: Patient, reason: str
) -> Booked:
    """Book ``patient`` into a free hub slot. One audit row per attempt, allowed or refused."""
    reason = (reason or "").strip()
    if not reason:
        raise BookingError("Enter a reason for the appointment")
    if len(reason) > 200:
        raise BookingError("Reason must be 200 characters or fewer")
    decision = decide(actor=actor, actor_org_kind=actor_org_kind, patient=patient, action=Action.BOOK)
    if not decision.allowed:
        audit_record(actor=actor, action=Action.BOOK, allowed=False, patient_id=patient.pk,
                     reason=decision.reason, object_type="slot", object_id=slot_id)
        raise NotPermitted("You cannot book appointments for this patient")
    now = timezone.now()
    practice_id = patient.registered_practice_id
    allowed = audit_row(actor=actor, action=Action.BOOK, allowed=True, patient_id=patient.pk, reason=decision.reason,
                        object_type="appointment", occurred_at=now)
    refusal: BookingError | None = None
    booked: Booked | None = None
    try:
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            # One statement is one transaction: claim, appointment, usage and audit rows, or nothing;
            # when nothing, the slot as the statement found it, to say why.
            booked, refusal = _claim_and_book_in_one_statement(
                slot_id=slot_id, patient_id=patient.pk, practice_id=practice_id, booked_by_id=actor.user_id,
                reason=reason, now=now, audit=allowed)
        else:
            with transaction.atomic():
                booked = _claim_and_book(slot_id=slot_id, patient_id=patient.pk, practice_id=practice_id,
                                         booked_by_id=actor.user_id, reason=reason, now=now)
                if booked is not None:
                    audit_record(actor=actor, action=Action.BOOK, allowed=True, patient_id=patient.pk,
                                 reason=decision.reason, object_type="appointment", object_id=booked.appointment_id)
    except IntegrityError:
        # The unique constraint caught a race the conditional update did not (defence in depth).
        refusal = SlotUnavailable("The slot is no longer free")
    if booked is not None:
        return booked
    if refusal is None:
        slot = Slot.objects.filter(pk=slot_id).values_list("status", "starts_at", "reserved_for_id").first()
        refusal = _why_not_bookable(slot, slot_id=slot_id, practice_id=practice_id, now=now)
    audit_record(actor=actor, action=Action.BOOK, allowed=False, patient_id=patient.pk,
                 reason=refusal.message, object_type="slot", object_id=slot_id)
    raise refusal


# The booking hot path writes in plain SQL (collab/booking/sql.py): the ORM builds the same
# statements at several times the CPU (docs/adr/0006-booking-hot-path.md).


def _claim_and_book(
    *, slot_id: int, patient_id: int, practice_id: int, booked_by_id: int, reason: str, now: dt.datetime
) -> Booked | None:
    """Inside the caller's transaction: claim the slot and write the appointment and usage rows.

    None when the slot could not be claimed (taken, past, reserved for another practice, absent).
    """
    ops = connection.ops
    at = ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_SQL, [Slot.Status.BUSY, slot_id, Slot.Status.FREE, at, practice_id])
        row = cursor.fetchone()
        if row is None:
            return None
        starts_at, ends_at, reserved_for_id = db_datetime(row[0]), db_datetime(row[1]), row[2]
        reserved = reserved_for_id is not None
        cursor.execute(_APPOINTMENT_SQL, [slot_id, patient_id, practice_id, booked_by_id, reason,
                                          Appointment.Status.BOOKED, reserved, at, at])
        appointment_id = cursor.fetchone()[0]
        minutes = int((ends_at - starts_at).total_seconds() // 60)
        cursor.execute(_USAGE_SQL, [practice_id, appointment_id, at, ops.adapt_datetimefield_value(starts_at),
                                    minutes, reserved])
    return Booked(appointment_id, slot_id, starts_at, ends_at, now)


def _claim_and_book_in_one_statement(
    *, slot_id: int, patient_id: int, practice_id: int, booked_by_id: int, reason: str, now: dt.datetime, audit: dict,
) -> tuple[Booked | None, BookingError | None]:
    """PostgreSQL: the writes of _claim_and_book plus the audit row in one statement, one round trip.

    The booking, or why the slot could not be booked. Outside an atomic block the statement is
    its own transaction; inside one (tests, a caller's transaction) appointment_book runs the
    generic path instead, under a savepoint.
    """
    params = {
        "busy": Slot.Status.BUSY, "free": Slot.Status.FREE, "booked": Appointment.Status.BOOKED,
        "slot_id": slot_id, "patient_id": patient_id, "practice_id": practice_id, "booked_by_id": booked_by_id,
        "reason": reason, "now": now,
        **{k: v for k, v in audit.items() if k not in ("patient_id", "reason", "object_id")},
        "audit_patient_id": audit["patient_id"], "audit_reason": audit["reason"],
    }
    with hot_path_cursor() as cursor:
        cursor.execute(_BOOK_IN_ONE_STATEMENT_SQL, params)
        row = cursor.fetchone()
    if row is not None and row[0] is not None:
        return Booked(row[0], slot_id, row[1], row[2], now), None
    slot = None if row is None else (row[3], row[1], row[4])
    return None, _why_not_bookable(slot, slot_id=slot_id, practice_id=practice_id, now=now)


def _why_not_bookable(slot: tuple | None, *, slot_id: int, practice_id: int, now: dt.datetime) -> BookingError:
    """Why a claim failed, from the slot's (status, starts_at, reserved_for_id), None if absent."""
    if slot is None:
        return SlotNotFound(f"There is no slot {slot_id}")
    _status, starts_at, reserved_for_id = slot
    if db_datetime(starts_at) <= now:
        return SlotInPast("The slot has already started; only future slots can be booked")
    if reserved_for_id not in (None, practice_id):
        return SlotUnavailable("The slot is reserved for another practice")
    return SlotUnavailable("The slot is no longer free")


def _transition(
    *, actor: Actor, actor_org_kind: str, appointment: Appointment, to: str, allowed_from: tuple[str, ...],
    action: str, note: str = "", after=None, **changes,
) -> Appointment:
    """Move an appointment between statuses: access decided and audited first, then one transaction.

    ``after`` runs inside the same transaction once the move has succeeded.
    """
    decision = decide(actor=actor, actor_org_kind=actor_org_kind, patient=appointment.patient, action=action)
    if not decision.allowed:
        audit_record(actor=actor, action=action, allowed=False, patient_id=appointment.patient_id,
                     reason=decision.reason, object_type="appointment", object_id=appointment.pk)
        raise NotPermitted("You cannot change this appointment")
    now = timezone.now()
    with transaction.atomic():
        moved = Appointment.objects.filter(pk=appointment.pk, status__in=allowed_from).update(
            status=to, updated_at=now, **changes
        )
        if moved != 1:
            current = Appointment.objects.values_list("status", flat=True).get(pk=appointment.pk)
            raise InvalidTransition(
                f"An appointment that is {Appointment.Status(current).label.lower()} cannot be changed to "
                f"{Appointment.Status(to).label.lower()}"
            )
        AppointmentEvent.objects.create(appointment=appointment, status=to, occurred_at=now, by_id=actor.user_id, note=note[:500])
        audit_record(actor=actor, action=action, allowed=True, patient_id=appointment.patient_id,
                     reason=f"{decision.reason}; status {to}", object_type="appointment", object_id=appointment.pk)
        appointment.refresh_from_db()
        if after is not None:
            after(appointment, now)
    return appointment


def appointment_arrive(*, actor: Actor, actor_org_kind: str, appointment: Appointment) -> Appointment:
    return _transition(actor=actor, actor_org_kind=actor_org_kind, appointment=appointment, to="arrived",
                       allowed_from=("booked",), action=Action.UPDATE_APPOINTMENT)


def appointment_did_not_attend(*, actor: Actor, actor_org_kind: str, appointment: Appointment) -> Appointment:
    return _transition(actor=actor, actor_org_kind=actor_org_kind, appointment=appointment, to="noshow",
                       allowed_from=("booked", "arrived"), action=Action.UPDATE_APPOINTMENT)


def outcome_check(*, outcome: str, note: str) -> str:
    """The outcome's rules, before anything is written: the cleaned note for the practice."""
    if outcome not in Appointment.Outcome.values:
        raise BookingError("Choose an outcome")
    note = (note or "").strip()
    if outcome == Appointment.Outcome.FACE_TO_FACE and not note:
        raise BookingError("Say what the practice needs to see the patient for")
    return note


def appointment_complete(
    *, actor: Actor, actor_org_kind: str, appointment: Appointment, outcome: str, note: str
) -> Appointment:
    note = outcome_check(outcome=outcome, note=note)

    def follow_up(done: Appointment, now: dt.datetime) -> None:
        if outcome == Appointment.Outcome.FACE_TO_FACE:
            PracticeTask.objects.create(
                practice_id=done.practice_id, patient_id=done.patient_id, appointment=done,
                kind=PracticeTask.Kind.FACE_TO_FACE, description=note, created_at=now, created_by_id=actor.user_id,
            )

    return _transition(
        actor=actor, actor_org_kind=actor_org_kind, appointment=appointment, to="fulfilled",
        allowed_from=("booked", "arrived"), action=Action.UPDATE_APPOINTMENT,
        note=note, outcome=outcome, outcome_note=note, after=follow_up,
    )


def appointment_cancel(*, actor: Actor, actor_org_kind: str, appointment: Appointment, reason: str) -> Appointment:
    reason = (reason or "").strip()
    if not reason:
        raise BookingError("Enter a reason for cancelling")
    if len(reason) > 200:
        raise BookingError("Cancellation reason must be 200 characters or fewer")

    def free_slot(done: Appointment, now: dt.datetime) -> None:
        # Frees the slot for someone else, and credits the practice's metered use.
        Slot.objects.filter(pk=done.slot_id, status=Slot.Status.BUSY).update(status=Slot.Status.FREE)
        usage = done.usage.filter(delta=1).first()
        if usage is not None:
            UsageEntry.objects.create(
                practice_id=usage.practice_id, appointment=done, occurred_at=now,
                slot_starts_at=usage.slot_starts_at, minutes=usage.minutes, reserved=usage.reserved, delta=-1,
            )

    return _transition(
        actor=actor, actor_org_kind=actor_org_kind, appointment=appointment, to="cancelled",
        allowed_from=("booked", "arrived"), action=Action.CANCEL_APPOINTMENT,
        note=reason, cancellation_reason=reason, after=free_slot,
    )


# ---------------------------------------------------------------- buying capacity


def capacity_request_create(
    *, actor: Actor, practice: Organisation, first_date: dt.date, last_date: dt.date, slots_requested: int,
    reason: str, detail: str = "", channel: str = "",
) -> CapacityRequest:
    if practice.kind != Organisation.Kind.PRACTICE:
        raise BookingError("Only a practice can buy hub capacity")
    if first_date > last_date:
        raise BookingError("The first date must be on or before the last date")
    if first_date < timezone.localdate():
        raise BookingError("Capacity can only be requested for today or later")
    if (last_date - first_date).days > 31:
        raise BookingError("Request at most 31 days at a time")
    if not 1 <= slots_requested <= 500:
        raise BookingError("Ask for between 1 and 500 slots")
    if reason not in CapacityRequest.Reason.values:
        raise BookingError("Choose a reason")
    if channel and channel not in DeliveryChannel.values:
        raise BookingError("Choose a delivery channel")
    with transaction.atomic():
        request = CapacityRequest.objects.create(
            practice=practice, requested_by_id=actor.user_id, requested_at=timezone.now(),
            first_date=first_date, last_date=last_date, slots_requested=slots_requested,
            reason=reason, detail=detail.strip()[:500], channel=channel,
        )
        audit_record(actor=actor, action="capacity.request", allowed=True, object_type="capacity_request", object_id=request.pk)
    return request


def capacity_request_decide(*, actor: Actor, request: CapacityRequest, approve: bool, note: str) -> CapacityRequest:
    """Approve (reserving the earliest matching pooled free slots for the practice) or decline."""
    note = (note or "").strip()
    if not approve and not note:
        raise BookingError("Say why the request is declined")
    now = timezone.now()
    with transaction.atomic():
        changed = CapacityRequest.objects.filter(pk=request.pk, status=CapacityRequest.Status.REQUESTED).update(
            status=CapacityRequest.Status.APPROVED if approve else CapacityRequest.Status.DECLINED,
            decided_by_id=actor.user_id, decided_at=now, decision_note=note[:500],
        )
        if changed != 1:
            raise InvalidTransition("This request has already been decided")
        reserved = 0
        if approve:
            tz = timezone.get_current_timezone()
            start = dt.datetime.combine(request.first_date, dt.time.min, tzinfo=tz)
            end = dt.datetime.combine(request.last_date + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
            candidates = Slot.objects.filter(
                status=Slot.Status.FREE, reserved_for__isnull=True,
                starts_at__gte=max(start, now), starts_at__lt=end,
            )
            if request.channel:
                candidates = candidates.filter(channel=request.channel)
            ids = list(candidates.order_by("starts_at", "id").values_list("id", flat=True)[: request.slots_requested])
            if len(ids) < request.slots_requested:
                raise BookingError(
                    f"Only {len(ids)} free pooled slots are available on those dates; "
                    f"{request.slots_requested} were requested. Add hub sessions first or decline."
                )
            reserved = Slot.objects.filter(pk__in=ids, status=Slot.Status.FREE, reserved_for__isnull=True).update(
                reserved_for_id=request.practice_id
            )
            if reserved != len(ids):
                raise BookingError("Some slots were booked while approving; try again")
            CapacityRequest.objects.filter(pk=request.pk).update(slots_reserved=reserved)
        audit_record(actor=actor, action="capacity.approve" if approve else "capacity.decline", allowed=True,
                     object_type="capacity_request", object_id=request.pk, reason=note)
    request.refresh_from_db()
    return request


# ---------------------------------------------------------------- practice tasks and duty doctor


def practice_task_close(*, actor: Actor, task: PracticeTask) -> PracticeTask:
    if task.practice_id != actor.organisation_id:
        audit_record(actor=actor, action="task.close", allowed=False, patient_id=task.patient_id,
                     reason="task belongs to another practice", object_type="task", object_id=task.pk)
        raise NotPermitted("This task belongs to another practice")
    with transaction.atomic():
        changed = PracticeTask.objects.filter(pk=task.pk, status=PracticeTask.Status.OPEN).update(
            status=PracticeTask.Status.DONE, closed_at=timezone.now(), closed_by_id=actor.user_id
        )
        if changed != 1:
            raise InvalidTransition("This task is already done")
        audit_record(actor=actor, action="task.close", allowed=True, patient_id=task.patient_id,
                     reason="registered practice", object_type="task", object_id=task.pk)
    task.refresh_from_db()
    return task


def duty_doctor_assign(*, actor: Actor, date: dt.date, practices: list[Organisation], clinician: User, contact: str) -> int:
    contact = (contact or "").strip()
    if not contact:
        raise BookingError("Say how practices can reach the duty doctor")
    if not practices:
        raise BookingError("Choose at least one practice")
    with transaction.atomic():
        for practice in practices:
            DutyDoctor.objects.update_or_create(
                date=date, practice=practice, defaults={"clinician": clinician, "contact": contact[:100]}
            )
        audit_record(actor=actor, action="duty_doctor.assign", allowed=True, object_type="duty_doctor",
                     object_id=date.isoformat(), reason=f"{clinician.username} for {len(practices)} practices")
    return len(practices)
