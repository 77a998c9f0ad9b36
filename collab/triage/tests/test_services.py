"""The front door, one triage, caps and overflow, queues and clocks, booking from triage, messages."""

import datetime as dt

import pytest
from django.utils import timezone

from collab.accounts.models import Role
from collab.booking.models import Appointment, Slot
from collab.core.models import AuditEvent
from collab.core.tests.factories import actor, hub_session
from collab.integrations import notify
from collab.organisations.models import Service
from collab.patients.access import decide
from collab.patients.nhs_number import with_check_digit
from collab.triage import selectors, services
from collab.triage.models import (
    PatientMessage,
    PracticeCapacity,
    RedFlagScreen,
    RuleSet,
    SendBack,
    Triage,
    TriageRequest,
)
from collab.triage.tests.factories import (
    by_phone,
    details,
    hub_role,
    online,
    passed_screen,
    patient,
    practice_role,
    triaged,
)

pytestmark = pytest.mark.django_db


def caps(net, **kw):
    return PracticeCapacity.objects.create(practice=net.practice, updated_at=timezone.now(), **kw)


# ---------------------------------------------------------------- the red-flag screen


def test_red_flag_screen_sends_emergencies_to_999_and_records_it():
    screen = services.red_flag_screen_record(flags=["chest_pain", "severe_pain"])
    assert screen.outcome == RedFlagScreen.Outcome.CALL_999
    assert services.red_flag_screen_record(flags=["mental_health_crisis"]).outcome == RedFlagScreen.Outcome.CALL_111
    assert services.red_flag_screen_record(flags=[]).outcome == RedFlagScreen.Outcome.PASSED
    assert services.red_flag_screen_record(flags=["made_up"]).outcome == RedFlagScreen.Outcome.PASSED
    assert AuditEvent.objects.filter(action="triage.red_flag_screen", reason="call_999").count() == 1


def test_the_form_needs_a_passed_screen(net, form_open):
    pt = patient(net)
    emergency = services.red_flag_screen_record(flags=["stroke"])
    for screen_id in (None, emergency.pk):
        with pytest.raises(services.TriageError, match="urgent symptoms first"):
            services.request_submit_online(screen_id=screen_id, practice_ods=net.practice.ods_code, nhs_number=pt.nhs_number,
                                           date_of_birth=pt.date_of_birth, details=details())
    assert not TriageRequest.objects.exists()


def test_the_form_is_closed_out_of_hours(net):
    pt = patient(net)
    screen = passed_screen()
    saturday = dt.datetime(2026, 11, 28, 10, 0, tzinfo=dt.UTC)
    with pytest.raises(services.Conflict, match="Monday to Friday"):
        services.request_submit_online(screen_id=screen.pk, practice_ods=net.practice.ods_code, nhs_number=pt.nhs_number,
                                       date_of_birth=pt.date_of_birth, details=details(), at=saturday)


# ---------------------------------------------------------------- the front door


def test_online_request_lands_in_the_practice_queue_and_the_patient_is_told_when(net, form_open):
    pt = patient(net)
    req = online(net, pt, on_behalf=True, requester_name="Sam Carer", requester_relationship="Son")
    assert req.service == net.practice_service and req.status == TriageRequest.Status.AWAITING_TRIAGE
    assert req.on_behalf and req.requester_name == "Sam Carer"
    assert req.respond_by > req.submitted_at
    msg = PatientMessage.objects.get(request=req)
    assert msg.purpose == "acknowledgement" and msg.channel == "sms" and msg.status == "created"
    assert req.reference in msg.body and "01432 111111" in msg.body
    assert notify.fake().sent[0].request["template_id"] == msg.template_id


def test_admin_requests_are_routed_by_rule_without_a_clinician(net, form_open):
    req = online(net, patient(net), kind="admin")
    triage = req.triages.get()
    assert triage.method == Triage.Method.RULE and triage.route == "practice" and triage.triaged_by is None
    assert req.status == TriageRequest.Status.WAITING and req.service == net.practice_service


@pytest.mark.parametrize(("field", "value", "message"), [
    ("practice_ods", "Z99999", "no member practice"),
    ("nhs_number", "123", "10 digits"),
    ("nhs_number", with_check_digit("999012345"), "could not find"),
])
def test_wrong_details_are_named_and_nothing_is_created(net, form_open, field, value, message):
    pt = patient(net)
    args = {"practice_ods": net.practice.ods_code, "nhs_number": pt.nhs_number}
    args[field] = value
    with pytest.raises(services.TriageError, match=message):
        services.request_submit_online(screen_id=passed_screen().pk, date_of_birth=pt.date_of_birth, details=details(), **args)
    with pytest.raises(services.TriageError, match="characters or fewer"):
        services.request_submit_online(screen_id=passed_screen().pk, practice_ods=net.practice.ods_code,
                                       nhs_number=pt.nhs_number, date_of_birth=pt.date_of_birth,
                                       details=details(description="x" * 2001))
    assert not TriageRequest.objects.exists()


def test_a_navigator_cannot_raise_a_request_for_another_practices_patient(net):
    other_navigator = practice_role(net)
    other_navigator.organisation = net.other_practice
    other_navigator.save()
    with pytest.raises(services.NotPermitted):
        by_phone(net, patient(net), navigator=other_navigator)
    assert AuditEvent.objects.filter(action="triage.request.create", outcome="refused").count() == 1


# ---------------------------------------------------------------- caps and overflow


def test_when_the_practice_is_full_medical_requests_overflow_to_the_hub(net, form_open):
    caps(net, medical_cap=2, admin_cap=1)
    first, second = online(net, patient(net)), online(net, patient(net))
    third = online(net, patient(net))
    assert [r.service for r in (first, second)] == [net.practice_service] * 2
    assert third.service == net.hub and third.overflowed and third.intake_service == net.hub
    # Admin: one fits, the next is refused (the hub does not do practice admin) and nothing is created.
    online(net, patient(net), kind="admin")
    before = TriageRequest.objects.count()
    with pytest.raises(services.PracticeNotTakingAdmin):
        online(net, patient(net), kind="admin")
    assert TriageRequest.objects.count() == before
    assert selectors.practice_capacity_summary(practice=net.practice)["overflowed"] == 1


def test_the_practice_can_lift_its_caps(net, form_open):
    manager = practice_role(net, Role.PRACTICE_MANAGER)
    services.practice_capacity_set(actor=actor(manager), practice=net.practice, period="day", medical_cap=0, admin_cap=None,
                                   per_patient_per_day=None, override_until=timezone.now() + dt.timedelta(hours=2))
    assert online(net, patient(net)).service == net.practice_service
    with pytest.raises(services.NotPermitted):
        services.practice_capacity_set(actor=actor(manager), practice=net.other_practice, period="day", medical_cap=1,
                                       admin_cap=None, per_patient_per_day=None, override_until=None)


def test_per_patient_daily_limit_with_a_staff_override(net, form_open):
    caps(net, per_patient_per_day=1)
    pt = patient(net)
    online(net, pt)
    with pytest.raises(services.Conflict, match="already sent 1 request today"):
        online(net, pt)
    navigator = practice_role(net)
    req = services.request_create_by_staff(actor=actor(navigator), actor_org_kind="practice", source="phone", patient=pt,
                                           details=details(), cap_override_reason="Worse since this morning")
    assert req.cap_override_reason == "Worse since this morning"


def test_weekly_caps_count_from_monday(net):
    caps(net, medical_cap=1, period="week")
    pt = patient(net)
    monday = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
    sunday_before = monday - dt.timedelta(hours=10)
    services._create(source="online", practice=net.practice, patient=pt, details=details(), actor=services.PUBLIC,
                     at=sunday_before)
    assert not selectors.practice_is_full(practice=net.practice, kind="medical", at=monday)
    services._create(source="online", practice=net.practice, patient=pt, details=details(), actor=services.PUBLIC, at=monday)
    assert selectors.practice_is_full(practice=net.practice, kind="medical", at=monday + dt.timedelta(days=3))


# ---------------------------------------------------------------- one triage


def test_one_triage_travels_with_the_request_and_records_the_rule_version(net):
    req = triaged(net, patient(net), route="pharmacy", urgency="soon")
    triage = req.triages.get()
    assert req.service == net.service(Service.Kind.COMMUNITY_PHARMACY) and req.status == TriageRequest.Status.WAITING
    assert triage.rule_set.version == 1 and triage.rule_position == 70 and triage.number == 1
    assert req.urgency == "soon" and req.respond_by == triage.respond_by
    with pytest.raises(services.Conflict, match="already been triaged"):
        services.triage_record(actor=actor(hub_role(net)), actor_org_kind="collaborative", request=req, urgency="urgent",
                               route="hub", reason="again", safety_netting="again")
    assert req.triages.count() == 1
    assert PatientMessage.objects.filter(request=req, purpose="outcome").count() == 1


def test_emergency_route_closes_the_request_with_999_advice(net):
    req = triaged(net, patient(net), route="emergency", urgency="emergency")
    assert req.status == TriageRequest.Status.CLOSED and req.service is None and "999" in req.outcome


def test_only_clinicians_triage(net):
    req = by_phone(net, patient(net))
    for assignment, kind in ((practice_role(net), "practice"), (hub_role(net, Role.HUB_MANAGER), "collaborative")):
        with pytest.raises(services.NotPermitted):
            services.triage_record(actor=actor(assignment), actor_org_kind=kind, request=req, urgency="soon", route="hub",
                                   reason="r", safety_netting="s")
    practice_gp = practice_role(net, Role.GP)
    services.triage_record(actor=actor(practice_gp), actor_org_kind="practice", request=req, urgency="soon", route="hub",
                           reason="r", safety_netting="s")


def test_triage_needs_reason_and_safety_netting(net):
    req = by_phone(net, patient(net))
    for reason, netting, message in (("", "s", "reason"), ("r", " ", "safety-netting")):
        with pytest.raises(services.TriageError, match=message):
            services.triage_record(actor=actor(hub_role(net)), actor_org_kind="collaborative", request=req,
                                   urgency="soon", route="hub", reason=reason, safety_netting=netting)


def test_send_back_needs_a_reason_is_counted_and_allows_a_second_triage(net):
    req = triaged(net, patient(net), route="hub")
    hub_gp = hub_role(net)
    with pytest.raises(services.TriageError, match="Say why"):
        services.request_send_back(actor=actor(hub_gp), actor_org_kind="collaborative", request=req, reason=" ")
    services.request_send_back(actor=actor(hub_gp), actor_org_kind="collaborative", request=req,
                               reason="Needs examination: not suitable for remote")
    req.refresh_from_db()
    assert req.status == TriageRequest.Status.AWAITING_TRIAGE and req.service == req.intake_service
    services.triage_record(actor=actor(hub_gp), actor_org_kind="collaborative", request=req, urgency="soon",
                           route="practice", reason="Examination", safety_netting="111 if worse")
    assert list(req.triages.values_list("number", flat=True)) == [1, 2]
    figures = selectors.triage_figures(since=timezone.localdate(), until=timezone.localdate())
    assert figures["send_backs"] == 1 and figures["retriage_rate"] == 1.0


def test_new_rule_version_is_recorded_and_old_decisions_keep_theirs(net):
    first = triaged(net, patient(net), route="hub").triages.get()
    manager = hub_role(net, Role.HUB_MANAGER)
    current = RuleSet.objects.get()
    rules = [{k: getattr(r, k) for k in ("position", "route", "request_kind", "practices", "min_age", "max_age", "weekdays",
                                         "from_time", "until_time", "months", "when_practice_full", "urgencies",
                                         "service_kind", "note")} for r in current.rules.all()]
    rules.insert(0, {"position": 1, "route": "hub", "service_kind": "enhanced_access", "practices": net.practice.ods_code})
    v2 = services.rule_set_publish(collaborative=net.collaborative, actor=actor(manager), rules=rules,
                                   targets=current.targets, note="Hub work to enhanced access")
    assert v2.version == 2
    second = triaged(net, patient(net), route="hub").triages.get()
    assert second.rule_set == v2 and second.service == net.service(Service.Kind.ENHANCED_ACCESS)
    first.refresh_from_db()
    assert first.rule_set == current and current.rules.count() == len(rules) - 1


def test_rule_edits_are_checked(net):
    manager = hub_role(net, Role.HUB_MANAGER)
    targets = services.DEFAULT_TARGETS
    with pytest.raises(services.TriageError, match="fall back on"):
        services.rule_set_publish(collaborative=net.collaborative, actor=actor(manager), targets=targets,
                                  rules=[{"position": 1, "route": "hub", "service_kind": "remote_hub"}])
    with pytest.raises(services.TriageError, match="weekdays"):
        services.rule_set_publish(collaborative=net.collaborative, actor=actor(manager), targets=targets,
                                  rules=[{"position": 1, "route": "hub", "service_kind": "remote_hub", "weekdays": "7"}])
    with pytest.raises(services.TriageError, match="target"):
        services.rule_set_publish(collaborative=net.collaborative, actor=actor(manager), targets={},
                                  rules=list(services.DEFAULT_RULES))


# ---------------------------------------------------------------- queues and clocks


def test_queue_is_ordered_by_urgency_then_age_and_breaches_show(net):
    pt = patient(net)
    routine = triaged(net, pt, route="hub", urgency="routine")
    urgent = triaged(net, pt, route="hub", urgency="urgent")
    soon = triaged(net, pt, route="hub", urgency="soon")
    older_soon = triaged(net, pt, route="hub", urgency="soon")
    TriageRequest.objects.filter(pk=older_soon.pk).update(submitted_at=soon.submitted_at - dt.timedelta(hours=1))
    assert list(selectors.queue_for_service(service=net.hub)) == [urgent, older_soon, soon, routine]
    # Three hours on, the urgent request (2 hour target) has breached and nothing else has.
    later = timezone.now() + dt.timedelta(hours=3)
    urgent.refresh_from_db()
    assert selectors.is_breached(urgent, later)
    assert not selectors.is_breached(routine, later)
    services.request_record_contact(actor=actor(hub_role(net)), actor_org_kind="collaborative", request=urgent)
    urgent.refresh_from_db()
    assert not selectors.is_breached(urgent, later)


def test_a_breach_is_counted_in_the_figures(net):
    req = triaged(net, patient(net), route="hub", urgency="urgent")
    TriageRequest.objects.filter(pk=req.pk).update(respond_by=timezone.now() - dt.timedelta(minutes=1))
    f = selectors.triage_figures(since=timezone.localdate(), until=timezone.localdate())
    assert f["breaches"] == 1 and f["total"] == 1 and f["median_minutes_to_triage"] is not None


# ---------------------------------------------------------------- booking from triage


def test_earliest_suitable_slot_respects_route_channel_role_and_reservations(net):
    req = triaged(net, patient(net), route="hub", preferred_channel="video")
    start = timezone.now() + dt.timedelta(hours=1)
    hub_session(start=start, channel="telephone")  # wrong channel
    hub_session(start=start + dt.timedelta(hours=2), channel="video", reserved_for=net.other_practice)  # someone else's
    pharmacist = hub_session(start=start + dt.timedelta(hours=3), channel="video", role=Role.CLINICAL_PHARMACIST)
    wanted = hub_session(start=start + dt.timedelta(hours=4), channel="video")
    slot = selectors.earliest_suitable_slot(request=req)
    assert slot.session_id == pharmacist.pk  # the hub route takes any clinician
    pharmacy_req = triaged(net, patient(net), route="pharmacy", preferred_channel="video")
    assert selectors.earliest_suitable_slot(request=pharmacy_req) is None  # pharmacist is at the hub, not the pharmacy
    assert wanted.slots.exists()


def test_enhanced_access_slots_are_used_for_hub_route_when_earlier(net):
    req = triaged(net, patient(net), route="hub")
    start = timezone.now() + dt.timedelta(hours=1)
    ea_clinician = hub_role(net).user
    from collab.booking.services import session_create

    ea = session_create(service=net.service(Service.Kind.ENHANCED_ACCESS), clinician=ea_clinician, clinician_role=Role.GP,
                        starts_at=start, ends_at=start + dt.timedelta(hours=1), slot_minutes=15, channel="telephone")
    hub_session(start=start + dt.timedelta(hours=2))
    assert selectors.earliest_suitable_slot(request=req).session_id == ea.pk


def test_triage_clinician_books_earliest_slot_in_one_step(net):
    hub_gp = hub_role(net)
    req = triaged(net, patient(net), route="hub", clinician=hub_gp)
    hub_session(start=timezone.now() + dt.timedelta(hours=1))
    slot = selectors.earliest_suitable_slot(request=req)
    appointment = services.triage_book(actor=actor(hub_gp), actor_org_kind="collaborative", request=req, slot_id=slot.pk)
    req.refresh_from_db()
    assert req.status == TriageRequest.Status.BOOKED and req.appointment == appointment and req.first_contact_at
    assert appointment.slot_id == slot.pk and req.reference in appointment.reason
    assert PatientMessage.objects.filter(request=req, purpose="booking").count() == 1
    assert selectors.triage_for_appointment(appointment.pk)["triage_count"] == 1


def test_practice_clinician_books_the_hub_from_triage(net):
    gp = practice_role(net, Role.GP)
    req = triaged(net, patient(net), route="hub", clinician=gp)
    hub_session(start=timezone.now() + dt.timedelta(hours=1))
    slot = selectors.earliest_suitable_slot(request=req)
    services.triage_book(actor=actor(gp), actor_org_kind="practice", request=req, slot_id=slot.pk)
    assert Appointment.objects.get().slot_id == slot.pk


def test_a_lost_race_offers_the_next_slot(net):
    gp = practice_role(net, Role.GP)
    req = triaged(net, patient(net), route="hub", clinician=gp)
    session = hub_session(start=timezone.now() + dt.timedelta(hours=1))
    first, second = list(session.slots.order_by("starts_at")[:2])
    Slot.objects.filter(pk=first.pk).update(status=Slot.Status.BUSY)  # someone else booked it after we looked
    with pytest.raises(services.SlotTaken) as lost:
        services.triage_book(actor=actor(gp), actor_org_kind="practice", request=req, slot_id=first.pk)
    assert lost.value.next_slot.pk == second.pk
    req.refresh_from_db()
    assert req.status == TriageRequest.Status.WAITING and not Appointment.objects.exists()


def test_a_slot_outside_the_route_is_refused(net):
    gp = practice_role(net, Role.GP)
    req = triaged(net, patient(net), route="pharmacy", clinician=gp)
    slot = hub_session(start=timezone.now() + dt.timedelta(hours=1)).slots.first()
    with pytest.raises(services.TriageError, match="not suitable"):
        services.triage_book(actor=actor(gp), actor_org_kind="practice", request=req, slot_id=slot.pk)


# ---------------------------------------------------------------- access


def test_triage_gives_the_collaborative_a_relationship_and_audits(net):
    pt = patient(net)
    hub_gp = hub_role(net)
    assert not decide(actor=actor(hub_gp), actor_org_kind="collaborative", patient=pt, action="patient.view").allowed
    req = by_phone(net, pt)
    # At the front door: awaiting triage anywhere in the collaborative.
    assert decide(actor=actor(hub_gp), actor_org_kind="collaborative", patient=pt, action="patient.view").allowed
    services.triage_record(actor=actor(hub_gp), actor_org_kind="collaborative", request=req, urgency="soon",
                           route="practice", reason="r", safety_netting="s")
    found = decide(actor=actor(hub_gp), actor_org_kind="collaborative", patient=pt, action="patient.view")
    assert found.allowed and found.reason == "recent triage by our organisation"
    assert AuditEvent.objects.filter(action="triage.record", patient_id=pt.pk, outcome="allowed").count() == 1


def test_message_failure_is_recorded_not_raised(net, monkeypatch):
    def broken(**kwargs):
        raise notify.NotifyError(500, [{"error": "Exception", "message": "Internal server error"}])

    monkeypatch.setattr(notify.fake(), "send_sms", broken)
    req = by_phone(net, patient(net))
    assert PatientMessage.objects.get(request=req).status == "technical-failure"


def test_send_backs_are_rows_with_reasons(net):
    req = triaged(net, patient(net))
    services.request_send_back(actor=actor(hub_role(net)), actor_org_kind="collaborative", request=req, reason="why")
    assert SendBack.objects.get().reason == "why"


def test_route_to_out_of_hours_puts_the_request_on_the_ooh_case_list(net):
    from collab.ooh.models import OohCase
    from collab.ooh.selectors import ooh_cases_open

    req = triaged(net, patient(net), route="out_of_hours", urgency="urgent")
    assert req.service.kind == Service.Kind.OUT_OF_HOURS
    case = OohCase.objects.get()
    assert (case.patient_id, case.source, case.source_reference, case.priority) == (
        req.patient_id, "triage", req.reference, "urgent")
    assert req.description[:40] in case.presenting_complaint
    assert list(ooh_cases_open(service_id=req.service_id)) == [case]
    # Routed anywhere else, no case.
    triaged(net, patient(net), route="hub")
    assert OohCase.objects.count() == 1
