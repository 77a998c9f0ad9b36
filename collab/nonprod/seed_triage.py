"""Demo data for triage: the network services, their sessions, the referring services, caps,
the default routing rules and a few days of requests in every state. Synthetic throughout."""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone

from collab.accounts.models import Role, RoleAssignment, User
from collab.accounts.services import actor_from_assignment
from collab.booking.models import DeliveryChannel, Slot
from collab.booking.services import appointment_book, session_create
from collab.nonprod.personas import HOME_PRACTICE, PERSONA_SERVICES
from collab.organisations.models import Organisation, Service
from collab.patients.models import Patient
from collab.triage import routing, selectors
from collab.triage.defaults import AWAITING_TRIAGE
from collab.triage.models import (
    URGENCY_RANK,
    PracticeCapacity,
    ReferringService,
    RequestKind,
    Route,
    Source,
    Triage,
    TriageRequest,
)
from collab.triage.services import rule_set_create_default

NETWORK_SERVICES = [
    (Service.Kind.COMMUNITY_PHARMACY, "Community pharmacy (Pharmacy First)", "01432 000300"),
    (Service.Kind.MSK_PHYSIO, "First-contact physiotherapy", "01432 000400"),
    (Service.Kind.SOCIAL_PRESCRIBING, "Social prescribing", "01432 000500"),
    (Service.Kind.CHILDRENS_RESPIRATORY, "Children's respiratory hub", "01432 000600"),
    (Service.Kind.OUT_OF_HOURS, "Out of hours (Herefordshire)", "111"),
]
DESCRIPTIONS = {
    RequestKind.MEDICAL: ["Cough for two weeks, not getting better", "Painful knee after a fall last week",
                          "Burning when passing urine since yesterday", "Low mood and not sleeping",
                          "Child with a barking cough and a temperature", "Rash on both arms, itchy",
                          "Lower back pain for a month", "Feeling lonely since my husband died"],
    RequestKind.ADMIN: ["Need a fit note extended", "Question about my repeat prescription",
                        "Were my blood test results normal?", "Form for my insurance company"],
}
ROUTE_SERVICE = {Route.HUB: Service.Kind.REMOTE_HUB, Route.PHARMACY: Service.Kind.COMMUNITY_PHARMACY,
                 Route.MSK: Service.Kind.MSK_PHYSIO, Route.SOCIAL_PRESCRIBING: Service.Kind.SOCIAL_PRESCRIBING,
                 Route.CHILDRENS_RESPIRATORY: Service.Kind.CHILDRENS_RESPIRATORY, Route.PRACTICE: Service.Kind.PRACTICE}


EA_COLLEAGUES = [("Owen", "Price"), ("Megan", "Hughes"), ("Rhys", "Powell"), ("Sian", "Jones"), ("Tom", "Baker")]


def _enhanced_access_gps(*, collaborative: Organisation, pcns: list[Organisation],
                         enhanced: dict[int, Service]) -> dict[int, User]:
    """One GP per PCN acting in its enhanced access service (relationships and notes are the
    service's, not the hub's): Erin, the persona, in the home practice's PCN; a colleague elsewhere."""
    home_pcn = Organisation.objects.get(ods_code=HOME_PRACTICE).parent_id
    gps = {}
    for n, pcn in enumerate(pcns):
        if pcn.pk == home_pcn:
            gp = User.objects.get(username=next(u for u, k in PERSONA_SERVICES.items() if k == Service.Kind.ENHANCED_ACCESS))
            RoleAssignment.objects.filter(user=gp, organisation=collaborative).update(service=enhanced[pcn.pk])
        else:
            first, last = EA_COLLEAGUES[n % len(EA_COLLEAGUES)]
            gp = User.objects.create(username=f"ea.gp.{pcn.ods_code.lower()}", first_name=first, last_name=last)
            gp.set_unusable_password()
            gp.save(update_fields=["password"])
            RoleAssignment.objects.create(user=gp, organisation=collaborative, role=Role.GP, service=enhanced[pcn.pk])
        gps[pcn.pk] = gp
    return gps


def _book_enhanced_access(*, enhanced: dict[int, Service], evening_gps: dict[int, User],
                          patients_by_practice: dict[int, list[Patient]], now: dt.datetime) -> int:
    """Book the home practice's patients into Erin's next evening session, as its receptionist would."""
    home = Organisation.objects.get(ods_code=HOME_PRACTICE)
    receptionist = RoleAssignment.objects.get(user__username="rachel.reception", organisation=home)
    # Not ``now``: seeding takes a while, and a slot starting in the next minutes would have begun
    # by the time it is booked (the demo seeded at 19:45 failed so, during an evening session).
    soon = timezone.now() + dt.timedelta(minutes=30)
    slots = list(Slot.objects.filter(service=enhanced[home.parent_id], clinician=evening_gps[home.parent_id],
                                     starts_at__gt=soon).order_by("starts_at")[:4])
    for slot, patient, reason in zip(slots, patients_by_practice[home.pk][-4:], EVENING_REASONS, strict=False):
        appointment_book(actor=actor_from_assignment(receptionist), actor_org_kind="practice", slot_id=slot.pk,
                         patient=patient, reason=reason)
    return len(slots)


EVENING_REASONS = ["Cough for three weeks", "Review of blood pressure readings", "Sore knee after running",
                   "Low mood since the winter"]


def seed_triage_demo(*, rng: random.Random, today: dt.date, now: dt.datetime, collaborative: Organisation,
                     practices: list[Organisation], pcns: list[Organisation], hub: Service,
                     patients_by_practice: dict[int, list[Patient]]) -> dict:
    tz = routing.LONDON
    services = {Service.Kind.REMOTE_HUB: hub}
    for kind, name, phone in NETWORK_SERVICES:
        # Out of hours may exist already (collab.ooh seeds it).
        services[kind], _ = Service.objects.get_or_create(organisation=collaborative, kind=kind,
                                                          defaults={"name": name, "phone": phone})
    enhanced = {pcn.pk: Service.objects.create(organisation=pcn, kind=Service.Kind.ENHANCED_ACCESS,
                                               name=f"Enhanced access ({pcn.display_name})", phone="01432 000700")
                for pcn in pcns}
    practice_services = {s.organisation_id: s for s in Service.objects.filter(kind=Service.Kind.PRACTICE)}

    # Sessions for the next two weeks: enhanced access evenings and Saturday mornings, the pharmacy
    # and the children's respiratory hub on weekdays.
    pharmacist = User.objects.get(username="phil.pharmacist")
    anp = User.objects.get(username="nina.hubanp")
    evening_gps = _enhanced_access_gps(collaborative=collaborative, pcns=pcns, enhanced=enhanced)
    for offset in range(0, 14):
        day = today + dt.timedelta(days=offset)
        at = lambda t, d=day: dt.datetime.combine(d, t, tzinfo=tz)  # noqa: E731
        if day.weekday() < 5:
            for pcn in pcns:
                session_create(service=enhanced[pcn.pk], clinician=evening_gps[pcn.pk], clinician_role=Role.GP,
                               starts_at=at(dt.time(18, 30)), ends_at=at(dt.time(20, 0)), slot_minutes=15,
                               channel=DeliveryChannel.TELEPHONE)
            session_create(service=services[Service.Kind.COMMUNITY_PHARMACY], clinician=pharmacist,
                           clinician_role=Role.CLINICAL_PHARMACIST, starts_at=at(dt.time(9, 0)), ends_at=at(dt.time(12, 0)),
                           slot_minutes=15, channel=DeliveryChannel.IN_PERSON)
            session_create(service=services[Service.Kind.CHILDRENS_RESPIRATORY], clinician=anp,
                           clinician_role=Role.ADVANCED_NURSE_PRACTITIONER, starts_at=at(dt.time(13, 0)),
                           ends_at=at(dt.time(16, 0)), slot_minutes=20, channel=DeliveryChannel.IN_PERSON)
        elif day.weekday() == 5:
            for pcn in pcns:
                session_create(service=enhanced[pcn.pk], clinician=evening_gps[pcn.pk], clinician_role=Role.GP,
                               starts_at=at(dt.time(9, 0)), ends_at=at(dt.time(12, 0)), slot_minutes=15,
                               channel=DeliveryChannel.TELEPHONE)

    _book_enhanced_access(enhanced=enhanced, evening_gps=evening_gps, patients_by_practice=patients_by_practice, now=now)

    ReferringService.objects.create(ods_code="RYA", name="NHS 111 (West Midlands Ambulance Service)", source=Source.NHS111)
    ReferringService.objects.create(ods_code="RLQ", name="Wye Valley NHS Trust A&E streaming", source=Source.AE_STREAMING)
    rule_set = rule_set_create_default(collaborative=collaborative)
    by_ods = {p.ods_code: p for p in practices}
    PracticeCapacity.objects.create(practice=by_ods["M81026"], medical_cap=60, admin_cap=30, per_patient_per_day=2,
                                    updated_at=now)
    PracticeCapacity.objects.create(practice=by_ods["M81012"], medical_cap=5, admin_cap=5, per_patient_per_day=2,
                                    updated_at=now)

    # Requests over the last three weekdays and this morning, in every state.
    tara = User.objects.get(username="tara.triagegp")
    triage_gp = {p.pk: User.objects.filter(role_assignments__organisation=p, role_assignments__role=Role.GP).first()
                 for p in practices}
    referrers = {r.source: r for r in ReferringService.objects.all()}
    rules = {r.position: r for r in rule_set.rules.all()}
    made = 0
    holidays = selectors.bank_holidays_around(now - dt.timedelta(days=7))
    days = [d for d in (today - dt.timedelta(days=k) for k in range(0, 8)) if routing.is_working_day(d, holidays)][:4]
    for day in days:
        for _ in range(12 if day != today else 8):
            practice = rng.choices(practices, [p.list_size or 1 for p in practices])[0]
            patient = rng.choice(patients_by_practice[practice.pk])
            source = rng.choices([Source.ONLINE, Source.PHONE, Source.NHS111, Source.AE_STREAMING, Source.CLINICIAN],
                                 [55, 25, 12, 3, 5])[0]
            kind = RequestKind.ADMIN if source in (Source.ONLINE, Source.PHONE) and rng.random() < 0.2 else RequestKind.MEDICAL
            submitted = dt.datetime.combine(day, dt.time(rng.randint(8, 17), rng.randint(0, 59)), tzinfo=tz)
            if submitted >= now:
                submitted = now - dt.timedelta(minutes=rng.randint(5, 90))
            overflowed = practice.ods_code == "M81012" and kind == RequestKind.MEDICAL and source == Source.ONLINE
            intake = hub if overflowed else practice_services[practice.pk]
            target = rule_set.targets[AWAITING_TRIAGE]
            req = TriageRequest.objects.create(
                reference=f"R-DEMO{made:04d}", source=source, kind=kind, patient=patient, practice=practice,
                submitted_at=submitted, referrer=referrers.get(source), external_reference=f"CASE-{made:05d}"
                if source in referrers else "", description=rng.choice(DESCRIPTIONS[kind]),
                admin_type="fit_note" if kind == RequestKind.ADMIN else "", contact_phone=patient.phone,
                intake_service=intake, service=intake, overflowed=overflowed,
                respond_by=routing.due_at(submitted, target["minutes"], working_hours=target["working_hours"],
                                          holidays=holidays),
            )
            made += 1
            untriaged = day == today and source in (Source.ONLINE, Source.PHONE, Source.CLINICIAN) and rng.random() < 0.6
            if untriaged and kind == RequestKind.MEDICAL:
                continue
            if kind == RequestKind.ADMIN:
                route, urgency, method, by, position = Route.PRACTICE, "routine", Triage.Method.RULE, None, 20
            else:
                route = rng.choices([Route.HUB, Route.PRACTICE, Route.PHARMACY, Route.MSK, Route.SOCIAL_PRESCRIBING,
                                     Route.CHILDRENS_RESPIRATORY], [40, 25, 12, 10, 5, 8])[0]
                urgency = rng.choices(["urgent", "soon", "routine"], [30, 45, 25])[0]
                method = Triage.Method.REFERRER if source in referrers else Triage.Method.CLINICIAN
                by = None if method == Triage.Method.REFERRER else rng.choice([tara, triage_gp[practice.pk]])
                position = {Route.HUB: 60, Route.PRACTICE: 50, Route.PHARMACY: 70, Route.MSK: 80,
                            Route.SOCIAL_PRESCRIBING: 90, Route.CHILDRENS_RESPIRATORY: 101}[route]
            kind_for = rules[position].service_kind
            service = practice_services[practice.pk] if kind_for == Service.Kind.PRACTICE else services[kind_for]
            triaged_at = min(submitted + dt.timedelta(minutes=rng.randint(10, 240)), now)
            t = rule_set.targets[urgency]
            respond_by = routing.due_at(submitted, t["minutes"], working_hours=t["working_hours"], holidays=holidays)
            done = day != today and rng.random() < 0.8
            contact = triaged_at + dt.timedelta(minutes=rng.randint(5, 300)) if done or rng.random() < 0.3 else None
            if contact and contact > now:
                # Not yet happened: just after midnight, yesterday's evening calls are still to come.
                contact = None
            closed = done and contact is not None
            Triage.objects.create(
                request=req, number=1, triaged_at=triaged_at, method=method, triaged_by=by,
                role=Role.GP if by else ("rule" if method == Triage.Method.RULE else source),
                organisation=collaborative if by == tara else (practice if by else None),
                referrer=referrers.get(source) if method == Triage.Method.REFERRER else None, urgency=urgency, route=route,
                reason="Demo triage: " + req.description.lower(), safety_netting="Call 111 if it gets worse; 999 in an emergency",
                rule_set=rule_set, rule_position=position, service=service, respond_by=respond_by,
            )
            TriageRequest.objects.filter(pk=req.pk).update(
                status="closed" if closed else "waiting", service=service, urgency=urgency, route=route,
                urgency_rank=URGENCY_RANK[urgency],
                respond_by=respond_by, triaged_at=triaged_at, first_contact_at=contact,
                closed_at=contact if closed else None, outcome="Advice given by phone" if closed else "",
            )
    return {"triage_requests": made, "enhanced_access_services": len(enhanced)}
