from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from collab.accounts import oidc
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


# The purpose a CIS2 re-authentication is asked for, so its outcome is used for nothing else.
BREAK_GLASS_PURPOSE = "break_glass"
# Said when CIS2 did not vouch for an AAL3 re-authentication (settings.CIS2_BREAK_GLASS_ACCEPTED_ACR).
WEAK_ACR_HEADING = "Emergency access needs your smartcard"
WEAK_ACR_MESSAGE = ("Breaking glass needs you to sign in to NHS CIS2 again with your smartcard, or another "
                    "authenticator CIS2 rates as strong as a smartcard (assurance level AAL3). CIS2 did not confirm "
                    "that you did, and a weaker sign-in is not enough for this. Request emergency access again and "
                    "use your smartcard when CIS2 asks.")


@role_required(*PRACTICE_STAFF, *HUB_STAFF)
@require_http_methods(["GET", "POST"])
def break_glass(request, patient_id: int):
    """Emergency access: a reason, then re-authentication, then a time-limited grant.

    Re-authentication is the way the user signed in: password and security code again, or (signed in
    with NHS CIS2, so no local password) a fresh CIS2 sign-in, finished in ``break_glass_cis2``.
    """
    patient = get_object_or_404(Patient, pk=patient_id)
    form = BreakGlassForm(request.POST if request.method == "POST" else None)
    extra: list[str] = []
    status = 200
    demo_session = bool(request.session.get("demo_persona"))
    cis2_session = request.session.get("auth_method") == "cis2"
    if request.method == "POST":
        status = 400
        if form.is_valid() and cis2_session:
            return _break_glass_via_cis2(request, patient, form.cleaned_data["reason"])
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
        "cis2_reauth": cis2_session,
    }, status=status)


def _break_glass_via_cis2(request, patient: Patient, reason: str):
    """Keep the reason in the session (never the URL) and send the user to CIS2 to sign in again."""
    actor = actor_from_assignment(request.acting)
    try:
        reason = services.break_glass_check(actor=actor, actor_org_kind=request.acting.organisation.kind,
                                            patient=patient, reason=reason)
        url = oidc.reauthentication_url(
            request.session, return_to=reverse("patients:break_glass_cis2", args=[patient.pk]),
            context={"purpose": BREAK_GLASS_PURPOSE, "patient_id": patient.pk, "reason": reason,
                     "assignment_id": request.acting.pk},
            acr_values=settings.CIS2_BREAK_GLASS_ACR_VALUES, accepted_acr=settings.CIS2_BREAK_GLASS_ACCEPTED_ACR)
    except AccessDenied:
        return render(request, "core/forbidden.jinja", {"title": "You cannot break glass"}, status=403)
    except oidc.Cis2Refused as e:
        services.break_glass_refuse(actor=actor, patient=patient, reason=f"CIS2 re-authentication: {e.reason}")
        return _break_glass_refused(request, patient, e.message)
    return redirect(url)


@role_required(*PRACTICE_STAFF, *HUB_STAFF)
@require_http_methods(["GET"])
def break_glass_cis2(request, patient_id: int):
    """Back from CIS2: open the grant only if this user, in this role, just signed in again for this patient."""
    patient = get_object_or_404(Patient, pk=patient_id)
    actor = actor_from_assignment(request.acting)
    outcome = oidc.outcome_take(request.session, user_id=request.user.pk)
    context = (outcome or {}).get("context") or {}
    if (outcome is None or context.get("purpose") != BREAK_GLASS_PURPOSE or context.get("patient_id") != patient.pk
            or context.get("assignment_id") != request.acting.pk):
        services.break_glass_refuse(actor=actor, patient=patient,
                                    reason="CIS2 re-authentication: none for this break-glass request")
        return _break_glass_refused(request, patient, "We could not confirm it is you. Start again.")
    if not outcome["ok"]:
        services.break_glass_refuse(actor=actor, patient=patient,
                                    reason=f"CIS2 re-authentication: {outcome['reason']}")
        if outcome.get("code") == oidc.WEAK_ACR:
            return _break_glass_refused(request, patient, WEAK_ACR_MESSAGE, heading=WEAK_ACR_HEADING)
        return _break_glass_refused(request, patient, outcome["message"])
    signed_in_at = dt.datetime.fromtimestamp(outcome["auth_time"], tz=dt.UTC).isoformat(timespec="seconds")
    try:
        services.break_glass_open(actor=actor, actor_org_kind=request.acting.organisation.kind, patient=patient,
                                  reason=context["reason"], reauthentication=f"NHS CIS2 (auth_time {signed_in_at})")
    except AccessDenied:
        return render(request, "core/forbidden.jinja", {"title": "You cannot break glass"}, status=403)
    except services.BreakGlassError as e:
        services.break_glass_refuse(actor=actor, patient=patient, reason=e.message)
        return _break_glass_refused(request, patient, e.message)
    messages.info(request, "Emergency access granted. The privacy officers have been alerted.")
    return redirect("patients:detail", patient.pk)


def _break_glass_refused(request, patient: Patient, message: str, heading: str = "We could not confirm it is you"):
    return render(request, "patients/break_glass_refused.jinja", {
        "title": "Emergency access was not opened", "heading": heading, "message": message,
        "retry_href": reverse("patients:break_glass", args=[patient.pk]),
    }, status=403)
