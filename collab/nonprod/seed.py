"""Seed the demo: the real Herefordshire collaborative with synthetic patients, staff and hub activity.

Practices, PCNs and list sizes are real (collab/organisations/data/herefordshire_practices.csv,
from NHS Digital's open data). Everyone and everything else is synthetic.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Callable
from pathlib import Path

from django.contrib.auth.models import Permission
from django.db import transaction
from django.utils import timezone

from collab.accounts.models import Role, RoleAssignment, User
from collab.booking.models import (
    Appointment,
    AppointmentEvent,
    CapacityRequest,
    DeliveryChannel,
    DutyDoctor,
    HubSession,
    PracticeTask,
    Slot,
    UsageEntry,
)
from collab.booking.services import session_create
from collab.nonprod.personas import COLLABORATIVE_NAME, COLLABORATIVE_ODS, PERSONAS
from collab.nonprod.seed_phlebotomy import seed_phlebotomy
from collab.nonprod.seed_triage import seed_triage_demo
from collab.organisations.models import OpeningHours, Organisation, Service
from collab.patients.models import Patient
from collab.patients.nhs_number import with_check_digit

PRACTICES_CSV = Path(__file__).resolve().parent.parent / "organisations" / "data" / "herefordshire_practices.csv"

FIRST = ["Olivia", "Amelia", "Isla", "Ava", "Mia", "Ivy", "Lily", "Freya", "Grace", "Evie", "Noah", "Oliver",
         "George", "Arthur", "Leo", "Harry", "Oscar", "Archie", "Henry", "Theo", "Margaret", "Joan", "Dorothy",
         "Brian", "Keith", "Colin", "Susan", "Janet", "Rhys", "Carys", "Dylan", "Megan", "Tomasz", "Zofia", "Aisha"]
LAST = ["Smith", "Jones", "Williams", "Taylor", "Davies", "Evans", "Thomas", "Johnson", "Roberts", "Walker",
        "Wright", "Powell", "Price", "Morgan", "Hughes", "Lewis", "Bevan", "Pritchard", "Watkins", "Probert",
        "Preece", "Gwilliam", "Baskerville", "Mapp", "Nowak", "Begum", "Khan", "Okafor", "Edwards", "Parry"]
REASONS = ["Medication review", "Chest infection follow-up", "Back pain", "Blood results", "UTI symptoms",
           "Rash", "Anxiety and low mood", "Fit note", "Blood pressure review", "Sore throat", "Asthma review",
           "Earache", "Headaches", "Contraception", "Diabetes check-in", "Joint pain"]

HUB_TEAM = [(Role.GP, 12), (Role.ADVANCED_NURSE_PRACTITIONER, 5), (Role.PHYSICIAN_ASSOCIATE, 3),
            (Role.CLINICAL_PHARMACIST, 2)]
CHANNEL_WEIGHTS = [(DeliveryChannel.TELEPHONE, 70), (DeliveryChannel.VIDEO, 15), (DeliveryChannel.ONLINE, 10),
                   (DeliveryChannel.IN_PERSON, 5)]
SESSION_TIMES = [(dt.time(8, 0), dt.time(12, 0)), (dt.time(13, 0), dt.time(17, 0)), (dt.time(14, 30), dt.time(18, 30))]
PATIENTS_PER_PRACTICE = 60
BOOKED_SHARE = 0.54  # 22 clinicians x 16 slots = 352 a day; ~190 booked


def practice_rows() -> list[dict]:
    with PRACTICES_CSV.open(newline="", encoding="utf-8") as f:
        return [r for r in csv.DictReader(f) if r["ODS_STATUS"] == "ACTIVE"]


def _test_nhs_numbers(rng: random.Random):
    seen: set[str] = set()
    while True:
        n = with_check_digit(f"999{rng.randrange(0, 10**6):06d}")
        if n and n not in seen and len(set(n)) > 1:
            seen.add(n)
            yield n


def _weekdays(first: dt.date, last: dt.date):
    d = first
    while d <= last:
        if d.weekday() < 5:
            yield d
        d += dt.timedelta(days=1)


def seed_demo(*, today: dt.date | None = None, seed: int = 7, progress: Callable[[str], None] = lambda _m: None) -> dict:
    """Create the demo collaborative. Runs in one transaction; refuses to run twice."""
    if Organisation.objects.filter(ods_code=COLLABORATIVE_ODS).exists():
        raise RuntimeError("The demo collaborative already exists")
    rng = random.Random(seed)  # noqa: S311 - synthetic demo data, not security
    tz = timezone.get_current_timezone()
    today = today or timezone.localdate()
    now = timezone.now()
    with transaction.atomic():
        progress("Organisations")
        collaborative = Organisation.objects.create(
            ods_code=COLLABORATIVE_ODS, name=COLLABORATIVE_NAME, kind="collaborative", sub_icb_code="18C",
            phone="01432 000000",
        )
        hub = Service.objects.create(organisation=collaborative, kind=Service.Kind.REMOTE_HUB,
                                     name="Remote hub", phone="01432 000100")
        rows = practice_rows()
        pcns: dict[str, Organisation] = {}
        practices: list[Organisation] = []
        for r in rows:
            pcn = pcns.get(r["PCN_CODE"])
            if pcn is None:
                pcn = pcns[r["PCN_CODE"]] = Organisation.objects.create(
                    ods_code=r["PCN_CODE"], name=r["PCN_NAME"], kind="pcn", parent=collaborative, sub_icb_code="18C")
            practices.append(Organisation.objects.create(
                ods_code=r["PRACTICE_CODE"], name=r["PRACTICE_NAME"], kind="practice", parent=pcn,
                list_size=int(r["REGISTERED_PATIENTS_2026_04_01"]), postcode=r["POSTCODE"], town=r["TOWN"],
                sub_icb_code=r["SUB_ICB_LOCATION_CODE"],
            ))
        services = [hub] + [Service.objects.create(organisation=p, kind=Service.Kind.PRACTICE, name=p.display_name)
                            for p in practices]
        OpeningHours.objects.bulk_create([
            OpeningHours(service=s, weekday=wd, opens=dt.time(8, 0), closes=dt.time(18, 30))
            for s in services for wd in range(5)
        ])
        by_ods = {o.ods_code: o for o in [collaborative, *practices]}

        progress("Staff and personas")
        for p in PERSONAS:
            user = User.objects.create(username=p.username, first_name=p.first_name, last_name=p.last_name,
                                       is_demo_persona=True)
            user.set_unusable_password()
            user.save(update_fields=["password"])
            RoleAssignment.objects.create(user=user, organisation=by_ods[p.ods], role=p.role)
        # Linking CIS2 identities to accounts is a permission some people hold, not a role: Helen has it.
        User.objects.get(username="helen.hubmanager").user_permissions.add(
            Permission.objects.get(codename="link_cis2_identity", content_type__app_label="accounts"))
        sam = User.objects.get(username="sam.hubgp")

        hub_clinicians: list[tuple[User, str]] = [(sam, Role.GP),
                                                  (User.objects.get(username="nina.hubanp"), Role.ADVANCED_NURSE_PRACTITIONER)]
        # The triage personas are part of the hub team too (counted in HUB_TEAM).
        hub_clinicians += [(User.objects.get(username="tara.triagegp"), Role.GP),
                           (User.objects.get(username="phil.pharmacist"), Role.CLINICAL_PHARMACIST)]
        i = 0
        for role, count in HUB_TEAM:
            have = sum(1 for _u, r in hub_clinicians if r == role)
            for _ in range(count - have):
                i += 1
                u = User.objects.create(username=f"hub.{role}.{i}", first_name=rng.choice(FIRST),
                                        last_name=rng.choice(LAST), is_demo_persona=False)
                u.set_unusable_password()
                u.save(update_fields=["password"])
                RoleAssignment.objects.create(user=u, organisation=collaborative, role=role)
                hub_clinicians.append((u, role))
        for p in practices:
            for role in (Role.PRACTICE_MANAGER, Role.CARE_NAVIGATOR, Role.GP):
                i += 1
                u = User.objects.create(username=f"{p.ods_code.lower()}.{role}.{i}", first_name=rng.choice(FIRST),
                                        last_name=rng.choice(LAST))
                u.set_unusable_password()
                u.save(update_fields=["password"])
                RoleAssignment.objects.create(user=u, organisation=p, role=role)

        progress("Patients")
        numbers = _test_nhs_numbers(rng)
        patients = []
        for p in practices:
            for _ in range(PATIENTS_PER_PRACTICE):
                patients.append(Patient(
                    nhs_number=next(numbers), given_name=rng.choice(FIRST), family_name=rng.choice(LAST),
                    date_of_birth=dt.date(rng.randint(1935, 2024), rng.randint(1, 12), rng.randint(1, 28)),
                    phone=f"07700 9{rng.randint(0, 99999):05d}", registered_practice=p,
                ))
        Patient.objects.bulk_create(patients)
        patients_by_practice: dict[int, list[Patient]] = {}
        for pt in Patient.objects.all():
            patients_by_practice.setdefault(pt.registered_practice_id, []).append(pt)

        progress("Hub sessions: four weeks")
        monday = today - dt.timedelta(days=today.weekday())
        first_day, last_day = monday - dt.timedelta(days=14), monday + dt.timedelta(days=11)
        channels, weights = zip(*CHANNEL_WEIGHTS, strict=True)
        for day in _weekdays(first_day, last_day):
            for n, (clinician, role) in enumerate(hub_clinicians):
                start_t, end_t = SESSION_TIMES[(n + day.toordinal()) % len(SESSION_TIMES)]
                session_create(
                    service=hub, clinician=clinician, clinician_role=role,
                    starts_at=dt.datetime.combine(day, start_t, tzinfo=tz),
                    ends_at=dt.datetime.combine(day, end_t, tzinfo=tz),
                    slot_minutes=15, channel=rng.choices(channels, weights)[0],
                )

        progress("Hub appointments")
        list_sizes = [p.list_size or 1 for p in practices]
        creators = {p.pk: User.objects.filter(role_assignments__organisation=p,
                                              role_assignments__role=Role.CARE_NAVIGATOR).first() for p in practices}
        creators[by_ods["M81026"].pk] = User.objects.get(username="rachel.reception")
        slots = list(Slot.objects.filter(service=hub).order_by("starts_at", "id"))
        appointments: list[Appointment] = []
        booked_slot_ids: list[int] = []
        for s in slots:
            days_ahead = (s.starts_at.date() - today).days
            share = BOOKED_SHARE if days_ahead <= 0 else max(0.15, BOOKED_SHARE - 0.06 * days_ahead)
            if rng.random() >= share:
                continue
            practice = rng.choices(practices, list_sizes)[0]
            patient = rng.choice(patients_by_practice[practice.pk])
            created = min(s.starts_at - dt.timedelta(hours=rng.choice([1, 2, 3, 20, 26, 50])), now)
            status, outcome, note, cancel = "booked", "", "", ""
            if s.ends_at < now:
                roll = rng.random()
                if roll < 0.03:
                    status = "noshow"
                elif roll < 0.04:
                    status, cancel = "cancelled", "Patient no longer needs the appointment"
                else:
                    status = "fulfilled"
                    o = rng.random()
                    if o < 0.97:
                        outcome = Appointment.Outcome.RESOLVED_REMOTELY
                    elif o < 0.99:
                        outcome = Appointment.Outcome.FACE_TO_FACE
                        note = "Needs examination: please book a face-to-face appointment"
                    else:
                        outcome = Appointment.Outcome.REFERRED
                        note = "Referred to first-contact physiotherapy"
            appointments.append(Appointment(
                slot=s, patient=patient, practice=practice, booked_by=creators[practice.pk],
                reason=rng.choice(REASONS), status=status, outcome=outcome, outcome_note=note,
                cancellation_reason=cancel, created_at=created, updated_at=created,
            ))
            if status != "cancelled":
                booked_slot_ids.append(s.pk)
        Appointment.objects.bulk_create(appointments, batch_size=500)
        for k in range(0, len(booked_slot_ids), 500):
            Slot.objects.filter(pk__in=booked_slot_ids[k:k + 500]).update(status=Slot.Status.BUSY)
        saved = list(Appointment.objects.select_related("slot").order_by("id"))
        usage, events, tasks = [], [], []
        for a in saved:
            minutes = int((a.slot.ends_at - a.slot.starts_at).total_seconds() // 60)
            usage.append(UsageEntry(practice_id=a.practice_id, appointment=a, occurred_at=a.created_at,
                                    slot_starts_at=a.slot.starts_at, minutes=minutes, reserved=False, delta=1))
            if a.status == "cancelled":
                usage.append(UsageEntry(practice_id=a.practice_id, appointment=a, occurred_at=a.created_at,
                                        slot_starts_at=a.slot.starts_at, minutes=minutes, reserved=False, delta=-1))
            if a.status in ("fulfilled", "noshow"):
                events.append(AppointmentEvent(appointment=a, status=a.status, occurred_at=a.slot.ends_at,
                                               by_id=a.slot.clinician_id, note=a.outcome_note))
            if a.outcome == Appointment.Outcome.FACE_TO_FACE:
                recent = (today - a.slot.starts_at.date()).days <= 3
                tasks.append(PracticeTask(
                    practice_id=a.practice_id, patient_id=a.patient_id, appointment=a, kind=PracticeTask.Kind.FACE_TO_FACE,
                    description=a.outcome_note, created_at=a.slot.ends_at, created_by_id=a.slot.clinician_id,
                    status="open" if recent else "done", closed_at=None if recent else a.slot.ends_at + dt.timedelta(days=1),
                    closed_by_id=None if recent else a.booked_by_id,
                ))
        UsageEntry.objects.bulk_create(usage, batch_size=1000)
        AppointmentEvent.objects.bulk_create(events, batch_size=1000)
        PracticeTask.objects.bulk_create(tasks, batch_size=500)

        progress("Duty doctor rota and a capacity request")
        hub_gps = [u for u, r in hub_clinicians if r == Role.GP]
        pcn_list = list(pcns.values())
        duties = []
        for day in _weekdays(first_day, last_day):
            for k, pcn in enumerate(pcn_list):
                gp = hub_gps[(k + day.toordinal()) % len(hub_gps)]
                if pcn.ods_code == "U65562":  # Hereford City HMG PCN: Sam is duty doctor there in the demo
                    gp = sam
                for p in practices:
                    if p.parent_id == pcn.pk:
                        duties.append(DutyDoctor(date=day, practice=p, clinician=gp,
                                                 contact=f"Hub duty line 01432 000{200 + k}"))
        DutyDoctor.objects.bulk_create(duties)
        ledbury = by_ods["M81012"]
        CapacityRequest.objects.create(
            practice=ledbury, requested_by=User.objects.filter(role_assignments__organisation=ledbury,
                                                              role_assignments__role=Role.PRACTICE_MANAGER).first(),
            requested_at=now, first_date=today + dt.timedelta(days=1), last_date=today + dt.timedelta(days=5),
            slots_requested=20, reason=CapacityRequest.Reason.STAFF_SICKNESS, detail="Two GPs off sick this week",
        )
        progress("Out of hours")
        ooh_cases = seed_out_of_hours(collaborative=collaborative, practices=practices,
                                      patients_by_practice=patients_by_practice, rng=rng, now=now)

        progress("Triage: network services, rules and requests")
        triage = seed_triage_demo(rng=rng, today=today, now=now, collaborative=collaborative, practices=practices,
                                  pcns=pcn_list, hub=hub, patients_by_practice=patients_by_practice)

        progress("Phlebotomy clinics")
        phlebotomy = seed_phlebotomy(rng=rng, first_day=first_day, last_day=last_day, now=now, pcns=pcn_list,
                                     patients_by_practice=patients_by_practice,
                                     booked_by=User.objects.get(username="rachel.reception"))
    return {
        "phlebotomy_appointments": phlebotomy,
        "ooh_cases": ooh_cases,
        "practices": len(practices),
        "pcns": len(pcns),
        "patients": len(patients),
        "hub_clinicians": len(hub_clinicians),
        "sessions": HubSession.objects.count(),
        "slots": len(slots),
        "appointments": len(saved),
        "days": len(list(_weekdays(first_day, last_day))),
        **triage,
    }


OOH_COMPLAINTS = [
    ("Chest pain since this evening, worse on breathing in", "urgent", "nhs111"),
    ("High temperature and confusion, lives alone", "urgent", "nhs111"),
    ("Toddler with fever and not feeding well", "less_urgent", "nhs111"),
    ("Ran out of inhaler, wheezy", "less_urgent", "triage"),
    ("Vomiting for two days", "routine", "nhs111"),
    ("Palliative care: pain not controlled", "urgent", "triage"),
    ("Painful swollen calf after a long flight", "less_urgent", "nhs111"),
    ("Cystitis symptoms", "routine", "triage"),
]


def seed_out_of_hours(*, collaborative, practices, patients_by_practice, rng, now) -> int:
    """The out-of-hours service: tonight's shifts, the case list, and the OOH GP persona in it."""
    from collab.nonprod.personas import PERSONA_SERVICES
    from collab.ooh.models import OohCase, OohShift

    tz = timezone.get_current_timezone()
    ooh = Service.objects.create(organisation=collaborative, kind=Service.Kind.OUT_OF_HOURS, name="Out of hours",
                                 phone="01432 000111")
    kinds = {"out_of_hours": ooh}
    for username, kind in PERSONA_SERVICES.items():
        if kind in kinds:  # enhanced access personas join their PCN's service with triage's network services
            RoleAssignment.objects.filter(user__username=username, organisation=collaborative).update(service=kinds[kind])
    olivia = User.objects.get(username="olivia.ooh")
    others = []
    for n, role in enumerate([Role.GP, Role.ADVANCED_NURSE_PRACTITIONER, Role.ADVANCED_NURSE_PRACTITIONER]):
        u = User.objects.create(username=f"ooh.{role}.{n}", first_name=rng.choice(FIRST), last_name=rng.choice(LAST))
        u.set_unusable_password()
        u.save(update_fields=["password"])
        RoleAssignment.objects.create(user=u, organisation=collaborative, role=role, service=ooh)
        others.append((u, role))
    today = timezone.localdate()
    shifts = []
    for day in (today - dt.timedelta(days=1), today, today + dt.timedelta(days=1)):
        evening = dt.datetime.combine(day, dt.time(18, 30), tzinfo=tz)
        shifts.append(OohShift(service=ooh, clinician=olivia, role=Role.GP, starts_at=evening,
                               ends_at=evening + dt.timedelta(hours=14), base="Hereford County Hospital OOH base"))
        for k, (u, role) in enumerate(others):
            shifts.append(OohShift(service=ooh, clinician=u, role=role, starts_at=evening + dt.timedelta(hours=k),
                                   ends_at=evening + dt.timedelta(hours=8 + k),
                                   base=["Leominster base", "Visiting car", "Telephone assessment"][k % 3]))
    OohShift.objects.bulk_create(shifts)
    # The first case is a newly registered Ledbury Health Partnership patient with no hub history:
    # the practice (Lucy's) sees the review it gets, and the hub has no relationship with them.
    home = next(p for p in practices if p.ods_code == "M81012")
    numbers = _test_nhs_numbers(rng)
    number = next(n for n in numbers if not Patient.objects.filter(nhs_number=n).exists())
    newcomer = Patient.objects.create(nhs_number=number, given_name="Dafydd", family_name="Gwilliam",
                                      date_of_birth=dt.date(1958, 3, 14), phone="07700 900456", registered_practice=home)
    cases = []
    for n, (complaint, priority, source) in enumerate(OOH_COMPLAINTS):
        patient = newcomer if n == 0 else rng.choice(patients_by_practice[rng.choice(practices).pk])
        cases.append(OohCase(
            service=ooh, patient=patient, source=source,
            source_reference=f"111-{rng.randint(100000, 999999)}" if source == "nhs111" else "",
            presenting_complaint=complaint, priority=priority,
            received_at=now - dt.timedelta(minutes=15 + 20 * n),
        ))
    OohCase.objects.bulk_create(cases)
    return len(cases)
