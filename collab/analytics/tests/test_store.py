"""The analytics store: all-or-nothing imports, month replacement, collab's own rows."""

from __future__ import annotations

import csv
import datetime as dt
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from collab.analytics.agp import AgpImportError
from collab.analytics.store import (
    CollabExportError,
    export_collab_appointments,
    freshness,
    import_agp_files,
    open_store,
    refresh_collab,
    sync_practices,
)

from .conftest import (
    DAILY_CATEGORY,
    DAILY_DURATION,
    PRACTICE_SAMPLE,
    SUBICB_MONTHLY,
    csv_total,
    rewrite_cell,
)


def _snapshot(path) -> dict:
    with open_store(path, read_only=True) as con:
        return {
            t: con.execute(f"SELECT count(*), coalesce(sum(appointments), 0) FROM {t}").fetchone()
            for t in (
                "agp_practice_month",
                "agp_subicb_month",
                "agp_subicb_day_duration",
                "agp_subicb_day_category",
            )
        }


def test_real_files_reproduce_their_own_totals(store_path):
    results = import_agp_files(
        [SUBICB_MONTHLY, PRACTICE_SAMPLE, DAILY_DURATION, DAILY_CATEGORY], store=store_path
    )
    snap = _snapshot(store_path)
    assert snap["agp_subicb_month"] == csv_total(SUBICB_MONTHLY)
    assert snap["agp_practice_month"] == csv_total(PRACTICE_SAMPLE)
    assert snap["agp_subicb_day_duration"] == csv_total(DAILY_DURATION)
    assert snap["agp_subicb_day_category"] == csv_total(DAILY_CATEGORY)
    assert [r.appointments for r in results] == [
        csv_total(p)[1] for p in (SUBICB_MONTHLY, PRACTICE_SAMPLE, DAILY_DURATION, DAILY_CATEGORY)
    ]
    with open_store(store_path, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM agp_import").fetchone()[0] == 4


def test_reimporting_a_file_replaces_it(store_path):
    import_agp_files([SUBICB_MONTHLY], store=store_path)
    import_agp_files([SUBICB_MONTHLY, SUBICB_MONTHLY], store=store_path)
    assert _snapshot(store_path)["agp_subicb_month"] == csv_total(SUBICB_MONTHLY)


def test_reimporting_one_month_replaces_only_that_month(store_path, tmp_path):
    import_agp_files([SUBICB_MONTHLY], store=store_path)
    # A republished November: only its rows, each count doubled.
    revised = tmp_path / "nov_revised.csv"
    with SUBICB_MONTHLY.open(newline="") as src, revised.open("w", newline="") as dst:
        reader = csv.DictReader(src)
        writer = csv.DictWriter(dst, reader.fieldnames)
        writer.writeheader()
        nov = [r for r in reader if r["APPOINTMENT_MONTH"] == "2025-11-01"]
        for r in nov:
            r["APPOINTMENT_MONTH"] = "NOV2025"  # and in another published date style
            r["COUNT_OF_APPOINTMENTS"] = str(2 * int(r["COUNT_OF_APPOINTMENTS"]))
            writer.writerow(r)
    nov_total = sum(int(r["COUNT_OF_APPOINTMENTS"]) for r in nov) // 2
    import_agp_files([revised], store=store_path)
    rows, total = csv_total(SUBICB_MONTHLY)
    assert _snapshot(store_path)["agp_subicb_month"] == (rows, total + nov_total)
    with open_store(store_path, read_only=True) as con:
        got = con.execute(
            "SELECT sum(appointments) FROM agp_subicb_month WHERE month = DATE '2025-11-01'"
        ).fetchone()[0]
    assert got == 2 * nov_total


def test_a_bad_file_in_a_batch_keeps_nothing_of_the_batch(store_path, tmp_path):
    import_agp_files([PRACTICE_SAMPLE], store=store_path)
    before = _snapshot(store_path)
    bad = tmp_path / "bad.csv"
    rewrite_cell(SUBICB_MONTHLY, bad, 321, "APPOINTMENT_MONTH", "2024-02-30")
    with pytest.raises(AgpImportError, match=r"bad\.csv, line 321, column 8 \(APPOINTMENT_MONTH\)"):
        import_agp_files([DAILY_DURATION, bad], store=store_path)
    assert _snapshot(store_path) == before


def test_a_failure_while_writing_rolls_everything_back(store_path, monkeypatch):
    import_agp_files([PRACTICE_SAMPLE], store=store_path)
    before = _snapshot(store_path)
    from collab.analytics import store as store_module

    real = store_module._replace_agp
    calls = []

    def fail_on_second(con, f, now):
        calls.append(f.path.name)
        if len(calls) == 2:
            raise duckdb.IOException("disk full")
        real(con, f, now)

    monkeypatch.setattr(store_module, "_replace_agp", fail_on_second)
    with pytest.raises(duckdb.IOException):
        import_agp_files([SUBICB_MONTHLY, DAILY_DURATION], store=store_path)
    assert _snapshot(store_path) == before


def test_progress_is_reported_per_file(store_path):
    seen = []
    import_agp_files(
        [PRACTICE_SAMPLE, DAILY_DURATION],
        store=store_path,
        progress=lambda stage, done, total: seen.append((stage.split()[0], done, total)),
    )
    assert seen == [
        ("reading", 0, 4),
        ("reading", 1, 4),
        ("writing", 2, 4),
        ("writing", 3, 4),
        ("done", 4, 4),
    ]


def test_duckdb_draws_no_bar_of_its_own_over_the_callers(store_path, monkeypatch):
    """DuckDB prints its own progress bar on stdout once a statement runs past 2 s; the writes
    of an import run with it off, so only the caller's ``progress`` shows."""
    from collab.analytics import store as store_module

    real, bars = store_module.open_store, []

    class Watched:
        def __init__(self, con):
            self._con = con

        def execute(self, sql, *args):
            if sql.lstrip().upper().startswith(("INSERT", "DELETE", "CREATE")):
                setting = "SELECT current_setting('enable_progress_bar')"
                bars.append(self._con.execute(setting).fetchone()[0])
            return self._con.execute(sql, *args)

        def __getattr__(self, name):
            return getattr(self._con, name)

    @contextmanager
    def watched(*args, **kwargs):
        with real(*args, **kwargs) as con:
            con.execute("SET enable_progress_bar = true")  # as in a terminal (pytest turns it off)
            yield Watched(con)

    monkeypatch.setattr(store_module, "open_store", watched)
    import_agp_files([PRACTICE_SAMPLE, SUBICB_MONTHLY], store=store_path)
    assert bars and not any(bars)


def test_no_files_is_an_error(store_path):
    with pytest.raises(AgpImportError, match="at least one"):
        import_agp_files([], store=store_path)


# --- collab's own appointments -----------------------------------------------------------------


def _appt(i: int, **over) -> dict:
    row = {
        "appointment_id": f"A{i}",
        "appointment_date": dt.date(2025, 10, 6),
        "booked_date": dt.date(2025, 10, 6),
        "practice_ods": "M81012",
        "pcn_ods": "U12199",
        "service": "hub",
        "slot_type": "general",
        "delivery_channel": "Telephone",
        "clinician_role": "GP",
        "status": "attended",
        "outcome": "resolved",
        "capacity_reserved": True,
    }
    row.update(over)
    return row


@pytest.mark.parametrize(
    ("over", "column", "expected"),
    [
        ({}, "time_between_book_and_appt", "Same Day"),
        ({"booked_date": dt.date(2025, 10, 5)}, "time_between_book_and_appt", "1 Day"),
        ({"booked_date": dt.date(2025, 9, 29)}, "time_between_book_and_appt", "2 to 7 Days"),
        ({"booked_date": dt.date(2025, 9, 28)}, "time_between_book_and_appt", "8 to 14 Days"),
        ({"booked_date": dt.date(2025, 9, 8)}, "time_between_book_and_appt", "22 to 28 Days"),
        ({"booked_date": dt.date(2025, 9, 7)}, "time_between_book_and_appt", "More than 28 Days"),
        ({"booked_date": None}, "time_between_book_and_appt", "Unknown"),
        ({"booked_date": dt.date(2025, 10, 7)}, "time_between_book_and_appt", "Unknown"),
        ({"delivery_channel": "In-person"}, "mode", "Face-to-Face"),
        ({"delivery_channel": "Video"}, "mode", "Video/Online"),
        ({"delivery_channel": "Home visit"}, "mode", "Home Visit"),
        ({"clinician_role": "Practice nurse"}, "hcp_type", "Other Practice staff"),
        ({"clinician_role": None}, "hcp_type", "Unknown"),
        ({"status": "dna"}, "status", "DNA"),
        ({"status": "booked"}, "status", "Unknown"),
        ({"status": "cancelled"}, "status", "Cancelled"),
        ({"slot_type": " Phlebotomy "}, "slot_type", "phlebotomy"),
        ({}, "national_category", "Unmapped"),
        ({"national_category": "Clinical Triage"}, "national_category", "Clinical Triage"),
    ],
)
def test_collab_rows_are_put_in_agp_vocabulary(store_path, over, column, expected):
    assert export_collab_appointments([_appt(1, **over)], store=store_path) == 1
    with open_store(store_path, read_only=True) as con:
        assert con.execute(f"SELECT {column} FROM collab_appointment").fetchone()[0] == expected


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"service": "walk-in"}, "row 1, field service"),
        ({"appointment_date": "2025-10-06"}, "row 1, field appointment_date"),
        (
            {"appointment_date": dt.datetime(2025, 10, 6, 9, 0, tzinfo=dt.UTC)},
            "field appointment_date",
        ),
        ({"capacity_reserved": 1}, "row 1, field capacity_reserved"),
        ({"practice_ods": ""}, "row 1, field practice_ods"),
        ({"outcome": "fixed"}, "row 1, field outcome"),
        ({"national_category": "Phlebotomy"}, "row 1, field national_category"),
        ({"status": "noshow"}, "row 1, field status"),
        ({"colour": "blue"}, r"row 1: unknown field\(s\) colour"),
        ({"appointment_id": "A0"}, "row 1, field appointment_id: 'A0' appears twice"),
    ],
)
def test_a_bad_collab_row_is_refused_and_nothing_is_written(store_path, over, message):
    export_collab_appointments([_appt(7)], store=store_path)
    with pytest.raises(CollabExportError, match=message):
        export_collab_appointments([_appt(0), _appt(1, **over)], store=store_path)
    with open_store(store_path, read_only=True) as con:
        assert con.execute("SELECT appointment_id FROM collab_appointment").fetchall() == [("A7",)]


def test_missing_fields_are_named(store_path):
    row = _appt(1)
    del row["pcn_ods"]
    with pytest.raises(CollabExportError, match="row 0: missing field.* pcn_ods"):
        export_collab_appointments([row], store=store_path)


def test_export_with_a_period_replaces_only_that_period(store_path):
    export_collab_appointments(
        [_appt(1, appointment_date=dt.date(2025, 9, 30)), _appt(2), _appt(3)], store=store_path
    )
    period = (dt.date(2025, 10, 1), dt.date(2025, 10, 31))
    export_collab_appointments([_appt(4)], store=store_path, period=period)
    with open_store(store_path, read_only=True) as con:
        ids = [
            r[0]
            for r in con.execute(
                "SELECT appointment_id FROM collab_appointment ORDER BY 1"
            ).fetchall()
        ]
    assert ids == ["A1", "A4"]
    with pytest.raises(CollabExportError, match="outside the period"):
        export_collab_appointments(
            [_appt(5, appointment_date=dt.date(2025, 11, 1))], store=store_path, period=period
        )


def test_export_without_a_period_replaces_everything(store_path):
    export_collab_appointments([_appt(1), _appt(2)], store=store_path)
    export_collab_appointments([_appt(3)], store=store_path)
    with open_store(store_path, read_only=True) as con:
        assert con.execute("SELECT appointment_id FROM collab_appointment").fetchall() == [("A3",)]


def test_sync_practices_replaces_the_list_and_refuses_gaps(store_path):
    p = {
        "practice_ods": "M81012",
        "practice_name": "LEDBURY HEALTH PARTNERSHIP",
        "pcn_ods": "U12199",
        "pcn_name": "EAST HEREFORDSHIRE PCN",
        "sub_icb_code": "18C",
        "collaborative": "Herefordshire",
    }
    assert sync_practices([p, {**p, "practice_ods": "M81048"}], store=store_path) == 2
    with pytest.raises(CollabExportError, match="practice 0: missing pcn_ods"):
        sync_practices([{**p, "pcn_ods": ""}], store=store_path)
    assert sync_practices([p], store=store_path) == 1
    with open_store(store_path, read_only=True) as con:
        assert con.execute("SELECT practice_ods FROM org_practice").fetchall() == [("M81012",)]


def test_reading_a_store_that_does_not_exist_yet_gives_empty_tables(tmp_path):
    with open_store(tmp_path / "none.duckdb", read_only=True) as con:
        assert con.execute("SELECT count(*) FROM collab_appointment").fetchone()[0] == 0
    assert not (tmp_path / "none.duckdb").exists()


def test_practice_names_are_kept_once_per_practice_latest_month_winning(store_path, tmp_path):
    import_agp_files([PRACTICE_SAMPLE], store=store_path)
    with PRACTICE_SAMPLE.open(newline="") as f:
        names = {r["GP_CODE"]: r["GP_NAME"] for r in csv.DictReader(f)}
    with open_store(store_path, read_only=True) as con:
        got = dict(con.execute("SELECT practice_ods, practice_name FROM agp_practice").fetchall())
    assert got == names and len(got) == 10
    # November renames one practice; importing October again afterwards does not undo it.
    renamed = tmp_path / "nov.csv"
    with PRACTICE_SAMPLE.open(newline="") as src, renamed.open("w", newline="") as dst:
        reader = csv.DictReader(src)
        writer = csv.DictWriter(dst, reader.fieldnames)
        writer.writeheader()
        for r in reader:
            if r["GP_CODE"] == "L85020":
                writer.writerow(
                    {**r, "APPOINTMENT_MONTH_START_DATE": "NOV2025", "GP_NAME": "NEW NAME"}
                )
    import_agp_files([renamed], store=store_path)
    import_agp_files([PRACTICE_SAMPLE], store=store_path)
    with open_store(store_path, read_only=True) as con:
        got = dict(con.execute("SELECT practice_ods, practice_name FROM agp_practice").fetchall())
    assert got == {**names, "L85020": "NEW NAME"}


# --- collab's triage requests and refreshing collab's rows together --------------------------

NOW = dt.datetime(2025, 10, 8, 12, 0, tzinfo=dt.UTC)


def _req(i: int, **over) -> dict:
    row = {
        "request_id": f"R{i}",
        "submitted_at": dt.datetime(2025, 10, 6, 9, 0),
        "first_triaged_at": dt.datetime(2025, 10, 6, 9, 40),
        "practice_ods": "M81012",
        "pcn_ods": "U12199",
        "channel": "Online form",
        "request_kind": "Medical",
        "status": "Waiting for the service",
        "urgency": "Urgent",
        "route": "Remote hub",
        "service": "Remote hub",
        "method": "Clinician",
        "overflowed": False,
        "send_backs": 0,
    }
    row.update(over)
    return row


WAITING = {
    "status": "Waiting for triage",
    "first_triaged_at": None,
    "urgency": None,
    "route": None,
    "service": None,
    "method": None,
}


def _refresh(path, appointments=(), requests=(), **kwargs):
    return refresh_collab(
        appointments=list(appointments),
        triage_requests=list(requests),
        data_as_of=NOW,
        store=path,
        **kwargs,
    )


def _collab_state(path) -> dict:
    with open_store(path, read_only=True) as con:
        return {
            t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()  # noqa: S608
            for t in (
                "collab_appointment",
                "collab_triage_request",
                "org_practice",
                "collab_refresh",
            )
        }


@pytest.mark.parametrize(
    ("over", "expected"),
    [
        ({}, {"minutes_to_triage": 40, "time_to_triage": "Under 1 hour", "same_day": True}),
        (
            {"first_triaged_at": dt.datetime(2025, 10, 6, 10, 0)},
            {"minutes_to_triage": 60, "time_to_triage": "1 to 4 hours"},
        ),
        (
            {"first_triaged_at": dt.datetime(2025, 10, 6, 12, 59, 59)},
            {"minutes_to_triage": 239, "time_to_triage": "1 to 4 hours"},
        ),
        (
            {"first_triaged_at": dt.datetime(2025, 10, 7, 8, 0)},
            {"time_to_triage": "4 to 24 hours", "same_day": False, "date": dt.date(2025, 10, 6)},
        ),
        ({"first_triaged_at": dt.datetime(2025, 10, 9, 9, 0)}, {"time_to_triage": "1 to 7 days"}),
        (
            {"first_triaged_at": dt.datetime(2025, 10, 13, 9, 0)},
            {"time_to_triage": "More than 7 days"},
        ),
        (
            WAITING,
            {
                "route": "Not triaged yet",
                "urgency": "Not triaged yet",
                "triage_service": "Not triaged yet",
                "triage_method": "Not triaged yet",
                "time_to_triage": "Not triaged yet",
                "minutes_to_triage": None,
                "triaged": False,
                "same_day": None,
            },
        ),
        (
            # sent back: waiting for triage again, but its first triage still counts
            {**WAITING, "first_triaged_at": dt.datetime(2025, 10, 6, 9, 5), "send_backs": 2},
            {"route": "Not triaged yet", "triaged": True, "sent_back": True, "send_backs": 2},
        ),
        (
            {"route": "A&E or 999", "service": None, "status": "Closed"},
            {"triage_service": "None: A&E or 999", "route": "A&E or 999"},
        ),
        (
            {"route": "Practice", "service": "Remote hub", "overflowed": True},
            {"route": "Practice", "triage_service": "Remote hub", "overflowed": True},
        ),
    ],
)
def test_triage_requests_are_stored_with_time_to_triage_derived(store_path, over, expected):
    _refresh(store_path, requests=[_req(1, **over)])
    with open_store(store_path, read_only=True) as con:
        cur = con.execute("SELECT * FROM collab_triage_request")
        row = dict(zip([d[0] for d in cur.description], cur.fetchone(), strict=True))
    assert {k: row[k] for k in expected} == expected


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"channel": "Fax"}, "request 1, field channel"),
        ({"route": "Dentist"}, "request 1, field route"),
        ({"submitted_at": dt.datetime(2025, 10, 6, 9, tzinfo=dt.UTC)}, "field submitted_at"),
        ({"submitted_at": dt.date(2025, 10, 6)}, "field submitted_at"),
        ({"first_triaged_at": dt.datetime(2025, 10, 6, 8, 0)}, "before the request arrived"),
        ({"route": None}, "field route: is None exactly while"),
        ({"status": "Waiting for triage"}, "field route: is None exactly while"),
        ({"method": None}, "urgency and method"),
        ({"service": None}, "field service"),
        ({"send_backs": -1}, "field send_backs"),
        ({"send_backs": True}, "field send_backs"),
        ({"overflowed": "no"}, "field overflowed"),
        ({"first_triaged_at": None}, "a triaged or sent-back request has a first triage"),
        ({"request_id": "R0"}, "'R0' appears twice"),
        ({"colour": "blue"}, r"request 1: unknown field\(s\) colour"),
    ],
)
def test_a_bad_triage_request_is_refused_and_nothing_is_written(store_path, over, message):
    _refresh(store_path, [_appt(7)], [_req(7)])
    before = _collab_state(store_path)
    with pytest.raises(CollabExportError, match=message):
        _refresh(store_path, [_appt(0)], [_req(0), _req(1, **over)])
    assert _collab_state(store_path) == before


def test_refresh_replaces_every_collab_table_at_once_and_logs_it(store_path):
    practice = {
        "practice_ods": "M81012",
        "practice_name": "LEDBURY HEALTH PARTNERSHIP",
        "pcn_ods": "U12199",
        "pcn_name": "EAST HEREFORDSHIRE PCN",
        "sub_icb_code": "18C",
        "collaborative": "Herefordshire",
    }
    ticks = iter(NOW + dt.timedelta(seconds=s) for s in (1, 3))
    result = _refresh(
        store_path,
        [_appt(1), _appt(2)],
        [_req(1)],
        practices=[practice],
        now=lambda: next(ticks),
    )
    assert (result.appointments, result.triage_requests, result.practices) == (2, 1, 1)
    assert result.seconds == 2.0
    _refresh(store_path, [_appt(3)], [_req(2), _req(3)], trigger="dashboard")
    state = _collab_state(store_path)
    assert [r[0] for r in state["collab_appointment"]] == ["A3"]
    assert [r[0] for r in state["collab_triage_request"]] == ["R2", "R3"]
    assert len(state["org_practice"]) == 1  # no practices given: the list is kept
    with open_store(store_path, read_only=True) as con:
        fresh = freshness(con)
        log = con.execute(
            "SELECT appointments, triage_requests, practices, milliseconds, trigger "
            "FROM collab_refresh ORDER BY refreshed_at"
        ).fetchall()
    assert log[0] == (2, 1, 1, 2000, "command") and log[1][:3] == (1, 2, None)
    assert log[1][4] == "dashboard"
    assert fresh.collab_as_of == NOW and (fresh.appointments, fresh.triage_requests) == (1, 2)
    assert fresh.collab_refreshed_at > NOW and fresh.agp_imported_at is None


def test_refresh_is_idempotent(store_path):
    _refresh(store_path, [_appt(1), _appt(2)], [_req(1)])
    first = _collab_state(store_path)
    _refresh(store_path, [_appt(1), _appt(2)], [_req(1)])
    second = _collab_state(store_path)
    assert {t: v for t, v in second.items() if t != "collab_refresh"} == {
        t: v for t, v in first.items() if t != "collab_refresh"
    }
    assert len(second["collab_refresh"]) == 2


@pytest.mark.parametrize("failing", ["_write_triage", "_write_practices"])
def test_a_failure_while_refreshing_leaves_the_old_rows_and_log(store_path, monkeypatch, failing):
    from collab.analytics import store as store_module

    p = {
        "practice_ods": "M81012",
        "practice_name": "A",
        "pcn_ods": "U12199",
        "pcn_name": "B",
        "sub_icb_code": "18C",
        "collaborative": "C",
    }
    _refresh(store_path, [_appt(1)], [_req(1)], practices=[p])
    before = _collab_state(store_path)

    def disk_full(*args):
        raise duckdb.IOException("disk full")

    monkeypatch.setattr(store_module, failing, disk_full)
    with pytest.raises(duckdb.IOException):
        # appointments are written (in the transaction) before the failure
        _refresh(store_path, [_appt(2), _appt(3)], [_req(2)], practices=[p])
    assert _collab_state(store_path) == before


def test_refresh_needs_an_aware_time_and_a_known_trigger(store_path):
    with pytest.raises(ValueError, match="timezone-aware"):
        refresh_collab(
            appointments=[],
            triage_requests=[],
            data_as_of=dt.datetime(2025, 10, 8),
            store=store_path,
        )
    with pytest.raises(ValueError, match="trigger"):
        _refresh(store_path, trigger="cron")


def test_a_store_from_before_triage_and_refresh_tables_still_reads(tmp_path):
    from collab.analytics.store import SCHEMA, create_tables_sql

    old = tmp_path / "old.duckdb"
    export_collab_appointments([_appt(1)], store=old)
    con = duckdb.connect(str(old))
    con.execute("DROP TABLE collab_triage_request")
    con.execute("DROP TABLE collab_refresh")
    con.close()
    assert len(create_tables_sql()) == len(SCHEMA)
    with open_store(old, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM collab_triage_request").fetchone() == (0,)
        assert freshness(con).collab_as_of is None
        assert con.execute("SELECT count(*) FROM collab_appointment").fetchone() == (1,)
    # the next write adds the missing tables for good
    _refresh(old, [_appt(1)], [_req(1)])
    with duckdb.connect(str(old), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM collab_triage_request").fetchone() == (1,)


def test_an_out_of_hours_case_has_no_known_delivery_channel(store_path):
    _refresh(store_path, [_appt(1, delivery_channel="Unknown", service="out_of_hours")])
    with open_store(store_path, read_only=True) as con:
        assert con.execute("SELECT mode FROM collab_appointment").fetchone() == ("Unknown",)


def test_importing_does_not_load_pandas(tmp_path):
    """pa.array, Arrow's group_by and to_numpy all import pandas, which costs a command-line
    import over half a second before it reads a byte; the import path does without them."""
    project = Path(__file__).resolve().parents[3]
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "from collab.analytics.store import SHIPPED_AGP_FILES, import_agp_files, sync_practices; "
        "import_agp_files(SHIPPED_AGP_FILES, store=sys.argv[2]); "
        "sync_practices([dict.fromkeys(['practice_ods', 'practice_name', 'pcn_ods', 'pcn_name', "
        "'sub_icb_code', 'collaborative'], 'X')], store=sys.argv[2]); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'pandas'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(project), str(tmp_path / "store.duckdb")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "[]"


# --- the fast path and the careful path -------------------------------------------------------

_OTHER_SPELLINGS = {
    "8  to 14 Days": "8 to 14 Days",
    "15  to 21 Days": "15 TO 21 days",
    "Video Conference/Online": "Video/Online",
    "Video/Online": "Video Conference/Online",
    "Unknown / Data Quality": "Unknown / Data Issue",
    "Unknown / Data Issue": "Unknown / Data Quality",
    "Attended": "attended",
}


def _every_quirk(src, dst, date_column: str, code_column: str) -> None:
    """A copy of a real file in which every published quirk appears: all three date styles
    (and lower case), both spellings of the video and unknown labels, single- and
    double-spaced bands, other letter case, and padded codes. Every other row is respelled."""
    with src.open(newline="") as f:
        reader = csv.DictReader(f)
        rows, fields = list(reader), reader.fieldnames
    for i, row in enumerate(rows):
        month = dt.date.fromisoformat(_iso(row[date_column]))
        mon = month.strftime("%b").upper()
        row[date_column] = [f"{mon}{month.year}", f"01{mon}{month.year}", month.isoformat()][i % 3]
        if i % 7 == 0:
            row[date_column] = row[date_column].lower()
        if i % 2:
            for column in ("APPT_MODE", "TIME_BETWEEN_BOOK_AND_APPT", "APPT_STATUS"):
                row[column] = _OTHER_SPELLINGS.get(row[column], row[column])
        if i % 5 == 0:
            row[code_column] = f" {row[code_column]} "
    with dst.open("w", newline="") as f:
        writer = csv.DictWriter(f, fields)
        writer.writeheader()
        writer.writerows(rows)


def _iso(published: str) -> str:
    from collab.analytics.agp import parse_agp_date

    return parse_agp_date(published, monthly=True).isoformat()


def _dump(path) -> dict:
    with open_store(path, read_only=True) as con:
        return {
            t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
            for t in ("agp_practice_month", "agp_practice", "agp_subicb_month", "agp_import")
        }


def test_the_careful_path_stores_exactly_what_the_fast_path_does(tmp_path, monkeypatch):
    practice, subicb = tmp_path / "practice.csv", tmp_path / "subicb.csv"
    _every_quirk(PRACTICE_SAMPLE, practice, "APPOINTMENT_MONTH_START_DATE", "GP_CODE")
    _every_quirk(SUBICB_MONTHLY, subicb, "APPOINTMENT_MONTH", "SUB_ICB_LOCATION_CODE")
    now = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    import_agp_files([practice, subicb], store=tmp_path / "fast.duckdb", now=now)

    from collab.analytics import agp

    real_read, careful = agp._read, []

    def without_fast_path(path, header, kind, counts_as):
        if counts_as == pa.int64():
            return None  # as if a count had failed to parse as an integer
        careful.append(path.name)
        return real_read(path, header, kind, counts_as)

    monkeypatch.setattr(agp, "_read", without_fast_path)
    import_agp_files([practice, subicb], store=tmp_path / "careful.duckdb", now=now)
    assert careful == ["practice.csv", "subicb.csv"]
    fast, slow = _dump(tmp_path / "fast.duckdb"), _dump(tmp_path / "careful.duckdb")
    assert fast == slow
    # ...and both are the real files' rows and totals, in the canonical spellings.
    assert (len(fast["agp_practice_month"]), sum(r[-1] for r in fast["agp_practice_month"])) == (
        csv_total(PRACTICE_SAMPLE)
    )
    assert (len(fast["agp_subicb_month"]), sum(r[-1] for r in fast["agp_subicb_month"])) == (
        csv_total(SUBICB_MONTHLY)
    )
    assert {r[5] for r in fast["agp_practice_month"]} == {
        "Face-to-Face",
        "Telephone",
        "Home Visit",
        "Video/Online",
        "Unknown",
    }
    assert {r[8] for r in fast["agp_subicb_month"]} == {"Attended", "DNA", "Unknown"}
    assert {r[0] for r in fast["agp_practice"]} == {r[1] for r in fast["agp_practice_month"]}


# --- a bad value deep in a large file ------------------------------------------------------------

REPEATS = 30  # ~61,500 rows, ~11 MB: several of the reader's blocks


@pytest.fixture(scope="module")
def large_practice_file(tmp_path_factory):
    """The practice sample 30 times over, with empty lines here and there."""
    header, *rows = PRACTICE_SAMPLE.read_text().splitlines(keepends=True)
    lines = [header]
    for i in range(REPEATS):
        lines += rows
        if i % 10 == 3:
            lines.append("\n")
    path = tmp_path_factory.mktemp("large") / "large.csv"
    path.write_text("".join(lines))
    return path


@pytest.mark.parametrize(
    ("line", "column", "col_no", "value", "problem"),
    [
        (58_321, "NATIONAL_CATEGORY", 11, "Phlebotomy", "unknown label 'Phlebotomy'"),
        (61_000, "APPOINTMENT_MONTH_START_DATE", 1, "31NOV2025", "no such day"),
        (45_678, "COUNT_OF_APPOINTMENTS", 13, "12.5", "bad count '12.5'"),
        (59_999, "COUNT_OF_APPOINTMENTS", 13, "-7", "bad count '-7'"),
        (50_505, "GP_CODE", 2, "  ", "blank code"),
    ],
)
def test_a_bad_value_deep_in_a_large_file_is_named_and_nothing_is_kept(
    large_practice_file, tmp_path, store_path, line, column, col_no, value, problem
):
    rows, total = csv_total(PRACTICE_SAMPLE)
    import_agp_files([large_practice_file], store=store_path)
    assert _snapshot(store_path)["agp_practice_month"] == (REPEATS * rows, REPEATS * total)
    before = _snapshot(store_path)
    bad = tmp_path / "bad.csv"
    rewrite_cell(large_practice_file, bad, line, column, value)
    with pytest.raises(AgpImportError) as exc:
        import_agp_files([SUBICB_MONTHLY, bad], store=store_path)
    assert (exc.value.path, exc.value.line, exc.value.column) == (
        str(bad),
        line,
        f"{col_no} ({column})",
    )
    assert problem in str(exc.value)
    assert _snapshot(store_path) == before
