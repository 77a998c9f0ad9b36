"""Parse NHS England's "Appointments in General Practice" (AGP) CSV files.

Four published file kinds are recognised by their exact column set:

* ``practice_month``: the practice-level crosstab (practice x month x HCP type x mode x
  national category x time from booking x status);
* ``subicb_month``: the "regional" sub-ICB monthly file (no national category, no practice);
* ``subicb_day_duration``: sub-ICB x day x actual duration band;
* ``subicb_day_category``: sub-ICB x day x service setting x context type x national category.

Every published quirk is normalised to one spelling (see ``LABELS``): three date styles
(``APR2024``, ``01APR2024``, ``2024-04-01``), double-spaced booking bands (``8  to 14 Days``),
``Video Conference/Online`` vs ``Video/Online`` and ``Unknown / Data Issue`` vs
``Unknown / Data Quality``. Anything else unexpected is refused with an :class:`AgpImportError`
naming the file, the line and the column.

Speed: the file is read by pyarrow's multi-threaded CSV reader as strings, and checked and
normalised in DuckDB with set-based SQL. Labels and dates have few distinct values, so those
are parsed once each in Python and joined back; no Python code runs per row.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv

__all__ = [
    "AgpFile",
    "AgpImportError",
    "FILE_KINDS",
    "LABELS",
    "parse_agp_date",
    "parse_agp_file",
]


class AgpImportError(ValueError):
    """A file was refused. The message names the file, line and column (1-based, header = 1)."""

    def __init__(self, path: str | Path, line: int | None, column: str | None, problem: str):
        self.path = str(path)
        self.line = line
        self.column = column
        self.problem = problem
        where = self.path
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column {column}"
        super().__init__(f"{where}: {problem}")


# --- the published vocabularies ---------------------------------------------------------------
# Canonical spelling first, then the other published spellings. Matching collapses runs of
# whitespace and ignores case, so `8  to 14 Days` and `8 to 14 days` both land on the canonical.

STATUS = {"Attended": [], "DNA": [], "Unknown": []}
HCP_TYPE = {"GP": [], "Other Practice staff": [], "Unknown": []}
APPT_MODE = {
    "Face-to-Face": [],
    "Telephone": [],
    "Home Visit": [],
    "Video/Online": ["Video Conference/Online"],
    "Unknown": [],
}
TIME_BETWEEN_BOOK_AND_APPT = {
    "Same Day": [],
    "1 Day": [],
    "2 to 7 Days": [],
    "8 to 14 Days": [],
    "15 to 21 Days": [],
    "22 to 28 Days": [],
    "More than 28 Days": [],
    "Unknown": ["Unknown / Data Issue", "Unknown / Data Quality"],
}
ACTUAL_DURATION = {
    "1-5 Minutes": [],
    "6-10 Minutes": [],
    "11-15 Minutes": [],
    "16-20 Minutes": [],
    "21-30 Minutes": [],
    "31-60 Minutes": [],
    "Unknown": ["Unknown / Data Issue", "Unknown / Data Quality"],
}
NATIONAL_CATEGORY = {
    name: []
    for name in (
        "Care Home Needs Assessment & Personalised Care and Support Planning",
        "Care Home Visit",
        "Care Related Encounter but does not fit into any other category",
        "Clinical Triage",
        "General Consultation Acute",
        "General Consultation Routine",
        "Group Consultation and Group Education",
        "Home Visit",
        "Inconsistent Mapping",
        "Non-contractual chargeable work",
        "Patient contact during Care Home Round",
        "Planned Clinical Procedure",
        "Planned Clinics",
        "Service provided by organisation external to the practice",
        "Social Prescribing Service",
        "Structured Medication Review",
        "Unmapped",
        "Unplanned Clinical Activity",
        "Walk-in",
    )
}
SERVICE_SETTING = {
    name: []
    for name in (
        "General Practice",
        "Extended Access Provision",
        "Primary Care Network",
        "Other",
        "Unmapped",
    )
}
CONTEXT_TYPE = {name: [] for name in ("Care Related Encounter", "Inconsistent Mapping", "Unmapped")}

LABELS: dict[str, dict[str, list[str]]] = {
    "status": STATUS,
    "hcp_type": HCP_TYPE,
    "mode": APPT_MODE,
    "time_between_book_and_appt": TIME_BETWEEN_BOOK_AND_APPT,
    "actual_duration": ACTUAL_DURATION,
    "national_category": NATIONAL_CATEGORY,
    "service_setting": SERVICE_SETTING,
    "context_type": CONTEXT_TYPE,
}


def _label_key(value: str) -> str:
    return " ".join(value.split()).casefold()


_LABEL_LOOKUP: dict[str, dict[str, str]] = {
    vocab: {
        _label_key(spelling): canonical
        for canonical, others in table.items()
        for spelling in (canonical, *others)
    }
    for vocab, table in LABELS.items()
}


def normalise_label(vocab: str, value: str) -> str | None:
    """The canonical spelling of ``value`` in vocabulary ``vocab``, or None if it is not one."""
    return _LABEL_LOOKUP[vocab].get(_label_key(value))


# --- dates ---------------------------------------------------------------------------------------

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
_NHS = re.compile(r"(\d{2})?([A-Za-z]{3})(\d{4})", re.ASCII)


def parse_agp_date(value: str, *, monthly: bool) -> dt.date:
    """Parse an AGP date in any of its three published styles.

    ``APR2024`` (month only) is accepted only where ``monthly`` is true; a monthly date given
    with a day must be the first of the month. Raises ValueError saying what was expected.
    """
    text = value.strip()
    m = _ISO.fullmatch(text)
    if m:
        year, month, day = (int(g) for g in m.groups())
    else:
        m = _NHS.fullmatch(text)
        if not m or m.group(2).upper() not in _MONTHS:
            styles = "APR2024, 01APR2024 or 2024-04-01" if monthly else "01APR2024 or 2024-04-01"
            raise ValueError(f"bad date {value!r}: expected {styles}")
        month = _MONTHS.index(m.group(2).upper()) + 1
        year = int(m.group(3))
        if m.group(1) is None:
            if not monthly:
                raise ValueError(f"bad date {value!r}: a daily file needs the day, e.g. 01APR2024")
            day = 1
        else:
            day = int(m.group(1))
    try:
        parsed = dt.date(year, month, day)
    except ValueError:
        raise ValueError(f"bad date {value!r}: no such day") from None
    if monthly and parsed.day != 1:
        raise ValueError(f"bad date {value!r}: a month must start on its first day")
    return parsed


# --- file kinds ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileKind:
    """One published file layout: its columns and how each becomes a store column."""

    name: str
    table: str  # the store table its rows go to
    date_column: str
    monthly: bool
    # published column -> (store column, vocabulary or None for free text)
    columns: dict[str, tuple[str, str | None]]
    count_column: str = "COUNT_OF_APPOINTMENTS"
    # columns that must not be blank (codes the rows join on)
    required: tuple[str, ...] = ()

    @property
    def published_columns(self) -> frozenset[str]:
        return frozenset({*self.columns, self.date_column, self.count_column})


_SUBICB_GEOG = {
    "SUB_ICB_LOCATION_CODE": ("sub_icb_code", None),
    "SUB_ICB_LOCATION_ONS_CODE": ("sub_icb_ons_code", None),
    "SUB_ICB_LOCATION_NAME": ("sub_icb_name", None),
    "ICB_ONS_CODE": ("icb_ons_code", None),
    "REGION_ONS_CODE": ("region_ons_code", None),
}

FILE_KINDS: dict[str, FileKind] = {
    kind.name: kind
    for kind in (
        FileKind(
            name="practice_month",
            table="agp_practice_month",
            date_column="APPOINTMENT_MONTH_START_DATE",
            monthly=True,
            columns={
                "GP_CODE": ("practice_ods", None),
                "GP_NAME": ("practice_name", None),
                "SUPPLIER": ("supplier", None),
                "PCN_CODE": ("pcn_ods", None),
                "PCN_NAME": ("pcn_name", None),
                "SUB_ICB_LOCATION_CODE": ("sub_icb_code", None),
                "SUB_ICB_LOCATION_NAME": ("sub_icb_name", None),
                "HCP_TYPE": ("hcp_type", "hcp_type"),
                "APPT_MODE": ("mode", "mode"),
                "NATIONAL_CATEGORY": ("national_category", "national_category"),
                "TIME_BETWEEN_BOOK_AND_APPT": (
                    "time_between_book_and_appt",
                    "time_between_book_and_appt",
                ),
                "APPT_STATUS": ("status", "status"),
            },
            required=("GP_CODE", "SUB_ICB_LOCATION_CODE"),
        ),
        FileKind(
            name="subicb_month",
            table="agp_subicb_month",
            date_column="APPOINTMENT_MONTH",
            monthly=True,
            columns={
                **_SUBICB_GEOG,
                "ICB_NAME": ("icb_name", None),
                "REGION_NAME": ("region_name", None),
                "APPT_STATUS": ("status", "status"),
                "HCP_TYPE": ("hcp_type", "hcp_type"),
                "APPT_MODE": ("mode", "mode"),
                "TIME_BETWEEN_BOOK_AND_APPT": (
                    "time_between_book_and_appt",
                    "time_between_book_and_appt",
                ),
            },
            required=("SUB_ICB_LOCATION_CODE",),
        ),
        FileKind(
            name="subicb_day_duration",
            table="agp_subicb_day_duration",
            date_column="APPOINTMENT_DATE",
            monthly=False,
            columns={**_SUBICB_GEOG, "ACTUAL_DURATION": ("actual_duration", "actual_duration")},
            required=("SUB_ICB_LOCATION_CODE",),
        ),
        FileKind(
            name="subicb_day_category",
            table="agp_subicb_day_category",
            date_column="APPOINTMENT_DATE",
            monthly=False,
            columns={
                **_SUBICB_GEOG,
                "SERVICE_SETTING": ("service_setting", "service_setting"),
                "CONTEXT_TYPE": ("context_type", "context_type"),
                "NATIONAL_CATEGORY": ("national_category", "national_category"),
            },
            required=("SUB_ICB_LOCATION_CODE",),
        ),
    )
}


def store_columns(kind: FileKind) -> list[str]:
    """The store table's columns for a file kind, in order."""
    date_col = "month" if kind.monthly else "date"
    return [date_col, *(col for col, _ in kind.columns.values()), "appointments"]


@dataclass
class AgpFile:
    """A parsed, validated file: an Arrow table in store columns, ready to be written."""

    path: Path
    kind: FileKind
    table: pa.Table
    total_appointments: int
    periods: list[dt.date]  # the months the file covers (first days)
    sub_icb_codes: list[str]
    seconds: float
    rows: int = field(init=False)

    def __post_init__(self) -> None:
        self.rows = self.table.num_rows

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("inf")


def _detect_kind(path: Path, header: list[str]) -> FileKind:
    seen = set(header)
    duplicates = sorted({c for c in header if header.count(c) > 1})
    if duplicates:
        col = duplicates[0]
        raise AgpImportError(
            path, 1, f"{header.index(col) + 1} ({col})", f"column {col} appears twice"
        )
    for kind in FILE_KINDS.values():
        if seen == kind.published_columns:
            return kind
    # Name the nearest layout so the message says what is missing or extra.
    best = min(FILE_KINDS.values(), key=lambda k: len(seen ^ k.published_columns))
    missing = sorted(best.published_columns - seen)
    extra = [c for c in header if c not in best.published_columns]
    parts = []
    if missing:
        parts.append("missing " + ", ".join(missing))
    if extra:
        parts.append("unexpected " + ", ".join(extra))
    column = f"{header.index(extra[0]) + 1} ({extra[0]})" if extra else None
    raise AgpImportError(
        path,
        1,
        column,
        f"unknown column set: nearest layout is {best.name} ({'; '.join(parts)})",
    )


def _read_header(path: Path) -> list[str]:
    with path.open("r", encoding="utf-8-sig", newline="") as f:
        first = f.readline()
    if not first.strip():
        raise AgpImportError(path, 1, None, "the file is empty: expected a header row")

    return [c.strip() for c in next(csv.reader([first]))]


def _locate_parse_error(path: Path, width: int) -> tuple[int, str]:
    """Slow path, only after pyarrow refused the file: find the first malformed line."""

    with path.open("r", encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        for row in reader:
            if len(row) != width:
                return reader.line_num, f"expected {width} fields, found {len(row)}"
            if any("\n" in v or "\r" in v for v in row):
                return reader.line_num, "a value runs over more than one line"
    return 0, "the CSV could not be parsed"


def parse_agp_file(path: str | Path) -> AgpFile:
    """Read, check and normalise one AGP file. Raises AgpImportError; never returns partial data."""
    path = Path(path)
    started = time.perf_counter()
    if not path.is_file():
        raise AgpImportError(path, None, None, "no such file")
    header = _read_header(path)
    kind = _detect_kind(path, header)
    try:
        raw = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(
                column_names=header, skip_rows=1, block_size=1 << 24, encoding="utf8"
            ),
            parse_options=pacsv.ParseOptions(newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        line, problem = _locate_parse_error(path, len(header))
        raise AgpImportError(path, line or None, None, problem) from exc
    if raw.num_rows == 0:
        raise AgpImportError(path, 2, None, "the file has a header but no rows")
    # Line numbers: the header is line 1 and, since values may not span lines, row i is line i+2.
    raw = raw.append_column("__line", pa.array(range(2, raw.num_rows + 2), type=pa.int64()))
    col_no = {c: f"{i + 1} ({c})" for i, c in enumerate(header)}

    con = duckdb.connect()
    try:
        con.register("raw", raw)
        table = _normalise(con, path, kind, col_no)
        total = con.execute("SELECT sum(appointments)::BIGINT FROM norm").fetchone()[0]
        period_col = "month" if kind.monthly else "date_trunc('month', date)::DATE"
        periods = [
            r[0]
            for r in con.execute(f"SELECT DISTINCT {period_col} FROM norm ORDER BY 1").fetchall()  # noqa: S608 - fixed text
        ]
        codes = [
            r[0]
            for r in con.execute("SELECT DISTINCT sub_icb_code FROM norm ORDER BY 1").fetchall()
        ]
    finally:
        con.close()
    return AgpFile(
        path=path,
        kind=kind,
        table=table,
        total_appointments=int(total),
        periods=periods,
        sub_icb_codes=codes,
        seconds=time.perf_counter() - started,
    )


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _first_line(con: duckdb.DuckDBPyConnection, where: str, params: list | None = None) -> tuple:
    return con.execute(
        f"SELECT __line, * EXCLUDE (__line) FROM raw WHERE {where} ORDER BY __line LIMIT 1",  # noqa: S608 - built from fixed column names
        params or [],
    ).fetchone()


def _normalise(
    con: duckdb.DuckDBPyConnection, path: Path, kind: FileKind, col_no: dict[str, str]
) -> pa.Table:
    # Counts: whole, non-negative numbers only.
    cc = _q(kind.count_column)
    bad = con.execute(
        f"SELECT __line, {cc} FROM raw WHERE NOT regexp_full_match(trim({cc}), '[0-9]{{1,18}}') "  # noqa: S608
        "ORDER BY __line LIMIT 1"
    ).fetchone()
    if bad:
        raise AgpImportError(
            path,
            bad[0],
            col_no[kind.count_column],
            f"bad count {bad[1]!r}: expected a whole number",
        )
    for required in kind.required:
        bad = con.execute(
            f"SELECT min(__line) FROM raw WHERE trim({_q(required)}) = ''"  # noqa: S608
        ).fetchone()
        if bad[0] is not None:
            raise AgpImportError(path, bad[0], col_no[required], "blank code")

    # Dates: parse each distinct value once.
    dc = _q(kind.date_column)
    date_map: list[tuple[str, dt.date]] = []
    for (value,) in con.execute(f"SELECT DISTINCT {dc} FROM raw").fetchall():  # noqa: S608
        try:
            date_map.append((value, parse_agp_date(value, monthly=kind.monthly)))
        except ValueError as exc:
            line = con.execute(
                f"SELECT min(__line) FROM raw WHERE {dc} = ?",  # noqa: S608
                [value],
            ).fetchone()[0]
            raise AgpImportError(path, line, col_no[kind.date_column], str(exc)) from None
    con.register(
        "date_map", pa.table({"raw": [d[0] for d in date_map], "d": [d[1] for d in date_map]})
    )

    # Labels: canonical spelling for each distinct value, or the first line that has a stranger.
    selects = []
    joins = []
    for i, (published, (store_col, vocab)) in enumerate(kind.columns.items()):
        pc = _q(published)
        if vocab is None:
            selects.append(f"trim(raw.{pc}) AS {_q(store_col)}")
            continue
        pairs: list[tuple[str, str]] = []
        for (value,) in con.execute(f"SELECT DISTINCT {pc} FROM raw").fetchall():  # noqa: S608
            canonical = normalise_label(vocab, value)
            if canonical is None:
                line = con.execute(
                    f"SELECT min(__line) FROM raw WHERE {pc} = ?",  # noqa: S608
                    [value],
                ).fetchone()[0]
                allowed = ", ".join(LABELS[vocab])
                raise AgpImportError(
                    path,
                    line,
                    col_no[published],
                    f"unknown label {value!r}; expected one of: {allowed}",
                )
            pairs.append((value, canonical))
        alias = f"m{i}"
        con.register(
            f"map_{i}", pa.table({"raw": [p[0] for p in pairs], "canon": [p[1] for p in pairs]})
        )
        joins.append(f"JOIN map_{i} {alias} ON raw.{pc} = {alias}.raw")
        selects.append(f"{alias}.canon AS {_q(store_col)}")

    date_col = "month" if kind.monthly else "date"
    sql = (
        f"CREATE TEMP TABLE norm AS SELECT dm.d AS {date_col}, {', '.join(selects)}, "  # noqa: S608
        f"trim(raw.{cc})::BIGINT AS appointments FROM raw "
        f"JOIN date_map dm ON raw.{dc} = dm.raw {' '.join(joins)}"
    )
    con.execute(sql)
    columns = ", ".join(_q(c) for c in store_columns(kind))
    return con.sql(f"SELECT {columns} FROM norm").to_arrow_table()  # noqa: S608 - fixed names
