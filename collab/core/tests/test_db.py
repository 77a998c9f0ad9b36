"""The hot path's database helpers on PostgreSQL (collab/core/db.py): prepared statements, and a
connection the database dropped replaced without an extra round trip on every request."""

from __future__ import annotations

import psycopg
import pytest
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from collab.accounts.models import Role
from collab.booking import services
from collab.core import audit
from collab.core.db import hot_path_read
from collab.core.tests.factories import (
    PatientFactory,
    PracticeFactory,
    RoleAssignmentFactory,
    actor,
    hub_session,
)
from collab.patients.access import Action
from collab.patients.selectors import patient_for_booking

pytestmark = pytest.mark.postgres


def _terminate(pid: int) -> None:
    s = connection.settings_dict
    with psycopg.connect(dbname=s["NAME"], user=s["USER"], host=s["HOST"], port=s["PORT"] or 5432,
                         password=s["PASSWORD"] or None, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0] is True


def test_hot_path_read_replaces_a_dropped_connection_and_reads_once_more(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        try:
            connection.ensure_connection()
            dropped = connection.connection.info.backend_pid
            _terminate(dropped)
            (pid,) = hot_path_read("SELECT pg_backend_pid()", [])
            assert pid != dropped
            assert connection.health_check_done is True  # the read was this request's health check
        finally:
            connection.close()


def test_hot_path_read_does_not_retry_inside_a_transaction(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        try:
            with pytest.raises(OperationalError), transaction.atomic():
                _terminate(connection.connection.info.backend_pid if connection.connection else
                           hot_path_read("SELECT pg_backend_pid()", [])[0])
                hot_path_read("SELECT 1", [])
        finally:
            connection.close()


@pytest.mark.django_db
def test_the_hot_statements_are_prepared_after_a_few_runs():
    practice = PracticeFactory()
    who = actor(RoleAssignmentFactory(organisation=practice, role=Role.CARE_NAVIGATOR))
    patient = PatientFactory(registered_practice=practice)
    now = timezone.now()
    slots = list(hub_session(hours=2).slots.order_by("starts_at"))
    assert len(slots) == 8
    for slot in slots:
        assert patient_for_booking(patient.nhs_number) is not None
        row = audit.audit_row(actor=who, action=Action.BOOK, allowed=True, patient_id=patient.pk,
                              reason="registered practice", object_type="appointment", occurred_at=now)
        assert services._claim_and_book_in_one_statement(
            slot_id=slot.pk, patient_id=patient.pk, practice_id=practice.pk, booked_by_id=who.user_id,
            reason="Cough", now=now, audit=row)[0] is not None
        audit.audit_record(actor=who, action=Action.VIEW, allowed=True, patient_id=patient.pk, reason="test")
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [r[0] for r in cursor.fetchall()]
    assert any(s.startswith("WITH claimed AS") for s in prepared), prepared
    assert any("FROM patients_patient p" in s for s in prepared), prepared
    assert any(s.startswith("INSERT INTO core_auditevent") for s in prepared), prepared
