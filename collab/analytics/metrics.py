"""The metric layer: each metric and each source defined once, as data.

Two engines interpret these definitions: :func:`expression` builds an Ibis expression (DuckDB by
default, any Ibis backend such as PostgreSQL, Trino or Spark for a national deployment) and
:mod:`collab.analytics.reference` runs them in plain Python. Generated tests prove the engines
agree (tests/test_metrics.py).

A metric is a weighted count of rows (``numerator``), optionally over another
(``denominator``), grouped by any dimensions the source has. Every row carries a weight: the
published COUNT_OF_APPOINTMENTS for AGP rows, 1 for collab's own appointments and triage
requests. A metric counts one unit (appointments or triage requests) and runs only on sources
whose rows are that unit.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

__all__ = [
    "DIMENSIONS",
    "METRICS",
    "SOURCES",
    "Cond",
    "Metric",
    "MetricError",
    "Source",
    "available",
    "connect_duckdb",
    "expression",
    "metric_rows",
    "sql",
]


class MetricError(ValueError):
    """A metric asked for something its source cannot give (names what and what would do)."""


@dataclass(frozen=True)
class Cond:
    """Rows whose ``column`` is one of ``values`` (or, negated, is known and not one of them)."""

    column: str
    values: frozenset[Any]
    negate: bool = False

    @classmethod
    def of(cls, column: str, *values: Any, negate: bool = False) -> Cond:
        return cls(column, frozenset(values), negate)


@dataclass(frozen=True)
class Metric:
    name: str
    description: str
    numerator: tuple[Cond, ...] = ()  # all must hold; () counts every row
    denominator: tuple[Cond, ...] | None = None  # None: a count, not a ratio
    unit: str = "appointment"  # what a row is: "appointment" or "triage request"

    @property
    def is_ratio(self) -> bool:
        return self.denominator is not None

    @property
    def columns(self) -> set[str]:
        return {c.column for c in (*self.numerator, *(self.denominator or ()))}


REMOTE = ("Telephone", "Video/Online")

METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("appointments", "Appointments (attended, did not attend or status unknown)"),
        Metric("attended", "Appointments attended", (Cond.of("status", "Attended"),)),
        Metric("dna", "Appointments not attended (DNA)", (Cond.of("status", "DNA"),)),
        Metric(
            "same_day_share",
            "Share booked on the day, of appointments whose booking interval is known",
            (Cond.of("time_between_book_and_appt", "Same Day"),),
            (Cond.of("time_between_book_and_appt", "Unknown", negate=True),),
        ),
        Metric(
            "booked_ahead_share",
            "Share booked a day or more ahead, of appointments whose booking interval is known",
            (Cond.of("time_between_book_and_appt", "Same Day", "Unknown", negate=True),),
            (Cond.of("time_between_book_and_appt", "Unknown", negate=True),),
        ),
        Metric(
            "dna_rate",
            "Did not attend, of appointments attended or not attended",
            (Cond.of("status", "DNA"),),
            (Cond.of("status", "Attended", "DNA"),),
        ),
        Metric(
            "remote_share",
            "Telephone or video, of appointments whose mode is known",
            (Cond.of("mode", *REMOTE),),
            (Cond.of("mode", "Unknown", negate=True),),
        ),
        Metric(
            "face_to_face_share",
            "Face to face, of appointments whose mode is known",
            (Cond.of("mode", "Face-to-Face"),),
            (Cond.of("mode", "Unknown", negate=True),),
        ),
        Metric(
            "gp_share",
            "Seen by a GP, of appointments whose clinician type is known",
            (Cond.of("hcp_type", "GP"),),
            (Cond.of("hcp_type", "Unknown", negate=True),),
        ),
        Metric(
            "resolved_remotely_share",
            "Resolved by telephone or video with no follow-up, of all appointments (collab only)",
            (Cond.of("outcome", "resolved"), Cond.of("mode", *REMOTE)),
            (),
        ),
        Metric(
            "capacity_reserved",
            "Appointments in capacity a practice bought or reserved (collab only)",
            (Cond.of("capacity_reserved", True),),
        ),
        Metric(
            "triage_requests",
            "Triage requests received, from every front door",
            unit="triage request",
        ),
        Metric(
            "triaged_same_day_share",
            "Triaged on the day they arrived, of requests triaged",
            (Cond.of("same_day", True),),
            (Cond.of("triaged", True),),
            unit="triage request",
        ),
        Metric(
            "sent_back_share",
            "Sent back for re-triage at least once, of requests triaged",
            (Cond.of("sent_back", True),),
            (Cond.of("triaged", True),),
            unit="triage request",
        ),
    )
}


@dataclass(frozen=True)
class Source:
    """Where a source's rows live and how its columns meet the shared dimension names."""

    name: str
    table: str
    description: str
    date: str  # the row's date column (a month's first day for monthly tables)
    grain: str  # "day" or "month": finer time dimensions are refused for monthly sources
    columns: Mapping[str, str]  # dimension -> column in the table
    weight: str | None = "appointments"  # None: each row is one appointment
    keep: tuple[Cond, ...] = ()  # only rows that are appointments (not cancelled)
    # dimensions found by joining the practice column to org_practice
    joined: Mapping[str, str] = field(default_factory=dict)
    unit: str = "appointment"  # what one row (of weight 1) counts

    def dimensions(self) -> list[str]:
        time = ["day", "week", "month"] if self.grain == "day" else ["month"]
        return [*self.columns, *self.joined, *time, "source"]


_PRACTICE_JOIN = {"collaborative": "collaborative"}

SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        Source(
            "agp",
            "agp_practice_month",
            "NHS England AGP, practice-level crosstab (monthly)",
            date="month",
            grain="month",
            columns={
                "practice": "practice_ods",
                "pcn": "pcn_ods",
                "sub_icb": "sub_icb_code",
                "mode": "mode",
                "hcp_type": "hcp_type",
                "national_category": "national_category",
                "time_between_book_and_appt": "time_between_book_and_appt",
                "status": "status",
            },
            joined=_PRACTICE_JOIN,
        ),
        Source(
            "agp_subicb",
            "agp_subicb_month",
            "NHS England AGP, sub-ICB regional file (monthly)",
            date="month",
            grain="month",
            columns={
                "sub_icb": "sub_icb_code",
                "mode": "mode",
                "hcp_type": "hcp_type",
                "time_between_book_and_appt": "time_between_book_and_appt",
                "status": "status",
            },
        ),
        Source(
            "agp_daily",
            "agp_subicb_day_duration",
            "NHS England AGP, sub-ICB daily by actual duration",
            date="date",
            grain="day",
            columns={"sub_icb": "sub_icb_code", "actual_duration": "actual_duration"},
        ),
        Source(
            "agp_daily_category",
            "agp_subicb_day_category",
            "NHS England AGP, sub-ICB daily by national category",
            date="date",
            grain="day",
            columns={
                "sub_icb": "sub_icb_code",
                "service_setting": "service_setting",
                "national_category": "national_category",
            },
        ),
        Source(
            "collab",
            "collab_appointment",
            "collab's own appointments: hub, out of hours, triage, practice bookings",
            date="date",
            grain="day",
            columns={
                "practice": "practice_ods",
                "pcn": "pcn_ods",
                "mode": "mode",
                "hcp_type": "hcp_type",
                "national_category": "national_category",
                "time_between_book_and_appt": "time_between_book_and_appt",
                "status": "status",
                "service": "service",
                "slot_type": "slot_type",
                "outcome": "outcome",
                "capacity_reserved": "capacity_reserved",
            },
            weight=None,
            keep=(Cond.of("status", "Cancelled", negate=True),),
            joined={**_PRACTICE_JOIN, "sub_icb": "sub_icb_code"},
        ),
        Source(
            "triage",
            "collab_triage_request",
            "collab's triage requests: online, phone, NHS 111, A&E streaming, practice clinicians",
            date="date",
            grain="day",
            columns={
                "practice": "practice_ods",
                "pcn": "pcn_ods",
                "channel": "channel",
                "request_kind": "request_kind",
                "triage_status": "triage_status",
                "urgency": "urgency",
                "route": "route",
                "triage_service": "triage_service",
                "triage_method": "triage_method",
                "time_to_triage": "time_to_triage",
                "same_day": "same_day",
                "triaged": "triaged",
                "sent_back": "sent_back",
                "overflowed": "overflowed",
            },
            weight=None,
            joined={**_PRACTICE_JOIN, "sub_icb": "sub_icb_code"},
            unit="triage request",
        ),
    )
}

DIMENSIONS: dict[str, str] = {
    "practice": "GP practice (ODS code)",
    "pcn": "Primary care network (ODS code)",
    "sub_icb": "Sub-ICB location code",
    "collaborative": "The collaborative the practice belongs to in collab",
    "day": "Date: of the appointment, or that a triage request arrived",
    "week": "Week starting Monday",
    "month": "Month (first day)",
    "mode": "Appointment mode (Face-to-Face, Telephone, Video/Online, Home Visit, Unknown)",
    "hcp_type": "Clinician type (GP, Other Practice staff, Unknown)",
    "national_category": "AGP national category",
    "time_between_book_and_appt": "Time from booking to appointment",
    "status": "Attended, DNA or Unknown",
    "source": "Where the rows come from",
    "service": "collab service (hub, practice, out of hours, triage, enhanced access)",
    "slot_type": "Slot type (e.g. general, phlebotomy)",
    "outcome": "Outcome recorded in collab",
    "capacity_reserved": "Whether the slot was capacity a practice bought",
    "actual_duration": "Actual duration band (AGP daily)",
    "service_setting": "AGP service setting",
    "channel": "Front door a triage request came in by (online form, phone, NHS 111...)",
    "request_kind": "Medical or admin request",
    "triage_status": "Where a triage request is now (waiting for triage, waiting, booked, closed)",
    "urgency": "Urgency the current triage gave",
    "route": "Route the current triage chose (practice, remote hub, pharmacy...)",
    "triage_service": "Service the route gave the request to",
    "triage_method": "Who triaged: a clinician, the referring service, or a rule (admin)",
    "time_to_triage": "Time from the request arriving to its first triage, in bands",
    "same_day": "Whether the first triage was on the day the request arrived",
    "triaged": "Whether the request has been triaged at least once",
    "sent_back": "Whether the request was sent back for re-triage",
    "overflowed": "Whether the practice was full and the request went to the hub",
}

_TIME = {"day", "week", "month"}


def available(metric: Metric, source: Source) -> bool:
    """Whether ``metric`` can run on ``source``: it counts what the source's rows are, and the
    source has every column its conditions need."""
    return metric.unit == source.unit and all(
        c in source.columns or c in source.joined for c in metric.columns
    )


def check_request(
    metric: str, by: Sequence[str], source: str, filters: Mapping[str, Sequence[Any]]
) -> tuple[Metric, Source]:
    """The metric and source, or a MetricError saying what is unknown or unavailable."""
    if metric not in METRICS:
        raise MetricError(f"unknown metric {metric!r}; metrics are: {', '.join(METRICS)}")
    if source not in SOURCES:
        raise MetricError(f"unknown source {source!r}; sources are: {', '.join(SOURCES)}")
    m, s = METRICS[metric], SOURCES[source]
    dims = s.dimensions()
    for dim in (*by, *filters):
        if dim not in DIMENSIONS:
            raise MetricError(f"unknown dimension {dim!r}; dimensions are: {', '.join(DIMENSIONS)}")
        if dim not in dims:
            raise MetricError(
                f"dimension {dim!r} is not available for source {source!r}; "
                f"it has: {', '.join(dims)}"
            )
    if len(set(by)) != len(by):
        raise MetricError("a dimension is repeated in --by")
    if m.unit != s.unit:
        having = [n for n, src in SOURCES.items() if available(m, src)]
        raise MetricError(
            f"metric {metric!r} counts {m.unit}s but source {source!r} holds {s.unit}s; "
            f"try source {' or '.join(having)}"
        )
    missing = sorted(c for c in m.columns if c not in s.columns and c not in s.joined)
    if missing:
        having = [n for n, src in SOURCES.items() if available(m, src)]
        raise MetricError(
            f"metric {metric!r} needs {', '.join(missing)}, which source {source!r} does not "
            f"have; try source {' or '.join(having)}"
        )
    return m, s


# --- the Ibis engine -----------------------------------------------------------------------------


def connect_duckdb(con: Any) -> ibis.BaseBackend:
    """An Ibis backend over an open DuckDB connection (the store's)."""
    return ibis.duckdb.from_connection(con)


def _cond(t: ir.Table, c: Cond) -> ir.BooleanValue:
    col = t[c.column]
    values = sorted(c.values, key=repr)
    if len(values) == 1:
        (value,) = values
        # SQL's three-valued logic already gives "known and not one of them": a NULL fails
        # both `=` and `<>` inside a FILTER or WHERE.
        return col != value if c.negate else col == value
    return ~col.isin(values) if c.negate else col.isin(values)


def _all(t: ir.Table, conds: Sequence[Cond]) -> ir.BooleanValue | None:
    expr = None
    for c in conds:
        e = _cond(t, c)
        expr = e if expr is None else expr & e
    return expr


_IBIS_TYPES = {
    "DATE": "date",
    "VARCHAR": "string",
    "BIGINT": "int64",
    "BOOLEAN": "boolean",
    "TIMESTAMP": "timestamp",
}


@functools.cache
def _table(name: str) -> ir.Table:
    """An unbound Ibis table with the store's schema: expressions are built without a
    connection (no schema round trip), then compiled for, or run on, any backend."""
    from .store import SCHEMA

    return ibis.table({c: _IBIS_TYPES[t] for c, t in SCHEMA[name]}, name=name)


def source_table(s: Source, needed: set[str]) -> ir.Table:
    """The source's rows under the shared dimension names, with ``date`` and ``weight``."""
    t = _table(s.table)
    joined = [d for d in s.joined if d in needed]
    if joined:
        org = _table("org_practice")
        org = org.select(**{f"org_{c}": org[c] for c in org.columns})
        t = t.left_join(org, t[s.columns["practice"]] == org.org_practice_ods)
    for c in s.keep:
        t = t.filter(_cond(t, c))
    cols: dict[str, ir.Value] = {
        "date": t[s.date],
        "weight": t[s.weight] if s.weight else ibis.literal(1, type="int64"),
    }
    for dim, col in s.columns.items():
        if dim in needed:
            cols[dim] = t[col]
    for dim in joined:
        cols[dim] = t[f"org_{s.joined[dim]}"]
    return t.select(**cols)


def expression(
    metric: str,
    by: Sequence[str] = (),
    *,
    source: str = "collab",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    filters: Mapping[str, Sequence[Any]] | None = None,
) -> ir.Table:
    """The Ibis expression for ``metric`` grouped by ``by``: columns are the dimensions, then
    ``numerator`` (the count), ``denominator`` and ``value`` (ratio metrics; NULL where the
    denominator is 0) or ``value`` alone (counts). Sorted by the dimensions.

    Dates are inclusive; a monthly row is dated to its month's first day. The expression is
    unbound: compile it with :func:`sql` or run it on any backend holding the store's tables.
    """
    filters = filters or {}
    m, s = check_request(metric, by, source, filters)
    needed = set(by) | set(filters) | m.columns
    t = source_table(s, needed)
    if date_from is not None:
        t = t.filter(t.date >= date_from)
    if date_to is not None:
        t = t.filter(t.date <= date_to)
    for dim, values in filters.items():
        t = t.filter(_dimension(t, dim, s).isin(list(values)))
    groups = {dim: _dimension(t, dim, s) for dim in by}

    def total(where: ir.BooleanValue | None) -> ir.IntegerValue:
        # Rows of weight 1 are counted: COUNT(*) is cheaper than SUM over a constant.
        if s.weight is None:
            return t.count(where=where)
        return t.weight.sum(where=where).coalesce(0)

    numerator = total(_all(t, m.numerator))
    if m.is_ratio:
        denominator = total(_all(t, m.denominator or ()))
        aggs = {"numerator": numerator, "denominator": denominator}
    else:
        aggs = {"value": numerator}
    expr = t.group_by(**groups).aggregate(**aggs) if groups else t.aggregate(**aggs)
    if m.is_ratio:
        expr = expr.mutate(value=expr.numerator.cast("float64") / expr.denominator.nullif(0))
    return expr.order_by(list(by)) if by else expr


def _key(kwargs: Mapping[str, Any]) -> tuple:
    filters = kwargs.get("filters") or {}
    return (
        kwargs.get("source", "collab"),
        kwargs.get("date_from"),
        kwargs.get("date_to"),
        tuple(sorted((k, tuple(v)) for k, v in filters.items())),
    )


@functools.lru_cache(maxsize=2048)
def _compiled(dialect: str, metric: str, by: tuple[str, ...], key: tuple) -> tuple[str, pa.Schema]:
    source, date_from, date_to, filters = key
    expr = expression(
        metric, by, source=source, date_from=date_from, date_to=date_to, filters=dict(filters)
    )
    return ibis.to_sql(expr, dialect=dialect), expr.schema().to_pyarrow()


def sql(metric: str, by: Sequence[str] = (), *, dialect: str = "duckdb", **kwargs: Any) -> str:
    """The metric's SQL for ``dialect``; compiled once per distinct request, then cached
    (Ibis's compiler costs tens of milliseconds, more than most dashboard queries)."""
    return _compiled(dialect, metric, tuple(by), _key(kwargs))[0]


def _dimension(t: ir.Table, dim: str, s: Source) -> ir.Value:
    if dim == "day":
        return t.date
    if dim == "week":
        return t.date.truncate("W")
    if dim == "month":
        return t.date.truncate("M")
    if dim == "source":
        return ibis.literal(s.name)
    return t[dim]


def metric_rows(
    backend: ibis.BaseBackend, metric: str, by: Sequence[str] = (), **kwargs: Any
) -> list[dict[str, Any]]:
    """Run a metric on ``backend``; a list of dicts, one per group.

    On DuckDB the cached SQL runs on the backend's own connection; on any other backend Ibis
    runs the expression itself."""
    if backend.name == "duckdb":
        # Results are small: plain tuples are cheaper than Arrow here. DuckDB's own types come
        # back (date_trunc gives a timestamp), so dates are put back as the expression says.
        text, schema = _compiled("duckdb", metric, tuple(by), _key(kwargs))
        names = schema.names
        dates = [i for i, t in enumerate(schema.types) if pa.types.is_date(t)]
        rows = []
        for values in backend.con.sql(text).fetchall():
            if dates:
                values = list(values)
                for i in dates:
                    if isinstance(values[i], dt.datetime):
                        values[i] = values[i].date()
            rows.append(dict(zip(names, values, strict=True)))
    else:
        rows = backend.to_pyarrow(expression(metric, by, **kwargs)).to_pylist()
    if not by and not rows:
        rows = [
            {"numerator": 0, "denominator": 0, "value": None}
            if METRICS[metric].is_ratio
            else {"value": 0}
        ]
    return rows
