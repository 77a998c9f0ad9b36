"""Dashboards: URL filters, panels through the metric layer, chart specs, tables and exports."""

from __future__ import annotations

import csv
import datetime as dt
import io

import duckdb
import pytest
from openpyxl import load_workbook

from collab.analytics import reference
from collab.analytics.dashboards import (
    DASHBOARDS,
    FilterError,
    Filters,
    build,
    build_panel,
    panel_by_slug,
    parse_filters,
    table_rows,
    to_csv,
    to_xlsx,
)
from collab.analytics.metrics import connect_duckdb
from collab.analytics.store import import_agp_files, open_store

from . import generated
from .conftest import SUBICB_MONTHLY, csv_total
from .test_metrics import _row

TODAY = dt.date(2025, 10, 15)  # a Wednesday


def test_default_period_is_the_last_full_week():
    f = parse_filters({}, today=TODAY)
    assert (f.date_from, f.date_to) == (dt.date(2025, 10, 6), dt.date(2025, 10, 12))
    assert f.date_from.weekday() == 0


def test_filters_round_trip_through_the_url():
    params = {
        "from": "2025-10-01",
        "to": "2025-10-31",
        "compare_from": "2024-10-01",
        "compare_to": "2024-10-31",
        "pcn": "u12199",
        "practice": "M81012",
    }
    f = parse_filters(params, today=TODAY)
    assert f.pcn == "U12199"
    assert parse_filters(f.query(), today=TODAY) == f
    assert f.query(pcn=None)["from"] == "2025-10-01" and "pcn" not in f.query(pcn=None)


@pytest.mark.parametrize(
    ("params", "param", "message"),
    [
        ({"from": "1/10/2025"}, "from", "not a date"),
        ({"from": "2025-10-31", "to": "2025-10-01"}, "from", "after the end date"),
        ({"compare_from": "2025-10-01"}, "compare_from", "both"),
        ({"compare_from": "2025-10-09", "compare_to": "2025-10-01"}, "compare_from", "after"),
        ({"pcn": "U1'; DROP"}, "pcn", "not an ODS code"),
    ],
)
def test_bad_url_parameters_are_named(params, param, message):
    with pytest.raises(FilterError, match=message) as exc:
        parse_filters(params, today=TODAY)
    assert exc.value.param == param


@pytest.fixture
def backend():
    rows = [
        _row(
            appointment_id=str(i),
            date=dt.date(2025, 10, 6 + i % 7),
            practice_ods=p,
            pcn_ods=pcn,
            service=s,
            slot_type=slot,
            status=st,
            capacity_reserved=s == "hub",
            time_between_book_and_appt="Same Day" if i % 3 else "2 to 7 Days",
        )
        for i, (p, pcn, s, slot, st) in enumerate(
            [
                ("M81012", "U12199", "hub", "general", "Attended"),
                ("M81048", "U12199", "practice", "phlebotomy", "DNA"),
                ("M81026", "U65562", "practice", "general", "Attended"),
                ("M81012", "U12199", "practice", "phlebotomy", "Cancelled"),
            ]
            * 5
        )
    ]
    con = duckdb.connect()
    generated.load_duckdb(con, {"collab_appointment": rows})
    yield con, connect_duckdb(con), rows
    con.close()


@pytest.mark.parametrize("dashboard", [d for d in DASHBOARDS if d != "national"])
def test_every_panel_agrees_with_the_reference_engine(backend, dashboard):
    con, ibis_backend, rows = backend
    f = parse_filters(
        {
            "from": "2025-10-06",
            "to": "2025-10-12",
            "compare_from": "2025-10-06",
            "compare_to": "2025-10-09",
        },
        today=TODAY,
    )
    for result in build(ibis_backend, dashboard, f):
        p = result.panel
        date_from, date_to = (
            (f.compare_from, f.compare_to) if p.period == "compare" else (f.date_from, f.date_to)
        )
        expected = reference.compute(
            {"collab_appointment": rows},
            p.metric,
            list(p.by),
            source=p.source,
            date_from=date_from,
            date_to=date_to,
            filters={k: list(v) for k, v in p.where.items()},
        )
        assert result.rows == expected, p.slug
        assert result.spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
        assert len(result.spec["data"]["values"]) == len(expected)
        assert len(table_rows(result)) == len(expected)


def test_drill_down_to_a_pcn_keeps_only_its_practices(backend):
    _, ibis_backend, _ = backend
    f = parse_filters({"from": "2025-10-06", "to": "2025-10-12", "pcn": "U12199"}, today=TODAY)
    result = build_panel(ibis_backend, panel_by_slug("practices", "appointments-by-practice"), f)
    assert [r["practice"] for r in result.rows] == ["M81012", "M81048"]


def test_phlebotomy_is_a_slot_type_in_demand(backend):
    _, ibis_backend, _ = backend
    f = parse_filters({"from": "2025-10-06", "to": "2025-10-12"}, today=TODAY)
    result = build_panel(ibis_backend, panel_by_slug("demand", "by-service-slot"), f)
    assert {"phlebotomy", "general"} == {r["slot_type"] for r in result.rows}
    # the cancelled phlebotomy appointments are not demand met
    assert sum(r["value"] for r in result.rows if r["slot_type"] == "phlebotomy") == 5


def test_comparison_panel_asks_for_a_period_when_there_is_none(backend):
    _, ibis_backend, _ = backend
    result = build_panel(
        ibis_backend, panel_by_slug("compare", "comparison"), parse_filters({}, today=TODAY)
    )
    assert result.rows == [] and result.note == "Choose a comparison period."


def test_csv_and_xlsx_exports_hold_the_table(backend):
    _, ibis_backend, _ = backend
    f = parse_filters({"from": "2025-10-06", "to": "2025-10-12"}, today=TODAY)
    result = build_panel(ibis_backend, panel_by_slug("overview", "same-day-share"), f)
    rows = list(csv.reader(io.StringIO(to_csv(result))))
    assert rows[0] == ["day", "numerator", "denominator", "value"]
    assert [r[0] for r in rows[1:]] == [r["day"].isoformat() for r in result.rows]
    sheet = load_workbook(io.BytesIO(to_xlsx(result))).active
    cells = list(sheet.iter_rows(values_only=True))
    assert cells[0] == tuple(result.headings)
    assert [c[1] for c in cells[1:]] == [r["numerator"] for r in result.rows]
    assert cells[1][0].date() == result.rows[0]["day"]


def test_national_dashboard_shows_the_real_18c_history(store_path):
    import_agp_files([SUBICB_MONTHLY], store=store_path)
    with open_store(store_path, read_only=True) as con:
        results = build(
            connect_duckdb(con), "national", Filters(dt.date(2025, 11, 1), dt.date(2025, 11, 30))
        )
    by_month = results[0]
    assert len(by_month.rows) == 30  # the whole history, not just the chosen period
    assert sum(r["value"] for r in by_month.rows) == csv_total(SUBICB_MONTHLY)[1]


def test_spc_panel_charts_the_real_18c_daily_file_by_week(store_path):
    from collab.analytics.dashboards import spc_panel
    from collab.analytics.spc import xmr

    from .conftest import DAILY_DURATION

    import_agp_files([DAILY_DURATION], store=store_path)
    with open_store(store_path, read_only=True) as con:
        panel = spc_panel(
            connect_duckdb(con),
            date_from=dt.date(2024, 1, 1),
            date_to=dt.date(2024, 12, 29),
            baseline=20,
        )
    weeks = [r["week"] for r in panel.rows]
    assert (
        weeks[0] == dt.date(2024, 1, 1) and weeks[-1] == dt.date(2024, 12, 23) and len(weeks) == 52
    )
    with DAILY_DURATION.open(newline="") as f:
        from collab.analytics.agp import parse_agp_date

        total_2024 = sum(
            int(r["COUNT_OF_APPOINTMENTS"])
            for r in csv.DictReader(f)
            if dt.date(2024, 1, 1)
            <= parse_agp_date(r["APPOINTMENT_DATE"], monthly=False)
            <= dt.date(2024, 12, 29)
        )
    assert sum(r["value"] for r in panel.rows) == total_2024
    expected = xmr([r["value"] for r in panel.rows], baseline=20)
    assert [r["special_cause"] != "" for r in panel.rows] == [
        p.special_cause for p in expected.points
    ]
    assert panel.variation == expected.variation
    assert len(panel.spec["layer"]) == 5
