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

Speed: the file is read once by pyarrow's multi-threaded CSV reader, every text column
dictionary-encoded while parsing. Labels, codes and dates have few distinct values, so each is
checked and normalised once in Python and the codes are reused; no Python code runs per row.
Counts are parsed as integers while reading; only if that fails is the file read again with
counts as text, to name the bad cell. Nothing here imports pandas: ``pa.array`` would, and that
alone costs a command-line import more than half a second.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import time
from array import array
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

__all__ = [
    "AgpFile",
    "AgpImportError",
    "FILE_KINDS",
    "LABELS",
    "arrow_array",
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
    # store columns kept once per code in a directory table, not on every row (names repeat
    # on each of a practice's ~200 rows a month; keeping them out halves the national write)
    directory: tuple[str, ...] = ()
    directory_table: str | None = None

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
            directory=("practice_name", "supplier", "pcn_name", "sub_icb_name"),
            directory_table="agp_practice",
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
    kept = [col for col, _ in kind.columns.values() if col not in kind.directory]
    return [date_col, *kept, "appointments"]


def directory_columns(kind: FileKind) -> list[str]:
    """The directory table's columns: the code, its names, and the codes it sits under."""
    if not kind.directory:
        return []
    return ["practice_ods", "pcn_ods", "sub_icb_code", *kind.directory, "month"]


@dataclass
class AgpFile:
    """A parsed, validated file: an Arrow table in store columns, ready to be written."""

    path: Path
    kind: FileKind
    table: pa.Table
    directory: pa.Table | None
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
    with path.open("rb") as f:
        first = f.readline()
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AgpImportError(
            path, 1, None, f"the header is not UTF-8 text ({exc.reason})"
        ) from None
    if not text.strip():
        raise AgpImportError(path, 1, None, "the file is empty: expected a header row")

    return [c.strip() for c in next(csv.reader([text]))]


def _data_lines(path: Path):
    """(line number, text) of each data line, as the CSV reader counts rows: the header is
    line 1 and empty lines are skipped. Only for naming lines after something went wrong."""
    with path.open("r", encoding="utf-8-sig", errors="surrogateescape", newline=None) as f:
        f.readline()
        for number, text in enumerate(f, start=2):
            if text.rstrip("\n"):
                yield number, text


def _line_of_row(path: Path, row: int) -> int:
    """The line number of data row ``row`` (0-based). Values may not span lines, so it is row+2
    unless empty lines (which the reader skips) come before it."""
    for i, (number, _) in enumerate(_data_lines(path)):
        if i == row:
            return number
    return row + 2  # pragma: no cover - the row came from this file


def _locate_parse_error(path: Path, width: int) -> tuple[int, str]:
    """Slow path, only after pyarrow refused the file: find the first malformed line."""
    with path.open("r", encoding="utf-8-sig", errors="surrogateescape", newline="") as f:
        reader = csv.reader(f)
        next(reader, None)  # the header, already checked
        while True:
            start = reader.line_num + 1
            row = next(reader, None)
            if row is None:
                return 0, "the CSV could not be parsed"
            if not row:
                continue  # an empty line: pyarrow skips it too
            if reader.line_num > start or any("\r" in v for v in row):
                return start, "a value runs over more than one line"
            if len(row) != width:
                return start, f"expected {width} fields, found {len(row)}"


def parse_agp_file(path: str | Path) -> AgpFile:
    """Read, check and normalise one AGP file. Raises AgpImportError; never returns partial data."""
    path = Path(path)
    started = time.perf_counter()
    if not path.is_file():
        raise AgpImportError(path, None, None, "no such file")
    header = _read_header(path)
    kind = _detect_kind(path, header)
    # Fast path: counts parsed as integers while reading. Any conversion or shape error sends
    # the file down the careful path, which reads counts as text so the bad cell can be named.
    raw = _read(path, header, kind, counts_as=pa.int64())
    if raw is None:
        raw = _read(path, header, kind, counts_as=_TEXT)
        if raw is None:
            line, problem = _locate_parse_error(path, len(header))
            raise AgpImportError(path, line or None, None, problem)
    if raw.num_rows == 0:
        raise AgpImportError(path, 2, None, "the file has a header but no rows")
    col_no = {c: f"{i + 1} ({c})" for i, c in enumerate(header)}
    full = _normalise(raw.unify_dictionaries(), path, kind, col_no)
    table = full.select(store_columns(kind))
    directory = None
    if kind.directory:
        names = directory_columns(kind)
        directory = _distinct_rows(full.select(names))
    total = pc.sum(table.column("appointments")).as_py() or 0
    dates = table.column(0)
    if not kind.monthly:
        dates = pc.floor_temporal(dates, unit="month")
    periods = sorted(pc.unique(dates).to_pylist())
    codes = sorted(pc.unique(table.column("sub_icb_code")).to_pylist())
    return AgpFile(
        path=path,
        kind=kind,
        table=table,
        directory=directory,
        total_appointments=int(total),
        periods=periods,
        sub_icb_codes=codes,
        seconds=time.perf_counter() - started,
    )


# Text columns are dictionary-encoded while parsing: labels and codes repeat, so every later
# check touches each distinct value once.
_TEXT = pa.dictionary(pa.int32(), pa.string())
# 4 MiB blocks: a national month is still read in parallel, and blocks this size are reused by
# the allocator; 16 MiB blocks were fresh memory each time (a third more CPU on a cold start).
_BLOCK_SIZE = 1 << 22


def _read(path: Path, header: list[str], kind: FileKind, counts_as: pa.DataType) -> pa.Table | None:
    """The file as Arrow, or None if pyarrow refuses it. UTF-8 is not checked per value here
    but once per distinct value in :func:`_map_dictionary`, which can name the line."""
    try:
        return pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(
                column_names=header, skip_rows=1, block_size=_BLOCK_SIZE, encoding="utf8"
            ),
            parse_options=pacsv.ParseOptions(newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(
                column_types={c: counts_as if c == kind.count_column else _TEXT for c in header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                check_utf8=False,
            ),
        )
    except pa.ArrowInvalid:
        return None


def _first_index(mask: pa.ChunkedArray | pa.Array) -> int:
    """Index of the first true value of a boolean mask (there must be one)."""
    return pc.index(mask, True).as_py()


def _normalise(raw: pa.Table, path: Path, kind: FileKind, col_no: dict[str, str]) -> pa.Table:
    # Text columns are dictionary encoded, so each distinct value is checked and normalised
    # once in Python and the codes are reused. Checks run column by column, counts first.
    _refuse_values_over_lines(raw, path, col_no)
    cc = kind.count_column
    counts = raw.column(cc)
    if pa.types.is_dictionary(counts.type):  # the careful path: name the first bad count
        counts = _map_dictionary(counts, _count, pa.int64(), path, col_no[cc])
    elif pc.min(counts).as_py() < 0:
        i = _first_index(pc.less(counts, 0))
        raise AgpImportError(
            path,
            _line_of_row(path, i),
            col_no[cc],
            f"bad count '{counts[i].as_py()}': expected a whole number",
        )
    out: dict[str, pa.ChunkedArray] = {}
    out["month" if kind.monthly else "date"] = _map_dictionary(
        raw.column(kind.date_column),
        lambda v: parse_agp_date(v, monthly=kind.monthly),
        pa.date32(),
        path,
        col_no[kind.date_column],
    )
    for published, (store_col, vocab) in kind.columns.items():
        column = raw.column(published)
        if vocab is None:
            out[store_col] = _map_dictionary(
                column,
                _required_text if published in kind.required else str.strip,
                pa.string(),
                path,
                col_no[published],
            )
            continue
        out[store_col] = _map_dictionary(
            column, lambda v, vocab=vocab: _label(vocab, v), pa.string(), path, col_no[published]
        )
    out["appointments"] = counts
    date_col = "month" if kind.monthly else "date"
    names = [date_col, *(c for c, _ in kind.columns.values()), "appointments"]
    return pa.table({c: out[c] for c in names})


def _refuse_values_over_lines(raw: pa.Table, path: Path, col_no: dict[str, str]) -> None:
    """Refuse a quoted value holding a line break, naming the line it starts on. The reader
    is told values never span lines (so it can split the file between threads) and does not
    always notice one; every later line number relies on there being none."""
    first: tuple[int, str] | None = None
    for name in raw.column_names:
        column = raw.column(name)
        if not pa.types.is_dictionary(column.type):
            continue
        values = column.chunk(0).dictionary.cast(pa.binary()).to_pylist()  # shared once unified
        for code, value in enumerate(values):
            if b"\n" in value or b"\r" in value:
                row = _first_index(pc.equal(column.combine_chunks().indices, code))
                if first is None or row < first[0]:
                    first = (row, name)
    if first is not None:
        row, name = first
        raise AgpImportError(
            path, _line_of_row(path, row), col_no[name], "a value runs over more than one line"
        )


_COUNT = re.compile(r"[0-9]{1,18}", re.ASCII)


def _count(value: str) -> int:
    text = value.strip()
    if not _COUNT.fullmatch(text):
        raise ValueError(f"bad count {value!r}: expected a whole number")
    return int(text)


def _required_text(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("blank code")
    return value


def _label(vocab: str, value: str) -> str:
    canonical = normalise_label(vocab, value)
    if canonical is None:
        raise ValueError(f"unknown label {value!r}; expected one of: {', '.join(LABELS[vocab])}")
    return canonical


def _map_dictionary(column, parse, type_, path: Path, column_name: str) -> pa.ChunkedArray:
    """Apply ``parse`` to each distinct value of a dictionary-encoded column; a ValueError, or
    a value that is not UTF-8, names the first line holding it. Text columns stay
    dictionary-encoded; dates and counts are decoded. The reader's chunks are kept (they all
    share one dictionary once unified): no copy of the column, and DuckDB writes them in
    parallel."""
    dictionary = column.chunk(0).dictionary
    indices = pa.chunked_array([chunk.indices for chunk in column.chunks], pa.int32())

    def refuse(code: int, problem: str) -> AgpImportError:
        row = _first_index(pc.equal(indices, code))
        return AgpImportError(path, _line_of_row(path, row), column_name, problem)

    try:
        dictionary.validate(full=True)  # UTF-8, once per distinct value
    except pa.ArrowInvalid:
        for code, value in enumerate(dictionary.cast(pa.binary()).to_pylist()):
            try:
                value.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise refuse(code, f"not UTF-8 text: {value!r} ({exc.reason})") from None
        raise
    mapped = []
    for code, value in enumerate(dictionary.to_pylist()):
        try:
            mapped.append(parse(value))
        except ValueError as exc:
            raise refuse(code, str(exc)) from None
    values = arrow_array(mapped, type_)
    if not pa.types.is_string(type_):
        return pc.take(values, indices)
    if len(set(mapped)) < len(mapped):  # spellings met on one canonical: one code each again
        unique = pc.dictionary_encode(values)
        indices, values = pc.take(unique.indices, indices), unique.dictionary
    return pa.chunked_array(
        [pa.DictionaryArray.from_arrays(chunk, values, safe=False) for chunk in indices.chunks],
        _TEXT,
    )


_EPOCH = dt.date(1970, 1, 1).toordinal()


def arrow_array(values: list, type_: pa.DataType) -> pa.Array:
    """``pa.array(values, type_)`` for the few types used here, built from buffers: pa.array
    imports pandas just to check whether the values came from it (over half a second on a
    command-line import). Arrow buffers are little-endian, as ``array`` is on every platform
    pyarrow ships for."""
    if pa.types.is_string(type_):
        data = [v.encode() for v in values]
        offsets = array("i", [0])
        end = 0
        for item in data:
            end += len(item)
            offsets.append(end)
        buffers = [None, pa.py_buffer(offsets.tobytes()), pa.py_buffer(b"".join(data))]
    elif type_ == pa.date32():
        buffers = [None, pa.py_buffer(array("i", [d.toordinal() - _EPOCH for d in values]))]
    elif type_ == pa.int64():
        buffers = [None, pa.py_buffer(array("q", values))]
    else:  # pragma: no cover - only the types above are built
        raise TypeError(type_)
    return pa.Array.from_buffers(type_, len(values), buffers)


def _int32s(array_: pa.Array) -> np.ndarray:
    """The values of a 32-bit array without nulls, as numpy, zero-copy (``to_numpy`` would
    import pandas)."""
    return np.frombuffer(
        array_.buffers()[1], dtype=np.int32, count=len(array_), offset=array_.offset * 4
    )


def _distinct_rows(table: pa.Table) -> pa.Table:
    """The distinct rows of a table of dictionary-encoded and date columns (Arrow's group_by
    would load Acero, and with it pandas). Each row's codes are packed into one fixed-width
    key, two bytes a code when every code fits, so one hash pass finds the distinct rows."""
    codes = [
        [
            _int32s(c.indices if pa.types.is_dictionary(c.type) else c.view(pa.int32()))
            for c in column.chunks
        ]
        for column in table.columns
    ]
    narrow = all(0 <= a.min() and a.max() <= 0xFFFF for col in codes for a in col if len(a))
    dtype = np.dtype(np.uint16 if narrow else np.uint32)
    width = len(codes)
    keys = np.empty((table.num_rows, width), dtype)  # row-major: one key per row
    for j, chunks in enumerate(codes):
        start = 0
        for chunk in chunks:
            keys[start : start + len(chunk), j] = chunk
            start += len(chunk)
    size = dtype.itemsize * width
    packed = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(size), len(keys), [None, pa.py_buffer(keys)]
    )
    distinct = pc.unique(packed)
    rows = np.frombuffer(
        distinct.buffers()[1], dtype, len(distinct) * width, distinct.offset * size
    ).reshape(-1, width)
    out = {}
    for j, (name, column) in enumerate(zip(table.column_names, table.columns, strict=True)):
        picked = rows[:, j].astype(np.int32)
        indices = pa.Array.from_buffers(pa.int32(), len(picked), [None, pa.py_buffer(picked)])
        if pa.types.is_dictionary(column.type):
            out[name] = pc.take(column.chunk(0).dictionary, indices)  # one dictionary for all
        else:
            out[name] = indices.view(column.type)
    return pa.table(out)
