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
    in_order,
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
from .test_metrics import _request, _row

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
    triage = [
        _request(
            request_id=str(i),
            date=dt.date(2025, 10, 6 + i % 7),
            channel=channel,
            route=route,
            time_to_triage=band,
            same_day=i % 3 != 0,
            sent_back=i % 4 == 0,
        )
        for i, (channel, route, band) in enumerate(
            [
                ("Online form", "Remote hub", "Under 1 hour"),
                ("Phone call", "Practice", "1 to 4 hours"),
                ("NHS 111", "Community pharmacy", "More than 7 days"),
                ("Online form", "A&E or 999", "4 to 24 hours"),
            ]
            * 4
        )
    ]
    con = duckdb.connect()
    data = {"collab_appointment": rows, "collab_triage_request": triage}
    generated.load_duckdb(con, data)
    yield con, connect_duckdb(con), data
    con.close()


@pytest.mark.parametrize("dashboard", [d for d in DASHBOARDS if d != "national"])
def test_every_panel_agrees_with_the_reference_engine(backend, dashboard):
    con, ibis_backend, data = backend
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
            data,
            p.metric,
            list(p.by),
            source=p.source,
            date_from=date_from,
            date_to=date_to,
            filters={k: list(v) for k, v in p.where.items()},
        )
        assert expected, p.slug  # every panel has rows to agree on
        assert result.rows == in_order(p.by, expected), p.slug
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
    by_month = next(r for r in results if r.panel.slug == "agp-by-month")
    assert len(by_month.rows) == 30  # the whole history, not just the chosen period
    assert sum(r["value"] for r in by_month.rows) == csv_total(SUBICB_MONTHLY)[1]


def test_national_and_collab_figures_share_one_chart_with_gaps_not_zeros(store_path):
    from collab.analytics.store import export_collab_appointments

    import_agp_files([SUBICB_MONTHLY], store=store_path)
    collab = [
        # October 2025 overlaps AGP's history; March 2026 is after AGP's last month (Nov 2025);
        # nothing in between; a cancelled one and one after "today" are not counted.
        {
            "appointment_id": str(i),
            "appointment_date": day,
            "booked_date": day,
            "practice_ods": "M81012",
            "pcn_ods": "U12199",
            "service": "hub",
            "slot_type": "general",
            "delivery_channel": "Telephone",
            "clinician_role": "GP",
            "status": status,
            "outcome": None,
            "capacity_reserved": False,
        }
        for i, (day, status) in enumerate(
            [(dt.date(2025, 10, 6), "attended")] * 3
            + [(dt.date(2026, 3, 2), "dna"), (dt.date(2026, 3, 3), "cancelled")]
            + [(dt.date(2026, 3, 20), "booked")]
        )
    ]
    export_collab_appointments(collab, store=store_path)
    f = Filters(dt.date(2026, 3, 9), dt.date(2026, 3, 15), today=dt.date(2026, 3, 17))
    panel = panel_by_slug("national", "national-and-collab")
    with open_store(store_path, read_only=True) as con:
        result = build_panel(connect_duckdb(con), panel, f)
        tables = {
            t: con.sql(f"SELECT * FROM {t}").to_arrow_table().to_pylist()  # noqa: S608
            for t in ("agp_subicb_month", "collab_appointment")
        }
    months = [r["month"] for r in result.rows]
    assert months[0] == dt.date(2023, 6, 1) and months[-1] == dt.date(2026, 3, 1)
    assert len(months) == 34  # every month from June 2023 to March 2026, none skipped
    agp = reference.compute(tables, "appointments", ["month"], source="agp_subicb")
    assert {r["month"]: r["agp_18c"] for r in result.rows if r["agp_18c"] is not None} == {
        r["month"]: r["value"] for r in agp
    }
    by_month = {r["month"]: r for r in result.rows}
    assert by_month[dt.date(2025, 10, 1)]["collab"] == 3
    assert by_month[dt.date(2026, 3, 1)]["collab"] == 1  # not the cancelled, not after today
    assert by_month[dt.date(2026, 3, 1)]["agp_18c"] is None  # not published: a gap
    assert by_month[dt.date(2026, 1, 1)]["collab"] is None
    assert by_month[dt.date(2026, 3, 1)]["note"] == "Part month: to 17 Mar 2026"
    assert by_month[dt.date(2025, 10, 1)]["note"] == ""
    # The table says "No data", the CSV leaves the cell empty, the chart breaks its line.
    cells = dict(zip(months, table_rows(result), strict=True))
    assert cells[dt.date(2026, 1, 1)][:3] == ["January 2026", "No data", "No data"]
    assert cells[dt.date(2025, 10, 1)][2] == "3"
    lines = list(csv.reader(io.StringIO(to_csv(result))))
    assert lines[0] == ["month", "agp_18c", "collab", "note"]
    assert ["2026-01-01", "", "", ""] in lines
    assert result.headings == ["Month", "NHS England AGP (18C)", "collab", "Note"]
    values = result.spec["data"]["values"]
    assert {v["source"] for v in values} == {s.label for s in panel.series}
    assert {"month": "2026-01-01", "source": panel.series[1].label, "value": None} in values
    assert result.spec["resolve"] == {"scale": {"y": "independent"}}


def test_a_series_panel_with_no_data_says_so(tmp_path):
    with open_store(tmp_path / "none.duckdb", read_only=True) as con:
        result = build_panel(
            connect_duckdb(con),
            panel_by_slug("national", "national-and-collab"),
            Filters(dt.date(2026, 3, 9), dt.date(2026, 3, 15), today=dt.date(2026, 3, 17)),
        )
    assert result.rows == [] and result.note == "Neither source has any appointments yet."


def test_bands_and_routes_keep_their_natural_order(backend):
    _, ibis_backend, _ = backend
    f = parse_filters({"from": "2025-10-06", "to": "2025-10-12"}, today=TODAY)
    bands = build_panel(ibis_backend, panel_by_slug("triage", "time-to-triage"), f)
    assert [r["time_to_triage"] for r in bands.rows] == [
        "Under 1 hour",
        "1 to 4 hours",
        "4 to 24 hours",
        "More than 7 days",
    ]
    assert bands.spec["encoding"]["x"]["sort"][0] == "Under 1 hour"
    routes = build_panel(ibis_backend, panel_by_slug("triage", "requests-by-route"), f)
    assert [r["route"] for r in routes.rows] == [
        "Practice",
        "Remote hub",
        "Community pharmacy",
        "A&E or 999",
    ]


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
