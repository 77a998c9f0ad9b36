"""The load-test network (`collab seed-network`), with the history a running hub has."""

import datetime as dt

import pytest
from django.db.models import Count
from django.utils import timezone

from collab.booking.models import Appointment, Slot, UsageEntry
from collab.core.models import AuditEvent
from collab.nonprod.network import seed_network

pytestmark = pytest.mark.django_db


def test_history_days_hold_completed_appointments_with_usage_and_audit_rows():
    figures = seed_network(practices=4, clinicians=3, patients_per_practice=5, days=1, history_days=2, slot_minutes=60)
    today = timezone.localdate()
    past = Slot.objects.filter(starts_at__date__lt=today)
    future = Slot.objects.filter(starts_at__date__gt=today)
    assert figures["slots"] == future.count() == 3 * 12
    assert past.count() == 2 * 3 * 12
    assert not future.exclude(status=Slot.Status.FREE).exists()

    booked = past.filter(status=Slot.Status.BUSY)
    assert figures["history_appointments"] == booked.count() > 0
    assert set(Appointment.objects.values_list("slot_id", flat=True)) == set(booked.values_list("id", flat=True))
    for a in Appointment.objects.select_related("patient", "slot"):
        assert a.status == Appointment.Status.FULFILLED
        assert a.practice_id == a.patient.registered_practice_id
        assert a.created_at < a.slot.starts_at
    usage = UsageEntry.objects.values("appointment_id").annotate(n=Count("id"))
    assert {u["appointment_id"] for u in usage} == set(Appointment.objects.values_list("id", flat=True))
    assert {u["n"] for u in usage} == {1}
    audit = AuditEvent.objects.filter(action="appointment.book", outcome="allowed", object_type="appointment")
    assert sorted(audit.values_list("object_id", flat=True)) == sorted(
        str(pk) for pk in Appointment.objects.values_list("id", flat=True))
    assert not AuditEvent.objects.exclude(pk__in=audit).exists()


def test_no_history_by_default_and_never_twice():
    figures = seed_network(practices=2, clinicians=2, patients_per_practice=2, days=1, slot_minutes=60,
                           first_day=timezone.localdate() + dt.timedelta(days=3))
    assert figures["history_appointments"] == 0
    assert not Appointment.objects.exists()
    with pytest.raises(RuntimeError, match="already has a collaborative"):
        seed_network(practices=2, clinicians=2, patients_per_practice=2)
