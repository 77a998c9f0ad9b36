import datetime as dt
import re

import pytest
from django.utils import timezone

from collab.accounts.models import Role
from collab.booking.tests.test_pages import act_as
from collab.core.models import AuditEvent
from collab.core.tests.factories import RoleAssignmentFactory, hub_session
from collab.triage.models import PracticeCapacity, RedFlagScreen, RuleSet, TriageRequest
from collab.triage.tests.factories import by_phone, hub_role, patient, practice_role, triaged

pytestmark = pytest.mark.django_db


def test_red_flags_send_the_patient_to_999_and_nothing_else_is_asked(client, net):
    assert client.get("/triage/start/").status_code == 200
    r = client.post("/triage/start/", {"flags": ["chest_pain"]})
    assert r.status_code == 200 and b"Call 999 now" in r.content
    assert RedFlagScreen.objects.get().outcome == "call_999"
    assert client.get("/triage/request/").status_code == 302  # no screen passed: back to the start


def test_the_screen_must_be_answered(client, net):
    r = client.post("/triage/start/", {})
    assert r.status_code == 400 and b"None of these" in r.content


def test_online_journey_without_signing_in(client, net, form_open):
    pt = patient(net)
    r = client.post("/triage/start/", {"none": "1"})
    assert r.status_code == 302 and r["Location"] == "/triage/request/"
    r = client.post("/triage/request/", {})
    assert r.status_code == 400
    for message in [b"Say who the request is for", b"Choose the GP practice", b"Enter the NHS number",
                    b"Enter the date of birth", b"Describe what you need help with"]:
        assert message in r.content
    r = client.post("/triage/request/", {
        "on_behalf": "no", "practice": net.practice.ods_code, "nhs_number": pt.nhs_number,
        "date_of_birth": pt.date_of_birth.isoformat(), "kind": "medical", "description": "Rash on my arm",
        "contact_phone": "07700 900123"})
    assert r.status_code == 302, r.content
    r = client.get("/triage/request/sent/")
    req = TriageRequest.objects.get()
    assert req.reference.encode() in r.content and b"If you have not heard from us by" in r.content


def test_staff_take_triage_and_book_from_the_queue(client, net):
    pt = patient(net)
    navigator = practice_role(net)
    act_as(client, navigator)
    r = client.post("/triage/requests/new/", {"source": "phone", "nhs_number": pt.nhs_number, "kind": "medical",
                                              "description": "Sore throat"})
    req = TriageRequest.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/triage/requests/{req.pk}/"
    r = client.get("/triage/queue/")
    assert req.reference.encode() in r.content
    assert AuditEvent.objects.filter(action="patient.list", object_type="triage_queue", patient_id=pt.pk).exists()
    gp = practice_role(net, Role.GP)
    act_as(client, gp)
    r = client.get(f"/triage/requests/{req.pk}/")
    assert b"Triage this request" in r.content
    r = client.post(f"/triage/requests/{req.pk}/triage/", {"urgency": "soon"})
    assert r.status_code == 400 and b"Choose the route" in r.content and b"Record the safety-netting" in r.content
    r = client.post(f"/triage/requests/{req.pk}/triage/", {"urgency": "soon", "route": "hub", "reason": "Viral",
                                                           "safety_netting": "111 if worse"})
    assert r.status_code == 302
    hub_session(start=timezone.now() + dt.timedelta(hours=1))
    r = client.get(f"/triage/requests/{req.pk}/book/")
    assert b"Book this slot" in r.content
    slot_id = int(r.content.decode().split('name="slot_id" value="')[1].split('"')[0])
    r = client.post(f"/triage/requests/{req.pk}/book/", {"slot_id": slot_id})
    assert r.status_code == 302
    req.refresh_from_db()
    assert req.status == "booked"
    # The hub clinician sees the triage with the appointment.
    hub_gp = hub_role(net)
    act_as(client, hub_gp)
    r = client.get(f"/hub/appointments/{req.appointment_id}/")
    assert b'id="appointment-triage"' in r.content and b"111 if worse" in r.content


def test_a_lost_race_shows_the_next_slot_with_409(client, net):
    gp = practice_role(net, Role.GP)
    req = triaged(net, patient(net), route="hub", clinician=gp)
    session = hub_session(start=timezone.now() + dt.timedelta(hours=1))
    first = session.slots.order_by("starts_at").first()
    first.status = "busy"
    first.save()
    act_as(client, gp)
    r = client.post(f"/triage/requests/{req.pk}/book/", {"slot_id": first.pk})
    assert r.status_code == 409 and b"just been booked by someone else" in r.content and b"Book this slot" in r.content


def test_send_back_and_close_need_reasons(client, net):
    hub_gp = hub_role(net)
    req = triaged(net, patient(net), route="hub", clinician=hub_gp)
    act_as(client, hub_gp)
    r = client.post(f"/triage/requests/{req.pk}/send-back/", {})
    assert r.status_code == 400 and b"Say why this request needs triaging again" in r.content
    r = client.post(f"/triage/requests/{req.pk}/close/", {})
    assert r.status_code == 400 and b"Say how the request was dealt with" in r.content
    assert client.post(f"/triage/requests/{req.pk}/contact/").status_code == 302
    assert client.post(f"/triage/requests/{req.pk}/close/", {"outcome": "Advice by phone"}).status_code == 302


def test_another_practice_cannot_open_the_request(client, net):
    req = by_phone(net, patient(net))
    stranger = practice_role(net)
    stranger.organisation = net.other_practice
    stranger.save()
    act_as(client, stranger)
    assert client.get(f"/triage/requests/{req.pk}/").status_code == 403


def test_practice_manager_sets_caps(client, net):
    act_as(client, practice_role(net, Role.PRACTICE_MANAGER))
    assert client.get("/triage/capacity/").status_code == 200
    r = client.post("/triage/capacity/", {"period": "day", "medical_cap": "x"})
    assert r.status_code == 400 and b"Enter a whole number" in r.content
    r = client.post("/triage/capacity/", {"period": "day", "medical_cap": "30", "admin_cap": "10", "per_patient_per_day": "2"})
    assert r.status_code == 302
    assert PracticeCapacity.objects.get(practice=net.practice).medical_cap == 30


def test_hub_manager_edits_rules_and_sees_figures(client, net):
    triaged(net, patient(net))
    manager = hub_role(net, Role.HUB_MANAGER)
    act_as(client, manager)
    assert b"Version 1" in client.get("/triage/rules/").content
    page = client.get("/triage/rules/edit/")
    assert page.status_code == 200 and b"Publish new version" in page.content
    current = RuleSet.objects.get()
    rows = list(current.rules.order_by("position"))
    data = {"rule-TOTAL_FORMS": str(len(rows) + 1), "rule-INITIAL_FORMS": str(len(rows)), "rule-MIN_NUM_FORMS": "0",
            "rule-MAX_NUM_FORMS": "200", "note": "Add a rule"}
    for i, row in enumerate(rows):
        for name in ("position", "route", "request_kind", "urgencies", "practices", "min_age", "max_age", "weekdays",
                     "from_time", "until_time", "months", "when_practice_full", "service_kind", "note"):
            value = getattr(row, name)
            data[f"rule-{i}-{name}"] = "" if value is None else (value.strftime("%H:%M") if hasattr(value, "strftime") else value)
    n = len(rows)
    data.update({f"rule-{n}-position": "5", f"rule-{n}-route": "hub", f"rule-{n}-service_kind": "enhanced_access",
                 f"rule-{n}-practices": net.practice.ods_code})
    for k, t in current.targets.items():
        data[f"target_{k}"] = str(t["minutes"])
        if t["working_hours"]:
            data[f"working_{k}"] = "on"
    r = client.post("/triage/rules/edit/", data)
    assert r.status_code == 302, r.content.decode()[-3000:]
    latest = RuleSet.objects.order_by("-version").first()
    assert latest.version == 2 and latest.rules.filter(position=5, service_kind="enhanced_access").exists()
    r = client.get("/triage/figures/")
    assert r.status_code == 200 and b"Overflow to the hub" in r.content


def test_queue_pages_for_the_collaborative(client, net):
    by_phone(net, patient(net))
    act_as(client, hub_role(net))
    r = client.get("/triage/queue/")
    assert r.status_code == 200 and b"Waiting for triage across the collaborative" in r.content
    r = client.get(f"/triage/queue/?service={net.hub.pk}")
    assert r.status_code == 200


# ------------------------------------------------------------------ the queue's live refresh


def _queue_list_html(html: str) -> str:
    """The queue's list as the page or the fragment renders it, without the minute it was made."""
    start = html.index('<div id="queue-list"')
    end = html.index("</div>", start) + len("</div>")
    return re.sub(r'data-updated="[0-9:]*"', "", html[start:end])


def test_the_queue_fragment_lists_what_the_page_lists_and_audits_each_patient_once_per_fetch(client, net):
    first, second = patient(net), patient(net)
    a, b = by_phone(net, first), by_phone(net, second)
    act_as(client, practice_role(net))
    page = client.get("/triage/queue/")
    assert page.status_code == 200
    page_html = page.content.decode()
    # The page names the fragment for its script, and keeps a plain link for when there is no script.
    assert f'data-queue-refresh="/triage/queue/list/?service={net.practice_service.pk}"' in page_html
    assert f'<a href="/triage/queue/?service={net.practice_service.pk}" id="queue-refresh-link">Refresh the queue</a>' in page_html
    audited = AuditEvent.objects.filter(action="patient.list", object_type="triage_queue")
    before = audited.count()

    r = client.get("/triage/queue/list/")
    assert r.status_code == 200
    fragment = r.content.decode()
    assert "<html" not in fragment and "<h1" not in fragment  # just the list
    assert a.reference in fragment and b.reference in fragment
    assert _queue_list_html(fragment) == _queue_list_html(page_html)
    # Every patient listed, audited once for this fetch, as the page does.
    assert audited.count() == before + 2
    assert sorted(audited.order_by("-pk").values_list("patient_id", flat=True)[:2]) == sorted([first.pk, second.pk])
    client.get("/triage/queue/list/")
    assert audited.filter(patient_id=first.pk).count() == 3  # page, fetch, fetch
    # Only GET.
    assert client.post("/triage/queue/list/").status_code == 405


def test_the_queue_fragment_is_refused_as_the_page_is(client, net):
    by_phone(net, patient(net))
    audited = AuditEvent.objects.filter(action="patient.list")
    # Not signed in: to sign-in, nothing listed.
    r = client.get("/triage/queue/list/")
    assert r.status_code == 302 and "/triage/queue/list/" in r["Location"]
    # A role that may not see the queue (an analyst) is refused both, and nobody is listed or audited as shown.
    # (The page does not write an audit row for a refusal; neither does the fragment.)
    act_as(client, RoleAssignmentFactory(organisation=net.collaborative, role=Role.ANALYST))
    before = AuditEvent.objects.count()
    page = client.get("/triage/queue/")
    r = client.get("/triage/queue/list/")
    assert page.status_code == 403 and r.status_code == 403
    assert b"queue-list" not in r.content and b"data-reference" not in r.content
    assert AuditEvent.objects.count() == before and not audited.exists()
