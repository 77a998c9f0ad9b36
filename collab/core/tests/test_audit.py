import pytest
from django.db import DatabaseError, connection, transaction

from collab.core.audit import Actor, audit_record
from collab.core.models import AuditEvent

ACTOR = Actor(user_id=1, username="u", role="gp", organisation_id=1, organisation_ods="M81026")


@pytest.mark.django_db
def test_sequence_numbers_only_grow():
    events = [audit_record(actor=ACTOR, action="patient.view", allowed=i % 2 == 0, patient_id=7) for i in range(5)]
    seqs = [e.sequence for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5
    assert [e.outcome for e in events] == ["allowed", "refused", "allowed", "refused", "allowed"]


@pytest.mark.django_db
def test_database_refuses_update_of_audit_rows():
    event = audit_record(actor=ACTOR, action="patient.view", allowed=True, patient_id=7)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(outcome="refused")
    assert AuditEvent.objects.get(pk=event.pk).outcome == "allowed"


@pytest.mark.django_db
def test_database_refuses_delete_of_audit_rows():
    event = audit_record(actor=ACTOR, action="patient.view", allowed=True, patient_id=7)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as c:
        c.execute("DELETE FROM core_auditevent")
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.django_db
@pytest.mark.postgres
def test_postgres_refuses_truncate_of_audit_rows():
    audit_record(actor=ACTOR, action="patient.view", allowed=True, patient_id=7)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as c:
        c.execute("TRUNCATE core_auditevent")
    assert AuditEvent.objects.count() == 1
