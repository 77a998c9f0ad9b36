"""Hub pages. Views parse input, call a service or selector, and render."""

from __future__ import annotations

import csv
import datetime as dt

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from collab.accounts.models import CLINICAL_ROLES, Role, RoleAssignment
from collab.accounts.rules import HUB_CLINICIANS, HUB_STAFF, PRACTICE_STAFF, role_required
from collab.accounts.services import actor_from_assignment
from collab.booking import selectors, services
from collab.booking.forms import (
    BookForm,
    CancelForm,
    CapacityRequestForm,
    CompleteForm,
    DecisionForm,
    DutyForm,
    SlotSearchForm,
    UsageForm,
)
from collab.booking.models import Appointment, CapacityRequest, DeliveryChannel, PracticeTask, Slot
from collab.core.audit import audit_list_view
from collab.core.forms import error_list, field_error
from collab.organisations.models import Organisation
from collab.patients.access import AccessDenied, Action, access_patient, decide
from collab.patients.selectors import patient_by_nhs_number
from collab.patients.views import refused
from collab.records import selectors as record_selectors
from collab.records import services as record_services
from collab.records.forms import NoteForm, PrescriptionForm, ProblemForm


def _ctx(request, title: str, **extra):
    return {"title": title, "field_error": field_error, **extra}


def _actor(request):
    return actor_from_assignment(request.acting)


def _kind(request) -> str:
    return request.acting.organisation.kind


# ------------------------------------------------------------------ practice: find and book


@role_required(*PRACTICE_STAFF, where="practice")
def slot_search(request):
    form = SlotSearchForm(request.GET or {})
    slots = []
    if form.is_valid():
        tz = timezone.get_current_timezone()
        d = form.cleaned_data
        slots = list(selectors.slots_free(
            practice_id=request.acting.organisation_id,
            start=dt.datetime.combine(d["start"], dt.time.min, tzinfo=tz),
            end=dt.datetime.combine(d["end"] + dt.timedelta(days=1), dt.time.min, tzinfo=tz),
            channel=d.get("channel") or "", clinician_role=d.get("clinician_role") or "",
        ))
    return render(request, "booking/slot_search.jinja", _ctx(
        request, "Book a hub appointment", form=form, slots=slots, errors=error_list(form),
        channels=DeliveryChannel.choices, roles=[(r.value, r.label) for r in Role if r in CLINICAL_ROLES],
    ))


@role_required(*PRACTICE_STAFF, where="practice")
@require_http_methods(["GET", "POST"])
def book(request, slot_id: int):
    slot = get_object_or_404(Slot.objects.select_related("clinician", "reserved_for"), pk=slot_id)
    form = BookForm(request.POST if request.method == "POST" else None)
    extra: list[str] = []
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            patient = patient_by_nhs_number(form.cleaned_data["nhs_number"])
            if patient is None:
                form.add_error("nhs_number", "No patient with that NHS number is registered at a member practice")
            else:
                try:
                    booked = services.appointment_book(
                        actor=_actor(request), actor_org_kind=_kind(request), slot_id=slot.pk,
                        patient=patient, reason=form.cleaned_data["reason"],
                    )
                except services.NotPermitted:
                    form.add_error("nhs_number", "This patient is not registered at your practice")
                    status = 403
                except services.BookingError as e:
                    extra.append(e.message + ". Choose another slot.")
                    status = e.http_status
                else:
                    messages.info(request, "Appointment booked")
                    return redirect("booking:appointment", booked.appointment_id)
    return render(request, "booking/book.jinja", _ctx(
        request, "Book this slot", slot=slot, form=form, errors=error_list(form, extra),
        back_href="/hub/slots/"), status=status)


@role_required(*PRACTICE_STAFF, where="practice")
def practice_appointments(request):
    appointments = list(selectors.appointments_for_practice(practice_id=request.acting.organisation_id)[:200])
    audit_list_view(actor=_actor(request), patient_ids=[a.patient_id for a in appointments],
                    reason="registered practice", object_type="practice_appointments")
    return render(request, "booking/practice_appointments.jinja", _ctx(
        request, "Hub appointments for your patients", appointments=appointments))


# ------------------------------------------------------------------ appointment and consultation


def _appointment(appointment_id: int) -> Appointment:
    return get_object_or_404(
        Appointment.objects.select_related("slot", "slot__clinician", "slot__service", "patient", "practice",
                                           "booked_by"),
        pk=appointment_id,
    )


def _errors(*forms, extra: list[str] | None = None) -> list[dict]:
    """The error summary for several forms on one page; the outcome radios' first item is #outcome."""
    items = [e for f in forms if f is not None for e in error_list(f)] + error_list(None, extra)
    for e in items:
        if e["href"] == "#id_outcome":
            e["href"] = "#outcome"
    return items


def _appointment_page(request, appointment: Appointment, *, status: int = 200, errors=None, note_form=None,
                      problem_form=None, prescription_form=None, complete_form=None, kept=None):
    """The appointment page, shown again with errors too: each showing reads the patient (audited).

    For a clinician of the appointment's service it is also where the consultation happens: the
    structured note (the shared record's, linked to this appointment), then its signature and the
    outcome, in one form. `kept` fills the fields outside the note that no form here is checking:
    what was typed there before the last button, shown again but not saved (see _kept)."""
    actor, kind = _actor(request), _kind(request)
    try:
        access_patient(actor=actor, actor_org_kind=kind, patient=appointment.patient, action=Action.VIEW,
                       object_type="appointment", object_id=appointment.pk)
    except AccessDenied:
        return render(request, "patients/refused.jinja", {"title": "You cannot see this patient"}, status=403)
    consults_here = (kind == "collaborative" and request.acting.role in HUB_CLINICIANS
                     and selectors.appointment_in_actors_service(actor=actor, org_kind=kind, appointment=appointment))
    notes = list(record_selectors.consultations_for_appointment(appointment_id=appointment.pk))
    draft = next((c for c in notes if not c.is_signed and c.clinician_id == request.user.pk), None)
    signed = [c for c in notes if c.is_signed]
    others_drafting = [c.clinician for c in notes if not c.is_signed and c.clinician_id != request.user.pk]
    shows_record = bool(signed or draft) and decide(
        actor=actor, actor_org_kind=kind, patient=appointment.patient, action=Action.RECORD_VIEW).allowed
    if shows_record:
        # The note is the shared record's: reading it here is audited as reading the record.
        access_patient(actor=actor, actor_org_kind=kind, patient=appointment.patient, action=Action.RECORD_VIEW,
                       object_type="appointment", object_id=appointment.pk)
    if note_form is None:
        note_form = NoteForm(initial={f: getattr(draft, f) for f in NoteForm.base_fields} if draft else None)
    kept = kept or {}
    complete_form = complete_form or CompleteForm(initial=kept)
    problem_form = problem_form or ProblemForm(initial=kept)
    prescription_form = prescription_form or PrescriptionForm(initial=kept)
    return render(request, "booking/appointment.jinja", _ctx(
        request, "Appointment", appointment=appointment, events=appointment.events.select_related("by"),
        is_hub_clinician=consults_here, complete_form=complete_form, cancel_form=CancelForm(),
        outcomes=Appointment.Outcome.choices, errors=errors or [],
        draft=draft if shows_record else None, signed_notes=signed if shows_record else [],
        others_drafting=others_drafting if consults_here else [], note_form=note_form, problem_form=problem_form,
        prescription_form=prescription_form,
        writes_note=consults_here and appointment.status == Appointment.Status.ARRIVED
        and not any(c.clinician_id == request.user.pk for c in signed),
    ), status=status)


@role_required(*PRACTICE_STAFF, *HUB_STAFF)
def appointment_detail(request, appointment_id: int):
    return _appointment_page(request, _appointment(appointment_id), kept=_kept_take(request, appointment_id))


def _appointment_action(request, appointment_id: int, handler):
    appointment = get_object_or_404(Appointment.objects.select_related("patient", "slot"), pk=appointment_id)
    try:
        response = handler(appointment)
    except services.NotPermitted:
        return render(request, "patients/refused.jinja", {"title": "You cannot change this appointment"}, status=403)
    except services.BookingError as e:
        messages.error(request, e.message)
        return redirect("booking:appointment", appointment.pk)
    return response


@role_required(*HUB_CLINICIANS, where="hub")
@require_POST
def appointment_arrive(request, appointment_id: int):
    def handler(appointment):
        services.appointment_arrive(actor=_actor(request), actor_org_kind=_kind(request), appointment=appointment)
        messages.info(request, "Marked as arrived: the consultation has started. Write the note, then sign it "
                               "and record the outcome")
        return redirect("booking:appointment", appointment.pk)

    return _appointment_action(request, appointment_id, handler)


@role_required(*HUB_CLINICIANS, where="hub")
@require_POST
def appointment_dna(request, appointment_id: int):
    def handler(appointment):
        services.appointment_did_not_attend(actor=_actor(request), actor_org_kind=_kind(request), appointment=appointment)
        messages.info(request, "Recorded as did not attend")
        return redirect("booking:appointment", appointment.pk)

    return _appointment_action(request, appointment_id, handler)


# What each button of the consultation form does after the draft note is saved.
CONSULT_STEPS = ("save", "problem", "prescription", "finish")
# The consultation form's fields outside the note, by the step that uses them: one problem or one
# prescription to add, and the outcome (with its note for the practice) to complete with.
STEP_FORMS = {"problem": ProblemForm, "prescription": PrescriptionForm, "finish": CompleteForm}
# In the session (never the URL: it is clinical text): {appointment id: {field: value}}, what a
# step did not use, until the appointment page is next shown.
KEPT_SESSION_KEY = "consultation_kept"


def _kept(post, step: str) -> dict[str, str]:
    """What was typed in the fields this step does not use (the outcome chosen, a problem or a
    prescription not yet added): shown again as typed, never saved by this step."""
    return {name: post[name] for used_by, form in STEP_FORMS.items() if used_by != step
            for name in form.base_fields if (post.get(name) or "").strip()}


def _kept_put(request, appointment_id: int, kept: dict[str, str]) -> None:
    """Keep these fields over the redirect to the appointment page (replacing any kept before)."""
    stash, key = dict(request.session.get(KEPT_SESSION_KEY, {})), str(appointment_id)
    if kept:
        stash[key] = kept
    elif stash.pop(key, None) is None:
        return  # nothing kept before or now: the session is not written
    request.session[KEPT_SESSION_KEY] = stash


def _kept_take(request, appointment_id: int) -> dict[str, str]:
    """The fields kept for this appointment's page, once: showing the page again starts them afresh."""
    stash, key = dict(request.session.get(KEPT_SESSION_KEY, {})), str(appointment_id)
    if key not in stash:
        return {}
    kept = stash.pop(key)
    request.session[KEPT_SESSION_KEY] = stash
    return kept


@role_required(*HUB_CLINICIANS, where="hub")
@require_POST
def appointment_consult(request, appointment_id: int):
    """The consultation form on the appointment page: every button saves the draft note first
    (nothing typed is lost), then adds a problem or a prescription, or signs the note and records
    the outcome. What the button does not use (the outcome chosen before "Add problem", say) is
    shown again as typed, not saved. Each write is decided and audited by the access function."""
    appointment = _appointment(appointment_id)
    step = request.POST.get("step", "save")
    if step not in CONSULT_STEPS:
        step = "save"
    note_form = NoteForm(request.POST)
    problem_form = ProblemForm(request.POST) if step == "problem" else None
    prescription_form = PrescriptionForm(request.POST) if step == "prescription" else None
    complete_form = CompleteForm(request.POST) if step == "finish" else None
    valid = all([f.is_valid() for f in (note_form, problem_form, prescription_form, complete_form) if f is not None])
    if step == "finish" and note_form.is_valid():
        valid = note_form.check_signable() and valid
    forms = {"note_form": note_form, "problem_form": problem_form, "prescription_form": prescription_form,
             "complete_form": complete_form, "kept": _kept(request.POST, step)}
    if not valid:
        return _appointment_page(request, appointment, status=400, **forms,
                                 errors=_errors(note_form, problem_form, prescription_form, complete_form))
    actor, kind, d = _actor(request), _kind(request), note_form.cleaned_data
    try:
        c = record_services.appointment_draft(actor=actor, actor_org_kind=kind, appointment=appointment)
        follow_up = {"follow_up_needed": d["follow_up_needed"], "follow_up_note": d["follow_up_note"]}
        if record_services.note_changed(c, notes=d, **follow_up):
            c = record_services.consultation_save(actor=actor, actor_org_kind=kind, consultation=c, notes=d,
                                                  **follow_up)
        if step == "problem":
            record_services.problem_add(actor=actor, actor_org_kind=kind, consultation=c, **problem_form.cleaned_data)
            done, anchor = "Problem added", "#problems"
        elif step == "prescription":
            record_services.prescription_add(actor=actor, actor_org_kind=kind, consultation=c,
                                             **prescription_form.cleaned_data)
            done, anchor = "Prescription added", "#prescriptions"
        elif step == "finish":
            outcome = complete_form.cleaned_data["outcome"]
            record_services.appointment_consultation_complete(
                actor=actor, actor_org_kind=kind, consultation=c, outcome=outcome,
                outcome_note=complete_form.cleaned_data["note"])
            done, anchor = "Note signed. Consultation completed: " + Appointment.Outcome(outcome).label, ""
        else:
            done, anchor = "Draft saved", "#consultation-note"
    except (AccessDenied, services.NotPermitted):
        return refused(request, appointment.patient, title="You cannot change this record")
    except (record_services.RecordError, services.BookingError) as e:
        appointment.refresh_from_db()
        return _appointment_page(request, appointment, status=400, **forms, errors=_errors(extra=[e.message]))
    _kept_put(request, appointment.pk, forms["kept"] if step != "finish" else {})
    messages.info(request, done)
    return redirect(reverse("booking:appointment", args=[appointment.pk]) + anchor)


@role_required(*HUB_CLINICIANS, where="hub")
@require_POST
def appointment_complete(request, appointment_id: int):
    """The outcome alone: for an appointment whose note is already signed, or that needs none."""
    form = CompleteForm(request.POST)

    def handler(appointment):
        if not form.is_valid():
            return _appointment_page(request, _appointment(appointment.pk), status=400, complete_form=form,
                                     errors=_errors(form))
        services.appointment_complete(actor=_actor(request), actor_org_kind=_kind(request), appointment=appointment,
                                      outcome=form.cleaned_data["outcome"], note=form.cleaned_data["note"])
        messages.info(request, "Consultation completed: " + Appointment.Outcome(form.cleaned_data["outcome"]).label)
        return redirect("booking:day_list")

    return _appointment_action(request, appointment_id, handler)


@role_required(*PRACTICE_STAFF, *HUB_STAFF)
@require_POST
def appointment_cancel(request, appointment_id: int):
    form = CancelForm(request.POST)

    def handler(appointment):
        if not form.is_valid():
            raise services.BookingError(" ".join(e for errs in form.errors.values() for e in errs))
        services.appointment_cancel(actor=_actor(request), actor_org_kind=_kind(request), appointment=appointment,
                                    reason=form.cleaned_data["reason"])
        messages.info(request, "Appointment cancelled: the slot is free again")
        return redirect("booking:appointment", appointment.pk)

    return _appointment_action(request, appointment_id, handler)


@role_required(*HUB_CLINICIANS, where="hub")
def day_list(request):
    day = timezone.localdate()
    raw = request.GET.get("date")
    if raw:
        try:
            day = dt.date.fromisoformat(raw)
        except ValueError:
            messages.error(request, "Enter a real date, for example 2026-12-01")
    appointments = list(selectors.appointments_for_clinician_day(clinician_id=request.user.pk, day=day))
    audit_list_view(actor=_actor(request), patient_ids=[a.patient_id for a in appointments],
                    reason="hub appointment with this clinician", object_type="day_list")
    return render(request, "booking/day_list.jinja", _ctx(
        request, "My day list", day=day, appointments=appointments,
        prev_day=day - dt.timedelta(days=1), next_day=day + dt.timedelta(days=1)))


# ------------------------------------------------------------------ buying capacity


@role_required(Role.PRACTICE_MANAGER, Role.HUB_MANAGER)
@require_http_methods(["GET", "POST"])
def capacity_requests(request):
    org = request.acting.organisation
    is_practice = org.kind == "practice"
    form = CapacityRequestForm(request.POST if request.method == "POST" else None) if is_practice else None
    extra: list[str] = []
    status = 200
    if request.method == "POST":
        if not is_practice:
            return render(request, "core/forbidden.jinja", {"title": "Only practices request capacity"}, status=403)
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.capacity_request_create(
                    actor=_actor(request), practice=org, first_date=d["first_date"], last_date=d["last_date"],
                    slots_requested=d["slots_requested"], reason=d["reason"], detail=d["detail"], channel=d["channel"],
                )
            except services.BookingError as e:
                extra.append(e.message)
            else:
                messages.info(request, "Request sent to the hub manager")
                return redirect("booking:capacity_requests")
    return render(request, "booking/capacity_requests.jinja", _ctx(
        request, "Buy hub capacity" if is_practice else "Capacity requests",
        requests=selectors.capacity_requests_for(organisation=org)[:100], form=form, is_practice=is_practice,
        errors=error_list(form, extra), reasons=CapacityRequest.Reason.choices, channels=DeliveryChannel.choices,
    ), status=status)


@role_required(Role.HUB_MANAGER, where="hub")
@require_http_methods(["GET", "POST"])
def capacity_decide(request, request_id: int):
    req = get_object_or_404(CapacityRequest.objects.select_related("practice", "requested_by"), pk=request_id)
    form = DecisionForm(request.POST if request.method == "POST" else None)
    extra: list[str] = []
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.capacity_request_decide(actor=_actor(request), request=req,
                                                 approve=form.cleaned_data["decision"] == "approve",
                                                 note=form.cleaned_data["note"])
            except services.BookingError as e:
                extra.append(e.message)
            else:
                req.refresh_from_db()
                messages.info(request, f"Request {req.get_status_display().lower()}")
                return redirect("booking:capacity_requests")
    return render(request, "booking/capacity_decide.jinja", _ctx(
        request, "Decide a capacity request", req=req, form=form, errors=error_list(form, extra),
        back_href="/hub/capacity/"), status=status)


@role_required(Role.HUB_MANAGER, where="hub")
def usage(request):
    form = UsageForm(request.GET or {})
    today = timezone.localdate()
    start = today.replace(day=1)
    end = today
    if form.is_valid():
        start = form.cleaned_data.get("start") or start
        end = form.cleaned_data.get("end") or end
    rows = selectors.usage_by_practice(since=start, until=end)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="hub-use-{start}-{end}.csv"'
        writer = csv.writer(response)
        writer.writerow(["ods_code", "practice", "appointments", "reserved", "pooled", "minutes"])
        for r in rows:
            writer.writerow([r["ods_code"], r["name"], r["appointments"], r["reserved"], r["pooled"], r["minutes"]])
        return response
    return render(request, "booking/usage.jinja", _ctx(
        request, "Hub use by practice", rows=rows, start=start, end=end, form=form, errors=error_list(form),
        total=sum(r["appointments"] for r in rows)))


# ------------------------------------------------------------------ practice tasks


@role_required(*PRACTICE_STAFF, where="practice")
def practice_tasks(request):
    tasks = list(selectors.practice_tasks_open(practice_id=request.acting.organisation_id))
    audit_list_view(actor=_actor(request), patient_ids=[t.patient_id for t in tasks],
                    reason="registered practice", object_type="practice_tasks")
    return render(request, "booking/practice_tasks.jinja", _ctx(request, "Tasks from the hub", tasks=tasks))


@role_required(*PRACTICE_STAFF, where="practice")
@require_POST
def practice_task_close(request, task_id: int):
    task = get_object_or_404(PracticeTask, pk=task_id)
    try:
        services.practice_task_close(actor=_actor(request), task=task)
    except services.NotPermitted:
        return render(request, "core/forbidden.jinja", {"title": "This task belongs to another practice"}, status=403)
    except services.BookingError as e:
        messages.error(request, e.message)
    else:
        messages.info(request, "Task marked as done")
    return redirect("booking:practice_tasks")


# ------------------------------------------------------------------ duty doctor


@role_required(Role.HUB_MANAGER, where="hub")
@require_http_methods(["GET", "POST"])
def duty_rota(request):
    practices = list(Organisation.objects.filter(kind="practice", is_active=True).order_by("name"))
    clinicians = list(
        RoleAssignment.objects.filter(organisation__kind="collaborative", role=Role.GP, is_active=True)
        .select_related("user").order_by("user__last_name")
    )
    form = DutyForm(request.POST if request.method == "POST" else None, practice_choices=[(str(p.pk), p.display_name) for p in practices])
    extra: list[str] = []
    status = 200
    day = timezone.localdate()
    if request.GET.get("date"):
        try:
            day = dt.date.fromisoformat(request.GET["date"])
        except ValueError:
            extra.append("Enter a real date, for example 2026-12-01")
    if request.method == "POST":
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            clinician = next((c.user for c in clinicians if c.user_id == d["clinician"]), None)
            if clinician is None:
                form.add_error("clinician", "Choose a hub GP")
            else:
                chosen = [p for p in practices if str(p.pk) in d["practices"]]
                try:
                    n = services.duty_doctor_assign(actor=_actor(request), date=d["date"], practices=chosen,
                                                    clinician=clinician, contact=d["contact"])
                except services.BookingError as e:
                    extra.append(e.message)
                else:
                    messages.info(request, f"{clinician} is duty doctor for {n} practices on {d['date']:%d %B %Y}")
                    return redirect(f"/hub/duty/?date={d['date'].isoformat()}")
    return render(request, "booking/duty_rota.jinja", _ctx(
        request, "Duty doctors", day=day, rota=selectors.duty_rota(day=day), practices=practices,
        clinicians=clinicians, form=form, errors=error_list(form, extra)), status=status)
