"""Out-of-hours cases leave for the analytics store as out-of-hours appointments."""

import datetime as dt

import pytest
from django.utils import timezone

from collab.analytics.store import export_collab_appointments, open_store
from collab.core.tests.factories import actor
from collab.ooh import exports
from collab.ooh.models import OohCase
from collab.ooh.tests.factories import OohCaseFactory, ooh_clinician
from collab.records import services as records

pytestmark = pytest.mark.django_db


def _consult(assignment, case, *, follow_up: bool):
    a = actor(assignment)
    note = records.consultation_start(actor=a, actor_org_kind="collaborative", patient=case.patient, ooh_case=case)
    note = records.consultation_save(
        actor=a, actor_org_kind="collaborative", consultation=note,
        notes={"assessment": "Viral illness", "plan": "Fluids", "safety_netting": "111 if worse"},
        follow_up_needed=follow_up, follow_up_note="Practice to review in a week" if follow_up else "",
    )
    records.consultation_sign(actor=a, actor_org_kind="collaborative", consultation=note)


def test_cases_waiting_and_completed_are_appointments_of_the_out_of_hours_service(tmp_path):
    gp = ooh_clinician()
    received = timezone.now() - dt.timedelta(hours=2)
    waiting = OohCaseFactory(service=gp.service, received_at=received)
    resolved = OohCaseFactory(service=gp.service, received_at=received, source=OohCase.Source.TRIAGE)
    followed = OohCaseFactory(service=gp.service, received_at=received)
    _consult(gp, resolved, follow_up=False)
    _consult(gp, followed, follow_up=True)
    rows = {r["appointment_id"]: r for r in exports.analytics_rows()}
    assert set(rows) == {f"ooh-{c.pk}" for c in (waiting, resolved, followed)}
    w, r, f = rows[f"ooh-{waiting.pk}"], rows[f"ooh-{resolved.pk}"], rows[f"ooh-{followed.pk}"]
    assert (w["status"], w["outcome"], w["clinician_role"]) == ("booked", None, None)
    assert (r["status"], r["outcome"], r["clinician_role"]) == ("attended", "resolved", "GP")
    assert (f["status"], f["outcome"]) == ("attended", "follow_up")
    assert (w["slot_type"], r["slot_type"]) == ("nhs 111 referral", "triage referral")
    assert w["booked_date"] == timezone.localtime(received).date()
    assert w["practice_ods"] == waiting.patient.registered_practice.ods_code
    assert {x["service"] for x in rows.values()} == {"out_of_hours"}
    assert {x["delivery_channel"] for x in rows.values()} == {"Unknown"}
    path = tmp_path / "a.duckdb"
    assert export_collab_appointments(rows.values(), store=path) == 3
    with open_store(path, read_only=True) as con:
        got = con.execute("SELECT status, mode, hcp_type FROM collab_appointment ORDER BY appointment_id").fetchall()
    assert sorted(got) == [("Attended", "Unknown", "GP"), ("Attended", "Unknown", "GP"), ("Unknown", "Unknown", "Unknown")]
