from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from collab.accounts.models import CLINICAL_ROLES
from collab.accounts.rules import HUB_STAFF, PRACTICE_STAFF, role_required
from collab.accounts.services import actor_from_assignment, reauthenticate
from collab.booking.models import Appointment
from collab.core.forms import error_list, field_error
from collab.patients import services
from collab.patients.access import AccessDenied, Action, access_patient
from collab.patients.forms import BreakGlassForm, FindPatientForm
from collab.patients.models import Patient
from collab.patients.selectors import patient_by_nhs_number


@role_required(*PRACTICE_STAFF, where="practice")
def find(request):
    form = FindPatientForm(request.GET or None)
    extra: list[str] = []
    if request.GET and form.is_valid():
        patient = patient_by_nhs_number(form.cleaned_data["nhs_number"])
        if patient is None:
            extra.append("No patient with that NHS number is registered at a member practice")
        else:
            return patient_detail(request, patient.pk)
    return render(request, "patients/find.jinja", {"title": "Find a patient", "form": form,
                                                   "errors": error_list(form, extra), "field_error": field_error})


@role_required(*PRACTICE_STAFF, *HUB_STAFF)
def patient_detail(request, patient_id: int):
    patient = get_object_or_404(Patient.objects.select_related("registered_practice"), pk=patient_id)
    actor = actor_from_assignment(request.acting)
    try:
        decision = access_patient(actor=actor, actor_org_kind=request.acting.organisation.kind, patient=patient,
                                  action=Action.VIEW, object_type="patient", object_id=patient.pk)
    except AccessDenied:
        return refused(request, patient)
    appointments = (
        Appointment.objects.filter(patient=patient).select_related("slot", "slot__clinician", "practice")
        .order_by("-slot__starts_at")[:20]
    )
    return render(request, "patients/detail.jinja", {"title": patient.full_name, "patient": patient,
                                                     "appointments": appointments, "decision": decision})


def refused(request, patient: Patient, title: str = "You cannot see this patient"):
    """The refusal page. Clinicians are offered break-glass; the patient is not named."""
    can_break_glass = request.acting is not None and request.acting.role in CLINICAL_ROLES
    return render(request, "patients/refused.jinja", {
        "title": title, "break_glass_href": f"/patients/{patient.pk}/break-glass/" if can_break_glass else "",
    }, status=403)


@role_required(*PRACTICE_STAFF, *HUB_STAFF)
@require_http_methods(["GET", "POST"])
def break_glass(request, patient_id: int):
    """Emergency access: a reason, the password and security code again, then a time-limited grant."""
    patient = get_object_or_404(Patient, pk=patient_id)
    form = BreakGlassForm(request.POST if request.method == "POST" else None)
    extra: list[str] = []
    status = 200
    demo_session = bool(request.session.get("demo_persona"))
    if request.method == "POST":
        status = 400
        if form.is_valid():
            how = reauthenticate(user=request.user, password=form.cleaned_data["password"],
                                 code=form.cleaned_data["code"], address=request.META.get("REMOTE_ADDR", "")[:64],
                                 demo_session=demo_session)
            if not how:
                extra.append("Your password or security code is not right")
            else:
                try:
                    services.break_glass_open(
                        actor=actor_from_assignment(request.acting), actor_org_kind=request.acting.organisation.kind,
                        patient=patient, reason=form.cleaned_data["reason"], reauthentication=how)
                except AccessDenied:
                    return render(request, "core/forbidden.jinja", {"title": "You cannot break glass"}, status=403)
                except services.BreakGlassError as e:
                    extra.append(e.message)
                else:
                    messages.info(request, "Emergency access granted. The privacy officers have been alerted.")
                    return redirect("patients:detail", patient.pk)
    return render(request, "patients/break_glass.jinja", {
        "title": "Emergency access (break glass)", "form": form, "errors": error_list(form, extra),
        "field_error": field_error, "demo_reauth": request.user.is_demo_persona and demo_session,
    }, status=status)
