"""Reads for the shared record: the collaborative's consultations and the practice's summary."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from collab.core.audit import Actor
from collab.integrations.gpconnect import (
    FakeGpConnectProvider,
    GpConnectAdapter,
    GpConnectError,
    PracticeSummary,
)
from collab.patients.models import Patient
from collab.records.models import Consultation


def consultations_for_patient(*, patient_id: int) -> QuerySet[Consultation]:
    return (
        Consultation.objects.filter(patient_id=patient_id)
        .select_related("clinician", "service", "organisation", "signed_by")
        .prefetch_related("problems", "prescriptions", "addenda__author")
        .order_by("-started_at", "-id")
    )


def consultations_for_appointment(*, appointment_id: int) -> QuerySet[Consultation]:
    return (
        Consultation.objects.filter(appointment_id=appointment_id)
        .select_related("clinician", "signed_by")
        .prefetch_related("problems", "prescriptions", "addenda__author")
        .order_by("started_at", "id")
    )


def consultation_by_id(consultation_id: int) -> Consultation | None:
    return (
        Consultation.objects.select_related("patient", "patient__registered_practice", "clinician", "service",
                                            "ooh_case", "signed_by")
        .prefetch_related("problems", "prescriptions", "addenda__author")
        .filter(pk=consultation_id).first()
    )


def gp_connect_adapter(patient: Patient) -> GpConnectAdapter:
    """The adapter for this deployment. Outside production the verified fake answers for every
    member practice (each on EMIS Web, as in Herefordshire); production needs real endpoints."""
    if settings.PRODUCTION:
        raise GpConnectError("GP Connect endpoints are not configured for this deployment")
    practice = patient.registered_practice
    fake = FakeGpConnectProvider(practices={practice.ods_code: (practice.display_name, "EMIS Web")},
                                 registered={patient.nhs_number: practice.ods_code}, today=timezone.localdate())
    return GpConnectAdapter(fake)


@dataclass(frozen=True, slots=True)
class PracticeRecord:
    summary: PracticeSummary | None
    error: str = ""


def practice_record(*, patient: Patient, actor: Actor) -> PracticeRecord:
    """The registered practice's summary, or why it could not be fetched (never an exception:
    the collaborative's own record is still shown)."""
    try:
        summary = gp_connect_adapter(patient).practice_summary(
            nhs_number=patient.nhs_number, ods_code=patient.registered_practice.ods_code, now=timezone.now(),
            user_id=str(actor.user_id or ""), user_role=actor.role)
    except GpConnectError as e:
        return PracticeRecord(None, f"The practice record could not be fetched: {e}")
    return PracticeRecord(summary)
