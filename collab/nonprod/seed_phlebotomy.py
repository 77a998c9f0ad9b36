"""Demo: weekday-evening phlebotomy clinics in each PCN's enhanced access service.

Demand rises week on week, so the analytics dashboards show the trend the collaborative's own
data revealed (phlebotomy is not a national AGP category: it comes from collab's appointments).
"""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone

from collab.accounts.models import Role, RoleAssignment, User
from collab.booking.models import Appointment, DeliveryChannel, Slot, SlotType, UsageEntry
from collab.booking.services import session_create
from collab.organisations.models import Organisation, Service


def seed_phlebotomy(*, rng: random.Random, first_day: dt.date, last_day: dt.date, now: dt.datetime,
                    pcns: list[Organisation], patients_by_practice: dict, booked_by: User) -> int:
    tz = timezone.get_current_timezone()
    made = []
    for k, pcn in enumerate(pcns):
        service, _ = Service.objects.get_or_create(
            organisation=pcn, kind=Service.Kind.ENHANCED_ACCESS,
            defaults={"name": f"{pcn.display_name} enhanced access"})
        nurse = User.objects.create(username=f"phlebotomy.{pcn.ods_code.lower()}", first_name="Pat",
                                    last_name=f"Nurse{k + 1}")
        nurse.set_unusable_password()
        nurse.save(update_fields=["password"])
        # The nurse works in the PCN's enhanced access service (a role acts in the collaborative's
        # services: collab.patients.access), so the clinic's appointments are hers to see and complete.
        RoleAssignment.objects.create(user=nurse, organisation=pcn.parent, role=Role.PRACTICE_NURSE, service=service)
        practices = [p for p in Organisation.objects.filter(parent=pcn, kind="practice")]
        day = first_day
        while day <= last_day:
            if day.weekday() < 5:
                session = session_create(
                    service=service, clinician=nurse, clinician_role=Role.PRACTICE_NURSE,
                    starts_at=dt.datetime.combine(day, dt.time(18, 30), tzinfo=tz),
                    ends_at=dt.datetime.combine(day, dt.time(20, 0), tzinfo=tz),
                    slot_minutes=10, channel=DeliveryChannel.IN_PERSON, slot_type=SlotType.PHLEBOTOMY)
                week = (day - first_day).days // 7
                fill = min(0.95, 0.55 + 0.12 * week)  # demand rising week on week
                for slot in session.slots.all():
                    if rng.random() >= fill:
                        continue
                    practice = rng.choice(practices)
                    past = slot.ends_at < now
                    made.append(Appointment(
                        slot=slot, patient=rng.choice(patients_by_practice[practice.pk]), practice=practice,
                        booked_by=booked_by, reason="Blood test", created_at=min(slot.starts_at - dt.timedelta(days=2), now),
                        updated_at=now, status="fulfilled" if past else "booked",
                        outcome=Appointment.Outcome.SEEN_IN_PERSON if past else "",
                    ))
            day += dt.timedelta(days=1)
    Appointment.objects.bulk_create(made, batch_size=500)
    # Every booking is metered, as appointment_book does (hub use reports count the hub's only).
    UsageEntry.objects.bulk_create([
        UsageEntry(practice_id=a.practice_id, appointment=a, occurred_at=a.created_at, slot_starts_at=a.slot.starts_at,
                   minutes=10, reserved=False, delta=1)
        for a in made
    ], batch_size=1000)
    ids = [a.slot_id for a in made]
    for i in range(0, len(ids), 500):
        Slot.objects.filter(pk__in=ids[i:i + 500]).update(status=Slot.Status.BUSY)
    return len(made)
