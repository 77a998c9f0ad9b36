"""The shared record: the patient view (both records, each item with its source and date), and
the consultation note (draft, sign, addenda, review at the practice)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from collab.accounts.models import CLINICAL_ROLES
from collab.accounts.rules import HUB_STAFF, PRACTICE_STAFF, role_required
from collab.accounts.services import actor_from_assignment
from collab.core.forms import field_error
from collab.patients.access import AccessDenied, Action, access_patient, decide
from collab.patients.models import Patient
from collab.patients.views import refused
from collab.records import selectors, services
from collab.records.forms import AddendumForm, NoteForm, PrescriptionForm, ProblemForm, ReviewForm
from collab.records.models import Consultation

CLINICIANS = tuple(CLINICAL_ROLES)


def _actor(request):
    return actor_from_assignment(request.acting)


def _kind(request) -> str:
    return request.acting.organisation.kind


@role_required(*PRACTICE_STAFF, *HUB_STAFF)
def patient_record(request, patient_id: int):
    patient = get_object_or_404(Patient.objects.select_related("registered_practice"), pk=patient_id)
    actor = _actor(request)
    try:
        decision = access_patient(actor=actor, actor_org_kind=_kind(request), patient=patient,
                                  action=Action.RECORD_VIEW, object_type="record", object_id=patient.pk)
    except AccessDenied:
        return refused(request, patient)
    can_write = decide(actor=actor, actor_org_kind=_kind(request), patient=patient,
                       action=Action.RECORD_WRITE).allowed
    return render(request, "records/patient_record.jinja", {
        "title": f"Record: {patient.full_name}", "patient": patient, "decision": decision,
        "consultations": list(selectors.consultations_for_patient(patient_id=patient.pk)[:50]),
        "practice": selectors.practice_record(patient=patient, actor=actor), "can_write": can_write,
    })


@role_required(*CLINICIANS, where="hub")
@require_POST
def consultation_start(request, patient_id: int):
    patient = get_object_or_404(Patient, pk=patient_id)
    try:
        c = services.consultation_start(actor=_actor(request), actor_org_kind=_kind(request), patient=patient)
    except AccessDenied:
        return refused(request, patient)
    except services.RecordError as e:
        messages.error(request, e.message)
        return redirect("records:patient", patient.pk)
    return redirect("records:consultation", c.pk)


def _page(request, c: Consultation, *, status: int = 200, errors=None, **forms):
    ctx = {
        "title": f"{c.get_setting_display()} consultation", "c": c, "patient": c.patient,
        "editable": not c.is_signed and c.clinician_id == request.user.pk,
        "is_author_service": _kind(request) == "collaborative" and request.acting.role in CLINICAL_ROLES,
        "note_form": forms.get("note_form") or NoteForm(initial={f: getattr(c, f) for f in NoteForm.base_fields}),
        "problem_form": forms.get("problem_form"),
        "prescription_form": forms.get("prescription_form"),
        "addendum_form": forms.get("addendum_form") or AddendumForm(),
        "review_form": forms.get("review_form") or ReviewForm(),
        "tasks": list(c.practice_tasks.select_related("practice", "closed_by").all()),
        "errors": errors or [], "back_href": f"/records/patients/{c.patient_id}/", "field_error": field_error,
    }
    return render(request, "records/consultation.jinja", ctx, status=status)


@role_required(*PRACTICE_STAFF, *HUB_STAFF)
def consultation(request, consultation_id: int):
    c = selectors.consultation_by_id(consultation_id)
    if c is None:
        return render(request, "core/forbidden.jinja", {"title": "Not found"}, status=404)
    try:
        access_patient(actor=_actor(request), actor_org_kind=_kind(request), patient=c.patient,
                       action=Action.RECORD_VIEW, object_type="consultation", object_id=c.pk)
    except AccessDenied:
        return refused(request, c.patient)
    return _page(request, c)


def _post(request, consultation_id: int, form_class, form_name: str, act, done: str):
    c = selectors.consultation_by_id(consultation_id)
    if c is None:
        return render(request, "core/forbidden.jinja", {"title": "Not found"}, status=404)
    form = form_class(request.POST)
    if not form.is_valid():
        errs = [{"text": e, "href": "#maincontent"} for es in form.errors.values() for e in es]
        return _page(request, c, status=400, errors=errs, **{form_name: form})
    try:
        act(c, form.cleaned_data)
    except AccessDenied:
        return refused(request, c.patient, title="You cannot change this record")
    except services.RecordError as e:
        return _page(request, c, status=400, errors=[{"text": e.message, "href": "#maincontent"}], **{form_name: form})
    messages.info(request, done)
    return redirect("records:consultation", c.pk)


@role_required(*CLINICIANS, where="hub")
@require_POST
def consultation_save(request, consultation_id: int):
    def act(c, d):
        services.consultation_save(actor=_actor(request), actor_org_kind=_kind(request), consultation=c,
                                   notes=d, follow_up_needed=d["follow_up_needed"], follow_up_note=d["follow_up_note"])
        if request.POST.get("sign") == "yes":
            c.refresh_from_db()
            services.consultation_sign(actor=_actor(request), actor_org_kind=_kind(request), consultation=c)

    done = "Note signed" if request.POST.get("sign") == "yes" else "Draft saved"
    return _post(request, consultation_id, NoteForm, "note_form", act, done)


@role_required(*CLINICIANS, where="hub")
@require_POST
def problem_add(request, consultation_id: int):
    return _post(request, consultation_id, ProblemForm, "problem_form", lambda c, d: services.problem_add(
        actor=_actor(request), actor_org_kind=_kind(request), consultation=c, **d), "Problem added")


@role_required(*CLINICIANS, where="hub")
@require_POST
def prescription_add(request, consultation_id: int):
    return _post(request, consultation_id, PrescriptionForm, "prescription_form", lambda c, d: services.prescription_add(
        actor=_actor(request), actor_org_kind=_kind(request), consultation=c, **d), "Prescription added")


@role_required(*CLINICIANS, where="hub")
@require_POST
def addendum_add(request, consultation_id: int):
    return _post(request, consultation_id, AddendumForm, "addendum_form", lambda c, d: services.addendum_add(
        actor=_actor(request), actor_org_kind=_kind(request), consultation=c, text=d["text"]), "Addendum added")


@role_required(*CLINICIANS, where="hub")
@require_POST
def review_request(request, consultation_id: int):
    return _post(request, consultation_id, ReviewForm, "review_form", lambda c, d: services.review_request(
        actor=_actor(request), actor_org_kind=_kind(request), consultation=c, urgent=d["urgency"] == "urgent",
        description=d["description"]), "Review booked at the registered practice")
