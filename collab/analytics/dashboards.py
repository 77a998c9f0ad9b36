"""Dashboards as data: which metrics each shows, read from URL parameters, presented as a
Vega-Lite chart (through Altair) with the same rows as a table, and exported as CSV or XLSX.

No Django here: views parse the request into :class:`Filters`, call :func:`build`, and render.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import altair as alt

from . import store
from .agp import LABELS
from .metrics import DIMENSIONS, METRICS, SOURCES, available, metric_rows

__all__ = [
    "DASHBOARDS",
    "Dashboard",
    "FilterError",
    "Filters",
    "Panel",
    "PanelResult",
    "Series",
    "build",
    "in_order",
    "parse_filters",
    "to_csv",
    "to_xlsx",
]


class FilterError(ValueError):
    """A URL parameter was refused: ``param`` names it, the message says why."""

    def __init__(self, param: str, message: str):
        self.param = param
        super().__init__(f"{param}: {message}")


@dataclass(frozen=True)
class Filters:
    """Everything a dashboard's URL can say. Dates are inclusive."""

    date_from: dt.date
    date_to: dt.date
    compare_from: dt.date | None = None
    compare_to: dt.date | None = None
    pcn: str | None = None
    practice: str | None = None
    # Today, for panels that stop at today (no future bookings); never a URL parameter.
    today: dt.date | None = None

    def query(self, **changes: Any) -> dict[str, str]:
        """URL parameters for these filters (with ``changes``), for links and export URLs."""
        f = replace(self, **changes)
        params = {"from": f.date_from.isoformat(), "to": f.date_to.isoformat()}
        if f.compare_from and f.compare_to:
            params["compare_from"] = f.compare_from.isoformat()
            params["compare_to"] = f.compare_to.isoformat()
        if f.pcn:
            params["pcn"] = f.pcn
        if f.practice:
            params["practice"] = f.practice
        return params


def _date(params: Mapping[str, str], name: str) -> dt.date | None:
    value = (params.get(name) or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise FilterError(name, f"{value!r} is not a date: use YYYY-MM-DD") from None


def _code(params: Mapping[str, str], name: str) -> str | None:
    value = (params.get(name) or "").strip().upper()
    if value and not (value.isascii() and value.isalnum() and len(value) <= 10):
        raise FilterError(name, f"{value!r} is not an ODS code")
    return value or None


def parse_filters(params: Mapping[str, str], *, today: dt.date) -> Filters:
    """Filters from URL parameters; without dates, the last full week (Monday to Sunday)."""
    last_sunday = today - dt.timedelta(days=today.weekday() + 1)
    date_from = _date(params, "from") or last_sunday - dt.timedelta(days=6)
    date_to = _date(params, "to") or last_sunday
    if date_from > date_to:
        raise FilterError("from", f"{date_from} is after the end date {date_to}")
    compare_from, compare_to = _date(params, "compare_from"), _date(params, "compare_to")
    if (compare_from is None) != (compare_to is None):
        raise FilterError("compare_from", "give both compare_from and compare_to, or neither")
    if compare_from and compare_to and compare_from > compare_to:
        raise FilterError("compare_from", f"{compare_from} is after {compare_to}")
    return Filters(
        date_from=date_from,
        date_to=date_to,
        compare_from=compare_from,
        compare_to=compare_to,
        pcn=_code(params, "pcn"),
        practice=_code(params, "practice"),
        today=today,
    )


@dataclass(frozen=True)
class Series:
    """One source's line in a panel that sets sources side by side."""

    key: str  # the column in the table and exports
    source: str
    label: str  # says where the figures come from (the chart)
    heading: str  # the same, short enough for a table heading
    where: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Panel:
    """One chart with its table: a metric by one or two dimensions.

    With ``series``, the panel runs the metric by one time dimension on each series' source and
    sets them side by side, one column (and one line) each, over every period from the first
    with data to the last: a period a source has no rows for is a gap (no data), never a zero.
    """

    slug: str
    title: str
    metric: str
    by: tuple[str, ...]
    source: str = "collab"
    where: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    mark: str = "bar"  # bar or line
    period: str = "main"  # main, compare (the comparison period) or history (all dates)
    series: tuple[Series, ...] = ()
    caption: str | None = None  # shown under the heading: what the reader must know

    def __post_init__(self) -> None:
        m = METRICS[self.metric]
        assert available(m, SOURCES[self.source]), (self.metric, self.source)
        assert all(d in DIMENSIONS for d in self.by)
        if self.series:
            assert len(self.by) == 1 and self.by[0] in _TIME_DIMS and not m.is_ratio
            assert all(available(m, SOURCES[s.source]) for s in self.series)
            assert all(self.by[0] in SOURCES[s.source].dimensions() for s in self.series)


_TIME_DIMS = ("day", "week", "month")


@dataclass(frozen=True)
class Dashboard:
    slug: str
    title: str
    description: str
    panels: tuple[Panel, ...]


DASHBOARDS: dict[str, Dashboard] = {
    d.slug: d
    for d in (
        Dashboard(
            "overview",
            "Last week across all practices",
            "Appointments booked on the day against those booked ahead, day by day.",
            (
                Panel(
                    "appointments-by-day",
                    "Appointments by day",
                    "appointments",
                    ("day", "time_between_book_and_appt"),
                    mark="bar",
                ),
                Panel(
                    "same-day-share",
                    "Share booked on the day",
                    "same_day_share",
                    ("day",),
                    mark="line",
                ),
                Panel(
                    "dna-rate-by-practice", "Did not attend, by practice", "dna_rate", ("practice",)
                ),
            ),
        ),
        Dashboard(
            "compare",
            "Compare two periods",
            "Appointments by practice in the period and in the comparison period.",
            (
                Panel("period", "Appointments by practice: period", "appointments", ("practice",)),
                Panel(
                    "comparison",
                    "Appointments by practice: comparison period",
                    "appointments",
                    ("practice",),
                    period="compare",
                ),
            ),
        ),
        Dashboard(
            "practices",
            "PCNs and practices",
            "Appointments and did-not-attend rates by PCN; choose a PCN to see its practices.",
            (
                Panel("appointments-by-pcn", "Appointments by PCN", "appointments", ("pcn",)),
                Panel("dna-by-pcn", "Did not attend, by PCN", "dna_rate", ("pcn",)),
                Panel(
                    "appointments-by-practice",
                    "Appointments by practice",
                    "appointments",
                    ("practice",),
                ),
            ),
        ),
        Dashboard(
            "hub",
            "Hub",
            "Use of the hub, the share resolved remotely and the capacity each practice bought.",
            (
                Panel(
                    "hub-by-day",
                    "Hub appointments by day",
                    "appointments",
                    ("day",),
                    where={"service": ("hub",)},
                    mark="line",
                ),
                Panel(
                    "resolved-remotely",
                    "Resolved remotely, by practice",
                    "resolved_remotely_share",
                    ("practice",),
                    where={"service": ("hub",)},
                ),
                Panel(
                    "capacity-bought",
                    "Capacity bought, by practice",
                    "capacity_reserved",
                    ("practice",),
                ),
            ),
        ),
        Dashboard(
            "demand",
            "Demand by service and slot type",
            "Appointments by service and slot type, phlebotomy included, and capacity against demand.",
            (
                Panel(
                    "by-service-slot",
                    "Appointments by service and slot type",
                    "appointments",
                    ("service", "slot_type"),
                ),
                Panel(
                    "by-week-service",
                    "Appointments by week and service",
                    "appointments",
                    ("week", "service"),
                    mark="line",
                ),
                Panel(
                    "capacity-by-week",
                    "Capacity bought by week",
                    "capacity_reserved",
                    ("week",),
                    mark="line",
                ),
            ),
        ),
        Dashboard(
            "triage",
            "Triage demand",
            "Triage requests from every front door: the route each was given, how it came in, "
            "how soon it was first triaged and how many were sent back.",
            (
                Panel(
                    "requests-by-route",
                    "Triage requests by route",
                    "triage_requests",
                    ("route",),
                    source="triage",
                    caption="The route the current triage chose; requests still waiting are "
                    "'Not triaged yet'.",
                ),
                Panel(
                    "requests-by-day",
                    "Triage requests by day and front door",
                    "triage_requests",
                    ("day", "channel"),
                    source="triage",
                ),
                Panel(
                    "time-to-triage",
                    "Time from arriving to first triage",
                    "triage_requests",
                    ("time_to_triage",),
                    source="triage",
                ),
                Panel(
                    "same-day-by-route",
                    "Triaged on the day they arrived, by route",
                    "triaged_same_day_share",
                    ("route",),
                    source="triage",
                ),
                Panel(
                    "sent-back-by-channel",
                    "Sent back for re-triage, by front door",
                    "sent_back_share",
                    ("channel",),
                    source="triage",
                ),
            ),
        ),
        Dashboard(
            "national",
            "National figures: Herefordshire and Worcestershire (18C)",
            "NHS England's Appointments in General Practice for sub-ICB 18C, month by month, "
            "beside collab's own appointments.",
            (
                Panel(
                    "national-and-collab",
                    "Appointments by month: NHS England (18C) and collab",
                    "appointments",
                    ("month",),
                    mark="line",
                    period="history",
                    series=(
                        Series(
                            "agp_18c",
                            "agp_subicb",
                            "NHS England AGP: all practices in Herefordshire and Worcestershire "
                            "(18C)",
                            "NHS England AGP (18C)",
                            where={"sub_icb": ("18C",)},
                        ),
                        Series(
                            "collab", "collab", "collab: appointments booked in collab", "collab"
                        ),
                    ),
                    caption="NHS England publishes Appointments in General Practice once a month, "
                    "some weeks after the month ends, so the latest months have no national "
                    "figures yet. A month a source has no figures for is shown as 'No data' and "
                    "a gap in its line, not as zero. Each source has its own scale: AGP counts "
                    "every appointment at every practice in 18C, collab only those it holds. "
                    "PCN and practice filters do not apply here.",
                ),
                Panel(
                    "agp-by-month",
                    "Appointments by month (AGP, 18C)",
                    "appointments",
                    ("month",),
                    source="agp_subicb",
                    mark="line",
                    period="history",
                ),
                Panel(
                    "agp-same-day",
                    "Share booked on the day (AGP, 18C)",
                    "same_day_share",
                    ("month",),
                    source="agp_subicb",
                    mark="line",
                    period="history",
                ),
                Panel(
                    "agp-mode",
                    "Appointments by mode (AGP, 18C)",
                    "appointments",
                    ("month", "mode"),
                    source="agp_subicb",
                    mark="line",
                    period="history",
                ),
            ),
        ),
    )
}


@dataclass(frozen=True)
class PanelResult:
    panel: Panel
    columns: list[str]
    headings: list[str]
    rows: list[dict[str, Any]]
    spec: dict[str, Any]  # Vega-Lite
    note: str | None = None


_HEADINGS = {
    "value": "Value",
    "numerator": "Count",
    "denominator": "Out of",
    **{d: d.replace("_", " ").capitalize() for d in DIMENSIONS},
    "pcn": "PCN",
    "hcp_type": "Clinician type",
    "time_between_book_and_appt": "Booked",
    "channel": "Front door",
    "request_kind": "Request",
    "triage_status": "Status",
    "triage_service": "Service",
    "triage_method": "Triaged by",
    "time_to_triage": "Time to first triage",
    "same_day": "Triaged on the day",
    "note": "Note",
}

# Dimensions whose values have a natural order (bands, urgencies, routes): charts and tables
# follow it instead of the alphabet. Values not listed go last.
ORDER: dict[str, tuple[Any, ...]] = {
    # AGP's bands, in the order the publication lists them.
    "time_between_book_and_appt": tuple(LABELS["time_between_book_and_appt"]),
    "actual_duration": tuple(LABELS["actual_duration"]),
    "time_to_triage": (*(label for _, label in store.TIME_TO_TRIAGE), store.NOT_TRIAGED),
    "urgency": (*store.TRIAGE_URGENCIES, store.NOT_TRIAGED),
    "route": (*store.TRIAGE_ROUTES, store.NOT_TRIAGED),
    "triage_service": (*store.TRIAGE_SERVICES, store.NO_SERVICE, store.NOT_TRIAGED),
    "channel": store.TRIAGE_CHANNELS,
    "triage_status": store.TRIAGE_STATUSES,
}


def _sort_key(value: Any) -> tuple:
    return (value is None, value if value is not None else 0)


def in_order(by: Sequence[str], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` (as the metric layer sorts them) in each dimension's natural order."""
    if not any(d in ORDER for d in by):
        return rows
    ranks: dict[str, dict[Any, int]] = {}
    for d in by:
        values = ORDER.get(d) or sorted({r[d] for r in rows}, key=_sort_key)
        ranks[d] = {v: i for i, v in enumerate(values)}
    return sorted(rows, key=lambda r: tuple(ranks[d].get(r[d], len(ranks[d])) for d in by))


def _panel_request(panel: Panel, f: Filters) -> dict[str, Any]:
    where: dict[str, list[Any]] = {k: list(v) for k, v in panel.where.items()}
    dims = SOURCES[panel.source].dimensions()
    if f.pcn and "pcn" in dims:
        where["pcn"] = [f.pcn]
    if f.practice and "practice" in dims:
        where["practice"] = [f.practice]
    kwargs: dict[str, Any] = {"source": panel.source, "filters": where}
    if panel.period == "main":
        kwargs.update(date_from=f.date_from, date_to=f.date_to)
    elif panel.period == "compare":
        kwargs.update(date_from=f.compare_from, date_to=f.compare_to)
    return kwargs


def _iso(v: Any) -> Any:
    return v.isoformat() if isinstance(v, dt.date) else v


def _spec(panel: Panel, columns: list[str], rows: list[dict[str, Any]]) -> dict[str, Any]:
    if panel.series:
        return _series_spec(panel, rows)
    data = [{k: _iso(v) for k, v in r.items()} for r in rows]
    x = panel.by[0]
    temporal = x in {"day", "week", "month"}
    ratio = METRICS[panel.metric].is_ratio
    y = alt.Y(
        "value:Q",
        title=METRICS[panel.metric].description,
        axis=alt.Axis(format="%" if ratio else ",d"),
    )
    if temporal and panel.mark == "bar":
        # One band a day (week, month): on a continuous time axis bars are hairlines.
        x_enc = alt.X(
            f"{x}:O",
            timeUnit="yearmonth" if x == "month" else "yearmonthdate",
            title=_HEADINGS.get(x, x),
            axis=alt.Axis(format="%b %Y" if x == "month" else "%a %-d %b"),
        )
    else:
        x_enc = alt.X(
            f"{x}:{'T' if temporal else 'N'}",
            title=_HEADINGS.get(x, x),
            sort=list(ORDER[x]) if x in ORDER else alt.Undefined,
        )
    enc: dict[str, Any] = {
        "x": x_enc,
        "y": y,
        "tooltip": [
            alt.Tooltip(
                f"{c}:{'T' if c in {'day', 'week', 'month'} else 'N' if c in panel.by else 'Q'}"
            )
            for c in columns
        ],
    }
    if len(panel.by) > 1:
        c = panel.by[1]
        enc["color"] = alt.Color(
            f"{c}:N",
            title=_HEADINGS.get(c, c),
            sort=list(ORDER[c]) if c in ORDER else alt.Undefined,
        )
    chart = alt.Chart(alt.Data(values=data))
    chart = chart.mark_line(point=True) if panel.mark == "line" else chart.mark_bar()
    return chart.encode(**enc).properties(title=panel.title, width="container").to_dict()


# NHS identity colours, one a series: NHS Blue, Warm Yellow's darker neighbour (orange).
_SERIES_COLOURS = ["#005eb8", "#ed8b00", "#330072", "#009639"]


def _series_spec(panel: Panel, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """One row of the chart per series, on a shared time axis, each with its own scale; a
    missing value is null, so the line breaks there instead of dropping to zero."""
    grain = panel.by[0]
    labels = [s.label for s in panel.series]
    data = [
        {grain: _iso(r[grain]), "source": s.label, "value": r[s.key]}
        for r in rows
        for s in panel.series
    ]
    chart = (
        alt.Chart(alt.Data(values=data))
        .mark_line(point=True)
        .encode(
            x=alt.X(
                f"{grain}:T",
                title=_HEADINGS.get(grain, grain),
                axis=alt.Axis(format="%b %Y" if grain == "month" else "%d %b %Y"),
            ),
            y=alt.Y(
                "value:Q",
                title=METRICS[panel.metric].description.split(" (")[0],
                axis=alt.Axis(format=",d"),
            ),
            color=alt.Color(
                "source:N",
                scale=alt.Scale(domain=labels, range=_SERIES_COLOURS[: len(labels)]),
                legend=None,
            ),
            row=alt.Row(
                "source:N",
                sort=labels,
                title=None,
                header=alt.Header(
                    labelAngle=0,
                    labelAlign="left",
                    labelAnchor="start",
                    labelOrient="top",
                    labelFontWeight="bold",
                ),
            ),
            tooltip=[
                alt.Tooltip(f"{grain}:T", title=_HEADINGS.get(grain, grain)),
                alt.Tooltip("source:N", title="Source"),
                alt.Tooltip("value:Q", title="Appointments", format=",d"),
            ],
        )
        .resolve_scale(y="independent")
        .properties(
            title=alt.TitleParams(
                panel.title, subtitle="A gap means no figures for that period, not zero."
            ),
            width="container",
            height=140,
        )
    )
    return chart.to_dict()


def _periods(grain: str, first: dt.date, last: dt.date) -> list[dt.date]:
    """Every period start from ``first`` to ``last`` (both period starts), none skipped."""
    out, p = [], first
    while p <= last:
        out.append(p)
        if grain == "month":
            p = (p.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        else:
            p += dt.timedelta(days=7 if grain == "week" else 1)
    return out


def _period_end(grain: str, start: dt.date) -> dt.date:
    return _periods(grain, start, start + dt.timedelta(days=31))[1] - dt.timedelta(days=1)


def _build_series(backend: Any, panel: Panel, f: Filters) -> PanelResult:
    grain = panel.by[0]
    columns = [grain, *(s.key for s in panel.series), "note"]
    headings = [_HEADINGS.get(grain, grain), *(s.heading for s in panel.series), "Note"]
    # Up to today: collab holds bookings for the weeks ahead, which have not happened yet.
    date_to = f.today if panel.period == "history" else f.date_to
    date_from = None if panel.period == "history" else f.date_from
    values: dict[str, dict[dt.date, Any]] = {}
    for s in panel.series:
        got = metric_rows(
            backend,
            panel.metric,
            panel.by,
            source=s.source,
            filters={k: list(v) for k, v in s.where.items()},
            date_from=date_from,
            date_to=date_to,
        )
        values[s.key] = {r[grain]: r["value"] for r in got}
    starts = sorted({p for v in values.values() for p in v})
    rows = []
    if starts:
        for p in _periods(grain, starts[0], starts[-1]):
            row: dict[str, Any] = {grain: p}
            row.update({s.key: values[s.key].get(p) for s in panel.series})
            end = _period_end(grain, p)
            row["note"] = (
                f"Part {grain}: to {date_to.day} {date_to:%b %Y}"
                if date_to is not None and p <= date_to < end
                else ""
            )
            rows.append(row)
    return PanelResult(
        panel=panel,
        columns=columns,
        headings=headings,
        rows=rows,
        spec=_spec(panel, columns, rows),
        note=None if rows else "Neither source has any appointments yet.",
    )


def build_panel(backend: Any, panel: Panel, f: Filters) -> PanelResult:
    """Run one panel's metric and present it as a chart spec and a table."""
    if panel.series:
        return _build_series(backend, panel, f)
    columns = [
        *panel.by,
        *(["numerator", "denominator"] if METRICS[panel.metric].is_ratio else []),
        "value",
    ]
    if panel.period == "compare" and not (f.compare_from and f.compare_to):
        return PanelResult(
            panel,
            columns,
            [_HEADINGS.get(c, c) for c in columns],
            [],
            _spec(panel, columns, []),
            "Choose a comparison period.",
        )
    rows = in_order(
        panel.by, metric_rows(backend, panel.metric, panel.by, **_panel_request(panel, f))
    )
    return PanelResult(
        panel=panel,
        columns=columns,
        headings=[_HEADINGS.get(c, c) for c in columns],
        rows=rows,
        spec=_spec(panel, columns, rows),
        note=None if rows else f"No {METRICS[panel.metric].unit}s match these filters.",
    )


def build(backend: Any, dashboard: str, f: Filters) -> list[PanelResult]:
    return [build_panel(backend, p, f) for p in DASHBOARDS[dashboard].panels]


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    return value


def to_csv(result: PanelResult) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(result.columns)
    for r in result.rows:
        w.writerow([_cell(r[c]) for c in result.columns])
    return out.getvalue()


def to_xlsx(result: PanelResult) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = result.panel.slug[:31]
    ws.append(result.headings)
    for r in result.rows:
        ws.append([_cell(r[c]) for c in result.columns])
    for i, c in enumerate(result.columns, start=1):
        if c in {"day", "week", "month"}:
            for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                cell.number_format = "yyyy-mm-dd"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def panel_by_slug(dashboard: str, slug: str) -> Panel:
    for p in DASHBOARDS[dashboard].panels:
        if p.slug == slug:
            return p
    raise KeyError(slug)


def table_rows(result: PanelResult) -> Sequence[list[str]]:
    """The table beside the chart, formatted as people read it."""
    ratio = METRICS[result.panel.metric].is_ratio
    missing = "No data" if result.panel.series else "–"
    out = []
    for r in result.rows:
        cells = []
        for c in result.columns:
            v = r[c]
            if v is None:
                cells.append(missing)
            elif isinstance(v, bool):
                cells.append("Yes" if v else "No")
            elif c == "month" and isinstance(v, dt.date):
                cells.append(f"{v:%B %Y}")
            elif c == "value" and ratio:
                cells.append(f"{v:.1%}")
            elif isinstance(v, int) and not isinstance(v, bool):
                cells.append(f"{v:,}")
            elif isinstance(v, dt.date):
                cells.append(f"{v.day} {v:%b %Y}")
            else:
                cells.append(str(v))
        out.append(cells)
    return out


@dataclass(frozen=True)
class SpcPanel:
    """An XmR chart of a count metric over time (Making Data Count), with its table."""

    title: str
    spec: dict[str, Any]
    rows: list[dict[str, Any]]
    variation: str
    assurance: str | None


def spc_panel(
    backend: Any,
    *,
    metric: str = "appointments",
    source: str = "agp_daily",
    grain: str = "week",
    improvement: str = "neutral",
    target: float | None = None,
    baseline: int | None = None,
    rebase_at: Sequence[int] = (),
    filters: Mapping[str, Sequence[Any]] | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> SpcPanel:
    """Run ``metric`` by ``grain`` and chart it as an XmR chart (points, mean, limits)."""
    from .spc import xmr

    rows = metric_rows(
        backend,
        metric,
        [grain],
        source=source,
        filters=dict(filters or {}),
        date_from=date_from,
        date_to=date_to,
    )
    result = xmr(
        [r["value"] for r in rows],
        x=[r[grain] for r in rows],
        improvement=improvement,
        target=target,
        baseline=baseline,
        rebase_at=rebase_at,
    )
    table = [
        {
            grain: p.x,
            "value": p.y,
            "mean": p.mean,
            "lower_limit": p.lpl,
            "upper_limit": p.upl,
            "special_cause": ", ".join(sorted(p.rules)),
            "point_type": p.point_type,
        }
        for p in result.points
    ]
    data = [
        {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in r.items()} for r in table
    ]
    base = alt.Chart(alt.Data(values=data)).encode(x=alt.X(f"{grain}:T", title=grain.capitalize()))
    colours = alt.Scale(
        domain=[
            "common_cause",
            "special_cause_improvement",
            "special_cause_concern",
            "special_cause_neutral_high",
            "special_cause_neutral_low",
        ],
        range=["#768692", "#005eb8", "#ed8b00", "#330072", "#330072"],  # NHS identity colours
    )
    layers = [
        base.mark_line(color="#768692").encode(
            y=alt.Y("value:Q", title=METRICS[metric].description)
        ),
        base.mark_point(filled=True, size=50).encode(
            y="value:Q", color=alt.Color("point_type:N", scale=colours, title="Variation")
        ),
        base.mark_line(color="#212b32").encode(y="mean:Q"),
        base.mark_line(strokeDash=[4, 4], color="#212b32").encode(y="lower_limit:Q"),
        base.mark_line(strokeDash=[4, 4], color="#212b32").encode(y="upper_limit:Q"),
    ]
    if target is not None:
        layers.append(
            alt.Chart(alt.Data(values=[{"target": target}]))
            .mark_rule(color="#da291c")
            .encode(y="target:Q")
        )
    title = f"{METRICS[metric].description} by {grain} ({SOURCES[source].description})"
    spec = alt.layer(*layers).properties(title=title, width="container").to_dict()
    return SpcPanel(
        title=title, spec=spec, rows=table, variation=result.variation, assurance=result.assurance
    )
