"""The SPC page: any count metric as an XmR chart (Making Data Count), baseline and rebasing in the URL."""

from __future__ import annotations

import csv
import datetime as dt
import io

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from collab.accounts.rules import role_required

from . import dashboards, presenters
from .metrics import connect_duckdb
from .spc import SpcError
from .store import default_store_path, open_store
from .views import BUSY, STAFF, _busy, freshness_context

SOURCES = {
    "agp_daily": "NHS England daily appointments, Herefordshire and Worcestershire (18C)",
    "collab": "collab's own appointments",
}
GRAINS = ("week", "day", "month")
IMPROVEMENTS = ("neutral", "up", "down")
VARIATION_TEXT = {
    "common_cause": "Common cause variation: no significant change",
    "improvement_high": "Special cause variation: improvement (higher)",
    "improvement_low": "Special cause variation: improvement (lower)",
    "concern_high": "Special cause variation: concern (higher)",
    "concern_low": "Special cause variation: concern (lower)",
    "neutral_high": "Special cause variation: higher than expected",
    "neutral_low": "Special cause variation: lower than expected",
}
ASSURANCE_TEXT = {
    "pass": "The target will consistently be met",
    "fail": "The target will consistently be missed",
    "inconsistent": "The target may or may not be met",
}


class SpcParamError(ValueError):
    def __init__(self, param: str, message: str):
        super().__init__(message)
        self.param = param


def _date(raw: str, name: str) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError as e:
        raise SpcParamError(name, f"Enter a real date for {name}, for example 2025-01-31") from e


def parse(params, *, today: dt.date) -> dict:
    source = params.get("source", "agp_daily")
    if source not in SOURCES:
        raise SpcParamError("source", "Choose a data source")
    grain = params.get("grain", "week")
    if grain not in GRAINS:
        raise SpcParamError("grain", "Choose week, day or month")
    improvement = params.get("improvement", "neutral")
    if improvement not in IMPROVEMENTS:
        raise SpcParamError("improvement", "Choose whether higher or lower is better, or neither")
    date_to = _date(params.get("to", ""), "to") or today
    date_from = _date(params.get("from", ""), "from") or date_to - dt.timedelta(days=7 * 52)
    if date_from > date_to:
        raise SpcParamError("from", "The start date must be on or before the end date")
    baseline = None
    if params.get("baseline"):
        if not params["baseline"].isdigit() or not 2 <= int(params["baseline"]) <= 1000:
            raise SpcParamError("baseline", "The baseline is a number of points, between 2 and 1000")
        baseline = int(params["baseline"])
    rebase_at: list[int] = []
    for part in filter(None, params.get("rebase", "").split(",")):
        if not part.strip().isdigit():
            raise SpcParamError("rebase", "Rebase points are point numbers separated by commas, for example 20,40")
        rebase_at.append(int(part))
    target = None
    if params.get("target"):
        try:
            target = float(params["target"])
        except ValueError as e:
            raise SpcParamError("target", "The target must be a number") from e
    slot_type = params.get("slot_type", "").strip().lower()
    return {"source": source, "grain": grain, "improvement": improvement, "date_from": date_from,
            "date_to": date_to, "baseline": baseline, "rebase_at": rebase_at, "target": target,
            "slot_type": slot_type}


def _panel_or_reason(backend, **kwargs):
    """The SPC panel, or why the data in this period cannot make one (too few points for the
    baseline or rebase points asked for...)."""
    try:
        return dashboards.spc_panel(backend, **kwargs), None
    except SpcError as e:
        return None, str(e)


@role_required(*STAFF)
def spc(request):
    context = {"title": "Statistical process control", "sources": SOURCES, "grains": GRAINS,
               "improvements": IMPROVEMENTS, "params": request.GET}
    try:
        p = parse(request.GET, today=timezone.localdate())
    except SpcParamError as e:
        return render(request, "analytics/spc.jinja", {**context, "errors": [{"text": str(e), "href": f"#{e.param}"}]},
                      status=400)
    filters = {"slot_type": [p["slot_type"]]} if p["slot_type"] and p["source"] == "collab" else None
    try:
        with open_store(default_store_path(), read_only=True) as con:
            panel, reason = _panel_or_reason(
                connect_duckdb(con), source=p["source"], grain=p["grain"], improvement=p["improvement"],
                target=p["target"], baseline=p["baseline"], rebase_at=p["rebase_at"], filters=filters,
                date_from=p["date_from"], date_to=p["date_to"])
            context.update(freshness_context(request, con))
    except BUSY:
        return _busy(request)
    if panel is None:
        return render(request, "analytics/spc.jinja", {**context, "errors": [{
            "text": f"No chart for this period: {reason}. Choose a longer period or a finer grain.", "href": "#from"}]})
    if request.GET.get("format") == "csv":
        out = io.StringIO()
        if panel.rows:
            writer = csv.DictWriter(out, fieldnames=list(panel.rows[0]))
            writer.writeheader()
            writer.writerows(panel.rows)
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="spc-{p["source"]}-{p["grain"]}.csv"'
        return response
    return render(request, "analytics/spc.jinja", {
        **context, "p": p, "panel": panel,
        "svg": presenters.chart_svg(panel.spec, panel.title) if panel.rows else None,
        "variation": VARIATION_TEXT.get(panel.variation, panel.variation),
        "assurance": ASSURANCE_TEXT.get(panel.assurance) if panel.assurance else None,
        "csv_query": request.GET.urlencode(),
    })
