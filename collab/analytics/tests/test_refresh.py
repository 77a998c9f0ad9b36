"""Refreshing collab's own rows from its database: `collab export-analytics` and its pieces."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from collab.analytics import refresh
from collab.analytics.store import freshness, open_store
from collab.booking.models import Appointment
from collab.core.tests.factories import actor, hub_session
from collab.ooh.tests.factories import OohCaseFactory, ooh_clinician
from collab.triage import selectors, services
from collab.triage.tests.factories import by_phone, hub_role, network, patient, triaged

pytestmark = pytest.mark.django_db


@pytest.fixture
def collab_data():
    """A hub booking made from triage, a request waiting for triage, an out-of-hours case."""
    net = network()
    gp = hub_role(net)
    request = triaged(net, patient(net), route="hub", clinician=gp)
    hub_session(start=timezone.now() + dt.timedelta(hours=1))
    slot = selectors.earliest_suitable_slot(request=request)
    services.triage_book(
        actor=actor(gp), actor_org_kind="collaborative", request=request, slot_id=slot.pk
    )
    by_phone(net, patient(net))
    OohCaseFactory(service=ooh_clinician().service)
    return net


def _export(store) -> str:
    out = io.StringIO()
    call_command("export_analytics", store=str(store), stdout=out)
    return out.getvalue()


def _state(store):
    with open_store(store, read_only=True) as con:
        return {
            t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()  # noqa: S608
            for t in (
                "collab_appointment",
                "collab_triage_request",
                "org_practice",
                "collab_refresh",
            )
        }


def test_export_copies_appointments_cases_requests_and_practices(store_path, collab_data):
    from collab.analytics.organisations import collab_practices

    practices = [p["practice_ods"] for p in collab_practices()]
    assert collab_data.practice.ods_code in practices
    out = _export(store_path)
    assert f"Exported 2 appointments, 2 triage requests and {len(practices)} practices" in out
    state = _state(store_path)
    services_seen = sorted(r[5] for r in state["collab_appointment"])
    assert services_seen == ["hub", "out_of_hours"]
    assert str(Appointment.objects.get().pk) in {r[0] for r in state["collab_appointment"]}
    assert sorted(r[8] for r in state["collab_triage_request"]) == ["Booked", "Waiting for triage"]
    assert [r[0] for r in state["org_practice"]] == sorted(practices)
    with open_store(store_path, read_only=True) as con:
        fresh = freshness(con)
    assert timezone.now() - fresh.collab_as_of < dt.timedelta(minutes=1)
    assert (fresh.appointments, fresh.triage_requests) == (2, 2)


def test_export_is_idempotent(store_path, collab_data):
    _export(store_path)
    first = _state(store_path)
    _export(store_path)
    second = _state(store_path)
    assert len(second.pop("collab_refresh")) == 2 and len(first.pop("collab_refresh")) == 1
    assert second == first


def test_a_refused_row_exports_nothing(store_path, collab_data, monkeypatch):
    _export(store_path)
    before = _state(store_path)
    from collab.triage import exports

    real = exports.analytics_rows

    def one_bad():
        for row in real():
            yield {**row, "channel": "Carrier pigeon"}

    monkeypatch.setattr(exports, "analytics_rows", one_bad)
    with pytest.raises(CommandError, match="refused, nothing exported: request 0, field channel"):
        _export(store_path)
    assert _state(store_path) == before


def test_a_store_held_by_another_process_exports_nothing_and_says_so(store_path, collab_data):
    _export(store_path)
    before = _state(store_path)
    holder = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
            "time.sleep(60)",
            str(store_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(CommandError, match="busy.*nothing exported"):
            _export(store_path)
    finally:
        holder.kill()
        holder.wait()
    assert _state(store_path) == before


def test_one_refresh_at_a_time_in_a_process(store_path, collab_data):
    assert refresh._RUNNING.acquire(blocking=False)
    try:
        with pytest.raises(refresh.RefreshRunning):
            refresh.refresh_from_collab(store=store_path)
    finally:
        refresh._RUNNING.release()
    assert refresh.refresh_from_collab(store=store_path).appointments == 2
