"""Triage requests in the shape the analytics store takes (collab.analytics.store's
TRIAGE_REQUEST_FIELDS): one row a request, with its current triage and its first."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count
from django.utils import timezone

from collab.organisations.models import Service
from collab.triage.models import (
    RequestKind,
    Route,
    SendBack,
    Source,
    Triage,
    TriageRequest,
    Urgency,
)

# collab's choices -> the store's labels (short enough for a chart axis).
CHANNEL = {
    Source.ONLINE: "Online form",
    Source.PHONE: "Phone call",
    Source.NHS111: "NHS 111",
    Source.AE_STREAMING: "A&E streaming",
    Source.CLINICIAN: "Practice clinician",
}
KIND = {RequestKind.MEDICAL: "Medical", RequestKind.ADMIN: "Admin"}
STATUS = {
    TriageRequest.Status.AWAITING_TRIAGE: "Waiting for triage",
    TriageRequest.Status.WAITING: "Waiting for the service",
    TriageRequest.Status.BOOKED: "Booked",
    TriageRequest.Status.CLOSED: "Closed",
}
URGENCY = {Urgency.EMERGENCY: "Emergency", Urgency.URGENT: "Urgent", Urgency.SOON: "Soon", Urgency.ROUTINE: "Routine"}
ROUTE = {
    Route.PRACTICE: "Practice",
    Route.HUB: "Remote hub",
    Route.PHARMACY: "Community pharmacy",
    Route.MSK: "MSK physiotherapy",
    Route.SOCIAL_PRESCRIBING: "Social prescribing",
    Route.CHILDRENS_RESPIRATORY: "Children's respiratory hub",
    Route.ENHANCED_ACCESS: "Enhanced access",
    Route.OUT_OF_HOURS: "Out of hours",
    Route.EMERGENCY: "A&E or 999",
}
SERVICE = {
    Service.Kind.PRACTICE: "Practice",
    Service.Kind.REMOTE_HUB: "Remote hub",
    Service.Kind.COMMUNITY_PHARMACY: "Community pharmacy",
    Service.Kind.MSK_PHYSIO: "MSK physiotherapy",
    Service.Kind.SOCIAL_PRESCRIBING: "Social prescribing",
    Service.Kind.CHILDRENS_RESPIRATORY: "Children's respiratory hub",
    Service.Kind.ENHANCED_ACCESS: "Enhanced access",
    Service.Kind.OUT_OF_HOURS: "Out of hours",
}
METHOD = {Triage.Method.CLINICIAN: "Clinician", Triage.Method.REFERRER: "Referring service", Triage.Method.RULE: "Rule"}


def analytics_rows() -> Iterator[dict]:
    """Every triage request held in collab, one row each, ready for the analytics store.

    Route, urgency, service and method are the current triage's (none while a request waits for
    triage, sent back included); the time to triage is to the first triage."""
    tz = timezone.get_current_timezone()

    def local(moment):
        return None if moment is None else moment.astimezone(tz).replace(tzinfo=None)

    first: dict[int, object] = {}
    method: dict[int, str] = {}
    for request_id, number, triaged_at, how in Triage.objects.order_by("request_id", "number").values_list(
        "request_id", "number", "triaged_at", "method"
    ):
        if number == 1:
            first[request_id] = triaged_at
        method[request_id] = how  # the last one wins: the current triage
    send_backs = dict(
        SendBack.objects.order_by().values("request_id").annotate(n=Count("pk")).values_list("request_id", "n")
    )
    qs = TriageRequest.objects.order_by("pk").values_list(
        "pk", "submitted_at", "triaged_at", "practice__ods_code", "practice__parent__ods_code", "source", "kind",
        "status", "urgency", "route", "service__kind", "overflowed",
    )
    for (pk, submitted_at, triaged_at, practice, pcn, source, kind, status, urgency, route, service,
         overflowed) in qs.iterator(chunk_size=5000):
        waiting = status == TriageRequest.Status.AWAITING_TRIAGE
        yield {
            "request_id": str(pk),
            "submitted_at": local(submitted_at),
            "first_triaged_at": local(first.get(pk) or triaged_at),
            "practice_ods": practice,
            "pcn_ods": pcn or practice,
            "channel": CHANNEL[source],
            "request_kind": KIND[kind],
            "status": STATUS[status],
            "urgency": None if waiting else URGENCY[urgency],
            "route": None if waiting else ROUTE[route],
            "service": None if waiting or route == Route.EMERGENCY else SERVICE[service],
            "method": None if waiting else METHOD[method[pk]],
            "overflowed": overflowed,
            "send_backs": send_backs.get(pk, 0),
        }
