"""Privacy officer pages: break-glass alerts, and per patient who looked at the record and why."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from collab.accounts.models import Role
from collab.accounts.rules import role_required
from collab.accounts.services import actor_from_assignment
from collab.core.forms import error_list, field_error
from collab.patients import services as patient_services
from collab.patients.access import AccessDenied, Action, access_patient
from collab.patients.forms import FindPatientForm
from collab.patients.models import BreakGlassGrant, Patient
from collab.patients.selectors import patient_by_nhs_number
from collab.privacy import selectors
from collab.privacy.forms import ReviewForm

PRIVACY = (Role.PRIVACY_OFFICER,)


@role_required(*PRIVACY, where="hub")
def index(request):
    form = FindPatientForm(request.GET or None)
    extra: list[str] = []
    if request.GET and form.is_valid():
        patient = patient_by_nhs_number(form.cleaned_data["nhs_number"])
        if patient is None:
            extra.append("No patient with that NHS number")
        else:
            return redirect("privacy:patient", patient.pk)
    return render(request, "privacy/index.jinja", {
        "title": "Privacy: record access", "form": form, "errors": error_list(form, extra), "field_error": field_error,
        "alerts": list(selectors.break_glass_alerts()[:100]), "review_form": ReviewForm(),
    })


def _audited_patient(request, patient_id: int, object_type: str) -> Patient:
    patient = get_object_or_404(Patient.objects.select_related("registered_practice"), pk=patient_id)
    # A privacy officer reading the trail is itself a look at the patient: decided and audited.
    access_patient(actor=actor_from_assignment(request.acting), actor_org_kind=request.acting.organisation.kind,
                   patient=patient, action=Action.AUDIT_VIEW, object_type=object_type, object_id=patient.pk)
    return patient


@role_required(*PRIVACY, where="hub")
def patient(request, patient_id: int):
    try:
        patient = _audited_patient(request, patient_id, "audit_trail")
    except AccessDenied:
        return render(request, "core/forbidden.jinja", {"title": "You cannot open this page"}, status=403)
    lines = selectors.patient_audit_trail(patient_id=patient.pk, limit=1000)
    return render(request, "privacy/patient.jinja", {
        "title": f"Who looked at {patient.full_name}'s record", "patient": patient, "lines": lines,
        "back_href": "/privacy/",
    })


@role_required(*PRIVACY, where="hub")
def patient_csv(request, patient_id: int):
    try:
        patient = _audited_patient(request, patient_id, "audit_export")
    except AccessDenied:
        return render(request, "core/forbidden.jinja", {"title": "You cannot open this page"}, status=403)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="record-access-{patient.nhs_number}.csv"'
    writer = csv.writer(response)
    writer.writerow(selectors.AUDIT_CSV_HEADER)
    writer.writerows(selectors.audit_csv_rows(selectors.patient_audit_trail(patient_id=patient.pk)))
    return response


@role_required(*PRIVACY, where="hub")
@require_POST
def review(request, grant_id: int):
    grant = get_object_or_404(BreakGlassGrant, pk=grant_id)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Record what you found before marking the alert reviewed")
        return redirect("privacy:index")
    try:
        patient_services.break_glass_review(actor=actor_from_assignment(request.acting), grant=grant,
                                            note=form.cleaned_data["note"])
    except patient_services.BreakGlassError as e:
        messages.error(request, e.message)
    else:
        messages.info(request, "Alert reviewed")
    return redirect("privacy:index")
