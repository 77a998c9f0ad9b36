"""Dashboard pages and their CSV/XLSX exports. Views only parse, call, present and render."""

from __future__ import annotations

import duckdb
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from collab.accounts.rules import HUB_STAFF, PRACTICE_STAFF, role_required

from . import dashboards, presenters
from .metrics import connect_duckdb
from .store import default_store_path, open_store

# Aggregate counts only, no patient data: every staff role may read them.
STAFF = (*PRACTICE_STAFF, *HUB_STAFF)


# DuckDB lets one process write the store at a time: while `collab import-agp` runs, readers in
# other processes are refused the file for a moment. Say so rather than fail.
BUSY = (duckdb.IOException, duckdb.ConnectionException)
BUSY_TEXT = "Analytics are being updated. Try again in a minute."


def _busy(request):
    return render(
        request,
        "analytics/busy.jinja",
        {"title": "Analytics are being updated", "text": BUSY_TEXT},
        status=503,
    )


def _filters(request):
    return dashboards.parse_filters(request.GET, today=timezone.localdate())


@role_required(*STAFF)
def index(request):
    return render(
        request,
        "analytics/index.jinja",
        {"title": "Analytics", "dashboards": dashboards.DASHBOARDS.values()},
    )


@role_required(*STAFF)
def dashboard(request, slug: str):
    if slug not in dashboards.DASHBOARDS:
        raise Http404(slug)
    board = dashboards.DASHBOARDS[slug]
    try:
        f = _filters(request)
    except dashboards.FilterError as exc:
        context = {
            "title": board.title,
            "board": board,
            "errors": [{"text": str(exc), "href": f"#{exc.param}"}],
            "params": request.GET,
            "all": dashboards.DASHBOARDS.values(),
        }
        return render(request, "analytics/dashboard.jinja", context, status=400)
    try:
        with open_store(default_store_path(), read_only=True) as con:
            results = dashboards.build(connect_duckdb(con), slug, f)
    except BUSY:
        return _busy(request)
    context = {
        "title": board.title,
        "board": board,
        "filters": f,
        "params": f.query(),
        "panels": [presenters.panel(r, slug, f) for r in results],
        "all": dashboards.DASHBOARDS.values(),
    }
    return render(request, "analytics/dashboard.jinja", context)


@role_required(*STAFF)
def export(request, slug: str, panel: str, fmt: str):
    try:
        p = dashboards.panel_by_slug(slug, panel)
    except KeyError:
        raise Http404(panel) from None
    try:
        f = _filters(request)
    except dashboards.FilterError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    try:
        with open_store(default_store_path(), read_only=True) as con:
            result = dashboards.build_panel(connect_duckdb(con), p, f)
    except BUSY:
        return HttpResponse(BUSY_TEXT, status=503, content_type="text/plain; charset=utf-8")
    name = f"{slug}-{panel}-{f.date_from}-{f.date_to}"
    if fmt == "csv":
        response = HttpResponse(dashboards.to_csv(result), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(
            dashboards.to_xlsx(result),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
