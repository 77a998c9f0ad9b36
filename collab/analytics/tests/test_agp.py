"""The AGP parser: real published files, every quirk, and strict refusals."""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collab.analytics.agp import (
    LABELS,
    AgpImportError,
    _locate_parse_error,
    arrow_array,
    normalise_label,
    parse_agp_date,
    parse_agp_file,
)

from .conftest import (
    DAILY_CATEGORY,
    DAILY_DURATION,
    PRACTICE_SAMPLE,
    SUBICB_MONTHLY,
    csv_total,
    rewrite_cell,
)


@pytest.mark.parametrize(
    ("text", "monthly", "expected"),
    [
        ("APR2024", True, dt.date(2024, 4, 1)),
        ("01APR2024", True, dt.date(2024, 4, 1)),
        ("2024-04-01", True, dt.date(2024, 4, 1)),
        ("apr2024", True, dt.date(2024, 4, 1)),
        ("29FEB2024", False, dt.date(2024, 2, 29)),
        ("2023-06-30", False, dt.date(2023, 6, 30)),
    ],
)
def test_the_three_published_date_styles(text, monthly, expected):
    assert parse_agp_date(text, monthly=monthly) == expected


@pytest.mark.parametrize(
    ("text", "monthly", "why"),
    [
        ("APR2024", False, "needs the day"),
        ("02APR2024", True, "first day"),
        ("2024-04-02", True, "first day"),
        ("29FEB2023", False, "no such day"),
        ("APRIL2024", True, "expected APR2024"),
        ("2024/04/01", True, "expected APR2024"),
        ("", True, "expected APR2024"),
        ("0１APR2024", False, "expected"),  # a non-ASCII digit is not a digit here
    ],
)
def test_bad_dates_say_what_was_expected(text, monthly, why):
    with pytest.raises(ValueError, match=why):
        parse_agp_date(text, monthly=monthly)


@pytest.mark.parametrize(
    ("vocab", "published", "canonical"),
    [
        ("time_between_book_and_appt", "8  to 14 Days", "8 to 14 Days"),
        ("time_between_book_and_appt", "15  to 21 Days", "15 to 21 Days"),
        ("time_between_book_and_appt", "22 to 28 Days", "22 to 28 Days"),
        ("time_between_book_and_appt", "Unknown / Data Issue", "Unknown"),
        ("time_between_book_and_appt", "Unknown / Data Quality", "Unknown"),
        ("mode", "Video Conference/Online", "Video/Online"),
        ("mode", "Video/Online", "Video/Online"),
        ("actual_duration", "Unknown / Data Quality", "Unknown"),
        ("status", "DNA", "DNA"),
    ],
)
def test_published_spellings_meet_one_canonical_label(vocab, published, canonical):
    assert normalise_label(vocab, published) == canonical


def test_a_stranger_label_is_not_guessed():
    assert normalise_label("mode", "Video") is None
    assert normalise_label("status", "Did not attend") is None


@pytest.mark.parametrize(
    ("path", "kind", "periods"),
    [
        (SUBICB_MONTHLY, "subicb_month", 30),
        (PRACTICE_SAMPLE, "practice_month", 1),
        (DAILY_DURATION, "subicb_day_duration", 30),
        (DAILY_CATEGORY, "subicb_day_category", 12),
    ],
)
def test_real_files_keep_every_row_and_their_own_total(path, kind, periods):
    rows, total = csv_total(path)
    parsed = parse_agp_file(path)
    assert parsed.kind.name == kind
    assert parsed.rows == rows
    assert parsed.total_appointments == total
    assert sum(parsed.table.column("appointments").to_pylist()) == total
    assert len(parsed.periods) == periods


def test_real_subicb_file_totals_by_label_survive_normalisation():
    with SUBICB_MONTHLY.open(newline="") as f:
        expected = Counter()
        for r in csv.DictReader(f):
            expected[" ".join(r["TIME_BETWEEN_BOOK_AND_APPT"].split())] += int(
                r["COUNT_OF_APPOINTMENTS"]
            )
    expected["Unknown"] = expected.pop("Unknown / Data Quality")
    parsed = parse_agp_file(SUBICB_MONTHLY).table.to_pylist()
    got = Counter()
    for r in parsed:
        got[r["time_between_book_and_appt"]] += r["appointments"]
    assert got == expected


def test_practice_file_normalises_video_and_unknown_spellings():
    parsed = parse_agp_file(PRACTICE_SAMPLE).table
    assert set(parsed.column("mode").to_pylist()) <= set(LABELS["mode"])
    assert "Video/Online" in parsed.column("mode").to_pylist()
    assert "Unknown" in parsed.column("time_between_book_and_appt").to_pylist()
    assert set(parsed.column("month").to_pylist()) == {dt.date(2025, 10, 1)}


@pytest.mark.parametrize(
    ("src", "line", "column", "value", "col_no", "problem"),
    [
        (SUBICB_MONTHLY, 57, "APPOINTMENT_MONTH", "2023-13-01", 8, "bad date"),
        (PRACTICE_SAMPLE, 1234, "APPOINTMENT_MONTH_START_DATE", "32OCT2025", 1, "bad date"),
        (DAILY_DURATION, 99, "APPOINTMENT_DATE", "JUN2023", 6, "needs the day"),
        (SUBICB_MONTHLY, 4000, "APPT_MODE", "Video", 11, "unknown label 'Video'"),
        (PRACTICE_SAMPLE, 17, "NATIONAL_CATEGORY", "Phlebotomy", 11, "unknown label"),
        (DAILY_CATEGORY, 12000, "COUNT_OF_APPOINTMENTS", "12.5", 10, "bad count"),
        (SUBICB_MONTHLY, 2, "COUNT_OF_APPOINTMENTS", "-3", 13, "bad count"),
        (PRACTICE_SAMPLE, 2051, "GP_CODE", " ", 2, "blank code"),
    ],
)
def test_bad_cell_is_refused_naming_file_line_and_column(
    tmp_path, src, line, column, value, col_no, problem
):
    bad = tmp_path / f"bad_{src.name}"
    rewrite_cell(src, bad, line, column, value)
    with pytest.raises(AgpImportError) as exc:
        parse_agp_file(bad)
    err = exc.value
    assert (err.path, err.line, err.column) == (str(bad), line, f"{col_no} ({column})")
    assert str(bad) in str(err) and f"line {line}" in str(err) and column in str(err)
    assert problem in str(err)


def test_first_bad_line_is_named_when_several_are_bad(tmp_path):
    bad = tmp_path / "bad.csv"
    rewrite_cell(SUBICB_MONTHLY, bad, 300, "APPT_STATUS", "Cancelled")
    rewrite_cell(bad, bad, 200, "APPT_STATUS", "Cancelled")
    with pytest.raises(AgpImportError, match="line 200, column 9"):
        parse_agp_file(bad)


def test_unknown_column_set_is_refused_naming_the_stranger(tmp_path):
    text = SUBICB_MONTHLY.read_text().replace("APPT_MODE", "APPOINTMENT_MODE", 1)
    bad = tmp_path / "renamed.csv"
    bad.write_text(text)
    with pytest.raises(AgpImportError) as exc:
        parse_agp_file(bad)
    assert exc.value.line == 1
    assert exc.value.column == "11 (APPOINTMENT_MODE)"
    assert "missing APPT_MODE" in str(exc.value)


def test_a_short_row_is_refused_with_its_line(tmp_path):
    lines = PRACTICE_SAMPLE.read_text().splitlines(keepends=True)
    lines[9] = lines[9].rsplit(",", 1)[0] + "\n"  # line 10 loses its last field
    bad = tmp_path / "short.csv"
    bad.write_text("".join(lines))
    with pytest.raises(AgpImportError, match=r"line 10: expected 14 fields, found 13"):
        parse_agp_file(bad)


def test_empty_and_header_only_files_are_refused(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(AgpImportError, match="empty"):
        parse_agp_file(empty)
    header_only = tmp_path / "header.csv"
    header_only.write_text(SUBICB_MONTHLY.read_text().splitlines()[0] + "\n")
    with pytest.raises(AgpImportError, match="no rows"):
        parse_agp_file(header_only)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(AgpImportError, match="no such file"):
        parse_agp_file(tmp_path / "nope.csv")


# --- generated files: any mix of published spellings gives the same canonical totals ----------

_SPELLINGS = {
    vocab: [
        (spelling, canonical)
        for canonical, others in table.items()
        for spelling in (canonical, *others)
    ]
    for vocab, table in LABELS.items()
}
_DOUBLE_SPACED = {
    "8 to 14 Days": "8  to 14 Days",
    "15 to 21 Days": "15  to 21 Days",
    "22 to 28 Days": "22  to 28 Days",
}
_SUBICB_HEADER = (
    "SUB_ICB_LOCATION_CODE,SUB_ICB_LOCATION_ONS_CODE,SUB_ICB_LOCATION_NAME,ICB_ONS_CODE,ICB_NAME,"
    "REGION_ONS_CODE,REGION_NAME,APPOINTMENT_MONTH,APPT_STATUS,HCP_TYPE,APPT_MODE,"
    "TIME_BETWEEN_BOOK_AND_APPT,COUNT_OF_APPOINTMENTS"
).split(",")


def _date_styles(month: dt.date) -> list[str]:
    mon = month.strftime("%b").upper()
    return [f"{mon}{month.year}", f"01{mon}{month.year}", month.isoformat()]


_row = st.tuples(
    st.dates(dt.date(2019, 1, 1), dt.date(2030, 12, 1)).map(lambda d: d.replace(day=1)),
    st.integers(0, 2),
    st.sampled_from(_SPELLINGS["status"]),
    st.sampled_from(_SPELLINGS["hcp_type"]),
    st.sampled_from(_SPELLINGS["mode"]),
    st.sampled_from(_SPELLINGS["time_between_book_and_appt"]),
    st.booleans(),
    st.integers(0, 10**9),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(_row, min_size=1, max_size=40))
def test_generated_files_in_any_published_spelling_normalise_exactly(tmp_path, rows):
    path = tmp_path / "generated.csv"
    expected: Counter = Counter()
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(_SUBICB_HEADER)
        for month, style, status, hcp, mode, band, double, count in rows:
            band_text = _DOUBLE_SPACED.get(band[0], band[0]) if double else band[0]
            w.writerow(
                [
                    "18C",
                    "E38000236",
                    "NHS H&W - 18C",
                    "E54000019",
                    "NHS H&W ICB",
                    "E40000011",
                    "Midlands",
                    _date_styles(month)[style],
                    status[0],
                    hcp[0],
                    mode[0],
                    band_text,
                    count,
                ]
            )
            expected[(month, status[1], hcp[1], mode[1], band[1])] += count
    parsed = parse_agp_file(path)
    got: Counter = Counter()
    for r in parsed.table.to_pylist():
        key = (r["month"], r["status"], r["hcp_type"], r["mode"], r["time_between_book_and_appt"])
        got[key] += r["appointments"]
    assert +got == +expected
    assert parsed.total_appointments == sum(expected.values())
    assert parsed.rows == len(rows)


def test_paths_may_be_strings():
    assert parse_agp_file(str(PRACTICE_SAMPLE)).path == Path(PRACTICE_SAMPLE)


def test_counts_with_spaces_take_the_careful_path_and_are_kept(tmp_path):
    padded = tmp_path / "padded.csv"
    rewrite_cell(PRACTICE_SAMPLE, padded, 5, "COUNT_OF_APPOINTMENTS", " 7 ")
    with PRACTICE_SAMPLE.open(newline="") as f:
        rows = list(csv.DictReader(f))
    expected = (
        sum(int(r["COUNT_OF_APPOINTMENTS"]) for r in rows)
        - int(rows[3]["COUNT_OF_APPOINTMENTS"])
        + 7
    )
    assert parse_agp_file(padded).total_appointments == expected


# --- lines and text the reader treats specially --------------------------------------------------


def _with_empty_lines(src: Path, dst: Path, before: list[int]) -> None:
    """Copy a CSV, putting an empty line before each given line (numbers in the source)."""
    lines = src.read_text().splitlines(keepends=True)
    for number in sorted(before, reverse=True):
        lines.insert(number - 1, "\r\n" if number % 2 else "\n")
    dst.write_text("".join(lines), newline="")


def test_empty_lines_are_skipped_and_later_lines_keep_their_own_numbers(tmp_path):
    spaced = tmp_path / "spaced.csv"
    _with_empty_lines(PRACTICE_SAMPLE, spaced, [5, 6, 40])
    rows, total = csv_total(PRACTICE_SAMPLE)
    parsed = parse_agp_file(spaced)
    assert (parsed.rows, parsed.total_appointments) == (rows, total)
    # Line 100 of the original is line 103 once three empty lines come before it.
    bad = tmp_path / "bad.csv"
    rewrite_cell(PRACTICE_SAMPLE, bad, 100, "APPT_STATUS", "Atended")
    _with_empty_lines(bad, bad, [5, 6, 40])
    with pytest.raises(AgpImportError, match=r"line 103, column 14 \(APPT_STATUS\)"):
        parse_agp_file(bad)


def test_a_short_row_after_empty_lines_is_named_by_its_own_line(tmp_path):
    lines = PRACTICE_SAMPLE.read_text().splitlines(keepends=True)
    lines[99] = lines[99].rsplit(",", 1)[0] + "\n"  # line 100 loses its last field
    bad = tmp_path / "short.csv"
    bad.write_text("".join(lines))
    _with_empty_lines(bad, bad, [3, 50])
    with pytest.raises(AgpImportError, match=r"line 102: expected 14 fields, found 13"):
        parse_agp_file(bad)


def test_a_quoted_value_over_two_lines_is_named_by_the_line_it_starts_on(tmp_path):
    lines = PRACTICE_SAMPLE.read_text().splitlines(keepends=True)
    fields = lines[29].split(",")
    fields[2] = '"BECKINGTON\nFAMILY PRACTICE"'
    lines[29] = ",".join(fields)
    bad = tmp_path / "multiline.csv"
    bad.write_text("".join(lines))
    with pytest.raises(
        AgpImportError, match=r"line 30, column 3 \(GP_NAME\): a value runs over more than one line"
    ):
        parse_agp_file(bad)
    # Where the reader itself trips over it (the value straddles two of its blocks), the line
    # is found by reading the file again.
    assert _locate_parse_error(bad, 14) == (30, "a value runs over more than one line")


@pytest.mark.parametrize(
    ("src", "line", "column", "col_no"),
    [
        (PRACTICE_SAMPLE, 51, "SUPPLIER", 4),
        (PRACTICE_SAMPLE, 1700, "GP_NAME", 3),
        (SUBICB_MONTHLY, 7000, "APPT_MODE", 11),
        (DAILY_CATEGORY, 12000, "COUNT_OF_APPOINTMENTS", 10),
    ],
)
def test_text_that_is_not_utf8_is_refused_naming_line_and_column(
    tmp_path, src, line, column, col_no
):
    marked = tmp_path / "marked.csv"
    rewrite_cell(src, marked, line, column, "\x00MARK\x00")
    bad = tmp_path / "latin1.csv"
    bad.write_bytes(marked.read_bytes().replace(b"\x00MARK\x00", b"Caf\xe9"))
    with pytest.raises(AgpImportError) as exc:
        parse_agp_file(bad)
    assert (exc.value.line, exc.value.column) == (line, f"{col_no} ({column})")
    assert "not UTF-8 text: b'Caf\\xe9'" in str(exc.value)


def test_a_header_that_is_not_utf8_is_refused_on_line_1(tmp_path):
    bad = tmp_path / "header.csv"
    bad.write_bytes(b"GP_C\xd6DE" + PRACTICE_SAMPLE.read_bytes()[7:])
    with pytest.raises(AgpImportError, match="line 1: the header is not UTF-8 text"):
        parse_agp_file(bad)


def test_a_byte_order_mark_is_not_part_of_the_first_column(tmp_path):
    marked = tmp_path / "bom.csv"
    marked.write_bytes(b"\xef\xbb\xbf" + SUBICB_MONTHLY.read_bytes())
    assert parse_agp_file(marked).total_appointments == csv_total(SUBICB_MONTHLY)[1]


def test_the_directory_keeps_each_distinct_practice_naming_once(tmp_path):
    renamed = tmp_path / "renamed.csv"
    rewrite_cell(PRACTICE_SAMPLE, renamed, 7, "GP_NAME", "A SECOND NAME")
    rewrite_cell(renamed, renamed, 8, "GP_NAME", " BECKINGTON FAMILY PRACTICE  ")  # same, padded
    with renamed.open(newline="") as f:
        expected = {
            (
                r["GP_CODE"],
                r["PCN_CODE"],
                r["SUB_ICB_LOCATION_CODE"],
                r["GP_NAME"].strip(),
                r["SUPPLIER"],
                r["PCN_NAME"],
                r["SUB_ICB_LOCATION_NAME"],
                dt.date(2025, 10, 1),
            )
            for r in csv.DictReader(f)
        }
    directory = parse_agp_file(renamed).directory.to_pylist()
    assert len(directory) == len(expected) == 11
    assert {tuple(r.values()) for r in directory} == expected


@given(
    texts=st.lists(st.text(), max_size=20),
    dates=st.lists(st.dates(), max_size=20),
    counts=st.lists(st.integers(-(2**63), 2**63 - 1), max_size=20),
)
def test_arrow_array_builds_what_pa_array_would(texts, dates, counts):
    texts = [t.encode("utf-8", "replace").decode() for t in texts]  # no lone surrogates
    for values, type_ in ((texts, pa.string()), (dates, pa.date32()), (counts, pa.int64())):
        built = arrow_array(values, type_)
        built.validate(full=True)
        assert built.equals(pa.array(values, type=type_))


def test_the_directory_keeps_dates_that_do_not_fit_two_bytes(tmp_path):
    old = tmp_path / "old.csv"
    rewrite_cell(PRACTICE_SAMPLE, old, 2, "APPOINTMENT_MONTH_START_DATE", "DEC1969")
    directory = parse_agp_file(old).directory.to_pylist()
    months = {(r["practice_ods"], r["month"]) for r in directory}
    assert ("L85020", dt.date(1969, 12, 1)) in months
    assert ("L85020", dt.date(2025, 10, 1)) in months
    assert len(directory) == 11
