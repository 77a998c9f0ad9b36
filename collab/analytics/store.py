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
from contextlib import contextmanager
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
    "SCHEMA",
    "create_tables_sql",
    "default_store_path",
    "export_collab_appointments",
    "export_collab_appointments_arrow",
    "import_agp_files",
    "open_store",
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
DELIVERY_CHANNELS = ("In-person", "Telephone", "Video", "Home visit")
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


def _check_row(i: int, row: Mapping[str, Any]) -> tuple:
    def bad(field: str, why: str) -> CollabExportError:
        return CollabExportError(f"row {i}, field {field}: {why} (got {row.get(field)!r})")

    missing = [k for k in _REQUIRED if k not in row]
    if missing:
        raise CollabExportError(f"row {i}: missing field(s) {', '.join(missing)}")
    unknown = sorted(set(row) - set(COLLAB_APPOINTMENT_FIELDS))
    if unknown:
        raise CollabExportError(f"row {i}: unknown field(s) {', '.join(unknown)}")
    for key in ("appointment_id", "practice_ods", "pcn_ods", "slot_type"):
        if not isinstance(row[key], str) or not row[key].strip():
            raise bad(key, "must be a non-blank string")
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
    """
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
    table = pa.table(
        {
            name: pa.array(col, type=_RAW_TYPES.get(name, pa.string()))
            for name, col in zip(_RAW_COLLAB, columns, strict=True)
        }
    )
    return export_collab_appointments_arrow(table, store=store, period=period)


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
    if "status" in table.column_names and "appointment_status" not in table.column_names:
        table = table.rename_columns(
            ["appointment_status" if c == "status" else c for c in table.column_names]
        )
    cols = ", ".join(_RAW_COLLAB)
    with open_store(store) as con:
        con.register("incoming", table)
        con.execute("BEGIN TRANSACTION")
        try:
            if period:
                con.execute(
                    "DELETE FROM collab_appointment WHERE date BETWEEN ? AND ?", list(period)
                )
            else:
                con.execute("DELETE FROM collab_appointment")
            con.execute(
                # Stored in (service, date) order: DuckDB's per-block min/max then skips most
                # of the table for a date range or one service (7x faster for "last week").
                f"INSERT INTO collab_appointment SELECT {cols}, {_DERIVED_SQL} FROM incoming "  # noqa: S608 - fixed names
                "ORDER BY service, date"
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        finally:
            con.unregister("incoming")
    return table.num_rows


def sync_practices(
    practices: Iterable[Mapping[str, str]], *, store: str | Path | None = None
) -> int:
    """Replace the store's practice list (practice_ods, practice_name, pcn_ods, pcn_name,
    sub_icb_code, collaborative), so AGP and collab rows join to collab's organisations."""
    names = [c for c, _ in SCHEMA["org_practice"]]
    rows = []
    for i, p in enumerate(practices):
        missing = [n for n in names if not p.get(n)]
        if missing:
            raise CollabExportError(f"practice {i}: missing {', '.join(missing)}")
        rows.append([str(p[n]).strip() for n in names])
    table = pa.table(
        {n: arrow_array([r[j] for r in rows], pa.string()) for j, n in enumerate(names)}
    )
    with open_store(store) as con:
        con.register("incoming", table)
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute("DELETE FROM org_practice")
            con.execute("INSERT INTO org_practice SELECT * FROM incoming")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return len(rows)
