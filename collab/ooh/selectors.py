"""Reads for out of hours."""

from __future__ import annotations

import datetime as dt

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from collab.ooh.models import OohCase, OohShift
from collab.organisations.models import Service
from collab.patients.relationships import acts_in, recent_since


def ooh_service() -> Service | None:
    return Service.objects.filter(kind=Service.Kind.OUT_OF_HOURS).select_related("organisation").first()


def ooh_cases_open(*, service_id: int) -> QuerySet[OohCase]:
    """Waiting and in-consultation cases: most urgent first, then longest waiting."""
    urgency = Case(*(When(priority=p, then=Value(n)) for p, n in OohCase.PRIORITY_ORDER.items()),
                   output_field=IntegerField())
    return (
        OohCase.objects.filter(service_id=service_id).exclude(status=OohCase.Status.COMPLETED)
        .select_related("patient", "patient__registered_practice", "clinician")
        .annotate(urgency=urgency).order_by("urgency", "received_at", "id")
    )


def ooh_shifts_around(*, service_id: int, at: dt.datetime | None = None) -> QuerySet[OohShift]:
    """Shifts from 12 hours before ``at`` to 36 hours after: tonight's and tomorrow's rota."""
    at = at or timezone.now()
    return (
        OohShift.objects.filter(service_id=service_id, ends_at__gte=at - dt.timedelta(hours=12),
                                starts_at__lte=at + dt.timedelta(hours=36))
        .select_related("clinician").order_by("starts_at", "base")
    )


def ooh_case_relationship(actor, org_kind: str, patient) -> str | None:
    """The out-of-hours service has a relationship with a patient whose case is open, or was
    received or completed within RELATIONSHIP_RECENT_DAYS."""
    if not acts_in(actor, org_kind, Service.Kind.OUT_OF_HOURS):
        return None
    since = recent_since()
    cases = OohCase.objects.filter(patient_id=patient.pk, service_id=actor.service_id).filter(
        ~Q(status=OohCase.Status.COMPLETED) | Q(received_at__gte=since) | Q(completed_at__gte=since)
    )
    if cases.exists():
        return "current or recent out-of-hours case"
    return None
