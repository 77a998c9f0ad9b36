"""Reads for triage, named <entity>_<query>."""

from __future__ import annotations

import datetime as dt
import statistics

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from collab.accounts.models import CLINICAL_ROLES, Role
from collab.booking.models import Slot
from collab.organisations.models import Organisation, Service
from collab.patients.relationships import recent_since, service_lookup
from collab.triage.defaults import ROUTE_ALSO_BOOKS
from collab.triage.models import (
    BankHoliday,
    PracticeCapacity,
    RequestKind,
    Route,
    RuleSet,
    SendBack,
    Source,
    Triage,
    TriageRequest,
    Urgency,
)
from collab.triage.routing import LONDON

OPEN_STATUSES = (TriageRequest.Status.AWAITING_TRIAGE, TriageRequest.Status.WAITING)
BOOKING_HORIZON_DAYS = 28

# Who may see patients for each route ("clinician role" in "find the earliest suitable slot").
ROUTE_ROLES: dict[str, frozenset[str]] = {
    Route.PHARMACY: frozenset({Role.CLINICAL_PHARMACIST}),
    Route.CHILDRENS_RESPIRATORY: frozenset({Role.GP, Role.ADVANCED_NURSE_PRACTITIONER}),
}


class MissingService(LookupError):
    pass


# A routine target is ten working days; a year either side of the start covers any clock.
BANK_HOLIDAY_WINDOW = dt.timedelta(days=400)


def bank_holidays_around(at: dt.datetime) -> frozenset[dt.date]:
    """England and Wales bank holidays from a week before ``at`` to a year and a bit after: one
    small indexed query, made once per request by the caller and passed to ``routing``. Read
    from the database each time (no per-process cache) so an import is seen at once by every
    worker."""
    day = at.astimezone(LONDON).date()
    return frozenset(BankHoliday.objects.filter(
        division=BankHoliday.ENGLAND_AND_WALES, date__gte=day - dt.timedelta(days=7),
        date__lte=day + BANK_HOLIDAY_WINDOW).values_list("date", flat=True))


# GOV.UK publishes the next year's holidays well before this point: fewer days known ahead than
# this and the bank holidays page asks a hub manager to import the file.
BANK_HOLIDAYS_RUNNING_OUT = dt.timedelta(days=90)


def bank_holiday_calendar(*, today: dt.date, upcoming: int = 12) -> dict:
    """What routing and the triage clocks know of bank holidays: the next ``upcoming`` from
    ``today``, the last date known, and whether that is near enough to need an import."""
    ew = BankHoliday.objects.filter(division=BankHoliday.ENGLAND_AND_WALES)
    next_ones = list(ew.filter(date__gte=today).order_by("date")[:upcoming])
    last = ew.order_by("-date").values_list("date", flat=True).first()
    return {"upcoming": next_ones, "known_until": last,
            "running_out": last is None or last - today < BANK_HOLIDAYS_RUNNING_OUT}


def collaborative_of(org: Organisation) -> Organisation:
    return org.collaborative()


def rule_set_current(org: Organisation) -> RuleSet | None:
    return (RuleSet.objects.filter(collaborative=collaborative_of(org)).prefetch_related("rules")
            .order_by("-version").first())


def rule_sets(collaborative: Organisation) -> QuerySet[RuleSet]:
    return RuleSet.objects.filter(collaborative=collaborative).select_related("created_by").order_by("-version")


def practice_service(practice: Organisation) -> Service:
    service = Service.objects.filter(organisation=practice, kind=Service.Kind.PRACTICE).first()
    if service is None:
        raise MissingService(f"{practice.display_name} has no practice service set up")
    return service


def service_for(practice: Organisation, kind: str) -> Service:
    """The service of ``kind`` nearest the practice: its own, its PCN's (enhanced access is a PCN
    service), then the collaborative's."""
    org: Organisation | None = practice
    while org is not None:
        service = Service.objects.filter(organisation=org, kind=kind).first()
        if service is not None:
            return service
        org = org.parent
    raise MissingService(f"No {Service.Kind(kind).label.lower()} service is set up for {practice.display_name}")


def collaborative_service(practice: Organisation, kind: str) -> Service:
    return service_for(practice, kind)


# ---------------------------------------------------------------- caps


def _capacity(practice: Organisation) -> PracticeCapacity | None:
    return PracticeCapacity.objects.filter(practice=practice).first()


def _period_start(at: dt.datetime, period: str) -> dt.datetime:
    local = at.astimezone(LONDON).date()
    if period == PracticeCapacity.Period.WEEK:
        local -= dt.timedelta(days=local.weekday())
    return dt.datetime.combine(local, dt.time.min, tzinfo=LONDON)


def practice_requests_counted(*, practice: Organisation, kind: str, at: dt.datetime, period: str) -> int:
    """Online requests of ``kind`` the practice itself has taken in the period (overflow excluded)."""
    return TriageRequest.objects.filter(practice=practice, kind=kind, source=Source.ONLINE, overflowed=False,
                                        submitted_at__gte=_period_start(at, period), submitted_at__lte=at).count()


def practice_is_full(*, practice: Organisation, kind: str, at: dt.datetime) -> bool:
    cap = _capacity(practice)
    if cap is None or (cap.override_until is not None and cap.override_until > at):
        return False
    limit = cap.medical_cap if kind == RequestKind.MEDICAL else cap.admin_cap
    if limit is None:
        return False
    return practice_requests_counted(practice=practice, kind=kind, at=at, period=cap.period) >= limit


def per_patient_limit(*, practice: Organisation, at: dt.datetime) -> int | None:
    cap = _capacity(practice)
    if cap is None or (cap.override_until is not None and cap.override_until > at):
        return None
    return cap.per_patient_per_day


def requests_today_for_patient(*, patient, at: dt.datetime) -> int:
    return TriageRequest.objects.filter(patient=patient, submitted_at__gte=_period_start(at, "day"),
                                        submitted_at__lte=at).count()


def practice_capacity_summary(*, practice: Organisation, at: dt.datetime | None = None) -> dict:
    at = at or timezone.now()
    cap = _capacity(practice)
    period = cap.period if cap else PracticeCapacity.Period.DAY
    return {
        "cap": cap,
        "medical": practice_requests_counted(practice=practice, kind=RequestKind.MEDICAL, at=at, period=period),
        "admin": practice_requests_counted(practice=practice, kind=RequestKind.ADMIN, at=at, period=period),
        "overflowed": TriageRequest.objects.filter(practice=practice, overflowed=True,
                                                   submitted_at__gte=_period_start(at, period)).count(),
        "medical_full": practice_is_full(practice=practice, kind=RequestKind.MEDICAL, at=at),
        "admin_full": practice_is_full(practice=practice, kind=RequestKind.ADMIN, at=at),
    }


# ---------------------------------------------------------------- queues


def services_with_queues(org: Organisation) -> list[Service]:
    """The queues a user at ``org`` works: a practice's own; at the collaborative, every network service."""
    if org.kind == Organisation.Kind.PRACTICE:
        return list(Service.objects.filter(organisation=org, kind=Service.Kind.PRACTICE))
    return list(Service.objects.exclude(kind=Service.Kind.PRACTICE).select_related("organisation").order_by("kind", "name"))


def queue_for_service(*, service: Service) -> QuerySet[TriageRequest]:
    """Open requests held by a service: by urgency, then oldest first."""
    return (TriageRequest.objects.filter(service=service, status__in=OPEN_STATUSES)
            .select_related("patient", "practice", "service").order_by("urgency_rank", "submitted_at", "id"))


def awaiting_triage_everywhere() -> QuerySet[TriageRequest]:
    """The collaborative's front door: every request waiting for triage, by urgency then age."""
    return (TriageRequest.objects.filter(status=TriageRequest.Status.AWAITING_TRIAGE)
            .select_related("patient", "practice", "service").order_by("urgency_rank", "submitted_at", "id"))


def is_breached(request: TriageRequest, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    if request.first_contact_at is not None:
        return request.first_contact_at > request.respond_by
    return request.status in OPEN_STATUSES and now > request.respond_by


def request_detail(request_id: int) -> TriageRequest | None:
    return (TriageRequest.objects.select_related("patient", "practice", "service", "intake_service", "referrer",
                                                 "red_flag_screen", "appointment__slot__clinician", "appointment__slot__service",
                                                 "submitted_by", "closed_by")
            .filter(pk=request_id).first())


def triages_for(request: TriageRequest) -> QuerySet[Triage]:
    return request.triages.select_related("triaged_by", "organisation", "referrer", "rule_set", "service").order_by("number")


def triage_for_appointment(appointment_id: int) -> dict | None:
    """The triage that led to a booked appointment, for the hub clinician's appointment page."""
    request = (TriageRequest.objects.select_related("practice").filter(appointment_id=appointment_id)
               .order_by("-submitted_at").first())
    if request is None:
        return None
    return {"request": request, "triage": request.triages.select_related("triaged_by", "referrer").order_by("-number").first(),
            "triage_count": request.triages.count()}


# ---------------------------------------------------------------- finding the earliest suitable slot


def bookable_services(*, request: TriageRequest) -> list[int]:
    """The services whose slots the request's route may book: the one the rules chose, first,
    then the route's alternatives nearest the practice (at most one query)."""
    if not request.route or request.service_id is None or request.status != TriageRequest.Status.WAITING:
        return []
    kinds = ROUTE_ALSO_BOOKS.get(request.route, ())
    if not kinds:
        return [request.service_id]
    practice = request.practice
    candidates = list(Service.objects.filter(kind__in=kinds).filter(
        Q(organisation_id__in=[practice.pk, practice.parent_id]) | Q(organisation__kind=Organisation.Kind.COLLABORATIVE)
    ).values_list("id", "kind", "organisation_id"))
    nearness = {practice.pk: 0, practice.parent_id: 1}
    ids = [request.service_id]
    for kind in kinds:
        options = sorted((c for c in candidates if c[1] == kind), key=lambda c: nearness.get(c[2], 2))
        if options:
            ids.append(options[0][0])
    return list(dict.fromkeys(ids))


def _suitable(*, request: TriageRequest, now: dt.datetime) -> QuerySet[Slot]:
    services = bookable_services(request=request)
    if not services:
        return Slot.objects.none()
    qs = Slot.objects.filter(service_id__in=services, starts_at__gt=now).filter(
        Q(reserved_for__isnull=True) | Q(reserved_for_id=request.practice_id))
    qs = qs.filter(clinician_role__in=sorted(ROUTE_ROLES.get(request.route, CLINICAL_ROLES)))
    if request.preferred_channel:
        qs = qs.filter(channel=request.preferred_channel)
    if request.urgency in (Urgency.URGENT, Urgency.EMERGENCY):
        # Urgent means today.
        end_of_day = dt.datetime.combine(now.astimezone(LONDON).date() + dt.timedelta(days=1), dt.time.min, tzinfo=LONDON)
        qs = qs.filter(starts_at__lt=end_of_day)
    else:
        qs = qs.filter(starts_at__lt=now + dt.timedelta(days=BOOKING_HORIZON_DAYS))
    return qs


def suitable_slots(*, request: TriageRequest, now: dt.datetime | None = None) -> QuerySet[Slot]:
    """Free slots the request's route allows, earliest first: one indexed query (the same plan as
    the plain SQL in bench/triage_earliest_slot.py)."""
    now = now or timezone.now()
    return (_suitable(request=request, now=now).filter(status=Slot.Status.FREE)
            .select_related("clinician", "service").order_by("starts_at", "id"))


def earliest_suitable_slot(*, request: TriageRequest, now: dt.datetime | None = None) -> Slot | None:
    return suitable_slots(request=request, now=now).first()


def slot_is_suitable(*, request: TriageRequest, slot_id: int) -> bool:
    """Whether a slot fits the request's route and preferences, whatever its status now."""
    return _suitable(request=request, now=timezone.now()).filter(pk=slot_id).exists()


# ---------------------------------------------------------------- figures


def _median_minutes(pairs) -> float | None:
    values = [(b - a).total_seconds() / 60 for a, b in pairs if a and b]
    return round(statistics.median(values), 1) if values else None


def triage_figures(*, since: dt.date, until: dt.date, now: dt.datetime | None = None) -> dict:
    """Requests a day by source and route, time to triage, time to first contact, breaches,
    re-triage rate and overflow to the hub."""
    now = now or timezone.now()
    start = dt.datetime.combine(since, dt.time.min, tzinfo=LONDON)
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=LONDON)
    requests = TriageRequest.objects.filter(submitted_at__gte=start, submitted_at__lt=end)
    by_day_source: dict[dt.date, dict[str, int]] = {}
    for row in requests.values("submitted_at", "source"):
        day = row["submitted_at"].astimezone(LONDON).date()
        by_day_source.setdefault(day, {}).setdefault(row["source"], 0)
        by_day_source[day][row["source"]] += 1
    first_triages = Triage.objects.filter(request__in=requests, number=1)
    by_day_route: dict[dt.date, dict[str, int]] = {}
    for row in first_triages.values("triaged_at", "route"):
        day = row["triaged_at"].astimezone(LONDON).date()
        by_day_route.setdefault(day, {}).setdefault(row["route"], 0)
        by_day_route[day][row["route"]] += 1
    clinician_triaged = first_triages.filter(method=Triage.Method.CLINICIAN).values_list("request__submitted_at", "triaged_at")
    contact = requests.filter(first_contact_at__isnull=False).values_list("submitted_at", "first_contact_at")
    total = requests.count()
    triaged = requests.filter(triages__isnull=False).distinct().count()
    send_backs = SendBack.objects.filter(request__in=requests).count()
    breaches = sum(
        1 for r in requests.only("first_contact_at", "respond_by", "status") if is_breached(r, now)
    )
    counts = requests.aggregate(overflow=Count("id", filter=Q(overflowed=True)))
    return {
        "since": since, "until": until, "total": total, "triaged": triaged,
        "by_day_source": sorted(by_day_source.items()), "by_day_route": sorted(by_day_route.items()),
        "sources": Source.choices, "routes": Route.choices,
        "median_minutes_to_triage": _median_minutes(clinician_triaged),
        "median_minutes_to_first_contact": _median_minutes(contact),
        "breaches": breaches,
        "send_backs": send_backs,
        "retriage_rate": (send_backs / triaged) if triaged else None,
        "overflow_to_hub": counts["overflow"],
    }


# ---------------------------------------------------------------- the legitimate relationship


def referral_relationship(actor, org_kind: str, patient) -> str | None:
    """A triage that routed this patient to the service the actor acts in, within
    RELATIONSHIP_RECENT_DAYS (default 28) of the decision, and not sent back since.

    collab keeps no separate referral record naming the receiving service: the triage's route
    to a service (social prescribing, pharmacy, first-contact physiotherapy, enhanced access...)
    *is* the referral, so the receiving service's staff have a reason to look at the patient.
    A triage sent back for re-triage was withdrawn and refers no one.
    """
    lookup = service_lookup(actor, org_kind, "service")
    if lookup is None:
        return None
    name = (
        Triage.objects.filter(request__patient_id=patient.pk, triaged_at__gte=recent_since(), send_backs__isnull=True,
                              **lookup)
        .order_by("-triaged_at")
        .values_list("service__name", flat=True)
        .first()
    )
    return f"referral to {name}" if name else None


def triage_relationship(actor, org_kind: str, patient) -> str | None:
    """A current or recent triage request for this patient that the actor's service (or, for a
    role naming no service, its organisation) holds in a queue or triaged; and, for the
    collaborative's front door, any request still waiting for triage."""
    if actor.organisation_id is None:
        return None
    recent = TriageRequest.objects.filter(patient_id=patient.pk, submitted_at__gte=recent_since())
    if actor.service_id:
        if recent.filter(service_id=actor.service_id).exists():
            return "triage request in our service's queue"
        return None
    if recent.filter(Q(service__organisation_id=actor.organisation_id)
                     | Q(service__organisation__parent_id=actor.organisation_id)).exists():
        return "triage request in our queue"
    if org_kind == "collaborative" and recent.filter(status=TriageRequest.Status.AWAITING_TRIAGE).exists():
        return "triage request at the collaborative's front door"
    if Triage.objects.filter(request__in=recent, organisation_id=actor.organisation_id).exists():
        return "recent triage by our organisation"
    return None
