"""Seed a large synthetic network for load tests: many practices, many hub clinicians, days of slots.

Bulk inserts only (no per-row services), so 80 practices, 200 clinicians and tens of thousands of
slots take seconds. Everything is synthetic; it refuses to run on a database that already has a
collaborative, so it cannot mix with real data.

``history_days`` adds the days before today as a running hub has them: past sessions whose slots
were booked and completed, each appointment with its usage and audit rows. A load test on a
database whose appointment table is empty measures something no live hub is: PostgreSQL plans a
foreign-key check once per connection, and a plan made on an empty table (a sequential scan)
stays in use while the table grows under the load (docs/adr/0006-booking-hot-path.md).
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Callable

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from collab.accounts.models import Role, RoleAssignment, User
from collab.accounts.services import actor_from_assignment, api_token_create
from collab.booking.models import Appointment, DeliveryChannel, HubSession, Slot, UsageEntry
from collab.core.audit import Actor, audit_row
from collab.core.models import AuditEvent
from collab.organisations.models import Organisation, Service
from collab.patients.access import Action
from collab.patients.models import Patient
from collab.patients.nhs_number import with_check_digit

NETWORK_ODS = "LOAD01"
CLINICIAN_ROLES = [Role.GP, Role.GP, Role.GP, Role.ADVANCED_NURSE_PRACTITIONER, Role.PHYSICIAN_ASSOCIATE]


def _nhs_numbers():
    for n in itertools.count(1):
        number = with_check_digit(f"999{n:06d}")
        if number and len(set(number)) > 1:
            yield number


def seed_network(
    *, practices: int = 80, clinicians: int = 200, patients_per_practice: int = 50, days: int = 1,
    first_day: dt.date | None = None, day_starts: dt.time = dt.time(8, 0), day_ends: dt.time = dt.time(20, 0),
    slot_minutes: int = 5, history_days: int = 0, history_booked_share: float = 0.6, seed: int = 8,
    progress: Callable[[str], None] = lambda _m: None,
) -> dict:
    """Create the network and return what a load generator needs: one bearer token per practice
    (a care navigator there) and every patient's NHS number with the index of their practice.

    ``days`` of free slots from ``first_day`` (tomorrow); ``history_days`` of past days before
    today, ``history_booked_share`` of whose slots hold a completed appointment."""
    if Organisation.objects.filter(kind="collaborative").exists():
        raise RuntimeError("This database already has a collaborative: seed the load network into an empty one")
    rng = random.Random(seed)  # noqa: S311 - synthetic list sizes, not secrets
    tz = timezone.get_current_timezone()
    first_day = first_day or timezone.localdate() + dt.timedelta(days=1)
    with transaction.atomic():
        progress("organisations")
        network = Organisation.objects.create(ods_code=NETWORK_ODS, name="LOAD TEST COLLABORATIVE", kind="collaborative")
        hub = Service.objects.create(organisation=network, kind=Service.Kind.REMOTE_HUB, name="Remote hub")
        pcns = Organisation.objects.bulk_create([
            Organisation(ods_code=f"LP{k:04d}", name=f"LOAD PCN {k}", kind="pcn", parent=network)
            for k in range(max(1, practices // 8))
        ])
        surgeries = Organisation.objects.bulk_create([
            Organisation(ods_code=f"L{k:05d}", name=f"LOAD SURGERY {k}", kind="practice", parent=pcns[k % len(pcns)],
                         list_size=rng.randint(3000, 30000))
            for k in range(practices)
        ])

        progress("staff")
        unusable = make_password(None)  # nobody signs in as a load-test user; the API uses tokens
        staff = User.objects.bulk_create(
            [User(username=f"load.reception.{k}", first_name="Care", last_name=f"Navigator{k}", password=unusable)
             for k in range(practices)]
            + [User(username=f"load.clinician.{k}", first_name="Hub", last_name=f"Clinician{k}", password=unusable)
               for k in range(clinicians)]
        )
        receptionists, hub_clinicians = staff[:practices], staff[practices:]
        assignments = RoleAssignment.objects.bulk_create(
            [RoleAssignment(user=u, organisation=p, role=Role.CARE_NAVIGATOR)
             for u, p in zip(receptionists, surgeries, strict=True)]
            + [RoleAssignment(user=u, organisation=network, role=CLINICIAN_ROLES[k % len(CLINICIAN_ROLES)])
               for k, u in enumerate(hub_clinicians)]
        )
        reception_assignments = assignments[:practices]
        for a, u, p in zip(reception_assignments, receptionists, surgeries, strict=True):
            a.user, a.organisation = u, p
        tokens = [api_token_create(assignment=a) for a in reception_assignments]

        progress("patients")
        numbers = _nhs_numbers()
        patients = [
            Patient(nhs_number=next(numbers), given_name="Load", family_name=f"Patient{k}",
                    date_of_birth=dt.date(1940 + k % 80, 1 + k % 12, 1 + k % 28), registered_practice=p)
            for p in surgeries for k in range(patients_per_practice)
        ]
        Patient.objects.bulk_create(patients, batch_size=2000)
        practice_index = {p.pk: i for i, p in enumerate(surgeries)}

        step = dt.timedelta(minutes=slot_minutes)

        def day_of_slots(day: dt.date) -> list[Slot]:
            starts = dt.datetime.combine(day, day_starts, tzinfo=tz)
            ends = dt.datetime.combine(day, day_ends, tzinfo=tz)
            sessions = HubSession.objects.bulk_create([
                HubSession(service=hub, clinician=u, clinician_role=CLINICIAN_ROLES[k % len(CLINICIAN_ROLES)],
                           starts_at=starts, ends_at=ends, slot_minutes=slot_minutes,
                           channel=DeliveryChannel.TELEPHONE if k % 5 else DeliveryChannel.VIDEO)
                for k, u in enumerate(hub_clinicians)
            ])
            batch = []
            for s in sessions:
                t = starts
                while t + step <= ends:
                    batch.append(Slot(session=s, service=hub, clinician_id=s.clinician_id, starts_at=t, ends_at=t + step,
                                      channel=s.channel, clinician_role=s.clinician_role))
                    t += step
            return batch

        progress("history")
        booked_before = 0
        # Each practice's care navigator books its patients, over the API.
        navigators = {a.organisation_id: actor_from_assignment(a, channel="api") for a in reception_assignments}
        today = timezone.localdate()
        for d in range(history_days, 0, -1):
            batch = day_of_slots(today - dt.timedelta(days=d))
            booked = [s for s in batch if rng.random() < history_booked_share]
            for s in booked:
                s.status = Slot.Status.BUSY
            Slot.objects.bulk_create(batch, batch_size=5000)
            booked_before += _history(booked, patients, navigators, rng)

        progress("sessions and slots")
        slots = 0
        for d in range(days):
            batch = day_of_slots(first_day + dt.timedelta(days=d))
            Slot.objects.bulk_create(batch, batch_size=5000)
            slots += len(batch)
    return {
        "practices": practices,
        "clinicians": clinicians,
        "patients": len(patients),
        "slots": slots,
        "days": days,
        "history_days": history_days,
        "history_appointments": booked_before,
        "tokens": tokens,
        "patient_practice": [[p.nhs_number, practice_index[p.registered_practice_id]] for p in patients],
    }


def _history(booked: list[Slot], patients: list[Patient], navigators: dict[int, Actor], rng: random.Random) -> int:
    """Completed appointments in ``booked`` (past slots), each booked by its practice's care
    navigator over the API the day before, with its usage row and audit row, as a booking writes."""
    appointments = []
    for s in booked:
        patient = rng.choice(patients)
        actor = navigators[patient.registered_practice_id]
        created = s.starts_at - dt.timedelta(hours=rng.randint(1, 20))
        appointments.append(Appointment(
            slot=s, patient=patient, practice_id=patient.registered_practice_id, booked_by_id=actor.user_id,
            reason="Telephone consultation", status=Appointment.Status.FULFILLED,
            outcome=(Appointment.Outcome.RESOLVED_REMOTELY if rng.random() < 0.97 else Appointment.Outcome.FACE_TO_FACE),
            created_at=created, updated_at=s.ends_at,
        ))
    Appointment.objects.bulk_create(appointments, batch_size=5000)
    UsageEntry.objects.bulk_create([
        UsageEntry(practice_id=a.practice_id, appointment=a, occurred_at=a.created_at, slot_starts_at=a.slot.starts_at,
                   minutes=int((a.slot.ends_at - a.slot.starts_at).total_seconds() // 60), reserved=False, delta=1)
        for a in appointments
    ], batch_size=5000)
    AuditEvent.objects.bulk_create([
        AuditEvent(**audit_row(actor=navigators[a.practice_id], action=Action.BOOK, allowed=True,
                               patient_id=a.patient_id, reason="registered practice",
                               object_type="appointment", object_id=a.pk, occurred_at=a.created_at))
        for a in appointments
    ], batch_size=5000)
    return len(appointments)
