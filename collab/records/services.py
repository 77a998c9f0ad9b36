"""Writes to the collaborative's clinical record. Keyword-only; each decided by the one access
function (which audits), then one transaction. Refusals are audited outside the transaction so
the refusal's audit row survives."""

from __future__ import annotations

from typing import NamedTuple

from django.db import transaction
from django.utils import timezone

from collab.booking import selectors as booking_selectors
from collab.booking import services as booking
from collab.booking.models import Appointment, PracticeTask
from collab.core.audit import Actor, audit_record
from collab.ooh.models import OohCase
from collab.patients.access import Action, access_patient
from collab.patients.models import Patient
from collab.records.models import Addendum, Consultation, Prescription, Problem
from collab.records.snomed import is_concept_id

NOTE_FIELDS = ("history", "examination", "assessment", "plan", "safety_netting")
SETTING_BY_SERVICE_KIND = {
    "remote_hub": Consultation.Setting.HUB,
    "out_of_hours": Consultation.Setting.OUT_OF_HOURS,
    "enhanced_access": Consultation.Setting.ENHANCED_ACCESS,
}


class RecordError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _write(actor: Actor, actor_org_kind: str, patient: Patient, object_type: str, object_id="") -> None:
    access_patient(actor=actor, actor_org_kind=actor_org_kind, patient=patient, action=Action.RECORD_WRITE,
                   object_type=object_type, object_id=object_id)


def _own_draft(actor: Actor, consultation: Consultation) -> None:
    if consultation.is_signed:
        raise RecordError("This note is signed: add an addendum instead")
    if consultation.clinician_id != actor.user_id:
        raise RecordError("Only the clinician who started this note can change it before it is signed")


def consultation_start(
    *, actor: Actor, actor_org_kind: str, patient: Patient, appointment: Appointment | None = None,
    ooh_case: OohCase | None = None,
) -> Consultation:
    setting = SETTING_BY_SERVICE_KIND.get(actor.service_kind or "remote_hub")
    if actor_org_kind != "collaborative" or setting is None:
        raise RecordError("Consultations are recorded by the collaborative's services")
    _write(actor, actor_org_kind, patient, "consultation", appointment.pk if appointment else "")
    if appointment is not None:
        _check_appointment(actor, actor_org_kind, patient, appointment)
    with transaction.atomic():
        return Consultation.objects.create(
            patient=patient, setting=setting, organisation_id=actor.organisation_id, service_id=actor.service_id,
            clinician_id=actor.user_id, clinician_role=actor.role, appointment=appointment, ooh_case=ooh_case,
            started_at=timezone.now(),
        )


def _check_appointment(actor: Actor, actor_org_kind: str, patient: Patient, appointment: Appointment) -> None:
    if appointment.patient_id != patient.pk:
        raise RecordError("This appointment is for another patient")
    if appointment.status not in (Appointment.Status.BOOKED, Appointment.Status.ARRIVED):
        raise RecordError(f"This appointment is {Appointment.Status(appointment.status).label.lower()}: "
                          "start a consultation from the patient's record instead")
    if not booking_selectors.appointment_in_actors_service(actor=actor, org_kind=actor_org_kind,
                                                           appointment=appointment):
        raise RecordError(f"This appointment is with {appointment.slot.service.name}: only its clinicians, "
                          "acting in that service, write its note")


def appointment_draft(*, actor: Actor, actor_org_kind: str, appointment: Appointment) -> Consultation:
    """The clinician's draft note for this appointment; started (and linked to it) when there is none."""
    draft = Consultation.objects.filter(appointment=appointment, clinician_id=actor.user_id,
                                        status=Consultation.Status.DRAFT).order_by("-started_at", "-id").first()
    if draft is not None:
        return draft
    return consultation_start(actor=actor, actor_org_kind=actor_org_kind, patient=appointment.patient,
                              appointment=appointment)


def note_changed(consultation: Consultation, *, notes: dict[str, str], follow_up_needed: bool,
                 follow_up_note: str) -> bool:
    """Whether saving these values would change the draft (an unchanged draft needs no write)."""
    follow_up_note = (follow_up_note or "").strip()[:500] if follow_up_needed else ""
    return any(getattr(consultation, f) != (notes.get(f) or "").strip() for f in NOTE_FIELDS) or (
        consultation.follow_up_needed, consultation.follow_up_note) != (follow_up_needed, follow_up_note)


def consultation_save(
    *, actor: Actor, actor_org_kind: str, consultation: Consultation, notes: dict[str, str],
    follow_up_needed: bool = False, follow_up_note: str = "",
) -> Consultation:
    _write(actor, actor_org_kind, consultation.patient, "consultation", consultation.pk)
    _own_draft(actor, consultation)
    changes = {f: (notes.get(f) or "").strip() for f in NOTE_FIELDS}
    follow_up_note = (follow_up_note or "").strip()[:500] if follow_up_needed else ""
    with transaction.atomic():
        Consultation.objects.filter(pk=consultation.pk, status=Consultation.Status.DRAFT).update(
            **changes, follow_up_needed=follow_up_needed, follow_up_note=follow_up_note)
    consultation.refresh_from_db()
    return consultation


def problem_add(*, actor: Actor, actor_org_kind: str, consultation: Consultation, term: str,
                snomed_concept_id: str = "") -> Problem:
    term, code = (term or "").strip(), (snomed_concept_id or "").strip()
    if not term:
        raise RecordError("Enter the problem")
    if code and not is_concept_id(code):
        raise RecordError("The SNOMED CT concept id is not valid: check the digits")
    _write(actor, actor_org_kind, consultation.patient, "problem", consultation.pk)
    _own_draft(actor, consultation)
    return Problem.objects.create(consultation=consultation, term=term[:255], snomed_concept_id=code)


def prescription_add(*, actor: Actor, actor_org_kind: str, consultation: Consultation, medication: str,
                     dosage: str = "", quantity: str = "", dmd_code: str = "") -> Prescription:
    medication, code = (medication or "").strip(), (dmd_code or "").strip()
    if not medication:
        raise RecordError("Enter the medication")
    if code and not is_concept_id(code):
        raise RecordError("The dm+d code is not valid: check the digits")
    _write(actor, actor_org_kind, consultation.patient, "prescription", consultation.pk)
    _own_draft(actor, consultation)
    return Prescription.objects.create(consultation=consultation, medication=medication[:255],
                                       dosage=(dosage or "").strip()[:255], quantity=(quantity or "").strip()[:64],
                                       dmd_code=code)


class SigningNeed(NamedTuple):
    field: str  # the note's field
    missing: str  # what is missing, in the service's refusal: "Before signing, record an assessment, ..."
    to_do: str  # the form's message on the field itself: names it and says what to do


# What a note needs before it is signed: the one list of that rule. The service refuses without
# them, the note form names each one on its field (records.forms.NoteForm), and the database
# refuses a signed note without them (Consultation's consultation_signed_is_complete constraint).
SIGNING_NEEDS = (
    SigningNeed("assessment", "an assessment", "Enter the assessment before signing the note"),
    SigningNeed("plan", "a plan", "Enter the plan before signing the note"),
    SigningNeed("safety_netting", "safety-netting advice", "Enter the safety-netting advice before signing the note"),
)


def _check_signable(consultation: Consultation) -> None:
    missing = [need.missing for need in SIGNING_NEEDS if not getattr(consultation, need.field).strip()]
    if missing:
        raise RecordError("Before signing, record " + ", ".join(missing))
    if consultation.follow_up_needed and not consultation.follow_up_note:
        raise RecordError("Say what follow-up is needed")


def consultation_sign(*, actor: Actor, actor_org_kind: str, consultation: Consultation) -> Consultation:
    """Sign the note: from now on the database refuses any change to it."""
    _write(actor, actor_org_kind, consultation.patient, "consultation.sign", consultation.pk)
    _own_draft(actor, consultation)
    _check_signable(consultation)
    with transaction.atomic():
        signed = Consultation.objects.filter(pk=consultation.pk, status=Consultation.Status.DRAFT).update(
            status=Consultation.Status.SIGNED, signed_at=timezone.now(), signed_by_id=actor.user_id)
        if signed != 1:
            raise RecordError("This note is already signed")
        if consultation.ooh_case_id:
            OohCase.objects.filter(pk=consultation.ooh_case_id).exclude(status=OohCase.Status.COMPLETED).update(
                status=OohCase.Status.COMPLETED, completed_at=timezone.now())
    consultation.refresh_from_db()
    return consultation


def appointment_consultation_complete(
    *, actor: Actor, actor_org_kind: str, consultation: Consultation, outcome: str, outcome_note: str,
) -> Appointment:
    """Sign the appointment's note, then record the appointment's outcome: one step for the clinician.

    Everything that could refuse is checked first (the outcome's rules, a complete note, an
    appointment still open), so a mistake changes nothing. Each write is then decided and audited
    by the access function as usual; they are not wrapped in one transaction, so that a refusal's
    audit row survives.
    """
    appointment = consultation.appointment
    if appointment is None:
        raise RecordError("This note belongs to no appointment")
    try:
        booking.outcome_check(outcome=outcome, note=outcome_note)
    except booking.BookingError as e:
        raise RecordError(e.message) from e
    _own_draft(actor, consultation)
    _check_signable(consultation)
    appointment.refresh_from_db()
    if appointment.status not in (Appointment.Status.BOOKED, Appointment.Status.ARRIVED):
        raise RecordError(f"This appointment is already {Appointment.Status(appointment.status).label.lower()}")
    consultation_sign(actor=actor, actor_org_kind=actor_org_kind, consultation=consultation)
    return booking.appointment_complete(actor=actor, actor_org_kind=actor_org_kind, appointment=appointment,
                                        outcome=outcome, note=outcome_note)


def addendum_add(*, actor: Actor, actor_org_kind: str, consultation: Consultation, text: str) -> Addendum:
    text = (text or "").strip()
    if not text:
        raise RecordError("Enter the addendum")
    if not consultation.is_signed:
        raise RecordError("Change the draft instead: addenda are for signed notes")
    _write(actor, actor_org_kind, consultation.patient, "addendum", consultation.pk)
    return Addendum.objects.create(consultation=consultation, text=text, author_id=actor.user_id,
                                   author_role=actor.role, created_at=timezone.now())


def review_request(*, actor: Actor, actor_org_kind: str, consultation: Consultation, urgent: bool,
                   description: str) -> PracticeTask:
    """Book the patient for review at their registered practice: a task on the practice's list
    with the signed note attached (out of hours: "book in patients we are concerned about")."""
    description = (description or "").strip()
    if not description:
        raise RecordError("Say what the practice should review")
    if not consultation.is_signed:
        raise RecordError("Sign the note first: the practice sees the signed note with the request")
    patient = consultation.patient
    _write(actor, actor_org_kind, patient, "practice_task", consultation.pk)
    with transaction.atomic():
        task = PracticeTask.objects.create(
            practice_id=patient.registered_practice_id, patient=patient, consultation=consultation,
            kind=PracticeTask.Kind.REVIEW, urgent=urgent, description=description[:2000],
            created_at=timezone.now(), created_by_id=actor.user_id,
        )
        audit_record(actor=actor, action="review.request", allowed=True, patient_id=patient.pk,
                     reason=("urgent" if urgent else "routine") + " review at the registered practice",
                     object_type="practice_task", object_id=task.pk)
    return task
