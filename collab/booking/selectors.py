"""Reads for the hub, named <entity>_<query>."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone

from collab.booking.models import (
    Appointment,
    CapacityRequest,
    DutyDoctor,
    PracticeTask,
    Slot,
    UsageEntry,
)
from collab.booking.sql import FREE_SLOT_COLUMNS, FREE_SLOTS_SQL
from collab.core.db import db_datetime, hot_path_rows
from collab.organisations.models import Organisation, Service
from collab.patients.relationships import recent_since, service_lookup

MAX_SEARCH_DAYS = 14  # GP Connect: a slot search covers 14 days at most.


def slots_free(
    *,
    practice_id: int | None,
    start: dt.datetime,
    end: dt.datetime,
    channel: str = "",
    clinician_role: str = "",
    limit: int = 200,
) -> QuerySet[Slot]:
    """Free future slots a practice may book: pooled ones and those reserved for it.

    ``practice_id`` None means every free slot (hub staff looking at capacity).
    """
    now = timezone.now()
    qs = Slot.objects.filter(status=Slot.Status.FREE, starts_at__gte=max(start, now), starts_at__lt=end)
    if practice_id is not None:
        qs = qs.filter(Q(reserved_for__isnull=True) | Q(reserved_for_id=practice_id))
    if channel:
        qs = qs.filter(channel=channel)
    if clinician_role:
        qs = qs.filter(clinician_role=clinician_role)
    return qs.select_related("clinician", "reserved_for").order_by("starts_at", "id")[:limit]


def slots_free_rows(*, practice_id: int | None, start: dt.datetime, end: dt.datetime, limit: int) -> list[dict]:
    """Free future slots starting from ``start`` to ``end`` inclusive, as plain rows (the FHIR slot
    search): pooled ones and those reserved for ``practice_id`` (None: every free slot).

    Plain SQL, prepared on PostgreSQL, its read doubling as the request's health check: the
    ORM spent more CPU building this query than the database spent answering it (ADR 0006).
    """
    adapt = connection.ops.adapt_datetimefield_value
    rows = hot_path_rows(FREE_SLOTS_SQL, {
        "free": Slot.Status.FREE, "start": adapt(max(start, timezone.now())), "end": adapt(end),
        "practice_id": practice_id, "limit": limit,
    })
    return [{**dict(zip(FREE_SLOT_COLUMNS, r, strict=True)), "starts_at": db_datetime(r[2]), "ends_at": db_datetime(r[3])}
            for r in rows]


def appointments_for_clinician_day(*, clinician_id: int, day: dt.date) -> QuerySet[Appointment]:
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    return (
        Appointment.objects.filter(
            slot__clinician_id=clinician_id, slot__starts_at__gte=start, slot__starts_at__lt=start + dt.timedelta(days=1)
        )
        .exclude(status=Appointment.Status.CANCELLED)
        .select_related("slot", "patient", "practice")
        .order_by("slot__starts_at")
    )


def appointments_for_practice(*, practice_id: int, upcoming_only: bool = True) -> QuerySet[Appointment]:
    qs = Appointment.objects.filter(practice_id=practice_id).select_related("slot", "patient", "slot__clinician")
    if upcoming_only:
        qs = qs.filter(slot__starts_at__gte=timezone.now() - dt.timedelta(hours=12))
    return qs.order_by("slot__starts_at")


def hub_remote_resolution(*, since: dt.date | None = None, until: dt.date | None = None) -> dict:
    """Share of completed remote hub appointments resolved remotely."""
    qs = Appointment.objects.filter(status=Appointment.Status.FULFILLED, slot__service__kind="remote_hub")
    tz = timezone.get_current_timezone()
    if since:
        qs = qs.filter(slot__starts_at__gte=dt.datetime.combine(since, dt.time.min, tzinfo=tz))
    if until:
        qs = qs.filter(slot__starts_at__lt=dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=tz))
    counts = qs.aggregate(
        completed=Count("id"), remote=Count("id", filter=Q(outcome=Appointment.Outcome.RESOLVED_REMOTELY))
    )
    completed = counts["completed"] or 0
    remote = counts["remote"] or 0
    return {"completed": completed, "resolved_remotely": remote, "share": (remote / completed) if completed else None}


def usage_by_practice(*, since: dt.date, until: dt.date) -> list[dict]:
    """Metered remote hub use per practice between two dates (by slot date), net of cancellations.

    The ledger meters every booking; other services' use (enhanced access...) is not recharged here.
    """
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(since, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    rows = (
        UsageEntry.objects.filter(slot_starts_at__gte=start, slot_starts_at__lt=end,
                                  appointment__slot__service__kind="remote_hub")
        .values("practice_id", "practice__ods_code", "practice__name")
        .annotate(
            n_appointments=Sum("delta"),
            n_reserved=Sum("delta", filter=Q(reserved=True)),
            n_pooled=Sum("delta", filter=Q(reserved=False)),
            total_minutes=Sum(F("minutes") * F("delta")),
        )
        .order_by("practice__name")
    )
    out = []
    for r in rows:
        out.append(
            {
                "ods_code": r["practice__ods_code"],
                "name": r["practice__name"],
                "appointments": r["n_appointments"] or 0,
                "reserved": r["n_reserved"] or 0,
                "pooled": r["n_pooled"] or 0,
                "minutes": r["total_minutes"] or 0,
            }
        )
    return out


def capacity_requests_for(*, organisation: Organisation) -> QuerySet[CapacityRequest]:
    qs = CapacityRequest.objects.select_related("practice", "requested_by", "decided_by")
    if organisation.kind == Organisation.Kind.PRACTICE:
        qs = qs.filter(practice=organisation)
    return qs.order_by("status", "-requested_at")


def practice_tasks_open(*, practice_id: int) -> QuerySet[PracticeTask]:
    return (
        PracticeTask.objects.filter(practice_id=practice_id, status=PracticeTask.Status.OPEN)
        .select_related("patient", "appointment__slot__clinician", "created_by")
        .order_by("-urgent", "created_at")
    )


def duty_doctor_today(*, practice_id: int, day: dt.date | None = None) -> DutyDoctor | None:
    day = day or timezone.localdate()
    return DutyDoctor.objects.filter(practice_id=practice_id, date=day).select_related("clinician").first()


def duty_rota(*, day: dt.date) -> QuerySet[DutyDoctor]:
    return DutyDoctor.objects.filter(date=day).select_related("practice", "clinician").order_by("practice__name")


def appointment_relationship(actor, org_kind: str, patient) -> str | None:
    """A service has a relationship with a patient whose appointment *with that service* is current
    or recent: booked for the future, or started within RELATIONSHIP_RECENT_DAYS (default 28).
    Cancelled appointments do not count. The remote hub's appointments give the hub a reason to
    look; an enhanced access (or any other service's) appointment gives that service one, not the hub.
    """
    lookup = service_lookup(actor, org_kind, "slot__service")
    if lookup is None:
        return None
    found = (
        Appointment.objects.filter(patient_id=patient.pk, slot__starts_at__gte=recent_since(), **lookup)
        .exclude(status=Appointment.Status.CANCELLED)
        .values_list("slot__service__kind", "slot__service__name")
        .first()
    )
    if found is None:
        return None
    kind, name = found
    if kind == Service.Kind.REMOTE_HUB:
        return "current or recent hub appointment"
    return f"current or recent appointment with {name}"


def appointment_in_actors_service(*, actor, org_kind: str, appointment: Appointment) -> bool:
    """Whether the appointment is in a slot of the service the actor acts in (the hub for a
    collaborative role naming no service): only that service's clinicians consult on it."""
    lookup = service_lookup(actor, org_kind, "slot__service")
    return lookup is not None and Appointment.objects.filter(pk=appointment.pk, **lookup).exists()
