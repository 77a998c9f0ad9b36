"""Dashboard pages and exports, through the platform's sign-in and roles."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from collab.accounts.models import Role
from collab.analytics.store import (
    export_collab_appointments,
    import_agp_files,
    open_store,
    refresh_collab,
)
from collab.core.tests.factories import (
    CollaborativeFactory,
    PracticeFactory,
    RoleAssignmentFactory,
    act_as,
)

from .conftest import SUBICB_MONTHLY, csv_total

pytestmark = pytest.mark.django_db


def _appt(i, **over):
    row = {
        "appointment_id": str(i),
        "appointment_date": dt.date(2025, 10, 6 + i % 5),
        "booked_date": dt.date(2025, 10, 6 + i % 5) - dt.timedelta(days=i % 3),
        "practice_ods": ["M81012", "M81048", "M81026"][i % 3],
        "pcn_ods": ["U12199", "U12199", "U65562"][i % 3],
        "service": ["hub", "practice"][i % 2],
        "slot_type": ["general", "phlebotomy"][i % 2],
        "delivery_channel": "Telephone",
        "clinician_role": "GP",
        "status": ["attended", "dna", "attended", "cancelled"][i % 4],
        "outcome": "resolved",
        "capacity_reserved": i % 2 == 0,
    }
    row.update(over)
    return row


@pytest.fixture
def store(tmp_path, monkeypatch):
    path = tmp_path / "analytics.duckdb"
    monkeypatch.setenv("COLLAB_ANALYTICS_DB", str(path))
    import_agp_files([SUBICB_MONTHLY], store=path)
    export_collab_appointments([_appt(i) for i in range(40)], store=path)
    _triage(path, when=dt.datetime(2025, 10, 9, 9, 0, tzinfo=dt.UTC))
    return path


def _triage(path, *, when, requests=None):
    """Refresh collab's rows with triage requests (and the appointments already there)."""
    with open_store(path, read_only=True) as con:
        appointments = con.execute(
            "SELECT appointment_id, date, booked_date, practice_ods, pcn_ods, service, slot_type, "
            "delivery_channel, clinician_role, appointment_status, outcome, capacity_reserved "
            "FROM collab_appointment"
        ).fetchall()
    names = [k for k in _appt(0)]
    refresh_collab(
        appointments=[dict(zip(names, a, strict=True)) for a in appointments],
        triage_requests=requests if requests is not None else [_request(i) for i in range(6)],
        data_as_of=when,
        store=path,
    )


def _request(i, **over):
    row = {
        "request_id": str(i),
        "submitted_at": dt.datetime(2025, 10, 6 + i % 5, 9, 0),
        "first_triaged_at": dt.datetime(2025, 10, 6 + i % 5, 9, 0) + dt.timedelta(hours=i),
        "practice_ods": "M81012",
        "pcn_ods": "U12199",
        "channel": ["Online form", "Phone call", "NHS 111"][i % 3],
        "request_kind": "Medical",
        "status": "Closed",
        "urgency": "Soon",
        "route": ["Remote hub", "Community pharmacy"][i % 2],
        "service": ["Remote hub", "Community pharmacy"][i % 2],
        "method": "Clinician",
        "overflowed": False,
        "send_backs": 0,
    }
    row.update(over)
    return row


@pytest.fixture
def manager(client):
    assignment = RoleAssignmentFactory(organisation=CollaborativeFactory(), role=Role.HUB_MANAGER)
    act_as(client, assignment)
    return assignment


WEEK = "from=2025-10-06&to=2025-10-12"


def test_signed_out_users_are_sent_to_sign_in(client, store):
    r = client.get("/analytics/overview/")
    assert r.status_code == 302 and "next=/analytics/overview/" in r["Location"]


def test_practice_staff_may_read_analytics(client, store):
    act_as(
        client, RoleAssignmentFactory(organisation=PracticeFactory(), role=Role.PRACTICE_MANAGER)
    )
    assert client.get("/analytics/").status_code == 200


@pytest.mark.parametrize(
    "slug", ["overview", "compare", "practices", "hub", "demand", "triage", "national"]
)
def test_every_dashboard_renders_charts_with_tables_beside_them(client, store, manager, slug):
    r = client.get(f"/analytics/{slug}/?{WEEK}&compare_from=2025-10-06&compare_to=2025-10-08")
    assert r.status_code == 200
    html = r.content.decode()
    assert html.count('<svg role="img"') == html.count('<table class="nhsuk-table">')
    assert html.count("Download CSV") == html.count('<table class="nhsuk-table">') >= 2


def test_overview_table_counts_the_week(client, store, manager):
    html = client.get(f"/analytics/practices/?{WEEK}").content.decode()
    # 40 rows, every fourth cancelled: 30 appointments; U12199 has practices 0 and 1 of each 3
    assert ">U12199</a>" in html
    live = [i for i in range(40) if i % 4 != 3]
    assert f'<td class="nhsuk-table__cell">{sum(1 for i in live if i % 3 < 2):,}</td>' in html


def test_pcn_rows_drill_down_to_its_practices(client, store, manager):
    r = client.get(f"/analytics/practices/?{WEEK}&pcn=U12199")
    html = r.content.decode()
    assert "M81012" in html and "M81048" in html and "M81026" not in html


def test_filters_live_in_the_url_and_bad_ones_are_named(client, store, manager):
    r = client.get("/analytics/overview/?from=2025-10-31&to=2025-10-01")
    assert r.status_code == 400
    assert "from: 2025-10-31 is after the end date 2025-10-01" in r.content.decode()
    assert client.get("/analytics/nope/").status_code == 404


def test_csv_export_matches_the_metric(client, store, manager):
    r = client.get(f"/analytics/demand/by-service-slot.csv?{WEEK}")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    assert 'filename="demand-by-service-slot-2025-10-06-2025-10-12.csv"' in r["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(r.content.decode())))
    assert sum(int(x["value"]) for x in rows) == sum(1 for i in range(40) if i % 4 != 3)
    assert {x["slot_type"] for x in rows} == {"general", "phlebotomy"}


def test_xlsx_export_of_the_national_history(client, store, manager):
    r = client.get(f"/analytics/national/agp-by-month.xlsx?{WEEK}")
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.content)).active
    values = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert len(values) == 30 and sum(values) == csv_total(SUBICB_MONTHLY)[1]


def test_export_refuses_unknown_panels_and_formats(client, store, manager):
    assert client.get("/analytics/demand/nope.csv").status_code == 404
    assert client.get("/analytics/demand/by-service-slot.pdf").status_code == 404
    assert client.get("/analytics/demand/by-service-slot.csv?from=x").status_code == 400


def test_a_store_locked_by_an_import_answers_503_not_an_error(client, store, manager):
    import duckdb

    writer = duckdb.connect(str(store))  # another writer holds the file, as an import would
    try:
        r = client.get(f"/analytics/overview/?{WEEK}")
        assert r.status_code == 503 and "being updated" in r.content.decode()
        assert client.get(f"/analytics/demand/by-service-slot.csv?{WEEK}").status_code == 503
    finally:
        writer.close()
    assert client.get(f"/analytics/overview/?{WEEK}").status_code == 200


def test_the_triage_dashboard_counts_requests_by_route(client, store, manager):
    html = client.get(f"/analytics/triage/?{WEEK}").content.decode()
    assert "Triage requests by route" in html and "Time from arriving to first triage" in html
    r = client.get(f"/analytics/triage/requests-by-route.csv?{WEEK}")
    rows = list(csv.DictReader(io.StringIO(r.content.decode())))
    assert rows == [
        {"route": "Remote hub", "value": "3"},
        {"route": "Community pharmacy", "value": "3"},
    ]


def test_the_national_chart_sets_agp_beside_collab_with_gaps_named(client, store, manager):
    html = client.get(f"/analytics/national/?{WEEK}").content.decode()
    assert "Appointments by month: NHS England (18C) and collab" in html
    assert "once a month, some weeks after the month ends" in html
    assert ">No data</td>" in html  # collab has no appointments before October 2025
    r = client.get(f"/analytics/national/national-and-collab.csv?{WEEK}")
    rows = {x["month"]: x for x in csv.DictReader(io.StringIO(r.content.decode()))}
    assert rows["2025-10-01"]["collab"] == str(sum(1 for i in range(40) if i % 4 != 3))
    assert rows["2025-10-01"]["agp_18c"] != "" and rows["2025-09-01"]["collab"] == ""


# --- how fresh the figures are, and refreshing them ---------------------------------------------


def _analyst(client):
    assignment = RoleAssignmentFactory(organisation=CollaborativeFactory(), role=Role.ANALYST)
    act_as(client, assignment)
    return assignment


@pytest.mark.parametrize("path", ["/analytics/", "/analytics/triage/", "/analytics/spc/"])
def test_every_analytics_page_says_how_fresh_its_figures_are(client, store, manager, path):
    html = client.get(f"{path}?{WEEK}").content.decode()
    assert "Data as of 10am on 9 October 2025" in html  # 09:00 UTC is 10am in England in BST
    assert "40 appointments and 6 triage requests" in html  # cancelled ones included
    assert "Out of date" in html  # far older than an hour
    assert "latest month November 2025, imported" in html
    assert "Refresh collab data" not in html  # only analysts refresh


def test_a_store_never_refreshed_says_so(client, tmp_path, monkeypatch, manager):
    monkeypatch.setenv("COLLAB_ANALYTICS_DB", str(tmp_path / "empty.duckdb"))
    html = client.get("/analytics/").content.decode()
    assert "collab&#39;s own data has not been copied into analytics yet" in html
    assert "No NHS England figures have been imported yet." in html


def test_fresh_figures_are_not_flagged(client, store, manager):
    _triage(store, when=dt.datetime.now(dt.UTC))
    html = client.get("/analytics/").content.decode()
    assert "Data as of" in html and "just now" in html and "Out of date" not in html


def test_an_analyst_refreshes_from_a_dashboard_and_it_is_audited(client, store):
    from collab.core.models import AuditEvent
    from collab.ooh.tests.factories import OohCaseFactory

    OohCaseFactory()  # one out-of-hours case in collab's database: one appointment
    analyst = _analyst(client)
    page = client.get(f"/analytics/triage/?{WEEK}").content.decode()
    assert "Refresh collab data" in page and 'name="csrfmiddlewaretoken"' in page
    back = f"/analytics/triage/?{WEEK}"
    r = client.post("/analytics/refresh/", {"next": back})
    assert r.status_code == 302 and r["Location"] == back
    html = client.get(back).content.decode()
    assert "collab data refreshed: 1 appointments and 0 triage requests" in html
    assert "1 appointments and 0 triage requests) were copied from collab just now" in html
    event = AuditEvent.objects.filter(action="analytics.refresh").get()
    assert (event.username, event.outcome, event.object_type) == (
        analyst.user.username,
        "allowed",
        "analytics_store",
    )
    assert event.reason.startswith("1 appointments, 0 triage requests")


def test_refresh_is_a_post_for_analysts_only(client, store, manager):
    assert client.post("/analytics/refresh/", {"next": "/analytics/"}).status_code == 403
    _analyst(client)
    assert client.get("/analytics/refresh/").status_code == 405


def test_refresh_needs_the_csrf_token(store):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    _analyst(client)
    r = client.post("/analytics/refresh/", {"next": "/analytics/"})
    assert r.status_code == 403 and b"CSRF" in r.content


def test_refresh_goes_back_only_to_this_site(client, store):
    _analyst(client)
    r = client.post("/analytics/refresh/", {"next": "https://evil.example/"})
    assert r["Location"] == "/analytics/"


def test_a_failed_refresh_changes_nothing_says_so_and_is_audited(client, store, monkeypatch):
    from collab.core.models import AuditEvent
    from collab.ooh import exports

    def bad_rows():
        yield {"appointment_id": "x"}

    monkeypatch.setattr(exports, "analytics_rows", bad_rows)
    _analyst(client)
    before = client.get(f"/analytics/triage/requests-by-route.csv?{WEEK}").content
    r = client.post("/analytics/refresh/", {"next": "/analytics/"}, follow=True)
    html = r.content.decode()
    assert "Not refreshed: collab&#39;s data could not be copied" in html
    assert "Data as of 10am on 9 October 2025" in html
    assert client.get(f"/analytics/triage/requests-by-route.csv?{WEEK}").content == before
    event = AuditEvent.objects.filter(action="analytics.refresh").get()
    assert event.reason.startswith("not refreshed: row 0: missing field")


def test_a_refresh_while_another_runs_changes_nothing(client, store):
    from collab.analytics import refresh

    _analyst(client)
    assert refresh._RUNNING.acquire(blocking=False)
    try:
        html = client.post("/analytics/refresh/", {"next": "/analytics/"}, follow=True)
    finally:
        refresh._RUNNING.release()
    assert "Not refreshed: analytics are being updated by someone else" in html.content.decode()


@pytest.mark.parametrize(
    ("utc", "text"),
    [
        (dt.datetime(2025, 1, 6, 18, 5, tzinfo=dt.UTC), "6:05pm on 6 January 2025"),
        (dt.datetime(2025, 1, 6, 9, 0, tzinfo=dt.UTC), "9am on 6 January 2025"),
        (dt.datetime(2025, 7, 6, 11, 0, tzinfo=dt.UTC), "midday on 6 July 2025"),  # BST
        (dt.datetime(2025, 1, 6, 0, 0, tzinfo=dt.UTC), "midnight on 6 January 2025"),
        (dt.datetime(2025, 1, 6, 0, 30, tzinfo=dt.UTC), "12:30am on 6 January 2025"),
    ],
)
def test_times_are_written_the_nhs_way_in_england(utc, text):
    from collab.analytics.presenters import nhs_time

    assert nhs_time(utc) == text


def test_figures_are_out_of_date_after_the_configured_minutes(settings):
    from collab.analytics.presenters import freshness
    from collab.analytics.store import Freshness

    settings.ANALYTICS_STALE_MINUTES = 30
    copied = dt.datetime(2025, 1, 6, 9, 0, tzinfo=dt.UTC)
    f = Freshness(copied, copied, 10, 2, None, None)
    assert not freshness(f, now=copied + dt.timedelta(minutes=30)).stale
    late = freshness(f, now=copied + dt.timedelta(minutes=31))
    assert late.stale and "31\xa0minutes ago" in late.collab_detail
