"""The metric layer: Ibis on DuckDB agrees with the pure-Python reference on generated rows."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from hypothesis import given, settings

from collab.analytics import reference
from collab.analytics.metrics import (
    METRICS,
    SOURCES,
    MetricError,
    available,
    connect_duckdb,
    expression,
    metric_rows,
    sql,
)
from collab.analytics.store import import_agp_files, open_store

from . import generated
from .conftest import PRACTICE_SAMPLE, SUBICB_MONTHLY, csv_total


def _duckdb_backend(data):
    con = duckdb.connect()
    generated.load_duckdb(con, data)
    return con, connect_duckdb(con)


@settings(max_examples=150, deadline=None)
@given(data=generated.tables, request=generated.requests())
def test_ibis_on_duckdb_agrees_with_the_reference(data, request):
    con, backend = _duckdb_backend(data)
    try:
        got = metric_rows(backend, **request)  # the cached-SQL path
        direct = backend.to_pyarrow(expression(**request)).to_pylist()  # Ibis executing it
    finally:
        con.close()
    expected = reference.compute(data, **request)
    assert got == expected
    assert direct == expected or (not request["by"] and direct == [] and len(expected) == 1)


@settings(max_examples=30, deadline=None)
@given(data=generated.tables)
def test_every_metric_on_every_source_that_has_its_columns_agrees(data):
    con, backend = _duckdb_backend(data)
    try:
        for source, s in SOURCES.items():
            for name, m in METRICS.items():
                if not available(m, s):
                    continue
                by = [s.dimensions()[0], s.dimensions()[-2]]
                request = {"metric": name, "by": by, "source": source}
                assert metric_rows(backend, **request) == reference.compute(data, **request), (
                    request
                )
    finally:
        con.close()


def _row(**over):
    base = {
        "appointment_id": "x",
        "date": dt.date(2025, 10, 6),
        "booked_date": dt.date(2025, 10, 6),
        "practice_ods": "M81012",
        "pcn_ods": "U12199",
        "service": "hub",
        "slot_type": "general",
        "delivery_channel": "Telephone",
        "clinician_role": "GP",
        "appointment_status": "attended",
        "outcome": None,
        "capacity_reserved": False,
        "national_category": "Unmapped",
        "mode": "Telephone",
        "hcp_type": "GP",
        "status": "Attended",
        "time_between_book_and_appt": "Same Day",
    }
    base.update(over)
    return base


def test_worked_example_of_ratio_metrics():
    rows = [
        _row(appointment_id="1"),
        _row(appointment_id="2", status="DNA", time_between_book_and_appt="1 Day"),
        _row(appointment_id="3", status="Cancelled"),
        _row(appointment_id="4", status="Unknown", time_between_book_and_appt="Unknown"),
        _row(appointment_id="5", mode="Face-to-Face", outcome="resolved"),
        _row(appointment_id="6", outcome="resolved"),
    ]
    con, backend = _duckdb_backend({"collab_appointment": rows})
    try:
        assert metric_rows(backend, "appointments") == [{"value": 5}]  # the cancelled one is not
        assert metric_rows(backend, "dna_rate") == [
            {"numerator": 1, "denominator": 4, "value": 0.25}
        ]
        # 3 same-day of the 4 with a known interval
        assert metric_rows(backend, "same_day_share")[0]["value"] == 0.75
        assert metric_rows(backend, "resolved_remotely_share")[0]["numerator"] == 1
        assert metric_rows(backend, "appointments", ["week"], date_from=dt.date(2025, 10, 7)) == []
        (by_month,) = metric_rows(backend, "dna_rate", ["month", "week"])
        assert [type(by_month[k]) for k in ("month", "week", "numerator", "value")] == [
            dt.date,
            dt.date,
            int,
            float,
        ]
    finally:
        con.close()


def _request(**over):
    base = {
        "request_id": "r",
        "date": dt.date(2025, 10, 6),
        "submitted_at": dt.datetime(2025, 10, 6, 9, 0),
        "first_triaged_at": dt.datetime(2025, 10, 6, 9, 30),
        "practice_ods": "M81012",
        "pcn_ods": "U12199",
        "channel": "Online form",
        "request_kind": "Medical",
        "triage_status": "Closed",
        "urgency": "Urgent",
        "route": "Remote hub",
        "triage_service": "Remote hub",
        "triage_method": "Clinician",
        "overflowed": False,
        "send_backs": 0,
        "minutes_to_triage": 30,
        "time_to_triage": "Under 1 hour",
        "triaged": True,
        "same_day": True,
        "sent_back": False,
    }
    base.update(over)
    return base


def test_worked_example_of_triage_metrics():
    untriaged = {"first_triaged_at": None, "triaged": False, "same_day": None}
    rows = [
        _request(request_id="1"),
        _request(request_id="2", route="Community pharmacy", same_day=False),
        _request(request_id="3", route="Community pharmacy", sent_back=True, send_backs=1),
        _request(request_id="4", route="Not triaged yet", **untriaged),
        _request(request_id="5", date=dt.date(2025, 10, 7), channel="NHS 111"),
    ]
    data = {"collab_triage_request": rows}
    con, backend = _duckdb_backend(data)
    try:
        by_route = metric_rows(backend, "triage_requests", ["route"], source="triage")
        assert by_route == [
            {"route": "Community pharmacy", "value": 2},
            {"route": "Not triaged yet", "value": 1},
            {"route": "Remote hub", "value": 2},
        ]
        # 3 of the 4 triaged were triaged on the day; 1 of the 4 was sent back
        assert metric_rows(backend, "triaged_same_day_share", source="triage") == [
            {"numerator": 3, "denominator": 4, "value": 0.75}
        ]
        assert metric_rows(backend, "sent_back_share", source="triage")[0]["value"] == 0.25
        request = {"metric": "triage_requests", "by": ["day", "channel"], "source": "triage"}
        assert metric_rows(backend, **request) == reference.compute(data, **request)
    finally:
        con.close()


def test_a_zero_denominator_gives_no_value_not_an_error():
    con, backend = _duckdb_backend({"collab_appointment": [_row(status="Unknown")]})
    try:
        assert metric_rows(backend, "dna_rate") == [
            {"numerator": 0, "denominator": 0, "value": None}
        ]
    finally:
        con.close()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"metric": "nope"}, "unknown metric 'nope'"),
        ({"metric": "appointments", "source": "emis"}, "unknown source 'emis'"),
        ({"metric": "appointments", "by": ["colour"]}, "unknown dimension 'colour'"),
        (
            {"metric": "appointments", "by": ["day"], "source": "agp"},
            "'day' is not available for source 'agp'",
        ),
        ({"metric": "appointments", "by": ["practice"], "source": "agp_subicb"}, "not available"),
        (
            {"metric": "capacity_reserved", "source": "agp"},
            "needs capacity_reserved.*try source collab",
        ),
        ({"metric": "appointments", "by": ["day", "day"]}, "repeated"),
        (
            {"metric": "triage_requests"},
            "counts triage requests but source 'collab' holds appointments; try source triage",
        ),
        ({"metric": "dna_rate", "source": "triage"}, "counts appointments.*try source agp"),
        ({"metric": "triage_requests", "by": ["route"], "source": "agp"}, "not available"),
    ],
)
def test_impossible_requests_say_why(kwargs, message):
    con, backend = _duckdb_backend({})
    try:
        with pytest.raises(MetricError, match=message):
            metric_rows(backend, **kwargs)
    finally:
        con.close()


def test_real_files_through_the_metric_layer_keep_their_totals(store_path):
    import_agp_files([SUBICB_MONTHLY, PRACTICE_SAMPLE], store=store_path)
    with open_store(store_path, read_only=True) as con:
        backend = connect_duckdb(con)
        by_month = metric_rows(backend, "appointments", ["month"], source="agp_subicb")
        assert len(by_month) == 30
        assert sum(r["value"] for r in by_month) == csv_total(SUBICB_MONTHLY)[1]
        by_practice = metric_rows(backend, "appointments", ["practice"], source="agp")
        assert len(by_practice) == 10
        assert sum(r["value"] for r in by_practice) == csv_total(PRACTICE_SAMPLE)[1]


def test_sql_is_compiled_once_per_request_and_differs_by_dialect():
    a = sql("dna_rate", ["pcn", "week"], source="collab", date_from=dt.date(2025, 10, 1))
    b = sql("dna_rate", ["pcn", "week"], source="collab", date_from=dt.date(2025, 10, 1))
    assert a is b
    assert sql("dna_rate", ["pcn", "week"], source="collab", date_from=dt.date(2025, 10, 2)) != a
    assert sql("dna_rate", ["pcn"], dialect="postgres") != sql("dna_rate", ["pcn"])
