"""`collab import-agp` and `collab metric`, end to end through Django's command runner."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import CommandError, call_command

from collab.analytics.metrics import DIMENSIONS, METRICS
from collab.analytics.store import open_store

from .conftest import PRACTICE_SAMPLE, SUBICB_MONTHLY, csv_total, rewrite_cell

pytestmark = pytest.mark.django_db


def _import(store, *files):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_agp", *map(str, files), store=str(store), stdout=out, stderr=err)
    return out.getvalue()


def _metric(store, *args, **kwargs):
    out = io.StringIO()
    call_command("metric", *args, store=str(store), stdout=out, **kwargs)
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def _stored_total(store, table):
    with open_store(store, read_only=True) as con:
        return con.execute(f"SELECT count(*), sum(appointments) FROM {table}").fetchone()


def test_importing_the_real_18c_file_reproduces_its_total(store_path):
    out = _import(store_path, SUBICB_MONTHLY)
    rows, total = csv_total(SUBICB_MONTHLY)
    assert _stored_total(store_path, "agp_subicb_month") == (rows, total)
    assert f"{total:,} appointments" in out and "rows/s" in out
    by_month = _metric(store_path, "appointments", by="month", source="agp_subicb")
    assert len(by_month) == 30
    assert sum(int(r["value"]) for r in by_month) == total


def test_importing_the_practice_sample_reproduces_its_total(store_path):
    _import(store_path, PRACTICE_SAMPLE)
    assert _stored_total(store_path, "agp_practice_month") == csv_total(PRACTICE_SAMPLE)
    rows = _metric(
        store_path,
        "appointments",
        by="practice",
        date_from="2025-10-01",
        date_to="2025-10-31",
        source="agp",
    )
    assert len(rows) == 10
    assert sum(int(r["value"]) for r in rows) == csv_total(PRACTICE_SAMPLE)[1]


def test_a_corrupted_copy_is_refused_naming_file_line_and_column(store_path, tmp_path):
    _import(store_path, PRACTICE_SAMPLE)
    before = (
        _stored_total(store_path, "agp_practice_month"),
        _stored_total(store_path, "agp_subicb_month"),
    )
    bad = tmp_path / "corrupt_18C.csv"
    rewrite_cell(SUBICB_MONTHLY, bad, 4321, "APPOINTMENT_MONTH", "31JUN2024")
    with pytest.raises(CommandError) as exc:
        _import(store_path, SUBICB_MONTHLY, bad)
    assert f"{bad}, line 4321, column 8 (APPOINTMENT_MONTH): bad date '31JUN2024'" in str(exc.value)
    assert "nothing imported" in str(exc.value)
    after = (
        _stored_total(store_path, "agp_practice_month"),
        _stored_total(store_path, "agp_subicb_month"),
    )
    assert after == before


def test_reimporting_replaces(store_path):
    _import(store_path, SUBICB_MONTHLY)
    _import(store_path, SUBICB_MONTHLY)
    assert _stored_total(store_path, "agp_subicb_month") == csv_total(SUBICB_MONTHLY)


def test_import_joins_practices_to_collab_organisations(store_path):
    from collab.organisations.models import Organisation

    top = Organisation.objects.create(
        ods_code="X1", name="SOMERSET TEST COLLABORATIVE", kind="collaborative"
    )
    pcn = Organisation.objects.create(ods_code="U21951", name="MENDIP PCN", kind="pcn", parent=top)
    Organisation.objects.create(
        ods_code="L85020",
        name="BECKINGTON FAMILY PRACTICE",
        kind="practice",
        parent=pcn,
        sub_icb_code="11X",
    )
    out = _import(store_path, PRACTICE_SAMPLE)
    assert "1 practices joined" in out
    rows = _metric(store_path, "appointments", by="collaborative", source="agp")
    by = {r["collaborative"]: int(r["value"]) for r in rows}
    with PRACTICE_SAMPLE.open(newline="") as f:
        beckington = sum(
            int(r["COUNT_OF_APPOINTMENTS"]) for r in csv.DictReader(f) if r["GP_CODE"] == "L85020"
        )
    assert by == {
        "SOMERSET TEST COLLABORATIVE": beckington,
        "": csv_total(PRACTICE_SAMPLE)[1] - beckington,
    }


def test_metric_list_names_every_metric_and_dimension(store_path):
    rows = _metric(store_path, list_only=True)
    assert {r["name"] for r in rows if r["kind"] == "metric"} == set(METRICS)
    assert {r["name"] for r in rows if r["kind"] == "dimension"} == set(DIMENSIONS)


def test_ratio_metrics_print_numerator_and_denominator(store_path):
    _import(store_path, SUBICB_MONTHLY)
    rows = _metric(store_path, "dna_rate", by="month", source="agp_subicb", date_from="2025-11-01")
    assert list(rows[0]) == ["month", "numerator", "denominator", "value"]
    with SUBICB_MONTHLY.open(newline="") as f:
        nov = [r for r in csv.DictReader(f) if r["APPOINTMENT_MONTH"] == "2025-11-01"]
    dna = sum(int(r["COUNT_OF_APPOINTMENTS"]) for r in nov if r["APPT_STATUS"] == "DNA")
    known = sum(int(r["COUNT_OF_APPOINTMENTS"]) for r in nov if r["APPT_STATUS"] != "Unknown")
    assert rows == [
        {
            "month": "2025-11-01",
            "numerator": str(dna),
            "denominator": str(known),
            "value": str(dna / known),
        }
    ]


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((), {}, "name a metric"),
        (("nope",), {}, "unknown metric 'nope'"),
        (
            ("appointments",),
            {"by": "day", "source": "agp"},
            "'day' is not available for source 'agp'",
        ),
        (("appointments",), {"date_from": "01/10/2025"}, "--from '01/10/2025' is not a date"),
        (("appointments",), {"date_from": "2025-10-02", "date_to": "2025-10-01"}, "is after --to"),
        (("appointments",), {"where": ["practice"]}, "use DIMENSION=VALUE"),
    ],
)
def test_metric_command_errors_say_what_is_wrong(store_path, args, kwargs, message):
    with pytest.raises(CommandError, match=message):
        _metric(store_path, *args, **kwargs)


def test_metric_where_filters_rows(store_path):
    _import(store_path, PRACTICE_SAMPLE)
    rows = _metric(
        store_path, "appointments", by="practice", source="agp", where=["practice=L85020,L85061"]
    )
    assert [r["practice"] for r in rows] == ["L85020", "L85061"]


def test_shipped_files_load_the_demo_history(store_path):
    out = io.StringIO()
    call_command("import_agp", shipped=True, store=str(store_path), no_progress=True, stdout=out)
    assert _stored_total(store_path, "agp_subicb_month") == csv_total(SUBICB_MONTHLY)
    assert "Imported 4 file(s)" in out.getvalue()


def test_import_without_files_says_what_to_give(store_path):
    with pytest.raises(CommandError, match="at least one AGP file, or use --shipped"):
        _import(store_path)
