"""The booking hot path writes in plain SQL (docs/adr/0006-booking-hot-path.md): these tests hold
it to the models and to the generic path it stands in for."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone

from collab.accounts.models import Role
from collab.booking import services
from collab.booking.models import Appointment, Slot, UsageEntry
from collab.core import audit
from collab.core.models import AuditEvent
from collab.core.tests.factories import (
    PatientFactory,
    PracticeFactory,
    RoleAssignmentFactory,
    actor,
    hub_session,
)
from collab.patients.access import Action
from collab.patients.selectors import patient_for_booking

SQL = [services._CLAIM_SQL, services._APPOINTMENT_SQL, services._USAGE_SQL, services._BOOK_IN_ONE_STATEMENT_SQL,
       audit._INSERT]


def _tables_and_columns(sql: str) -> list[tuple[str, list[str]]]:
    found = [(t, [c.strip() for c in cols.split(",")])
             for t, cols in re.findall(r"INSERT INTO (\w+) \(([^)]*)\)", sql)]
    found += [(t, []) for t in re.findall(r"UPDATE (\w+) SET", sql)]
    return found


@pytest.mark.parametrize("sql", SQL)
def test_plain_sql_names_real_tables_and_columns(sql):
    by_table = {m._meta.db_table: m for m in apps.get_models()}
    for table, columns in _tables_and_columns(sql):
        assert table in by_table, table
        model_columns = {f.column for f in by_table[table]._meta.concrete_fields}
        assert set(columns) <= model_columns, set(columns) - model_columns


def test_the_appointment_insert_writes_every_column():
    written = set(_tables_and_columns(services._APPOINTMENT_SQL)[0][1])
    needed = {f.column for f in Appointment._meta.concrete_fields if not f.primary_key}
    assert needed == written


def test_audit_insert_writes_every_column_the_row_decides():
    assert set(_tables_and_columns(audit._INSERT)[0][1]) == set(audit.AUDIT_COLUMNS)
    assert set(audit.AUDIT_COLUMNS) == {f.column for f in AuditEvent._meta.concrete_fields if not f.primary_key}


@pytest.mark.django_db
def test_patient_for_booking_reads_what_the_decision_needs():
    p = PatientFactory()
    patient, ods = patient_for_booking(p.nhs_number)
    assert (patient.pk, patient.registered_practice_id, patient.nhs_number) == (p.pk, p.registered_practice_id,
                                                                                 p.nhs_number)
    assert ods == p.registered_practice.ods_code
    assert patient_for_booking("9990000000") is None


def _rows(appointment_id: int) -> dict:
    a = Appointment.objects.values("slot_id", "patient_id", "practice_id", "booked_by_id", "reason", "status",
                                   "used_reserved_capacity", "outcome", "created_at").get(pk=appointment_id)
    u = list(UsageEntry.objects.filter(appointment_id=appointment_id).values("practice_id", "slot_starts_at", "minutes",
                                                                             "reserved", "delta"))
    e = list(AuditEvent.objects.filter(object_type="appointment", object_id=str(appointment_id))
             .values("user_id", "username", "role", "organisation_ods", "patient_id", "action", "outcome", "reason",
                     "channel"))
    return {"appointment": a, "usage": u, "audit": e}


@pytest.mark.django_db
@pytest.mark.postgres
@pytest.mark.parametrize("reserved", [False, True])
def test_one_statement_booking_writes_what_the_generic_path_writes(reserved):
    practice = PracticeFactory()
    who = actor(RoleAssignmentFactory(organisation=practice, role=Role.CARE_NAVIGATOR))
    patient = PatientFactory(registered_practice=practice)
    first, second = hub_session(reserved_for=practice if reserved else None).slots.order_by("starts_at")[:2]
    now = timezone.now()
    row = audit.audit_row(actor=who, action=Action.BOOK, allowed=True, patient_id=patient.pk,
                          reason="registered practice", object_type="appointment", occurred_at=now)
    one, refused = services._claim_and_book_in_one_statement(
        slot_id=first.pk, patient_id=patient.pk, practice_id=practice.pk, booked_by_id=who.user_id, reason="Rash",
        now=now, audit=row)
    assert refused is None
    generic = services._claim_and_book(slot_id=second.pk, patient_id=patient.pk, practice_id=practice.pk,
                                       booked_by_id=who.user_id, reason="Rash", now=now)
    audit.audit_record(actor=who, action=Action.BOOK, allowed=True, patient_id=patient.pk,
                       reason="registered practice", object_type="appointment", object_id=generic.appointment_id)
    a, b = _rows(one.appointment_id), _rows(generic.appointment_id)
    assert a["appointment"].pop("slot_id") == first.pk and b["appointment"].pop("slot_id") == second.pk
    assert a["usage"][0].pop("slot_starts_at") == first.starts_at
    assert b["usage"][0].pop("slot_starts_at") == second.starts_at
    assert a == b
    assert a["appointment"]["used_reserved_capacity"] is reserved and len(a["audit"]) == 1
    assert (one.starts_at, one.ends_at) == (first.starts_at, first.ends_at)
    assert Slot.objects.get(pk=first.pk).status == "busy"
    again, refused = services._claim_and_book_in_one_statement(
        slot_id=first.pk, patient_id=patient.pk, practice_id=practice.pk, booked_by_id=who.user_id, reason="Rash",
        now=now, audit=row)
    assert again is None and isinstance(refused, services.SlotUnavailable)
    assert refused.message == "The slot is no longer free"


@pytest.mark.django_db
@pytest.mark.postgres
def test_one_statement_refusal_says_why_as_the_generic_path_does():
    practice, other = PracticeFactory(), PracticeFactory()
    who = actor(RoleAssignmentFactory(organisation=practice, role=Role.CARE_NAVIGATOR))
    patient = PatientFactory(registered_practice=practice)
    free = hub_session().slots.order_by("starts_at").first()
    reserved = hub_session(reserved_for=other).slots.order_by("starts_at").first()
    past = hub_session(start=timezone.now() - dt.timedelta(hours=4)).slots.order_by("starts_at").first()
    now = timezone.now()
    row = audit.audit_row(actor=who, action=Action.BOOK, allowed=True, patient_id=patient.pk,
                          reason="registered practice", object_type="appointment", occurred_at=now)
    before = Appointment.objects.count(), AuditEvent.objects.count()

    def refusal(slot_id: int):
        booked, refused = services._claim_and_book_in_one_statement(
            slot_id=slot_id, patient_id=patient.pk, practice_id=practice.pk, booked_by_id=who.user_id,
            reason="Rash", now=now, audit=row)
        assert booked is None
        slot = Slot.objects.filter(pk=slot_id).values_list("status", "starts_at", "reserved_for_id").first()
        generic = services._why_not_bookable(slot, slot_id=slot_id, practice_id=practice.pk, now=now)
        assert (type(refused), refused.message) == (type(generic), generic.message)
        return refused

    assert isinstance(refusal(reserved.pk), services.SlotUnavailable)
    assert "reserved for another practice" in refusal(reserved.pk).message
    assert isinstance(refusal(past.pk), services.SlotInPast)
    assert isinstance(refusal(10**12), services.SlotNotFound)
    assert (Appointment.objects.count(), AuditEvent.objects.count()) == before  # nothing written
    assert Slot.objects.get(pk=free.pk).status == "free"
    assert connection.vendor == "postgresql"


def test_the_slot_search_sql_reads_real_columns():
    from collab.booking.sql import FREE_SLOT_COLUMNS

    assert set(FREE_SLOT_COLUMNS) <= {f.column for f in Slot._meta.concrete_fields}


@pytest.mark.django_db
def test_the_slot_search_rows_are_what_the_orm_query_finds():
    from django.db.models import Q

    from collab.booking.selectors import slots_free_rows

    mine, other = PracticeFactory(), PracticeFactory()
    start = timezone.now().replace(microsecond=0) + dt.timedelta(hours=2)
    pooled = hub_session(start=start, hours=2)
    hub_session(start=start, hours=1, reserved_for=mine)
    hub_session(start=start + dt.timedelta(minutes=5), hours=1, reserved_for=other)
    hub_session(start=timezone.now() - dt.timedelta(hours=1), hours=1)  # started: never offered
    taken = pooled.slots.order_by("starts_at").first()
    Slot.objects.filter(pk=taken.pk).update(status=Slot.Status.BUSY)
    end = start + dt.timedelta(minutes=90)  # inclusive: a slot starting exactly then is found
    assert Slot.objects.filter(starts_at=end).exists()

    for practice_id in (mine.pk, other.pk, None):
        for limit in (3, 100):
            rows = slots_free_rows(practice_id=practice_id, start=timezone.now() - dt.timedelta(hours=3), end=end,
                                   limit=limit)
            orm = Slot.objects.filter(status="free", starts_at__gte=timezone.now(), starts_at__lte=end)
            if practice_id is not None:
                orm = orm.filter(Q(reserved_for__isnull=True) | Q(reserved_for_id=practice_id))
            expected = list(orm.order_by("starts_at", "id").values(
                "id", "session_id", "starts_at", "ends_at", "channel", "clinician_role", "status")[:limit])
            assert rows == expected, (practice_id, limit)
            assert len(rows) == min(limit, len(orm))
    everyone = {r["id"] for r in slots_free_rows(practice_id=None, start=start, end=end, limit=500)}
    assert taken.pk not in everyone
    assert Slot.objects.filter(reserved_for=other, pk__in=everyone).exists()
    assert not Slot.objects.filter(reserved_for=other,
                                   pk__in={r["id"] for r in slots_free_rows(practice_id=mine.pk, start=start, end=end,
                                                                           limit=500)}).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("model", [Slot, Appointment, UsageEntry, AuditEvent])
def test_no_index_a_booking_writes_is_served_by_another(model):
    """Every booking writes each index of these tables (the slot's update changes an indexed
    column, so it is never a HOT update): an index that only repeats the leading columns of
    another costs every booking and serves no query the other cannot."""
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, model._meta.db_table)
    indexes = {name: c["columns"] for name, c in found.items() if c["index"] and c["columns"]}
    redundant = [
        (name, other) for name, cols in indexes.items() for other, longer in indexes.items()
        if name != other and not found[name]["unique"] and len(cols) < len(longer) and longer[:len(cols)] == cols
    ]
    assert redundant == []
