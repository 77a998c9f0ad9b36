"""Out-of-hours pages: the case list, taking a case into a consultation, the shift rota."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from collab.accounts.models import CLINICAL_ROLES
from collab.accounts.rules import role_required
from collab.accounts.services import actor_from_assignment
from collab.core.audit import audit_list_view
from collab.ooh import selectors, services
from collab.ooh.models import OohCase
from collab.organisations.models import Service
from collab.patients.access import AccessDenied
from collab.patients.views import refused
from collab.records import services as records


def ooh_clinician_required(view):
    """A clinician acting in the out-of-hours service."""

    @role_required(*CLINICAL_ROLES, where="hub")
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        service = request.acting.service
        if service is None or service.kind != Service.Kind.OUT_OF_HOURS:
            return render(request, "core/forbidden.jinja", {"title": "You cannot open this page"}, status=403)
        return view(request, *args, **kwargs)

    return wrapped


@ooh_clinician_required
def case_list(request):
    service = request.acting.service
    cases = list(selectors.ooh_cases_open(service_id=service.pk)[:200])
    audit_list_view(actor=actor_from_assignment(request.acting), patient_ids=[c.patient_id for c in cases],
                    reason="out-of-hours case list", object_type="ooh_case_list")
    return render(request, "ooh/case_list.jinja", {
        "title": "Out-of-hours cases", "cases": cases,
        "shifts": list(selectors.ooh_shifts_around(service_id=service.pk)),
    })


@ooh_clinician_required
@require_POST
def case_take(request, case_id: int):
    """Take the case and open a consultation note for it (or return to the one already open)."""
    case = get_object_or_404(OohCase.objects.select_related("patient"), pk=case_id,
                             service_id=request.acting.service_id)
    mine = case.consultations.filter(clinician_id=request.user.pk, status="draft").first()
    if mine is not None:
        return redirect("records:consultation", mine.pk)
    try:
        services.ooh_case_take(case=case, clinician_id=request.user.pk)
        c = records.consultation_start(actor=actor_from_assignment(request.acting), actor_org_kind="collaborative",
                                       patient=case.patient, ooh_case=case)
    except services.OohError as e:
        messages.error(request, e.message)
        return redirect("ooh:cases")
    except AccessDenied:
        return refused(request, case.patient)
    return redirect("records:consultation", c.pk)
