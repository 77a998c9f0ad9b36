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

from .metrics import DIMENSIONS, METRICS, SOURCES, metric_rows

__all__ = [
    "DASHBOARDS",
    "Dashboard",
    "FilterError",
    "Filters",
    "Panel",
    "PanelResult",
    "build",
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
    )


@dataclass(frozen=True)
class Panel:
    """One chart with its table: a metric by one or two dimensions."""

    slug: str
    title: str
    metric: str
    by: tuple[str, ...]
    source: str = "collab"
    where: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    mark: str = "bar"  # bar or line
    period: str = "main"  # main, compare (the comparison period) or history (all dates)

    def __post_init__(self) -> None:
        assert self.metric in METRICS and self.source in SOURCES
        assert all(d in DIMENSIONS for d in self.by)


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
            "national",
            "National figures: Herefordshire and Worcestershire (18C)",
            "NHS England's Appointments in General Practice for sub-ICB 18C, month by month.",
            (
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
}


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


def _spec(panel: Panel, columns: list[str], rows: list[dict[str, Any]]) -> dict[str, Any]:
    data = [
        {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in r.items()} for r in rows
    ]
    x = panel.by[0]
    temporal = x in {"day", "week", "month"}
    ratio = METRICS[panel.metric].is_ratio
    y = alt.Y(
        "value:Q",
        title=METRICS[panel.metric].description,
        axis=alt.Axis(format="%" if ratio else ",d"),
    )
    enc: dict[str, Any] = {
        "x": alt.X(f"{x}:{'T' if temporal else 'N'}", title=_HEADINGS.get(x, x)),
        "y": y,
        "tooltip": [
            alt.Tooltip(
                f"{c}:{'T' if c in {'day', 'week', 'month'} else 'N' if c in panel.by else 'Q'}"
            )
            for c in columns
        ],
    }
    if len(panel.by) > 1:
        enc["color"] = alt.Color(f"{panel.by[1]}:N", title=_HEADINGS.get(panel.by[1], panel.by[1]))
    chart = alt.Chart(alt.Data(values=data))
    chart = chart.mark_line(point=True) if panel.mark == "line" else chart.mark_bar()
    return chart.encode(**enc).properties(title=panel.title, width="container").to_dict()


def build_panel(backend: Any, panel: Panel, f: Filters) -> PanelResult:
    """Run one panel's metric and present it as a chart spec and a table."""
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
    rows = metric_rows(backend, panel.metric, panel.by, **_panel_request(panel, f))
    return PanelResult(
        panel=panel,
        columns=columns,
        headings=[_HEADINGS.get(c, c) for c in columns],
        rows=rows,
        spec=_spec(panel, columns, rows),
        note=None if rows else "No appointments match these filters.",
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
    out = []
    for r in result.rows:
        cells = []
        for c in result.columns:
            v = r[c]
            if v is None:
                cells.append("–")
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
