"""Writes for out of hours: cases arrive (NHS 111, triage), clinicians take and complete them."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from collab.core.audit import Actor, audit_record
from collab.ooh.models import OohCase
from collab.organisations.models import Service
from collab.patients.models import Patient


class OohError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def ooh_case_create(
    *, actor: Actor, service: Service, patient: Patient, source: str, presenting_complaint: str, priority: str,
    source_reference: str = "",
) -> OohCase:
    """A case arrives from NHS 111 or from collaborative triage (the triage app calls this)."""
    if service.kind != Service.Kind.OUT_OF_HOURS:
        raise OohError("Cases go to the out-of-hours service")
    if source not in OohCase.Source.values:
        raise OohError("Unknown case source")
    if priority not in OohCase.Priority.values:
        raise OohError("Choose a priority")
    complaint = (presenting_complaint or "").strip()
    if not complaint:
        raise OohError("Say what the patient needs")
    with transaction.atomic():
        case = OohCase.objects.create(
            service=service, patient=patient, source=source, source_reference=source_reference[:64],
            presenting_complaint=complaint[:500], priority=priority, received_at=timezone.now(),
        )
        audit_record(actor=actor, action="ooh_case.create", allowed=True, patient_id=patient.pk,
                     reason=f"referred by {OohCase.Source(source).label}", object_type="ooh_case", object_id=case.pk)
    return case


def ooh_case_take(*, case: OohCase, clinician_id: int) -> OohCase:
    """A clinician takes a waiting case: it moves to in consultation (one clinician wins)."""
    moved = OohCase.objects.filter(pk=case.pk, status=OohCase.Status.WAITING).update(
        status=OohCase.Status.IN_CONSULTATION, clinician_id=clinician_id)
    case.refresh_from_db()
    if moved != 1 and case.clinician_id != clinician_id:
        raise OohError("Another clinician has already taken this case")
    return case


def ooh_case_complete(*, case: OohCase) -> None:
    OohCase.objects.filter(pk=case.pk).exclude(status=OohCase.Status.COMPLETED).update(
        status=OohCase.Status.COMPLETED, completed_at=timezone.now())
