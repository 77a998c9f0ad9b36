import csv
import datetime as dt
import os
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from collab.accounts.models import RoleAssignment
from collab.booking.models import Appointment, Slot
from collab.nonprod.personas import PERSONAS
from collab.nonprod.seed import seed_demo
from collab.organisations.models import Organisation
from collab.patients.models import Patient
from collab.patients.nhs_number import is_valid

pytestmark = pytest.mark.django_db
# NHS open data as published, beside the repository (the workspace's ../shared/data) unless
# COLLAB_SHARED_DATA names it: the demo's shipped copy is checked against it.
SHARED_DATA = Path(os.environ.get("COLLAB_SHARED_DATA") or Path(__file__).resolve().parents[3].parent / "shared" / "data")
SHARED = SHARED_DATA / "herefordshire" / "herefordshire_practices.csv"


def test_demo_seeds_the_real_herefordshire_collaborative(capsys):
    today = timezone.localdate()
    figures = seed_demo(today=today)
    if not SHARED.is_file():
        pytest.fail(f"The published practice list is not at {SHARED}: this test checks the demo's shipped copy "
                    "against it. Set COLLAB_SHARED_DATA to the folder holding herefordshire/.")
    with SHARED.open(newline="") as f:
        real = {r["PRACTICE_CODE"]: r for r in csv.DictReader(f) if r["ODS_STATUS"] == "ACTIVE"}
    practices = {o.ods_code: o for o in Organisation.objects.filter(kind="practice")}
    assert set(practices) == set(real) and len(practices) == 19
    assert Organisation.objects.filter(kind="pcn").count() == 5
    for code, org in practices.items():
        assert org.list_size == int(real[code]["REGISTERED_PATIENTS_2026_04_01"])
        assert org.parent.ods_code == real[code]["PCN_CODE"]
    assert sum(o.list_size for o in practices.values()) == 204_378

    assert RoleAssignment.objects.filter(organisation__kind="collaborative",
                                         role__in=["gp", "anp", "physician_associate", "clinical_pharmacist"]
                                         ).filter(service__isnull=True).count() == 22  # the hub team
    # Each PCN's enhanced access evenings are run by a GP acting in that service (Erin in Hereford City).
    ea = RoleAssignment.objects.filter(organisation__kind="collaborative", role="gp", service__kind="enhanced_access")
    assert ea.count() == 5 and ea.filter(user__username="erin.eagp").exists()
    assert set(Slot.objects.filter(service__kind="enhanced_access", slot_type="general").values_list(
        "clinician_id", flat=True)) == set(ea.values_list("user_id", flat=True))
    assert all(is_valid(n, allow_test_range=True) for n in Patient.objects.values_list("nhs_number", flat=True))

    # About 190 remote appointments on each past weekday, 97% of completed ones resolved remotely.
    past = Appointment.objects.filter(slot__starts_at__date__lt=today, slot__service__kind="remote_hub").exclude(
        status="cancelled")
    per_day = Counter(a.slot.starts_at.astimezone(timezone.get_current_timezone()).date() for a in past.select_related("slot"))
    assert per_day and all(165 <= n <= 215 for n in per_day.values()), per_day
    done = past.filter(status="fulfilled")
    share = done.filter(outcome="resolved_remotely").count() / done.count()
    assert 0.94 <= share <= 0.995
    # Four weeks of sessions; no slot double-booked and slot status agrees with appointments.
    hub_slots = Slot.objects.filter(service__kind="remote_hub")  # network services (triage) have their own sessions
    days = {s.astimezone(timezone.get_current_timezone()).date() for s in hub_slots.values_list("starts_at", flat=True)}
    assert len(days) == 20 and max(days) - min(days) < dt.timedelta(days=28)
    live = Counter(Appointment.objects.exclude(status="cancelled").values_list("slot_id", flat=True))
    assert max(live.values()) == 1
    assert set(live) == set(Slot.objects.filter(status="busy").values_list("id", flat=True))
    assert figures["appointments"] == Appointment.objects.filter(slot__service__kind="remote_hub").count()
    assert figures["phlebotomy_appointments"] == Appointment.objects.filter(slot__slot_type="phlebotomy").count()

    with pytest.raises(RuntimeError, match="already exists"):
        seed_demo(today=today)

    call_command("users")
    lines = capsys.readouterr().out.strip().splitlines()
    assert {tuple(line.split("\t")) for line in lines} == {(p.username, p.role, p.ods) for p in PERSONAS}
    call_command("patients", "M81026")
    rows = [line.split("\t") for line in capsys.readouterr().out.strip().splitlines()]
    assert len(rows) == 60 and all(is_valid(r[0], allow_test_range=True) for r in rows)


def test_patients_command_names_an_unknown_practice():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No practice with ODS code 'X99999'"):
        call_command("patients", "X99999")


def test_token_command(capsys):
    from django.core.management.base import CommandError

    from collab.accounts.services import api_token_assignment
    from collab.core.tests.factories import RoleAssignmentFactory

    a = RoleAssignmentFactory()
    call_command("token", a.user.username)
    token = capsys.readouterr().out.strip()
    assert api_token_assignment(token) == a
    with pytest.raises(CommandError, match="No active user"):
        call_command("token", "nobody")
    RoleAssignmentFactory(user=a.user, role="gp")
    with pytest.raises(CommandError, match="several roles"):
        call_command("token", a.user.username)


def test_persona_sign_in_is_one_click(client):
    seed_demo()
    r = client.get("/demo/")
    assert r.status_code == 200 and b"Sign in as Rachel" in r.content
    r = client.post("/demo/sign-in/rachel.reception/")
    assert r.status_code == 302
    assert client.get("/hub/slots/").status_code == 200
    # Not a persona: no one-click sign-in.
    assert client.post("/demo/sign-in/hub.gp.1/").status_code == 404


def test_demo_appointments_export_to_analytics_with_a_rising_phlebotomy_trend(tmp_path):
    from collab.analytics.store import export_collab_appointments
    from collab.booking.exports import analytics_rows

    seed_demo()
    rows = list(analytics_rows())
    assert len(rows) == Appointment.objects.count()
    written = export_collab_appointments(rows, store=tmp_path / "a.duckdb")
    assert written == len(rows)
    assert {r["service"] for r in rows} >= {"hub", "enhanced_access"}
    phlebotomy = [r for r in rows if r["slot_type"] == "phlebotomy"]
    assert phlebotomy and all(r["delivery_channel"] == "In-person" for r in phlebotomy)
    # By ISO year and week, so weeks sort across New Year (week 53 of 2026 comes before week 1 of 2027).
    by_week = Counter(tuple(r["appointment_date"].isocalendar())[:2] for r in phlebotomy)
    weeks = sorted(by_week)
    assert by_week[weeks[0]] < by_week[weeks[2]], by_week  # demand rises week on week


def test_every_demo_appointment_is_metered_and_hub_use_counts_only_the_hub():
    from collab.booking.models import UsageEntry
    from collab.booking.selectors import usage_by_practice

    seed_demo()
    unmetered = Appointment.objects.exclude(usage__delta=1)
    assert not unmetered.exists()
    today = timezone.localdate()
    rows = usage_by_practice(since=today - dt.timedelta(days=30), until=today + dt.timedelta(days=30))
    hub_net = sum(UsageEntry.objects.filter(appointment__slot__service__kind="remote_hub").values_list("delta", flat=True))
    assert sum(r["appointments"] for r in rows) == hub_net
    assert UsageEntry.objects.filter(appointment__slot__slot_type="phlebotomy").exists()
