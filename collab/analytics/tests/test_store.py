"""The analytics store: all-or-nothing imports, month replacement, collab's own rows."""

from __future__ import annotations

import csv
import datetime as dt
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from collab.analytics.agp import AgpImportError
from collab.analytics.store import (
    CollabExportError,
    export_collab_appointments,
    import_agp_files,
    open_store,
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
