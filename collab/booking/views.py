"""Hub pages. Views parse input, call a service or selector, and render."""

from __future__ import annotations

import csv
import datetime as dt

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
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
from collab.patients.access import AccessDenied, Action, access_patient
from collab.patients.selectors import patient_by_nhs_number


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


@role_required(*PRACTICE_STAFF, *HUB_STAFF)
def appointment_detail(request, appointment_id: int):
    appointment = get_object_or_404(
        Appointment.objects.select_related("slot", "slot__clinician", "patient", "practice", "booked_by"),
        pk=appointment_id,
    )
    try:
        access_patient(actor=_actor(request), actor_org_kind=_kind(request), patient=appointment.patient,
                       action=Action.VIEW, object_type="appointment", object_id=appointment.pk)
    except AccessDenied:
        return render(request, "patients/refused.jinja", {"title": "You cannot see this patient"}, status=403)
    is_hub_clinician = _kind(request) == "collaborative" and request.acting.role in HUB_CLINICIANS
    return render(request, "booking/appointment.jinja", _ctx(
        request, "Appointment", appointment=appointment, events=appointment.events.select_related("by"),
        is_hub_clinician=is_hub_clinician, complete_form=CompleteForm(), cancel_form=CancelForm(),
        outcomes=Appointment.Outcome.choices, errors=[],
    ))


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
        messages.info(request, "Marked as arrived: the consultation has started")
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


@role_required(*HUB_CLINICIANS, where="hub")
@require_POST
def appointment_complete(request, appointment_id: int):
    form = CompleteForm(request.POST)

    def handler(appointment):
        if not form.is_valid():
            return render(request, "booking/appointment.jinja", _ctx(
                request, "Appointment", appointment=appointment, events=appointment.events.select_related("by"),
                is_hub_clinician=True, complete_form=form, cancel_form=CancelForm(),
                outcomes=Appointment.Outcome.choices, errors=error_list(form)), status=400)
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
