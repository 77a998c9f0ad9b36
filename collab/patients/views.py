from __future__ import annotations

from django.shortcuts import get_object_or_404, render

from collab.accounts.rules import HUB_STAFF, PRACTICE_STAFF, role_required
from collab.accounts.services import actor_from_assignment
from collab.booking.models import Appointment
from collab.core.forms import error_list, field_error
from collab.patients.access import AccessDenied, Action, access_patient
from collab.patients.forms import FindPatientForm
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
        access_patient(actor=actor, actor_org_kind=request.acting.organisation.kind, patient=patient,
                       action=Action.VIEW, object_type="patient", object_id=patient.pk)
    except AccessDenied:
        return render(request, "patients/refused.jinja", {"title": "You cannot see this patient"}, status=403)
    appointments = (
        Appointment.objects.filter(patient=patient).select_related("slot", "slot__clinician", "practice")
        .order_by("-slot__starts_at")[:20]
    )
    return render(request, "patients/detail.jinja", {"title": patient.full_name, "patient": patient,
                                                     "appointments": appointments})
