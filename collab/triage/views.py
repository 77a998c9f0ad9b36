"""Triage pages. Views parse input, call a service or selector, and render."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from collab.accounts.models import Role
from collab.accounts.rules import role_required
from collab.accounts.services import actor_from_assignment
from collab.core.audit import audit_list_view
from collab.core.forms import error_list, field_error
from collab.core.jinja import format_date
from collab.organisations.models import Service
from collab.patients.access import AccessDenied, Action, access_patient
from collab.patients.selectors import patient_by_nhs_number
from collab.triage import selectors, services
from collab.triage.bank_holidays import BankHolidayImportError, bank_holidays_import, read_bytes
from collab.triage.defaults import AWAITING_TRIAGE, RED_FLAGS_111, RED_FLAGS_999
from collab.triage.forms import (
    BankHolidayFileForm,
    CapacityForm,
    CloseForm,
    OnlineRequestForm,
    RedFlagForm,
    RuleFormSet,
    SendBackForm,
    StaffRequestForm,
    TargetsForm,
    TriageForm,
)
from collab.triage.models import (
    AdminType,
    RedFlagScreen,
    RequestKind,
    Route,
    RoutingRule,
    Source,
    TriageRequest,
    Urgency,
)
from collab.triage.rules import QUEUE_STAFF, REQUEST_TAKERS

SCREEN_KEY = "triage_red_flag_screen"
SENT_KEY = "triage_sent_reference"


def _ctx(title: str, **extra):
    return {"title": title, "field_error": field_error, **extra}


def _actor(request):
    return actor_from_assignment(request.acting)


def _kind(request) -> str:
    return request.acting.organisation.kind


def _service_error(form, e: services.TriageError, extra: list[str]) -> None:
    if e.field and form is not None and e.field in form.fields:
        form.add_error(e.field, e.message)
    else:
        extra.append(e.message)


# ------------------------------------------------------------------ the public front door


@require_http_methods(["GET", "POST"])
def start(request):
    """The red-flag screen: first, before anything else is asked."""
    form = RedFlagForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            screen = services.red_flag_screen_record(flags=form.cleaned_data["flags"])
            if screen.outcome == RedFlagScreen.Outcome.CALL_999:
                return render(request, "triage/call_999.jinja", _ctx("Call 999 now"))
            if screen.outcome == RedFlagScreen.Outcome.CALL_111:
                return render(request, "triage/call_111.jinja", _ctx("Get help from 111 now"))
            request.session[SCREEN_KEY] = screen.pk
            return redirect("triage:online_request")
        status = 400
    return render(request, "triage/start.jinja", _ctx(
        "Contact your GP practice online", form=form, errors=error_list(form), flags_999=RED_FLAGS_999,
        flags_111=RED_FLAGS_111, is_open=services.form_is_open(timezone.now())), status=status)


@require_http_methods(["GET", "POST"])
def online_request(request):
    screen_id = request.session.get(SCREEN_KEY)
    if not screen_id:
        return redirect("triage:start")
    form = OnlineRequestForm(request.POST if request.method == "POST" else None)
    extra: list[str] = []
    status = 200
    if not services.form_is_open(timezone.now()):
        return render(request, "triage/closed.jinja", _ctx("Online requests are closed"), status=200)
    if request.method == "POST":
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            details = services.RequestDetails(
                kind=d["kind"], description=d["description"], admin_type=d.get("admin_type") or "",
                preferred_channel=d.get("preferred_channel") or "", contact_phone=d.get("contact_phone") or "",
                contact_email=d.get("contact_email") or "", on_behalf=d["on_behalf"] == "yes",
                requester_name=d.get("requester_name") or "", requester_relationship=d.get("requester_relationship") or "",
            )
            try:
                created = services.request_submit_online(
                    screen_id=screen_id, practice_ods=d["practice"], nhs_number=d["nhs_number"],
                    date_of_birth=d["date_of_birth"], details=details)
            except services.TriageError as e:
                _service_error(form, e, extra)
                status = e.http_status
            else:
                request.session.pop(SCREEN_KEY, None)
                request.session[SENT_KEY] = created.reference
                return redirect("triage:sent")
    return render(request, "triage/online_request.jinja", _ctx(
        "Tell us what you need", form=form, errors=error_list(form, extra), kinds=RequestKind.choices,
        admin_types=AdminType.choices, back_href="/triage/start/"), status=status)


def sent(request):
    reference = request.session.get(SENT_KEY)
    if not reference:
        return redirect("triage:start")
    created = TriageRequest.objects.select_related("service", "practice").filter(reference=reference).first()
    if created is None:
        raise Http404
    phone = (created.service.phone if created.service and created.service.phone else "") or created.practice.phone
    return render(request, "triage/sent.jinja", _ctx("Request sent", req=created, phone=phone or "your GP practice"))


# ------------------------------------------------------------------ queues


# How often the queue page re-fetches its list (seconds); the script reads it from a data attribute.
QUEUE_REFRESH_SECONDS = 30


def _queue_context(request, *, complain: bool) -> dict:
    """The queue's rows for the acting organisation, audited: every patient listed is one audit row.

    The page and its live-refresh fragment both come through here, so they list, and audit, the same.
    ``complain`` adds the "choose one of your services" message (the page only: a fragment fetched in the
    background must not leave a message for the next page).
    """
    org = request.acting.organisation
    choices = selectors.services_with_queues(org)
    chosen = None
    raw = request.GET.get("service", "")
    if raw:
        chosen = next((s for s in choices if str(s.pk) == raw), None)
        if chosen is None and complain:
            messages.error(request, "Choose one of your services")
    if chosen is None and org.kind == "practice" and choices:
        chosen = choices[0]
    if chosen is not None:
        rows = list(selectors.queue_for_service(service=chosen)[:300])
        heading = chosen.name
    else:
        rows = list(selectors.awaiting_triage_everywhere()[:300])
        heading = "Waiting for triage across the collaborative"
    now = timezone.now()
    audit_list_view(actor=_actor(request), patient_ids=[r.patient_id for r in rows],
                    reason="triage queue", object_type="triage_queue")
    breached = [r.pk for r in rows if selectors.is_breached(r, now)]
    query = f"?service={chosen.pk}" if chosen is not None else ""
    return _ctx(
        "Triage queue", rows=rows, heading=heading, services=choices, chosen=chosen, breached=set(breached),
        breach_count=len(breached), now=now, at_collaborative=org.kind == "collaborative",
        refresh_href=reverse("triage:queue") + query, fragment_href=reverse("triage:queue_list") + query,
        refresh_seconds=QUEUE_REFRESH_SECONDS)


@role_required(*QUEUE_STAFF)
def queue(request):
    return render(request, "triage/queue.jinja", _queue_context(request, complain=True))


@role_required(*QUEUE_STAFF)
@require_http_methods(["GET"])
def queue_list(request):
    """Just the queue's list, for the page's live refresh: the same people may fetch it, and it is
    audited exactly as the page is (one row per patient listed, on every fetch)."""
    return render(request, "triage/_queue_list.jinja", _queue_context(request, complain=False))


@role_required(*REQUEST_TAKERS, where="practice")
@require_http_methods(["GET", "POST"])
def request_new(request):
    form = StaffRequestForm(request.POST if request.method == "POST" else None)
    extra: list[str] = []
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            patient = patient_by_nhs_number(d["nhs_number"])
            if patient is None:
                form.add_error("nhs_number", "No patient with that NHS number is registered at a member practice")
            else:
                try:
                    created = services.request_create_by_staff(
                        actor=_actor(request), actor_org_kind=_kind(request), source=d["source"], patient=patient,
                        details=services.RequestDetails(
                            kind=d["kind"], description=d["description"], admin_type=d.get("admin_type") or "",
                            preferred_channel=d.get("preferred_channel") or "", contact_phone=d.get("contact_phone") or ""),
                        cap_override_reason=d.get("cap_override_reason") or "")
                except services.NotPermitted as e:
                    form.add_error("nhs_number", e.message)
                    status = 403
                except services.TriageError as e:
                    _service_error(form, e, extra)
                    status = e.http_status
                else:
                    messages.info(request, f"Request {created.reference} added to {created.service.name}'s queue")
                    return redirect("triage:request", created.pk)
    return render(request, "triage/request_new.jinja", _ctx(
        "Take a request", form=form, errors=error_list(form, extra), kinds=RequestKind.choices,
        admin_types=AdminType.choices), status=status)


# ------------------------------------------------------------------ one request


def _load(request, request_id: int) -> tuple[TriageRequest | None, object]:
    req = selectors.request_detail(request_id)
    if req is None:
        raise Http404
    try:
        access_patient(actor=_actor(request), actor_org_kind=_kind(request), patient=req.patient, action=Action.VIEW,
                       object_type="triage_request", object_id=req.pk)
    except AccessDenied:
        return None, render(request, "patients/refused.jinja", {"title": "You cannot see this patient"}, status=403)
    return req, None


def _detail(request, req: TriageRequest, *, status: int = 200, triage_form=None, send_back_form=None, close_form=None,
            extra: list[str] | None = None):
    actor = _actor(request)
    triages = list(selectors.triages_for(req))
    can_triage = req.status == TriageRequest.Status.AWAITING_TRIAGE and services.can_triage(
        actor=actor, actor_org_kind=_kind(request), request=req)
    forms = [f for f in (triage_form, send_back_form, close_form) if f is not None]
    errors = [e for f in forms for e in error_list(f)] + [{"text": t, "href": "#maincontent"} for t in extra or []]
    return render(request, "triage/request.jinja", _ctx(
        f"Request {req.reference}", req=req, triages=triages, send_backs=list(req.send_backs.select_related("sent_by")),
        sent_messages=list(req.messages.all()), can_triage=can_triage, triage_form=triage_form or TriageForm(),
        send_back_form=send_back_form or SendBackForm(), close_form=close_form or CloseForm(),
        urgencies=Urgency.choices, routes=Route.choices, breached=selectors.is_breached(req),
        errors=errors, back_href="/triage/queue/"), status=status)


@role_required(*QUEUE_STAFF)
def request_detail(request, request_id: int):
    req, refused = _load(request, request_id)
    if refused:
        return refused
    return _detail(request, req)


def _form_action(request, req, *, form, form_name: str, act, done) -> HttpResponse:
    """The shape of every form on a request's page: validate ``form``, run ``act(cleaned_data)``
    (one service call), then redirect with ``done`` (text, or a function of the cleaned data);
    otherwise show the page again with the errors, the service's named against its field."""
    if not form.is_valid():
        return _detail(request, req, status=400, **{form_name: form})
    extra: list[str] = []
    try:
        act(form.cleaned_data)
    except services.TriageError as e:
        _service_error(form, e, extra)
        return _detail(request, req, status=e.http_status, extra=extra, **{form_name: form})
    messages.info(request, done(form.cleaned_data) if callable(done) else done)
    return redirect("triage:request", req.pk)


@role_required(*QUEUE_STAFF)
@require_POST
def triage(request, request_id: int):
    req, refused = _load(request, request_id)
    if refused:
        return refused
    return _form_action(
        request, req, form=TriageForm(request.POST), form_name="triage_form",
        act=lambda d: services.triage_record(
            actor=_actor(request), actor_org_kind=_kind(request), request=req, urgency=d["urgency"], route=d["route"],
            reason=d["reason"], safety_netting=d["safety_netting"]),
        done=lambda d: f"Triaged: {Route(d['route']).label}",
    )


@role_required(*QUEUE_STAFF)
@require_POST
def send_back(request, request_id: int):
    req, refused = _load(request, request_id)
    if refused:
        return refused
    return _form_action(
        request, req, form=SendBackForm(request.POST), form_name="send_back_form",
        act=lambda d: services.request_send_back(actor=_actor(request), actor_org_kind=_kind(request), request=req,
                                                 reason=d["send_back_reason"]),
        done="Sent back for re-triage",
    )


@role_required(*QUEUE_STAFF)
@require_POST
def contact(request, request_id: int):
    req, refused = _load(request, request_id)
    if refused:
        return refused
    try:
        services.request_record_contact(actor=_actor(request), actor_org_kind=_kind(request), request=req)
    except services.TriageError as e:
        return _detail(request, req, status=e.http_status, extra=[e.message])
    messages.info(request, "Contact recorded: the response clock has stopped")
    return redirect("triage:request", req.pk)


@role_required(*QUEUE_STAFF)
@require_POST
def close(request, request_id: int):
    req, refused = _load(request, request_id)
    if refused:
        return refused
    return _form_action(
        request, req, form=CloseForm(request.POST), form_name="close_form",
        act=lambda d: services.request_close(actor=_actor(request), actor_org_kind=_kind(request), request=req,
                                             outcome=d["outcome"]),
        done="Request closed",
    )


@role_required(*QUEUE_STAFF)
@require_http_methods(["GET", "POST"])
def book(request, request_id: int):
    """Find the earliest suitable slot across the services the route allows; book it in one step."""
    req, refused = _load(request, request_id)
    if refused:
        return refused
    extra: list[str] = []
    status = 200
    if request.method == "POST":
        try:
            slot_id = int(request.POST.get("slot_id", ""))
        except ValueError:
            slot_id = 0
        try:
            appointment = services.triage_book(actor=_actor(request), actor_org_kind=_kind(request), request=req,
                                               slot_id=slot_id)
        except services.SlotTaken as e:
            extra.append(e.message + (". The next suitable slot is shown below." if e.next_slot else ""))
            status = 409
        except services.TriageError as e:
            extra.append(e.message)
            status = e.http_status
        else:
            messages.info(request, "Appointment booked")
            return redirect("booking:appointment", appointment.pk)
    slot = selectors.earliest_suitable_slot(request=req) if req.status == TriageRequest.Status.WAITING else None
    triage_row = req.current_triage
    late = bool(slot and slot.starts_at > req.respond_by)
    return render(request, "triage/book.jinja", _ctx(
        "Book the earliest suitable slot", req=req, slot=slot, triage=triage_row, late=late,
        errors=[{"text": t, "href": "#maincontent"} for t in extra], back_href=f"/triage/requests/{req.pk}/"),
        status=status)


# ------------------------------------------------------------------ practice caps


@role_required(Role.PRACTICE_MANAGER, where="practice")
@require_http_methods(["GET", "POST"])
def capacity(request):
    practice = request.acting.organisation
    summary = selectors.practice_capacity_summary(practice=practice)
    cap = summary["cap"]
    initial = {"period": cap.period if cap else "day", "medical_cap": cap.medical_cap if cap else None,
               "admin_cap": cap.admin_cap if cap else None,
               "per_patient_per_day": cap.per_patient_per_day if cap else None}
    form = CapacityForm(request.POST if request.method == "POST" else None, initial=initial)
    extra: list[str] = []
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            hours = d.get("override_hours") or 0
            try:
                services.practice_capacity_set(
                    actor=_actor(request), practice=practice, period=d["period"], medical_cap=d.get("medical_cap"),
                    admin_cap=d.get("admin_cap"), per_patient_per_day=d.get("per_patient_per_day"),
                    override_until=timezone.now() + dt.timedelta(hours=hours) if hours else None)
            except services.TriageError as e:
                _service_error(form, e, extra)
            else:
                messages.info(request, "Online request caps saved")
                return redirect("triage:capacity")
    return render(request, "triage/capacity.jinja", _ctx(
        "Online request caps", form=form, summary=summary, errors=error_list(form, extra)), status=status)


# ------------------------------------------------------------------ routing rules

# Who may read the routing rules and the bank holidays they use; only a hub manager changes them.
RULE_READERS = (Role.HUB_MANAGER, Role.GP, Role.ADVANCED_NURSE_PRACTITIONER)


@role_required(*RULE_READERS, where="hub")
def rules(request):
    collaborative = request.acting.organisation
    versions = list(selectors.rule_sets(collaborative)[:50])
    chosen = versions[0] if versions else None
    raw = request.GET.get("version")
    if raw:
        chosen = next((v for v in versions if str(v.version) == raw), chosen)
    return render(request, "triage/rules.jinja", _ctx(
        "Routing rules", versions=versions, chosen=chosen, rules=list(chosen.rules.order_by("position")) if chosen else [],
        can_edit=request.acting.role == Role.HUB_MANAGER, target_keys=[AWAITING_TRIAGE, *Urgency.values],
        service_kinds=dict(Service.Kind.choices), route_labels=dict(Route.choices)))


def _target_label(key: str) -> str:
    return "Waiting for triage" if key == AWAITING_TRIAGE else Urgency(key).label


@role_required(Role.HUB_MANAGER, where="hub")
@require_http_methods(["GET", "POST"])
def rules_edit(request):
    collaborative = request.acting.organisation
    current = selectors.rule_set_current(collaborative)
    keys = [AWAITING_TRIAGE, *Urgency.values]
    extra: list[str] = []
    status = 200
    if request.method == "POST":
        formset = RuleFormSet(request.POST, prefix="rule")
        targets_form = TargetsForm(request.POST, keys=keys)
        status = 400
        if formset.is_valid() and targets_form.is_valid():
            rows = [f.cleaned_data for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("delete")
                    and f.cleaned_data.get("route")]
            for row in rows:
                row.pop("delete", None)
                if row.get("position") is None:
                    row["position"] = 1000 + len(rows)
            targets = {k: {"minutes": targets_form.cleaned_data[f"target_{k}"],
                           "working_hours": targets_form.cleaned_data[f"working_{k}"]} for k in keys}
            try:
                published = services.rule_set_publish(collaborative=collaborative, actor=_actor(request), rules=rows,
                                                      targets=targets, note=targets_form.cleaned_data.get("note") or "")
            except services.TriageError as e:
                extra.append(e.message)
            else:
                messages.info(request, f"Published routing rules version {published.version}")
                return redirect("triage:rules")
        else:
            for i, f in enumerate(formset.forms, start=1):
                for field, errs in f.errors.items():
                    extra.extend(f"Rule {i} {field.replace('_', ' ')}: {e}" for e in errs)
            extra.extend(e for errs in targets_form.errors.values() for e in errs)
    else:
        rows = [{k: getattr(r, k) for k in ("position", "route", "request_kind", "urgencies", "practices", "min_age",
                                            "max_age", "weekdays", "from_time", "until_time", "months",
                                            "when_practice_full", "service_kind", "note")}
                for r in (current.rules.order_by("position") if current else [])]
        formset = RuleFormSet(initial=rows, prefix="rule")
        initial = {}
        for k in keys:
            t = (current.targets if current else {}).get(k, {"minutes": 60, "working_hours": True})
            initial[f"target_{k}"], initial[f"working_{k}"] = t["minutes"], t["working_hours"]
        targets_form = TargetsForm(initial=initial, keys=keys)
    return render(request, "triage/rules_edit.jinja", _ctx(
        "Edit routing rules", formset=formset, targets_form=targets_form, target_rows=[(k, _target_label(k)) for k in keys],
        current=current, errors=[{"text": t, "href": "#maincontent"} for t in extra], routes=Route.choices,
        kinds=RequestKind.choices, service_kinds=[("", "None: A&E or 999"), *Service.Kind.choices],
        full_choices=RoutingRule.PracticeFull.choices, back_href="/triage/rules/"), status=status)


# ------------------------------------------------------------------ bank holidays

def _bank_holidays_page(request, form: BankHolidayFileForm, errors: list[dict], status: int = 200):
    return render(request, "triage/bank_holidays.jinja", _ctx(
        "Bank holidays", calendar=selectors.bank_holiday_calendar(today=timezone.localdate()), form=form,
        can_import=request.acting.role == Role.HUB_MANAGER, errors=errors, back_href=reverse("triage:rules")),
        status=status)


@role_required(*RULE_READERS, where="hub")
def bank_holidays(request):
    return _bank_holidays_page(request, BankHolidayFileForm(), [])


@role_required(Role.HUB_MANAGER, where="hub")
@require_POST
def bank_holidays_upload(request):
    """GOV.UK's bank-holidays.json, checked whole: any fault refuses it, each named, nothing written."""
    form = BankHolidayFileForm(request.POST, request.FILES)
    extra: list[str] = []
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            holidays = read_bytes(upload.read(), name=upload.name)
        except BankHolidayImportError as e:
            extra = e.shown
        else:
            r = bank_holidays_import(holidays=holidays, actor=_actor(request), source=f"upload {upload.name}"[:100])
            messages.info(request, f"Imported {r.holidays} bank holidays, {format_date(r.first)} to {format_date(r.last)}: "
                                   f"{r.added} added, {r.updated} updated, {r.removed} removed"
                                   + (f" ({'; '.join(r.removed_holidays)})" if r.removed_holidays else ""))
            return redirect("triage:bank_holidays")
    errors = error_list(form) + [{"text": t, "href": "#id_file"} for t in extra]
    return _bank_holidays_page(request, form, errors, status=400)


# ------------------------------------------------------------------ figures


@role_required(Role.HUB_MANAGER, Role.ANALYST, where="hub")
def figures(request):
    today = timezone.localdate()
    since, until = today - dt.timedelta(days=13), today
    try:
        if request.GET.get("since"):
            since = dt.date.fromisoformat(request.GET["since"])
        if request.GET.get("until"):
            until = dt.date.fromisoformat(request.GET["until"])
    except ValueError:
        messages.error(request, "Enter real dates, for example 2026-12-01")
    if (until - since).days > 366 or until < since:
        messages.error(request, "Choose at most a year, with the start before the end")
        since, until = today - dt.timedelta(days=13), today
    return render(request, "triage/figures.jinja", _ctx(
        "Triage figures", f=selectors.triage_figures(since=since, until=until), source_labels=dict(Source.choices), route_labels=dict(Route.choices)))

