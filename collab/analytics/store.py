"""The analytics store: where imported AGP rows and collab's own appointments live.

An embedded DuckDB file by default (``COLLAB_ANALYTICS_DB``, else ``var/analytics.duckdb``);
see docs/adr/0005-analytics-store.md. Every write is one DuckDB transaction: a batch of files
or an export is kept whole or not at all. The same DDL creates the tables in PostgreSQL, so the
metric layer can run on either backend.

Nothing here imports Django: the management commands and the booking app call these functions.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from .agp import (
    FILE_KINDS,
    LABELS,
    AgpFile,
    AgpImportError,
    arrow_array,
    directory_columns,
    parse_agp_file,
    store_columns,
)

__all__ = [
    "COLLAB_APPOINTMENT_FIELDS",
    "SHIPPED_AGP_FILES",
    "CollabExportError",
    "Freshness",
    "RefreshResult",
    "SCHEMA",
    "TRIAGE_REQUEST_FIELDS",
    "create_tables_sql",
    "default_store_path",
    "export_collab_appointments",
    "export_collab_appointments_arrow",
    "freshness",
    "import_agp_files",
    "open_store",
    "refresh_collab",
    "sync_practices",
]

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent
# Real AGP files shipped for the demo (sub-ICB 18C history, and samples): see data/agp/README.md.
SHIPPED_AGP_FILES = sorted((Path(__file__).resolve().parent / "data" / "agp").glob("*.csv"))


def default_store_path() -> Path:
    """``COLLAB_ANALYTICS_DB`` if set, else ``settings.ANALYTICS_DB`` if Django is configured,
    else ``var/analytics.duckdb`` in the project."""
    env = os.environ.get("COLLAB_ANALYTICS_DB")
    if env:
        return Path(env)
    try:
        from django.conf import settings

        if settings.configured and getattr(settings, "ANALYTICS_DB", None):
            return Path(settings.ANALYTICS_DB)
    except ImportError:  # pragma: no cover - Django is a dependency; kept importable without it
        pass
    return PROJECT_DIR / "var" / "analytics.duckdb"


# --- schema --------------------------------------------------------------------------------------
# Portable types only (DATE, VARCHAR, BIGINT, BOOLEAN, TIMESTAMP): the same text is valid DDL in
# DuckDB and PostgreSQL.

_AGP_TYPES = {"month": "DATE", "date": "DATE", "appointments": "BIGINT"}


def _agp_schema(kind_name: str) -> list[tuple[str, str]]:
    kind = FILE_KINDS[kind_name]
    return [(c, _AGP_TYPES.get(c, "VARCHAR")) for c in store_columns(kind)]


SCHEMA: dict[str, list[tuple[str, str]]] = {
    **{kind.table: _agp_schema(name) for name, kind in FILE_KINDS.items()},
    # Names of the practices in practice-level files, as last published (one row a practice).
    **{
        kind.directory_table: [(c, _AGP_TYPES.get(c, "VARCHAR")) for c in directory_columns(kind)]
        for kind in FILE_KINDS.values()
        if kind.directory_table
    },
    "agp_import": [
        ("file_name", "VARCHAR"),
        ("kind", "VARCHAR"),
        ("rows", "BIGINT"),
        ("appointments", "BIGINT"),
        ("first_month", "DATE"),
        ("last_month", "DATE"),
        ("sub_icb_codes", "VARCHAR"),
        ("imported_at", "TIMESTAMP"),
    ],
    # collab's own appointments, one row each. The first block is what the booking app gives;
    # the second is derived on the way in, in AGP's vocabulary, so both sources share metrics.
    "collab_appointment": [
        ("appointment_id", "VARCHAR"),
        ("date", "DATE"),
        ("booked_date", "DATE"),
        ("practice_ods", "VARCHAR"),
        ("pcn_ods", "VARCHAR"),
        ("service", "VARCHAR"),
        ("slot_type", "VARCHAR"),
        ("delivery_channel", "VARCHAR"),
        ("clinician_role", "VARCHAR"),
        ("appointment_status", "VARCHAR"),
        ("outcome", "VARCHAR"),
        ("capacity_reserved", "BOOLEAN"),
        ("national_category", "VARCHAR"),
        ("mode", "VARCHAR"),
        ("hcp_type", "VARCHAR"),
        ("status", "VARCHAR"),
        ("time_between_book_and_appt", "VARCHAR"),
    ],
    # collab's triage requests, one row each, from every front door. Labels are the store's own
    # (TRIAGE_* below); time to triage and its bands are derived on the way in.
    "collab_triage_request": [
        ("request_id", "VARCHAR"),
        ("date", "DATE"),
        ("submitted_at", "TIMESTAMP"),
        ("first_triaged_at", "TIMESTAMP"),
        ("practice_ods", "VARCHAR"),
        ("pcn_ods", "VARCHAR"),
        ("channel", "VARCHAR"),
        ("request_kind", "VARCHAR"),
        ("triage_status", "VARCHAR"),
        ("urgency", "VARCHAR"),
        ("route", "VARCHAR"),
        ("triage_service", "VARCHAR"),
        ("triage_method", "VARCHAR"),
        ("overflowed", "BOOLEAN"),
        ("send_backs", "BIGINT"),
        ("minutes_to_triage", "BIGINT"),
        ("time_to_triage", "VARCHAR"),
        ("triaged", "BOOLEAN"),
        ("same_day", "BOOLEAN"),
        ("sent_back", "BOOLEAN"),
    ],
    # One row per refresh of collab's own rows (appointments, triage requests, practices),
    # written in the same transaction as the rows: the newest says how fresh they are.
    "collab_refresh": [
        ("refreshed_at", "TIMESTAMP"),
        ("data_as_of", "TIMESTAMP"),
        ("appointments", "BIGINT"),
        ("triage_requests", "BIGINT"),
        ("practices", "BIGINT"),
        ("milliseconds", "BIGINT"),
        ("trigger", "VARCHAR"),
    ],
    # Practices known to collab, so codes in either source join to PCN and collaborative.
    "org_practice": [
        ("practice_ods", "VARCHAR"),
        ("practice_name", "VARCHAR"),
        ("pcn_ods", "VARCHAR"),
        ("pcn_name", "VARCHAR"),
        ("sub_icb_code", "VARCHAR"),
        ("collaborative", "VARCHAR"),
    ],
}


def create_tables_sql() -> list[str]:
    return [
        f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(f'{c} {t}' for c, t in cols)})"
        for table, cols in SCHEMA.items()
    ]


@contextmanager
def open_store(
    path: str | Path | None = None, *, read_only: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the store, with its tables created. Closed on exit."""
    path = Path(path) if path is not None else default_store_path()
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    if read_only and not path.exists():
        # Nothing imported yet: an empty in-memory store answers every query with no rows.
        con = duckdb.connect()
    else:
        con = duckdb.connect(str(path), read_only=read_only)
    try:
        if not read_only or not path.exists():
            for ddl in create_tables_sql():
                con.execute(ddl)
        else:
            # A store written by an older collab lacks the newer tables: stand in empty
            # temporary ones (a read-only file cannot gain tables) until the next write adds them.
            have = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
            for ddl, table in zip(create_tables_sql(), SCHEMA, strict=True):
                if table not in have:
                    con.execute(ddl.replace("CREATE TABLE", "CREATE TEMP TABLE", 1))
        yield con
    finally:
        con.close()


# --- AGP import ----------------------------------------------------------------------------------

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class ImportResult:
    file_name: str
    kind: str
    rows: int
    appointments: int
    months: list[dt.date]
    sub_icb_codes: list[str]
    rows_per_second: float


def import_agp_files(
    paths: Sequence[str | Path],
    *,
    store: str | Path | None = None,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
) -> list[ImportResult]:
    """Import AGP files all-or-nothing.

    Every file is parsed and checked before anything is written; then, in one transaction,
    each file's (month, sub-ICB) pairs are deleted from its table and its rows inserted, so
    re-importing a month replaces it. Any error leaves the store exactly as it was.
    ``progress(stage, done, total)`` is called as each file is read and written.
    """
    if not paths:
        raise AgpImportError("(no files)", None, None, "give at least one AGP file")
    now = now or dt.datetime.now(dt.UTC)
    total = len(paths) * 2
    parsed: list[AgpFile] = []
    for i, p in enumerate(paths):
        if progress:
            progress(f"reading {Path(p).name}", i, total)
        parsed.append(parse_agp_file(p))
    with open_store(store) as con:
        # Rows are keyed by their columns, not their order: let DuckDB write in parallel.
        con.execute("SET preserve_insertion_order = false")
        # DuckDB draws its own bar on stdout once a statement passes 2 s (a national month on
        # a busy machine); the caller's ``progress`` is the one to show.
        con.execute("SET enable_progress_bar = false")
        con.execute("BEGIN TRANSACTION")
        try:
            for i, f in enumerate(parsed):
                if progress:
                    progress(f"writing {f.path.name}", len(paths) + i, total)
                _replace_agp(con, f, now)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    if progress:
        progress("done", total, total)
    return [
        ImportResult(
            file_name=f.path.name,
            kind=f.kind.name,
            rows=f.rows,
            appointments=f.total_appointments,
            months=f.periods,
            sub_icb_codes=f.sub_icb_codes,
            rows_per_second=f.rows_per_second,
        )
        for f in parsed
    ]


def _replace_agp(con: duckdb.DuckDBPyConnection, f: AgpFile, now: dt.datetime) -> None:
    table = f.kind.table
    period = "month" if f.kind.monthly else "date_trunc('month', date)::DATE"
    con.register("incoming", f.table)
    try:
        con.execute(
            f"DELETE FROM {table} WHERE {period} IN (SELECT UNNEST(?::DATE[])) "  # noqa: S608 - table and period are fixed names
            "AND sub_icb_code IN (SELECT UNNEST(?::VARCHAR[]))",
            [f.periods, f.sub_icb_codes],
        )
        cols = ", ".join(store_columns(f.kind))
        con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM incoming")  # noqa: S608
    finally:
        con.unregister("incoming")
    if f.directory is not None and f.kind.directory_table:
        # Keep one row per practice: the latest month's names win.
        directory = f.kind.directory_table
        con.register("incoming_names", f.directory)
        try:
            cols = ", ".join(directory_columns(f.kind))
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE names AS SELECT {cols} FROM (SELECT {cols} FROM "  # noqa: S608
                f"{directory} UNION ALL SELECT {cols} FROM incoming_names) "
                "QUALIFY row_number() OVER (PARTITION BY practice_ods ORDER BY month DESC) = 1"
            )
            con.execute(
                f"DELETE FROM {directory} WHERE practice_ods IN (SELECT practice_ods FROM names)"  # noqa: S608
            )
            con.execute(f"INSERT INTO {directory} ({cols}) SELECT {cols} FROM names")  # noqa: S608
            con.execute("DROP TABLE names")
        finally:
            con.unregister("incoming_names")
    con.execute(
        "INSERT INTO agp_import VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            f.path.name,
            f.kind.name,
            f.rows,
            f.total_appointments,
            min(f.periods),
            max(f.periods),
            ",".join(f.sub_icb_codes),
            now.replace(tzinfo=None),
        ],
    )


# --- collab's own appointments -------------------------------------------------------------------

SERVICES = ("practice", "hub", "out_of_hours", "triage", "enhanced_access")
DELIVERY_CHANNELS = ("In-person", "Telephone", "Video", "Home visit", "Unknown")
APPOINTMENT_STATUSES = ("booked", "attended", "dna", "cancelled")
OUTCOMES = ("resolved", "follow_up", "referred")

COLLAB_APPOINTMENT_FIELDS: dict[str, str] = {
    "appointment_id": "str, unique within one export (collab's appointment id)",
    "appointment_date": "datetime.date the appointment is (or was) for",
    "booked_date": "datetime.date it was booked, or None if unknown",
    "practice_ods": "ODS code of the patient's practice (the practice whose capacity it is)",
    "pcn_ods": "ODS code of that practice's PCN",
    "service": "one of " + ", ".join(SERVICES),
    "slot_type": "str, the slot's type in lower case, e.g. 'general', 'phlebotomy'",
    "delivery_channel": "one of " + ", ".join(DELIVERY_CHANNELS),
    "clinician_role": "str, e.g. 'GP', 'Practice nurse'; None if not known",
    "status": "one of " + ", ".join(APPOINTMENT_STATUSES),
    "outcome": "None or one of " + ", ".join(OUTCOMES),
    "capacity_reserved": "bool: the slot was capacity a practice bought or reserved (hub)",
    "national_category": "optional: an AGP national category; default 'Unmapped'",
}
_REQUIRED = [k for k in COLLAB_APPOINTMENT_FIELDS if k not in {"national_category"}]


class CollabExportError(ValueError):
    """A row given to export_collab_appointments was refused; names the row and field."""


def _check_fields(where: str, row: Mapping[str, Any], *, required, allowed, non_blank) -> Callable:
    """Refuse a row with a missing, unknown or blank field, naming it; returns the row's error maker."""

    def bad(field: str, why: str) -> CollabExportError:
        return CollabExportError(f"{where}, field {field}: {why} (got {row.get(field)!r})")

    missing = [k for k in required if k not in row]
    if missing:
        raise CollabExportError(f"{where}: missing field(s) {', '.join(missing)}")
    unknown = sorted(set(row) - set(allowed))
    if unknown:
        raise CollabExportError(f"{where}: unknown field(s) {', '.join(unknown)}")
    for key in non_blank:
        if not isinstance(row[key], str) or not row[key].strip():
            raise bad(key, "must be a non-blank string")
    return bad


def _check_row(i: int, row: Mapping[str, Any]) -> tuple:
    bad = _check_fields(f"row {i}", row, required=_REQUIRED, allowed=COLLAB_APPOINTMENT_FIELDS,
                        non_blank=("appointment_id", "practice_ods", "pcn_ods", "slot_type"))
    date = row["appointment_date"]
    if not isinstance(date, dt.date) or isinstance(date, dt.datetime):
        raise bad("appointment_date", "must be a datetime.date")
    booked = row["booked_date"]
    if booked is not None and (not isinstance(booked, dt.date) or isinstance(booked, dt.datetime)):
        raise bad("booked_date", "must be a datetime.date or None")
    for key, allowed in (
        ("service", SERVICES),
        ("delivery_channel", DELIVERY_CHANNELS),
        ("status", APPOINTMENT_STATUSES),
    ):
        if row[key] not in allowed:
            raise bad(key, "must be one of " + ", ".join(allowed))
    if row["outcome"] is not None and row["outcome"] not in OUTCOMES:
        raise bad("outcome", "must be None or one of " + ", ".join(OUTCOMES))
    if not isinstance(row["capacity_reserved"], bool):
        raise bad("capacity_reserved", "must be True or False")
    role = row["clinician_role"]
    if role is not None and not isinstance(role, str):
        raise bad("clinician_role", "must be a string or None")
    category = row.get("national_category") or "Unmapped"
    if category not in LABELS["national_category"]:
        raise bad("national_category", "is not an AGP national category")
    return (
        row["appointment_id"],
        date,
        booked,
        row["practice_ods"].strip().upper(),
        row["pcn_ods"].strip().upper(),
        row["service"],
        row["slot_type"].strip().lower(),
        row["delivery_channel"],
        role,
        row["status"],
        row["outcome"],
        row["capacity_reserved"],
        category,
    )


_RAW_COLLAB = [c for c, _ in SCHEMA["collab_appointment"][:13]]
_RAW_TYPES = {
    "date": pa.date32(),
    "booked_date": pa.date32(),
    "capacity_reserved": pa.bool_(),
}


def _appointment_table(
    rows: Iterable[Mapping[str, Any]], period: tuple[dt.date, dt.date] | None = None
) -> pa.Table:
    """Check every row (all before anything is written) and put them in Arrow columns."""
    columns: list[list] = [[] for _ in _RAW_COLLAB]
    seen: set[str] = set()
    for i, row in enumerate(rows):
        values = _check_row(i, row)
        if values[0] in seen:
            raise CollabExportError(f"row {i}, field appointment_id: {values[0]!r} appears twice")
        seen.add(values[0])
        if period and not (period[0] <= values[1] <= period[1]):
            raise CollabExportError(
                f"row {i}, field appointment_date: {values[1]} is outside the period "
                f"{period[0]} to {period[1]}"
            )
        for col, v in zip(columns, values, strict=True):
            col.append(v)
    return pa.table(
        {
            name: pa.array(col, type=_RAW_TYPES.get(name, pa.string()))
            for name, col in zip(_RAW_COLLAB, columns, strict=True)
        }
    )


def export_collab_appointments(
    rows: Iterable[Mapping[str, Any]],
    *,
    store: str | Path | None = None,
    period: tuple[dt.date, dt.date] | None = None,
) -> int:
    """Write collab's own appointments into the analytics store; returns the rows written.

    Each row is a mapping with exactly the keys in ``COLLAB_APPOINTMENT_FIELDS``
    (``national_category`` optional). With ``period=(first, last)`` only appointments dated in
    that inclusive range are replaced (a row outside it is refused); without it every collab
    appointment in the store is replaced. All-or-nothing: a bad row raises
    :class:`CollabExportError` naming the row and field, and nothing is written.
    :func:`refresh_collab` replaces appointments, triage requests and practices together.
    """
    return export_collab_appointments_arrow(
        _appointment_table(rows, period), store=store, period=period
    )


# AGP's vocabulary, derived set-wise on the way in (one place for both the dict and Arrow paths).
_DERIVED_SQL = """
    CASE delivery_channel WHEN 'In-person' THEN 'Face-to-Face' WHEN 'Telephone' THEN 'Telephone'
        WHEN 'Video' THEN 'Video/Online' WHEN 'Home visit' THEN 'Home Visit' ELSE 'Unknown' END,
    CASE WHEN clinician_role IS NULL THEN 'Unknown' WHEN upper(clinician_role) = 'GP' THEN 'GP'
        ELSE 'Other Practice staff' END,
    CASE appointment_status WHEN 'attended' THEN 'Attended' WHEN 'dna' THEN 'DNA'
        WHEN 'cancelled' THEN 'Cancelled' ELSE 'Unknown' END,
    CASE WHEN booked_date IS NULL OR booked_date > date THEN 'Unknown'
        WHEN date - booked_date = 0 THEN 'Same Day'
        WHEN date - booked_date = 1 THEN '1 Day'
        WHEN date - booked_date <= 7 THEN '2 to 7 Days'
        WHEN date - booked_date <= 14 THEN '8 to 14 Days'
        WHEN date - booked_date <= 21 THEN '15 to 21 Days'
        WHEN date - booked_date <= 28 THEN '22 to 28 Days'
        ELSE 'More than 28 Days' END
"""


def export_collab_appointments_arrow(
    table: pa.Table,
    *,
    store: str | Path | None = None,
    period: tuple[dt.date, dt.date] | None = None,
) -> int:
    """The set-wise path under :func:`export_collab_appointments`, for already-checked columns
    (the first 13 columns of ``collab_appointment``; ``status`` named ``appointment_status``
    there or ``status`` here). Used directly by the benchmark's 10-million-row load."""
    with open_store(store) as con, _transaction(con):
        _write_appointments(con, table, period)
    return table.num_rows


@contextmanager
def _transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """One DuckDB transaction: committed whole, or rolled back on any error (even ^C)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
        con.execute("COMMIT")
    except BaseException:
        # A failed COMMIT has already ended the transaction: the original error is what matters.
        with suppress(duckdb.Error):
            con.execute("ROLLBACK")
        raise


@contextmanager
def _registered(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> Iterator[None]:
    """``table`` visible to SQL as ``name`` for the block."""
    con.register(name, table)
    try:
        yield
    finally:
        # After a failed statement DuckDB refuses even this until the rollback: the failure
        # itself is the error to report.
        with suppress(duckdb.Error):
            con.unregister(name)


def _write_appointments(
    con: duckdb.DuckDBPyConnection,
    table: pa.Table,
    period: tuple[dt.date, dt.date] | None = None,
) -> None:
    if "status" in table.column_names and "appointment_status" not in table.column_names:
        table = table.rename_columns(
            ["appointment_status" if c == "status" else c for c in table.column_names]
        )
    cols = ", ".join(_RAW_COLLAB)
    with _registered(con, "incoming", table):
        if period:
            con.execute("DELETE FROM collab_appointment WHERE date BETWEEN ? AND ?", list(period))
        else:
            con.execute("DELETE FROM collab_appointment")
        con.execute(
            # Stored in (service, date) order: DuckDB's per-block min/max then skips most
            # of the table for a date range or one service (7x faster for "last week").
            f"INSERT INTO collab_appointment SELECT {cols}, {_DERIVED_SQL} FROM incoming "  # noqa: S608 - fixed names
            "ORDER BY service, date"
        )


_PRACTICE_COLUMNS = [c for c, _ in SCHEMA["org_practice"]]


def _practice_table(practices: Iterable[Mapping[str, str]]) -> pa.Table:
    rows = []
    for i, p in enumerate(practices):
        missing = [n for n in _PRACTICE_COLUMNS if not p.get(n)]
        if missing:
            raise CollabExportError(f"practice {i}: missing {', '.join(missing)}")
        rows.append([str(p[n]).strip() for n in _PRACTICE_COLUMNS])
    return pa.table({n: arrow_array([r[j] for r in rows], pa.string()) for j, n in enumerate(_PRACTICE_COLUMNS)})


def _write_practices(con: duckdb.DuckDBPyConnection, table: pa.Table) -> None:
    with _registered(con, "incoming_practices", table):
        con.execute("DELETE FROM org_practice")
        con.execute("INSERT INTO org_practice SELECT * FROM incoming_practices")


def sync_practices(
    practices: Iterable[Mapping[str, str]], *, store: str | Path | None = None
) -> int:
    """Replace the store's practice list (practice_ods, practice_name, pcn_ods, pcn_name,
    sub_icb_code, collaborative), so AGP and collab rows join to collab's organisations."""
    table = _practice_table(practices)
    with open_store(store) as con, _transaction(con):
        _write_practices(con, table)
    return table.num_rows


# --- collab's triage requests --------------------------------------------------------------------
# The store's own labels: short enough for a chart axis. collab.triage.exports maps its choices
# onto these (and a test there proves every choice has one).

TRIAGE_CHANNELS = ("Online form", "Phone call", "NHS 111", "A&E streaming", "Practice clinician")
TRIAGE_REQUEST_KINDS = ("Medical", "Admin")
TRIAGE_STATUSES = ("Waiting for triage", "Waiting for the service", "Booked", "Closed")
TRIAGE_URGENCIES = ("Emergency", "Urgent", "Soon", "Routine")
TRIAGE_ROUTES = (
    "Practice",
    "Remote hub",
    "Community pharmacy",
    "MSK physiotherapy",
    "Social prescribing",
    "Children's respiratory hub",
    "Enhanced access",
    "Out of hours",
    "A&E or 999",
)
TRIAGE_SERVICES = TRIAGE_ROUTES[:-1]  # the services a route can be given to; A&E/999 is none
TRIAGE_METHODS = ("Clinician", "Referring service", "Rule")
NOT_TRIAGED = "Not triaged yet"
NO_SERVICE = "None: A&E or 999"
# Time from the request arriving to its first triage, in bands (lower bound in minutes).
TIME_TO_TRIAGE = (
    (0, "Under 1 hour"),
    (60, "1 to 4 hours"),
    (240, "4 to 24 hours"),
    (1440, "1 to 7 days"),
    (10080, "More than 7 days"),
)

TRIAGE_REQUEST_FIELDS: dict[str, str] = {
    "request_id": "str, unique within one export (collab's request id)",
    "submitted_at": "naive datetime.datetime, England's wall-clock time the request arrived",
    "first_triaged_at": "naive datetime.datetime of its first triage (England), or None",
    "practice_ods": "ODS code of the patient's practice",
    "pcn_ods": "ODS code of that practice's PCN",
    "channel": "the front door: one of " + ", ".join(TRIAGE_CHANNELS),
    "request_kind": "one of " + ", ".join(TRIAGE_REQUEST_KINDS),
    "status": "one of " + ", ".join(TRIAGE_STATUSES),
    "urgency": "the current triage's urgency, one of "
    + ", ".join(TRIAGE_URGENCIES)
    + "; None while waiting for triage",
    "route": "the current triage's route, one of "
    + ", ".join(TRIAGE_ROUTES)
    + "; None while waiting for triage",
    "service": "the service the route gave it to (one of the routes but A&E or 999), "
    "or None for A&E or 999 and while waiting for triage",
    "method": "who triaged it: one of " + ", ".join(TRIAGE_METHODS) + "; None while waiting",
    "overflowed": "bool: the practice was full and the request went to the hub",
    "send_backs": "int >= 0: times it was sent back for re-triage",
}


def time_to_triage_band(minutes: int | None) -> str:
    if minutes is None:
        return NOT_TRIAGED
    return next(label for floor, label in reversed(TIME_TO_TRIAGE) if minutes >= floor)


def _check_triage_row(i: int, row: Mapping[str, Any]) -> tuple:
    bad = _check_fields(f"request {i}", row, required=TRIAGE_REQUEST_FIELDS, allowed=TRIAGE_REQUEST_FIELDS,
                        non_blank=("request_id", "practice_ods", "pcn_ods"))
    for key in ("submitted_at", "first_triaged_at"):
        value = row[key]
        if value is None and key == "first_triaged_at":
            continue
        if not isinstance(value, dt.datetime) or value.tzinfo is not None:
            raise bad(key, "must be a naive datetime.datetime (England's wall-clock time)")
    for key, allowed, optional in (
        ("channel", TRIAGE_CHANNELS, False),
        ("request_kind", TRIAGE_REQUEST_KINDS, False),
        ("status", TRIAGE_STATUSES, False),
        ("urgency", TRIAGE_URGENCIES, True),
        ("route", TRIAGE_ROUTES, True),
        ("service", TRIAGE_SERVICES, True),
        ("method", TRIAGE_METHODS, True),
    ):
        if not (row[key] in allowed or (optional and row[key] is None)):
            raise bad(
                key, "must be " + ("None or " if optional else "") + "one of " + ", ".join(allowed)
            )
    if not isinstance(row["overflowed"], bool):
        raise bad("overflowed", "must be True or False")
    sends = row["send_backs"]
    if not isinstance(sends, int) or isinstance(sends, bool) or sends < 0:
        raise bad("send_backs", "must be a whole number, 0 or more")
    waiting = row["status"] == "Waiting for triage"
    if (row["route"] is None) != waiting:
        raise bad("route", "is None exactly while the request is waiting for triage")
    if any((row[k] is None) != waiting for k in ("urgency", "method")):
        raise bad("urgency", "urgency and method are given with a route, and only then")
    if (row["service"] is None) != (waiting or row["route"] == "A&E or 999"):
        raise bad("service", "is None only for A&E or 999 and while waiting for triage")
    submitted, first = row["submitted_at"], row["first_triaged_at"]
    if first is None and (not waiting or sends):
        raise bad("first_triaged_at", "a triaged or sent-back request has a first triage")
    minutes = None
    if first is not None:
        if first < submitted:
            raise bad("first_triaged_at", "is before the request arrived")
        minutes = int((first - submitted).total_seconds() // 60)
    return (
        row["request_id"],
        submitted.date(),
        submitted,
        first,
        row["practice_ods"].strip().upper(),
        row["pcn_ods"].strip().upper(),
        row["channel"],
        row["request_kind"],
        row["status"],
        row["urgency"] or NOT_TRIAGED,
        row["route"] or NOT_TRIAGED,
        row["service"] or (NOT_TRIAGED if waiting else NO_SERVICE),
        row["method"] or NOT_TRIAGED,
        row["overflowed"],
        sends,
        minutes,
        time_to_triage_band(minutes),
        first is not None,
        None if first is None else first.date() == submitted.date(),
        sends > 0,
    )


_TRIAGE_TYPES = {
    "DATE": pa.date32(),
    "TIMESTAMP": pa.timestamp("us"),
    "BIGINT": pa.int64(),
    "BOOLEAN": pa.bool_(),
    "VARCHAR": pa.string(),
}


def _triage_table(rows: Iterable[Mapping[str, Any]]) -> pa.Table:
    schema = SCHEMA["collab_triage_request"]
    columns: list[list] = [[] for _ in schema]
    seen: set[str] = set()
    for i, row in enumerate(rows):
        values = _check_triage_row(i, row)
        if values[0] in seen:
            raise CollabExportError(f"request {i}, field request_id: {values[0]!r} appears twice")
        seen.add(values[0])
        for col, v in zip(columns, values, strict=True):
            col.append(v)
    return pa.table(
        {
            name: pa.array(col, type=_TRIAGE_TYPES[t])
            for (name, t), col in zip(schema, columns, strict=True)
        }
    )


def _write_triage(con: duckdb.DuckDBPyConnection, table: pa.Table) -> None:
    con.register("incoming_triage", table)
    try:
        con.execute("DELETE FROM collab_triage_request")
        con.execute("INSERT INTO collab_triage_request SELECT * FROM incoming_triage ORDER BY date")
    finally:
        con.unregister("incoming_triage")


# --- refreshing collab's own rows together -------------------------------------------------------

REFRESH_TRIGGERS = ("command", "dashboard", "demo")


@dataclass(frozen=True)
class RefreshResult:
    appointments: int
    triage_requests: int
    practices: int | None
    data_as_of: dt.datetime
    refreshed_at: dt.datetime
    seconds: float


def refresh_collab(
    *,
    appointments: Iterable[Mapping[str, Any]],
    triage_requests: Iterable[Mapping[str, Any]],
    practices: Iterable[Mapping[str, str]] | None = None,
    data_as_of: dt.datetime,
    trigger: str = "command",
    store: str | Path | None = None,
    started_at: dt.datetime | None = None,
    now: Callable[[], dt.datetime] | None = None,
) -> RefreshResult:
    """Replace every collab row in the store in one transaction: appointments, triage requests
    and (if given) the practice list, and log the refresh beside them.

    Idempotent (the same input leaves the same store) and all-or-nothing: every row is checked
    before anything is written, and any error while writing rolls the store back whole, so
    readers see the old rows or the new, never a mixture. ``data_as_of`` is when collab's
    database was read (timezone-aware); ``started_at``, when the caller began reading it
    (the time taken is counted from there; by default from this call).
    """
    if trigger not in REFRESH_TRIGGERS:
        raise ValueError(f"trigger must be one of {', '.join(REFRESH_TRIGGERS)}")
    if data_as_of.tzinfo is None:
        raise ValueError("data_as_of must be timezone-aware")
    clock = now or (lambda: dt.datetime.now(dt.UTC))
    started = started_at or clock()
    appointment_table = _appointment_table(appointments)
    triage_table = _triage_table(triage_requests)
    practice_table = _practice_table(practices) if practices is not None else None
    with open_store(store) as con, _transaction(con):
        _write_appointments(con, appointment_table)
        _write_triage(con, triage_table)
        if practice_table is not None:
            _write_practices(con, practice_table)
        finished = clock()
        seconds = (finished - started).total_seconds()
        con.execute(
            "INSERT INTO collab_refresh VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                _utc_naive(finished),
                _utc_naive(data_as_of),
                appointment_table.num_rows,
                triage_table.num_rows,
                None if practice_table is None else practice_table.num_rows,
                round(seconds * 1000),
                trigger,
            ],
        )
    return RefreshResult(
        appointments=appointment_table.num_rows,
        triage_requests=triage_table.num_rows,
        practices=None if practice_table is None else practice_table.num_rows,
        data_as_of=data_as_of,
        refreshed_at=finished,
        seconds=seconds,
    )


def _utc_naive(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else value.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Freshness:
    """How fresh each source in the store is. Times are timezone-aware (UTC)."""

    collab_as_of: dt.datetime | None  # when collab's database was read for the latest refresh
    collab_refreshed_at: dt.datetime | None
    appointments: int | None
    triage_requests: int | None
    agp_imported_at: dt.datetime | None
    agp_latest_month: dt.date | None


def freshness(con: duckdb.DuckDBPyConnection) -> Freshness:
    """Read the newest refresh and AGP import from an open store (read-only is fine)."""
    last = con.execute(
        "SELECT data_as_of, refreshed_at, appointments, triage_requests FROM collab_refresh "
        "ORDER BY refreshed_at DESC LIMIT 1"
    ).fetchone()
    agp = con.execute("SELECT max(imported_at), max(last_month) FROM agp_import").fetchone()
    return Freshness(
        collab_as_of=_utc(last[0]) if last else None,
        collab_refreshed_at=_utc(last[1]) if last else None,
        appointments=last[2] if last else None,
        triage_requests=last[3] if last else None,
        agp_imported_at=_utc(agp[0]),
        agp_latest_month=agp[1],
    )
