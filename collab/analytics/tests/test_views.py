"""Dashboard pages and exports, through the platform's sign-in and roles."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from collab.accounts.models import Role
from collab.analytics.store import export_collab_appointments, import_agp_files
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
    return path


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


@pytest.mark.parametrize("slug", ["overview", "compare", "practices", "hub", "demand", "national"])
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
