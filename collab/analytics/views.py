"""Dashboard pages and their CSV/XLSX exports. Views only parse, call, present and render."""

from __future__ import annotations

import duckdb
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from collab.accounts.models import Role
from collab.accounts.rules import HUB_STAFF, PRACTICE_STAFF, role_required
from collab.accounts.services import actor_from_assignment
from collab.core.audit import audit_record
from collab.core.redirects import safe_redirect

from . import dashboards, presenters
from .metrics import connect_duckdb
from .refresh import RefreshRunning, refresh_from_collab
from .store import CollabExportError, default_store_path, freshness, open_store

# Aggregate counts only, no patient data: every staff role may read them.
# Aggregates only, no patient data: every staff role, analysts above all.
STAFF = (*PRACTICE_STAFF, *HUB_STAFF, Role.ANALYST)


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


# Analysts may copy collab's latest figures into analytics from any dashboard.
REFRESHERS = (Role.ANALYST,)


def freshness_context(request, con) -> dict:
    """What every analytics page shows about how fresh its figures are, and the refresh button
    for those who may press it."""
    return {
        "fresh": presenters.freshness(freshness(con)),
        "can_refresh": request.acting.role in REFRESHERS,
        "refresh_next": request.get_full_path(),
    }


@role_required(*STAFF)
def index(request):
    context = {"title": "Analytics", "dashboards": dashboards.DASHBOARDS.values()}
    try:
        with open_store(default_store_path(), read_only=True) as con:
            context.update(freshness_context(request, con))
    except BUSY:
        return _busy(request)
    return render(request, "analytics/index.jinja", context)


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
            fresh = freshness_context(request, con)
    except BUSY:
        return _busy(request)
    context = {
        **fresh,
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


@role_required(*REFRESHERS)
@require_POST
def refresh(request):
    """Copy collab's own figures into analytics now (the button on every dashboard), audited.

    Synchronous: for a collaborative it takes well under a second (ADR 0007). The analyst goes
    back to the page they were on, with the result."""
    back = safe_redirect(request, request.POST.get("next", ""), reverse("analytics:index"))
    actor = actor_from_assignment(request.acting)

    def not_refreshed(why: str, message: str):
        audit_record(actor=actor, action="analytics.refresh", allowed=True, reason=f"not refreshed: {why}",
                     object_type="analytics_store")
        messages.error(request, message)
        return redirect(back)

    try:
        result = refresh_from_collab(trigger="dashboard")
    except (RefreshRunning, *BUSY, duckdb.TransactionException) as exc:
        return not_refreshed(
            f"store busy ({type(exc).__name__})",
            "Not refreshed: analytics are being updated by someone else. Nothing was changed. Try again in a minute.",
        )
    except CollabExportError as exc:
        return not_refreshed(
            str(exc),
            f"Not refreshed: collab's data could not be copied ({exc}). Nothing was changed: "
            "the dashboards still show the figures from the last refresh. Tell the collab team.",
        )
    audit_record(
        actor=actor,
        action="analytics.refresh",
        allowed=True,
        reason=(
            f"{result.appointments} appointments, {result.triage_requests} triage requests, "
            f"{result.practices} practices in {result.seconds:.2f} s"
        ),
        object_type="analytics_store",
    )
    messages.success(
        request,
        f"collab data refreshed: {result.appointments:,} appointments and "
        f"{result.triage_requests:,} triage requests, as of "
        f"{presenters.nhs_time(result.data_as_of)} (took {result.seconds:.1f} seconds).",
    )
    return redirect(back)
