"""Seed a large synthetic network for load tests: many practices, many hub clinicians, days of slots.

Bulk inserts only (no per-row services), so 80 practices, 200 clinicians and tens of thousands of
slots take seconds. Everything is synthetic; it refuses to run on a database that already has a
collaborative, so it cannot mix with real data.
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
from collab.accounts.services import api_token_create
from collab.booking.models import DeliveryChannel, HubSession, Slot
from collab.organisations.models import Organisation, Service
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
    slot_minutes: int = 5, seed: int = 8, progress: Callable[[str], None] = lambda _m: None,
) -> dict:
    """Create the network and return what a load generator needs: one bearer token per practice
    (a care navigator there) and every patient's NHS number with the index of their practice."""
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

        progress("sessions and slots")
        step = dt.timedelta(minutes=slot_minutes)
        slots = 0
        for d in range(days):
            day = first_day + dt.timedelta(days=d)
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
            Slot.objects.bulk_create(batch, batch_size=5000)
            slots += len(batch)
    return {
        "practices": practices,
        "clinicians": clinicians,
        "patients": len(patients),
        "slots": slots,
        "days": days,
        "tokens": tokens,
        "patient_practice": [[p.nhs_number, practice_index[p.registered_practice_id]] for p in patients],
    }
