"""Writes for triage. Keyword-only, each in one transaction, each audited; messages to patients
are sent after the transaction commits.

The one-triage guarantee is the database's: triaging is a conditional UPDATE that moves the
request out of "awaiting triage"; only one clinician can win it, and a second triage exists only
after a counted send-back has moved it back.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from collab.accounts.models import CLINICAL_ROLES
from collab.booking import services as booking
from collab.booking.models import Appointment, DeliveryChannel, Slot
from collab.core.audit import Actor, audit_record
from collab.integrations import notify
from collab.ooh import services as ooh
from collab.organisations.models import Organisation, Service
from collab.patients.access import Action, decide
from collab.patients.models import Patient
from collab.patients.nhs_number import InvalidNhsNumber, validate
from collab.triage import routing, selectors
from collab.triage.defaults import (
    AWAITING_TRIAGE,
    DEFAULT_RULES,
    DEFAULT_TARGETS,
    RED_FLAGS_111,
    RED_FLAGS_999,
)
from collab.triage.models import (
    URGENCY_RANK,
    AdminType,
    PatientMessage,
    PracticeCapacity,
    RedFlagScreen,
    ReferringService,
    RequestKind,
    Route,
    RoutingRule,
    RuleSet,
    SendBack,
    Source,
    Triage,
    TriageRequest,
    Urgency,
)

log = logging.getLogger(__name__)

MAX_TEXT = 2000
TRIAGE_ROLES = CLINICAL_ROLES
PUBLIC = Actor(user_id=None, username="public", role="patient", organisation_id=None, organisation_ods="", channel="web")


class TriageError(Exception):
    """A triage request that cannot be carried out; ``field`` names the input at fault."""

    http_status = 400

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.message, self.field = message, field


class NotPermitted(TriageError):
    http_status = 403


class NotFound(TriageError):
    """The practice or patient named does not exist here (the request was well formed)."""

    http_status = 422


class Conflict(TriageError):
    http_status = 409


class PracticeNotTakingAdmin(TriageError):
    http_status = 409


class SlotTaken(Conflict):
    """The slot went between showing and booking; ``next_slot`` is the next suitable one (or None)."""

    def __init__(self, message: str, next_slot: Slot | None):
        super().__init__(message)
        self.next_slot = next_slot


def referrer_actor(referrer: ReferringService) -> Actor:
    return Actor(user_id=None, username=f"referrer:{referrer.ods_code}", role=referrer.source, organisation_id=None,
                 organisation_ods=referrer.ods_code, channel="api")


def _reference() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read out over the phone
    return "R-" + "".join(secrets.choice(alphabet) for _ in range(8))


# ---------------------------------------------------------------- rule sets


def _rule_set(org: Organisation) -> RuleSet:
    """The rule set in force; a collaborative without one starts on the default rules."""
    current = selectors.rule_set_current(org)
    return current if current is not None else rule_set_create_default(collaborative=selectors.collaborative_of(org))


def _service(practice: Organisation, kind: str) -> Service:
    try:
        if kind == Service.Kind.PRACTICE:
            return selectors.practice_service(practice)
        return selectors.service_for(practice, kind)
    except selectors.MissingService as e:
        raise TriageError(str(e)) from e


def rule_set_create_default(*, collaborative: Organisation, actor: Actor | None = None) -> RuleSet:
    return rule_set_publish(collaborative=collaborative, actor=actor, rules=DEFAULT_RULES, targets=DEFAULT_TARGETS,
                            note="Default rules")


def _clean_targets(targets: dict) -> dict:
    out = {}
    for key in [AWAITING_TRIAGE, *Urgency.values]:
        t = targets.get(key)
        if not isinstance(t, dict) or not isinstance(t.get("minutes"), int) or not 1 <= t["minutes"] <= 60 * 24 * 60:
            raise TriageError(f"Set a response target in minutes for {key.replace('_', ' ')}", field=f"target_{key}")
        out[key] = {"minutes": t["minutes"], "working_hours": bool(t.get("working_hours"))}
    return out


def _clean_rule(raw: dict, n: int) -> dict:
    rule = {k: raw.get(k) for k in ("position", "route", "request_kind", "practices", "min_age", "max_age", "weekdays",
                                    "from_time", "until_time", "months", "when_practice_full", "urgencies",
                                    "service_kind", "note")}
    where = f"Rule {n}"
    if rule["route"] not in Route.values:
        raise TriageError(f"{where}: choose a route")
    if rule["service_kind"] and rule["service_kind"] not in Service.Kind.values:
        raise TriageError(f"{where}: choose a service")
    if not rule["service_kind"] and rule["route"] != Route.EMERGENCY:
        raise TriageError(f"{where}: only the A&E / 999 route can have no service")
    for key in ("request_kind", "practices", "weekdays", "months", "when_practice_full", "urgencies", "note"):
        rule[key] = (rule[key] or "").strip()
    if rule["request_kind"] and rule["request_kind"] not in RequestKind.values:
        raise TriageError(f"{where}: request kind must be medical, admin or blank")
    if any(c not in "0123456" for c in rule["weekdays"]):
        raise TriageError(f"{where}: weekdays are digits 0 (Monday) to 6 (Sunday)")
    try:
        months = routing.parse_ints(rule["months"])
    except ValueError as e:
        raise TriageError(f"{where}: months are numbers 1 to 12 separated by spaces") from e
    if any(not 1 <= m <= 12 for m in months):
        raise TriageError(f"{where}: months are numbers 1 to 12 separated by spaces")
    if any(u not in Urgency.values for u in routing.parse_codes(rule["urgencies"])):
        raise TriageError(f"{where}: urgencies are {', '.join(Urgency.values)}")
    if rule["when_practice_full"] not in ("", "yes", "no"):
        raise TriageError(f"{where}: practice full must be yes, no or blank")
    if (rule["from_time"] is None) != (rule["until_time"] is None):
        raise TriageError(f"{where}: give both a from and an until time, or neither")
    if rule["min_age"] is not None and rule["max_age"] is not None and rule["min_age"] > rule["max_age"]:
        raise TriageError(f"{where}: the minimum age is above the maximum")
    if len(rule["practices"]) > 500 or len(rule["note"]) > 200:
        raise TriageError(f"{where}: text is too long")
    return rule


def rule_set_publish(*, collaborative: Organisation, actor: Actor | None, rules: list[dict], targets: dict,
                     note: str = "") -> RuleSet:
    """A new immutable version of the rules. Earlier versions stay as they were."""
    if not rules:
        raise TriageError("Keep at least one rule")
    cleaned = [_clean_rule(r, n) for n, r in enumerate(rules, start=1)]
    positions = [r["position"] for r in cleaned]
    if any(not isinstance(p, int) or p < 0 for p in positions) or len(set(positions)) != len(positions):
        raise TriageError("Each rule needs its own order number")
    covered = {r["route"] for r in cleaned if not any(r[k] for k in ("request_kind", "practices", "weekdays", "months",
                                                                      "when_practice_full", "urgencies"))
               and r["min_age"] is None and r["max_age"] is None and r["from_time"] is None}
    uncovered = [Route(r).label for r in Route.values if r not in covered]
    if uncovered:
        raise TriageError("Every route needs a rule without conditions to fall back on: " + ", ".join(uncovered))
    targets = _clean_targets(targets)
    with transaction.atomic():
        last = RuleSet.objects.select_for_update().filter(collaborative=collaborative).order_by("-version").first()
        rule_set = RuleSet.objects.create(
            collaborative=collaborative, version=(last.version + 1) if last else 1, created_at=timezone.now(),
            created_by_id=actor.user_id if actor else None, note=(note or "").strip()[:500], targets=targets,
        )
        RoutingRule.objects.bulk_create([RoutingRule(rule_set=rule_set, **r) for r in cleaned])
        if actor is not None:
            audit_record(actor=actor, action="triage.rules.publish", allowed=True, object_type="rule_set",
                         object_id=rule_set.pk, reason=f"version {rule_set.version}")
    return rule_set


# ---------------------------------------------------------------- practice caps


def practice_capacity_set(*, actor: Actor, practice: Organisation, period: str, medical_cap: int | None,
                          admin_cap: int | None, per_patient_per_day: int | None,
                          override_until: dt.datetime | None) -> PracticeCapacity:
    if practice.kind != Organisation.Kind.PRACTICE or actor.organisation_id != practice.pk:
        raise NotPermitted("Only the practice itself sets its caps")
    if period not in PracticeCapacity.Period.values:
        raise TriageError("Choose a period", field="period")
    for name, value in (("medical_cap", medical_cap), ("admin_cap", admin_cap), ("per_patient_per_day", per_patient_per_day)):
        if value is not None and not 0 <= value <= 10_000:
            raise TriageError("Enter a number from 0 to 10,000, or leave it blank for no cap", field=name)
    with transaction.atomic():
        cap, _ = PracticeCapacity.objects.update_or_create(practice=practice, defaults={
            "period": period, "medical_cap": medical_cap, "admin_cap": admin_cap,
            "per_patient_per_day": per_patient_per_day, "override_until": override_until,
            "updated_at": timezone.now(), "updated_by_id": actor.user_id,
        })
        audit_record(actor=actor, action="triage.capacity.set", allowed=True, object_type="practice_capacity",
                     object_id=cap.pk, reason=f"medical {medical_cap} admin {admin_cap} per patient {per_patient_per_day}")
    return cap


# ---------------------------------------------------------------- the red-flag screen


def red_flag_screen_record(*, flags: list[str]) -> RedFlagScreen:
    known_999 = {k for k, _ in RED_FLAGS_999}
    known_111 = {k for k, _ in RED_FLAGS_111}
    flags = [f for f in dict.fromkeys(flags) if f in known_999 | known_111]
    if any(f in known_999 for f in flags):
        outcome = RedFlagScreen.Outcome.CALL_999
    elif flags:
        outcome = RedFlagScreen.Outcome.CALL_111
    else:
        outcome = RedFlagScreen.Outcome.PASSED
    with transaction.atomic():
        screen = RedFlagScreen.objects.create(screened_at=timezone.now(), flags=flags, outcome=outcome)
        audit_record(actor=PUBLIC, action="triage.red_flag_screen", allowed=True, object_type="red_flag_screen",
                     object_id=screen.pk, reason=outcome)
    return screen


# ---------------------------------------------------------------- the front door


@dataclass(frozen=True)
class RequestDetails:
    """What every front door collects. Text is checked here, whichever door it came through."""

    kind: str
    description: str
    admin_type: str = ""
    preferred_channel: str = ""
    contact_phone: str = ""
    contact_email: str = ""
    on_behalf: bool = False
    requester_name: str = ""
    requester_relationship: str = ""


def _check_details(d: RequestDetails) -> RequestDetails:
    if d.kind not in RequestKind.values:
        raise TriageError("Choose whether this is a medical or an admin request", field="kind")
    description = (d.description or "").strip()
    if not description:
        raise TriageError("Describe what you need help with", field="description")
    if len(description) > MAX_TEXT:
        raise TriageError(f"The description must be {MAX_TEXT} characters or fewer", field="description")
    if d.kind == RequestKind.ADMIN and d.admin_type not in AdminType.values:
        raise TriageError("Choose what the admin request is about", field="admin_type")
    if d.preferred_channel and d.preferred_channel not in DeliveryChannel.values:
        raise TriageError("Choose how you would like to be contacted", field="preferred_channel")
    if d.on_behalf and not (d.requester_name or "").strip():
        raise TriageError("Enter your name, as you are asking for someone else", field="requester_name")
    for name in ("contact_phone", "requester_name", "requester_relationship"):
        if len(getattr(d, name) or "") > (32 if name == "contact_phone" else 100):
            raise TriageError("This answer is too long", field=name)
    if len(d.contact_email or "") > 254:
        raise TriageError("This email address is too long", field="contact_email")
    return RequestDetails(kind=d.kind, description=description, admin_type=d.admin_type if d.kind == RequestKind.ADMIN else "",
                          preferred_channel=d.preferred_channel, contact_phone=(d.contact_phone or "").strip(),
                          contact_email=(d.contact_email or "").strip(), on_behalf=d.on_behalf,
                          requester_name=(d.requester_name or "").strip() if d.on_behalf else "",
                          requester_relationship=(d.requester_relationship or "").strip() if d.on_behalf else "")


def patient_match(*, practice_ods: str, nhs_number: str, date_of_birth: dt.date) -> tuple[Organisation, Patient]:
    """The registered patient these details name, or a TriageError saying which detail is wrong."""
    practice = Organisation.objects.filter(ods_code=(practice_ods or "").strip().upper(), kind="practice",
                                           is_active=True).first()
    if practice is None:
        raise NotFound("Choose a practice in the collaborative: there is no member practice with that ODS code",
                       field="practice")
    try:
        number = validate(nhs_number or "", allow_test_range=settings.ALLOW_TEST_NHS_NUMBERS)
    except InvalidNhsNumber as e:
        raise TriageError(str(e), field="nhs_number") from e
    patient = Patient.objects.filter(nhs_number=number, date_of_birth=date_of_birth,
                                     registered_practice=practice).first()
    if patient is None:
        raise NotFound("We could not find a patient with that NHS number and date of birth registered at "
                          f"{practice.display_name}. Check the details, or call the practice.", field="nhs_number")
    return practice, patient


def _intake_service(*, practice: Organisation, kind: str, at: dt.datetime, online: bool) -> tuple[Service, bool]:
    """Where a new request waits for triage: its practice, or the pooled hub when the practice is
    full. Medical requests overflow; an online admin request over the cap is refused (the hub does
    not do practice admin); staff-entered admin stays with the practice."""
    practice_service = _service(practice, Service.Kind.PRACTICE)
    if not selectors.practice_is_full(practice=practice, kind=kind, at=at):
        return practice_service, False
    if kind == RequestKind.ADMIN:
        if not online:
            return practice_service, False
        raise PracticeNotTakingAdmin(
            f"{practice.display_name} has had all the admin requests it can take for now. Please try again on the next "
            "working day, or call the practice if it cannot wait.", field="kind")
    return _service(practice, Service.Kind.REMOTE_HUB), True


def _check_per_patient(*, patient: Patient, practice: Organisation, at: dt.datetime, override_reason: str) -> None:
    limit = selectors.per_patient_limit(practice=practice, at=at)
    if limit is None or override_reason:
        return
    if selectors.requests_today_for_patient(patient=patient, at=at) >= limit:
        raise Conflict(
            f"You have already sent {limit} request{'s' if limit != 1 else ''} today. We will deal with "
            f"{'them' if limit != 1 else 'it'}; if you need to add something or feel worse, call the practice, or 111.",
            field="description")


def _create(*, source: str, practice: Organisation, patient: Patient, details: RequestDetails, actor: Actor,
            submitted_by_id: int | None = None, referrer: ReferringService | None = None, screen: RedFlagScreen | None = None,
            external_reference: str = "", external_assessment: dict | None = None, count_caps: bool = True,
            cap_override_reason: str = "", at: dt.datetime | None = None,
            holidays: frozenset[dt.date] | None = None) -> TriageRequest:
    """Caps apply to the practice's own front doors (online form, phone); a referral from 111 or
    A&E has been assessed already and is never capped."""
    at = at or timezone.now()
    holidays = selectors.bank_holidays_around(at) if holidays is None else holidays
    if count_caps:
        _check_per_patient(patient=patient, practice=practice, at=at, override_reason=cap_override_reason)
        service, overflowed = _intake_service(practice=practice, kind=details.kind, at=at, online=source == Source.ONLINE)
    else:
        service, overflowed = _service(practice, Service.Kind.PRACTICE), False
    rule_set = _rule_set(practice)
    target = rule_set.targets[AWAITING_TRIAGE]
    request = TriageRequest.objects.create(
        reference=_reference(), source=source, kind=details.kind, patient=patient, practice=practice, submitted_at=at,
        submitted_by_id=submitted_by_id, referrer=referrer, external_reference=external_reference,
        red_flag_screen=screen, on_behalf=details.on_behalf, requester_name=details.requester_name,
        requester_relationship=details.requester_relationship, description=details.description,
        admin_type=details.admin_type, preferred_channel=details.preferred_channel,
        contact_phone=details.contact_phone or patient.phone, contact_email=details.contact_email or patient.email,
        external_assessment=external_assessment, cap_override_reason=cap_override_reason[:200],
        intake_service=service, service=service, overflowed=overflowed,
        respond_by=routing.due_at(at, target["minutes"], working_hours=target["working_hours"], holidays=holidays),
    )
    audit_record(actor=actor, action="triage.request.create", allowed=True, patient_id=patient.pk,
                 object_type="triage_request", object_id=request.pk,
                 reason=f"{source}; {'overflow to hub' if overflowed else service.name}")
    return request


def form_is_open(at: dt.datetime, holidays: frozenset[dt.date] | None = None) -> bool:
    """Weekdays 08:00-18:30 UK time, bank holidays excepted. Outside production,
    COLLAB_TRIAGE_ALWAYS_OPEN=1 keeps the form open so demos and browser tests work in the evening too."""
    if not settings.PRODUCTION and os.environ.get("COLLAB_TRIAGE_ALWAYS_OPEN") == "1":
        return True
    return routing.is_open(at, selectors.bank_holidays_around(at) if holidays is None else holidays)


def request_submit_online(*, screen_id: int | None, practice_ods: str, nhs_number: str, date_of_birth: dt.date,
                          details: RequestDetails, at: dt.datetime | None = None) -> TriageRequest:
    """A patient's (or someone on their behalf) online request: no login, red-flag screen first,
    form open weekdays 08:00-18:30."""
    at = at or timezone.now()
    holidays = selectors.bank_holidays_around(at)
    if not form_is_open(at, holidays):
        raise Conflict("Online requests are open Monday to Friday, 8am to 6:30pm, except bank holidays. If you need "
                       "help now, use 111 online or call 111. In an emergency call 999.")
    screen = RedFlagScreen.objects.filter(pk=screen_id, outcome=RedFlagScreen.Outcome.PASSED).first() if screen_id else None
    if screen is None or (at - screen.screened_at) > dt.timedelta(hours=2):
        raise TriageError("Answer the questions about urgent symptoms first", field="red_flags")
    details = _check_details(details)
    practice, patient = patient_match(practice_ods=practice_ods, nhs_number=nhs_number, date_of_birth=date_of_birth)
    if not (details.contact_phone or details.contact_email or patient.phone or patient.email):
        raise TriageError("Give a phone number or email address so we can contact you", field="contact_phone")
    with transaction.atomic():
        request = _create(source=Source.ONLINE, practice=practice, patient=patient, details=details, actor=PUBLIC,
                          screen=screen, at=at, holidays=holidays)
        if request.kind == RequestKind.ADMIN:
            _route_admin_by_rule(request=request, at=at, holidays=holidays)
        _after_commit_message(request.pk, PatientMessage.Purpose.ACKNOWLEDGEMENT)
    return request


def request_create_by_staff(*, actor: Actor, actor_org_kind: str, source: str, patient: Patient,
                            details: RequestDetails, cap_override_reason: str = "") -> TriageRequest:
    """A care navigator taking a phone call, or a practice clinician raising a request."""
    if source not in (Source.PHONE, Source.CLINICIAN):
        raise TriageError("Staff requests come from a phone call or a clinician")
    if source == Source.CLINICIAN and actor.role not in CLINICAL_ROLES:
        raise NotPermitted("Only a clinician raises a request as a clinician")
    decision = decide(actor=actor, actor_org_kind=actor_org_kind, patient=patient, action=Action.VIEW)
    if not decision.allowed:
        audit_record(actor=actor, action="triage.request.create", allowed=False, patient_id=patient.pk,
                     reason=decision.reason, object_type="patient", object_id=patient.pk)
        raise NotPermitted("You cannot raise a request for this patient")
    details = _check_details(details)
    practice = patient.registered_practice
    at = timezone.now()
    holidays = selectors.bank_holidays_around(at)
    with transaction.atomic():
        request = _create(source=source, practice=practice, patient=patient, details=details, actor=actor,
                          submitted_by_id=actor.user_id, cap_override_reason=(cap_override_reason or "").strip(),
                          at=at, holidays=holidays)
        if request.kind == RequestKind.ADMIN:
            _route_admin_by_rule(request=request, at=request.submitted_at, holidays=holidays)
        _after_commit_message(request.pk, PatientMessage.Purpose.ACKNOWLEDGEMENT)
    return request


@dataclass(frozen=True)
class Referral:
    """A referral from NHS 111 or A&E streaming, carrying the referring service's own assessment."""

    practice_ods: str
    nhs_number: str
    date_of_birth: dt.date
    urgency: str
    route: str
    reason: str
    safety_netting: str
    description: str
    external_reference: str
    contact_phone: str = ""
    preferred_channel: str = ""
    assessment: dict | None = None


def request_from_referral(*, referrer: ReferringService, referral: Referral) -> TriageRequest:
    """The referring service's assessment is the triage: nobody here triages it again.

    Everything is checked before anything is written; one transaction writes it all.
    """
    if not referrer.is_active:
        raise NotPermitted("This referring service is not active")
    if referral.urgency not in Urgency.values:
        raise TriageError(f"urgency must be one of {', '.join(Urgency.values)}", field="urgency")
    if referral.route not in Route.values:
        raise TriageError(f"route must be one of {', '.join(Route.values)}", field="route")
    for name in ("reason", "safety_netting"):
        value = (getattr(referral, name) or "").strip()
        if not value:
            raise TriageError(f"{name} is required", field=name)
        if len(value) > MAX_TEXT:
            raise TriageError(f"{name} must be {MAX_TEXT} characters or fewer", field=name)
    details = _check_details(RequestDetails(kind=RequestKind.MEDICAL, description=referral.description,
                                            preferred_channel=referral.preferred_channel,
                                            contact_phone=referral.contact_phone))
    practice, patient = patient_match(practice_ods=referral.practice_ods, nhs_number=referral.nhs_number,
                                      date_of_birth=referral.date_of_birth)
    if TriageRequest.objects.filter(referrer=referrer, external_reference=referral.external_reference).exists():
        raise Conflict(f"Referral {referral.external_reference} has already been received", field="external_reference")
    actor = referrer_actor(referrer)
    holidays = selectors.bank_holidays_around(timezone.now())
    with transaction.atomic():
        request = _create(source=referrer.source, practice=practice, patient=patient, details=details, actor=actor,
                          referrer=referrer, external_reference=referral.external_reference,
                          external_assessment=referral.assessment, count_caps=False, holidays=holidays)
        _apply_triage(request=request, actor=actor, method=Triage.Method.REFERRER, referrer=referrer, holidays=holidays,
                      urgency=referral.urgency, route=referral.route, reason=referral.reason.strip(),
                      safety_netting=referral.safety_netting.strip(), at=request.submitted_at)
        _after_commit_message(request.pk, PatientMessage.Purpose.ACKNOWLEDGEMENT)
    return request


# ---------------------------------------------------------------- one triage


def _route(*, request: TriageRequest, route: str, urgency: str, at: dt.datetime,
           holidays: frozenset[dt.date]) -> tuple[RuleSet, routing.RuleSpec, Service | None]:
    rule_set = _rule_set(request.practice)
    ctx = routing.RouteContext(
        route=route, request_kind=request.kind, urgency=urgency, practice_ods=request.practice.ods_code,
        age=routing.age_on(request.patient.date_of_birth, at.astimezone(routing.LONDON).date()), at=at,
        practice_full=selectors.practice_is_full(practice=request.practice, kind=request.kind, at=at),
        holidays=holidays,
    )
    rule = routing.route_decide(routing.specs(rule_set.rules.all()), ctx)
    if rule is None:
        raise TriageError(f"No routing rule takes the route {Route(route).label.lower()}: ask the hub manager", field="route")
    service = _service(request.practice, rule.service_kind) if rule.service_kind else None
    return rule_set, rule, service


# Triage urgency -> the out-of-hours service's disposition timeframe.
OOH_PRIORITY = {"emergency": "urgent", "urgent": "urgent", "soon": "less_urgent", "routine": "routine"}


def _apply_triage(*, request: TriageRequest, actor: Actor, method: str, urgency: str, route: str, reason: str,
                  safety_netting: str, at: dt.datetime, user_id: int | None = None, organisation_id: int | None = None,
                  referrer: ReferringService | None = None, holidays: frozenset[dt.date] | None = None) -> Triage:
    if holidays is None:  # one query covers the routing moment and the clock from submission
        holidays = selectors.bank_holidays_around(min(at, request.submitted_at))
    rule_set, rule, service = _route(request=request, route=route, urgency=urgency, at=at, holidays=holidays)
    target = rule_set.targets[urgency]
    respond_by = routing.due_at(request.submitted_at, target["minutes"], working_hours=target["working_hours"],
                                holidays=holidays)
    emergency = route == Route.EMERGENCY
    # The conditional update is the guarantee: only one triage leaves "awaiting triage".
    moved = TriageRequest.objects.filter(pk=request.pk, status=TriageRequest.Status.AWAITING_TRIAGE).update(
        status=TriageRequest.Status.CLOSED if emergency else TriageRequest.Status.WAITING,
        service=service, urgency=urgency, route=route, urgency_rank=URGENCY_RANK[urgency], respond_by=respond_by,
        triaged_at=at,
        closed_at=at if emergency else None, closed_by_id=user_id if emergency else None,
        outcome="Told to go to A&E or call 999" if emergency else "",
        first_contact_at=at if emergency and request.first_contact_at is None else request.first_contact_at,
    )
    if moved != 1:
        raise Conflict("This request has already been triaged")
    number = request.triages.count() + 1
    triage = Triage.objects.create(
        request=request, number=number, triaged_at=at, method=method, triaged_by_id=user_id, role=actor.role,
        organisation_id=organisation_id, referrer=referrer, urgency=urgency, route=route, reason=reason,
        safety_netting=safety_netting, rule_set=rule_set, rule_position=rule.position, service=service,
        respond_by=respond_by,
    )
    audit_record(actor=actor, action="triage.record", allowed=True, patient_id=request.patient_id,
                 object_type="triage", object_id=triage.pk,
                 reason=f"#{number} {urgency} {route} -> {service.name if service else 'A&E/999'} (rules v{rule_set.version} rule {rule.position})")
    if service is not None and service.kind == Service.Kind.OUT_OF_HOURS and request.patient_id:
        # The out-of-hours case list takes the request with its triage: nobody triages it again.
        ooh.ooh_case_create(
            actor=actor, service=service, patient=request.patient, source="triage",
            presenting_complaint=f"{request.description[:400]} (triage: {reason[:80]})",
            priority=OOH_PRIORITY[urgency], source_reference=request.reference,
        )
    request.refresh_from_db()
    return triage


def _route_admin_by_rule(*, request: TriageRequest, at: dt.datetime, holidays: frozenset[dt.date] | None = None) -> Triage:
    return _apply_triage(holidays=holidays, request=request, actor=Actor(None, "rules", "rule", None, "", channel="system"),
                         method=Triage.Method.RULE, urgency=Urgency.ROUTINE, route=Route.PRACTICE,
                         reason=f"Admin request ({AdminType(request.admin_type).label.lower()}) routed by rule",
                         safety_netting="If this becomes a medical problem, contact the practice or 111.", at=at)


def _check_access(*, actor: Actor, actor_org_kind: str, request: TriageRequest, action: str, audit_action: str) -> str:
    decision = decide(actor=actor, actor_org_kind=actor_org_kind, patient=request.patient, action=action)
    if not decision.allowed:
        audit_record(actor=actor, action=audit_action, allowed=False, patient_id=request.patient_id,
                     reason=decision.reason, object_type="triage_request", object_id=request.pk)
        raise NotPermitted("You cannot act on this patient's request")
    return decision.reason


def can_triage(*, actor: Actor, actor_org_kind: str, request: TriageRequest) -> bool:
    """Clinicians triage: at the collaborative (the front door for everyone), or at the practice
    whose queue holds the request."""
    if actor.role not in TRIAGE_ROLES:
        return False
    if actor_org_kind == "collaborative":
        return True
    return actor_org_kind == "practice" and request.service is not None and request.service.organisation_id == actor.organisation_id


def triage_record(*, actor: Actor, actor_org_kind: str, request: TriageRequest, urgency: str, route: str, reason: str,
                  safety_netting: str) -> Triage:
    if urgency not in Urgency.values:
        raise TriageError("Choose the urgency", field="urgency")
    if route not in Route.values:
        raise TriageError("Choose the route", field="route")
    reason, safety_netting = (reason or "").strip(), (safety_netting or "").strip()
    if not reason:
        raise TriageError("Give the reason for this triage decision", field="reason")
    if not safety_netting:
        raise TriageError("Record the safety-netting advice given", field="safety_netting")
    if len(reason) > MAX_TEXT or len(safety_netting) > MAX_TEXT:
        raise TriageError(f"Keep each answer to {MAX_TEXT} characters or fewer", field="reason")
    if not can_triage(actor=actor, actor_org_kind=actor_org_kind, request=request):
        audit_record(actor=actor, action="triage.record", allowed=False, patient_id=request.patient_id,
                     reason="role or organisation may not triage this request", object_type="triage_request",
                     object_id=request.pk)
        raise NotPermitted("Only a clinician at the collaborative or at the practice holding it can triage this request")
    _check_access(actor=actor, actor_org_kind=actor_org_kind, request=request, action=Action.VIEW, audit_action="triage.record")
    with transaction.atomic():
        triage = _apply_triage(request=request, actor=actor, method=Triage.Method.CLINICIAN, urgency=urgency, route=route,
                               reason=reason, safety_netting=safety_netting, at=timezone.now(), user_id=actor.user_id,
                               organisation_id=actor.organisation_id)
        _after_commit_message(request.pk, PatientMessage.Purpose.OUTCOME)
    return triage


def request_send_back(*, actor: Actor, actor_org_kind: str, request: TriageRequest, reason: str) -> SendBack:
    """Send a triaged request back for re-triage. Needs a reason; counted in the figures."""
    reason = (reason or "").strip()
    if not reason:
        raise TriageError("Say why this request needs triaging again", field="send_back_reason")
    if len(reason) > 500:
        raise TriageError("Keep the reason to 500 characters or fewer", field="send_back_reason")
    _check_access(actor=actor, actor_org_kind=actor_org_kind, request=request, action=Action.VIEW,
                  audit_action="triage.send_back")
    triage = request.current_triage
    now = timezone.now()
    with transaction.atomic():
        moved = TriageRequest.objects.filter(pk=request.pk, status=TriageRequest.Status.WAITING).update(
            status=TriageRequest.Status.AWAITING_TRIAGE, service=request.intake_service, urgency_rank=request.urgency_rank,
            triaged_at=None, route="",
        )
        if moved != 1 or triage is None:
            raise Conflict("Only a triaged request that is still waiting can be sent back")
        back = SendBack.objects.create(request=request, triage=triage, sent_at=now, sent_by_id=actor.user_id,
                                       organisation_id=actor.organisation_id, reason=reason)
        audit_record(actor=actor, action="triage.send_back", allowed=True, patient_id=request.patient_id,
                     object_type="triage_request", object_id=request.pk, reason=reason)
    request.refresh_from_db()
    return back


def request_record_contact(*, actor: Actor, actor_org_kind: str, request: TriageRequest, note: str = "") -> TriageRequest:
    """The service has spoken to the patient: the response clock stops."""
    _check_access(actor=actor, actor_org_kind=actor_org_kind, request=request, action=Action.VIEW,
                  audit_action="triage.contact")
    with transaction.atomic():
        TriageRequest.objects.filter(pk=request.pk, first_contact_at__isnull=True).update(first_contact_at=timezone.now())
        audit_record(actor=actor, action="triage.contact", allowed=True, patient_id=request.patient_id,
                     object_type="triage_request", object_id=request.pk, reason=(note or "")[:255])
    request.refresh_from_db()
    return request


def request_close(*, actor: Actor, actor_org_kind: str, request: TriageRequest, outcome: str) -> TriageRequest:
    outcome = (outcome or "").strip()
    if not outcome:
        raise TriageError("Say how the request was dealt with", field="outcome")
    if len(outcome) > 500:
        raise TriageError("Keep the outcome to 500 characters or fewer", field="outcome")
    _check_access(actor=actor, actor_org_kind=actor_org_kind, request=request, action=Action.VIEW, audit_action="triage.close")
    now = timezone.now()
    with transaction.atomic():
        moved = TriageRequest.objects.filter(
            pk=request.pk, status__in=[TriageRequest.Status.WAITING, TriageRequest.Status.BOOKED]
        ).update(status=TriageRequest.Status.CLOSED, closed_at=now, closed_by_id=actor.user_id, outcome=outcome)
        if moved != 1:
            raise Conflict("Only a triaged, open request can be closed")
        TriageRequest.objects.filter(pk=request.pk, first_contact_at__isnull=True).update(first_contact_at=now)
        audit_record(actor=actor, action="triage.close", allowed=True, patient_id=request.patient_id,
                     object_type="triage_request", object_id=request.pk, reason=outcome[:255])
    request.refresh_from_db()
    return request


# ---------------------------------------------------------------- booking from triage


def triage_book(*, actor: Actor, actor_org_kind: str, request: TriageRequest, slot_id: int) -> Appointment:
    """Book the slot the clinician was shown (the earliest suitable one) in one step.

    Booking itself is collab.booking's: it decides access (Action.BOOK), audits, and claims the
    slot under the database's guarantee. A lost race raises SlotTaken carrying the next suitable slot.
    """
    if request.status != TriageRequest.Status.WAITING:
        raise Conflict("Only a triaged request waiting for its service can be booked")
    if not selectors.slot_is_suitable(request=request, slot_id=slot_id):
        raise TriageError("That slot is not suitable for this request's route")
    triage = request.current_triage
    reason = f"{Urgency(triage.urgency).label} ({request.reference}): {triage.reason}"[:200]
    try:
        booked = booking.appointment_book(actor=actor, actor_org_kind=actor_org_kind, slot_id=slot_id,
                                          patient=request.patient, reason=reason)
    except booking.SlotUnavailable as e:
        raise SlotTaken("That slot has just been booked by someone else", selectors.earliest_suitable_slot(request=request)) from e
    except booking.NotPermitted as e:
        raise NotPermitted(e.message) from e
    except booking.BookingError as e:
        raise TriageError(e.message) from e
    now = timezone.now()
    with transaction.atomic():
        TriageRequest.objects.filter(pk=request.pk).update(status=TriageRequest.Status.BOOKED, appointment_id=booked.appointment_id)
        # The booking message is the first contact.
        TriageRequest.objects.filter(pk=request.pk, first_contact_at__isnull=True).update(first_contact_at=now)
        audit_record(actor=actor, action="triage.book", allowed=True, patient_id=request.patient_id,
                     object_type="appointment", object_id=booked.appointment_id, reason=request.reference)
        _after_commit_message(request.pk, PatientMessage.Purpose.BOOKING)
    request.refresh_from_db()
    return Appointment.objects.select_related("slot").get(pk=booked.appointment_id)


# ---------------------------------------------------------------- messages to patients


def _defer(fn) -> None:
    """Side effects wait for the commit (tests run them at once: their transaction never commits)."""
    transaction.on_commit(fn, robust=True)


def _after_commit_message(request_id: int, purpose: str) -> None:
    _defer(lambda: message_send(request_id=request_id, purpose=purpose))


def _personalisation(request: TriageRequest, purpose: str) -> dict[str, str]:
    from collab.core.jinja import format_datetime

    service = request.service
    phone = (service.phone if service and service.phone else "") or request.practice.phone or "your GP practice"
    p = {"reference": request.reference, "phone": phone, "service": service.name if service else "NHS 111 / 999"}
    if purpose == PatientMessage.Purpose.ACKNOWLEDGEMENT:
        p["contact_by"] = format_datetime(request.respond_by)
    elif purpose == PatientMessage.Purpose.OUTCOME:
        triage = request.current_triage
        p["outcome"] = Route(triage.route).label if triage else ""
        p["advice"] = triage.safety_netting if triage else ""
    else:
        appointment = request.appointment
        p["when"] = format_datetime(appointment.slot.starts_at)
        p["channel"] = appointment.slot.get_channel_display().lower()
        p["service"] = appointment.slot.service.name
    return p


def message_send(*, request_id: int, purpose: str) -> PatientMessage | None:
    """Send one message by text (preferred) or email. A failure is recorded, never raised: the
    request stands whether or not the message got through."""
    request = TriageRequest.objects.select_related("service", "practice", "appointment__slot__service").get(pk=request_id)
    channel, recipient = ("sms", request.contact_phone) if request.contact_phone else ("email", request.contact_email)
    if not recipient:
        return None
    template_id = notify.TEMPLATE_FOR[(purpose, channel)]
    client = notify.client()
    personalisation = _personalisation(request, purpose)
    try:
        if channel == "sms":
            response = client.send_sms(phone_number=recipient, template_id=template_id, personalisation=personalisation,
                                       reference=f"{request.reference}-{purpose}")
        else:
            response = client.send_email(email_address=recipient, template_id=template_id,
                                         personalisation=personalisation, reference=f"{request.reference}-{purpose}")
        notify_id, status, body = response["id"], "created", response["content"]["body"]
    except notify.NotifyError as e:
        log.warning("Message to patient failed for %s: %s", request.reference, e.status_code)
        notify_id, status, body = "", "technical-failure", ""
    return PatientMessage.objects.create(request=request, purpose=purpose, channel=channel, recipient=recipient,
                                         template_id=template_id, body=body, notify_id=notify_id, status=status,
                                         sent_at=timezone.now())


# ---------------------------------------------------------------- referring services


def referrer_token_create(*, referrer: ReferringService) -> str:
    import hashlib

    token = "collab_ref_" + secrets.token_urlsafe(32)
    ReferringService.objects.filter(pk=referrer.pk).update(token_digest=hashlib.sha256(token.encode()).hexdigest())
    return token


def referrer_for_token(token: str) -> ReferringService | None:
    import hashlib

    if not token:
        return None
    return ReferringService.objects.filter(token_digest=hashlib.sha256(token.encode()).hexdigest(), is_active=True).first()

