"""Triage once, end to end against a real server: the online form through one triage to a hub
booking and a consultation; and a 111 referral through the intake endpoint."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import expect

from tests.system.test_journeys import assert_accessible, sign_in_as

pytestmark = [pytest.mark.server]


def _patient(server, ods: str, offset: int) -> tuple[str, str]:
    rows = server.db.query(
        "SELECT p.nhs_number, p.date_of_birth FROM patients_patient p JOIN organisations_organisation o "
        "ON o.id = p.registered_practice_id WHERE o.ods_code = ? ORDER BY p.id LIMIT 1 OFFSET ?", (ods, offset))
    nhs_number, dob = rows[0]
    return nhs_number, dob if isinstance(dob, str) else dob.isoformat()


@pytest.mark.browser
def test_online_request_is_triaged_once_booked_into_the_hub_and_seen(browser, server):
    nhs_number, dob = _patient(server, "M81026", 7)
    # Given a patient, not signed in, on the online form
    patient = browser.new_context(base_url=server.url).new_page()
    patient.goto("/triage/start/")
    assert_accessible(patient)
    # When they have none of the red flags
    patient.check("#none")
    patient.click("button:has-text('Continue')")
    patient.wait_for_url("**/triage/request/")
    assert_accessible(patient)
    # (Asking for someone else reveals more questions: the NHS.UK components are running.)
    assert not patient.locator("#conditional-on_behalf-2").is_visible()
    patient.check("input[name=on_behalf][value=yes]")
    assert patient.locator("#conditional-on_behalf-2").is_visible()
    assert patient.get_attribute("input[name=on_behalf][value=yes]", "aria-expanded") is None
    # And send a medical request for themselves
    patient.check("input[name=on_behalf][value=no]")
    patient.select_option("#id_practice", "M81026")
    patient.fill("#id_nhs_number", nhs_number)
    patient.fill("#id_date_of_birth", dob)
    patient.check("input[name=kind][value=medical]")
    patient.fill("#id_description", "Browser test: wheezy for a week, inhaler not helping")
    patient.fill("#id_contact_phone", "07700 900999")
    patient.click("button:has-text('Send request')")
    patient.wait_for_url("**/triage/request/sent/")
    reference = patient.inner_text("#reference")
    # Then they are told when to expect contact, and who to call if not
    assert "If you have not heard from us by" in patient.inner_text("#contact-by")
    assert_accessible(patient)

    # When the practice's GP triages it once: soon, to the remote hub
    gp = browser.new_context(base_url=server.url).new_page()
    sign_in_as(gp, "gareth.gp")
    gp.click("header >> text=Triage queue")
    assert_accessible(gp)
    gp.click(f"#queue tr[data-reference='{reference}'] a")
    assert_accessible(gp)
    gp.check("input[name=urgency][value=soon]")
    gp.select_option("#id_route", "hub")
    gp.fill("#id_reason", "Browser test: asthma review, remote GP appropriate")
    gp.fill("#id_safety_netting", "Browser test: call 999 if breathless at rest")
    gp.click("button:has-text('Save triage')")
    gp.wait_for_selector("text=Triaged: Remote hub")
    # And books the earliest suitable slot in one step
    gp.click("#book-earliest")
    assert_accessible(gp)
    gp.click("button:has-text('Book this slot')")
    gp.wait_for_selector("text=Appointment booked")
    appointment_id = int(gp.url.rstrip("/").rsplit("/", 1)[1])
    assert "Browser test: call 999 if breathless at rest" in gp.inner_text("#appointment-triage")

    # Then the clinician of the slot's service (the hub; in the evening, the practice's PCN's
    # enhanced access) sees the triage with the appointment, writes the note and completes it
    kind = server.db.query("SELECT v.kind FROM booking_appointment a JOIN booking_slot s ON s.id = a.slot_id "
                           "JOIN organisations_service v ON v.id = s.service_id WHERE a.id = ?", (appointment_id,))[0][0]
    hub = browser.new_context(base_url=server.url).new_page()
    sign_in_as(hub, {"remote_hub": "sam.hubgp", "enhanced_access": "erin.eagp"}[kind])
    hub.goto(f"/hub/appointments/{appointment_id}/")
    panel = hub.inner_text("#appointment-triage")
    assert "Remote hub" in panel and "asthma review" in panel
    assert_accessible(hub)
    hub.click("button:has-text('Start consultation')")
    hub.wait_for_selector("#consultation-form")
    hub.fill("#id_assessment", "Browser test: asthma, poorly controlled")
    hub.fill("#id_plan", "Browser test: preventer inhaler, asthma review at the practice")
    hub.fill("#id_safety_netting", "Browser test: 999 if breathless at rest")
    hub.check("#outcome")
    hub.click("#sign-and-complete")
    hub.wait_for_selector("text=Consultation completed: Resolved remotely")

    # And nobody triaged it again
    request_id, status = server.db.query("SELECT id, status FROM triage_triagerequest WHERE reference = ?", (reference,))[0]
    assert status == "booked"
    assert server.db.query("SELECT COUNT(*) FROM triage_triage WHERE request_id = ?", (request_id,))[0][0] == 1
    assert server.db.query("SELECT COUNT(*) FROM triage_sendback WHERE request_id = ?", (request_id,))[0][0] == 0
    assert server.db.query("SELECT status FROM booking_appointment WHERE id = ?", (appointment_id,))[0][0] == "fulfilled"
    purposes = {r[0] for r in server.db.query("SELECT purpose FROM triage_patientmessage WHERE request_id = ?", (request_id,))}
    assert purposes == {"acknowledgement", "outcome", "booking"}


def test_a_111_referral_arrives_through_the_intake_endpoint(server):
    token = server.db.collab("referrer_token", "RYA").strip()
    nhs_number, dob = _patient(server, "M81012", 3)
    url = server.url + "/triage/intake/referrals"
    headers = {"Authorization": f"Bearer {token}"}
    referral = {
        "referral_id": f"111-SYS-{dt.datetime.now(dt.UTC).timestamp():.0f}",
        "practice_ods": "M81012",
        "patient": {"nhs_number": nhs_number, "date_of_birth": dob, "phone": "07700 900111"},
        "presenting_complaint": "System test: sore throat and fever for 3 days",
        "assessment": {"urgency": "urgent", "route": "pharmacy", "reason": "Pathways: sore throat, Pharmacy First",
                       "safety_netting": "Call 111 back if unable to swallow", "disposition_code": "Dx11"},
    }
    before = server.db.query("SELECT COUNT(*) FROM triage_triagerequest")[0][0]
    bad = httpx.post(url, json={**referral, "practice_ods": "Z99999"}, headers=headers, timeout=10)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "practice_ods"
    too_long = httpx.post(url, json={**referral, "presenting_complaint": "x" * 5000}, headers=headers, timeout=10)
    assert too_long.status_code == 400
    assert server.db.query("SELECT COUNT(*) FROM triage_triagerequest")[0][0] == before
    r = httpx.post(url, json=referral, headers=headers, timeout=10)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["triage"]["route"] == "pharmacy" and body["triage"]["service"].startswith("Community pharmacy")
    rows = server.db.query(
        "SELECT t.method, t.referrer_id IS NOT NULL FROM triage_triage t JOIN triage_triagerequest r ON r.id = t.request_id "
        "WHERE r.reference = ?", (body["reference"],))
    assert [tuple(x) for x in rows] == [("referrer", True)]
    assert httpx.post(url, json=referral, headers=headers, timeout=10).status_code == 409


def _faster_queue(route):
    """The queue page as served, but refreshing every second rather than every 30 (its data attribute)."""
    response = route.fetch()
    body = response.text()
    assert 'data-refresh-seconds="30"' in body
    route.fulfill(response=response, body=body.replace('data-refresh-seconds="30"', 'data-refresh-seconds="1"'))


@pytest.mark.browser
def test_the_queue_shows_a_new_request_without_a_reload(browser, server):
    nhs_number, _ = _patient(server, "M81026", 11)
    # Given a GP watching the practice's queue
    gp = browser.new_context(base_url=server.url).new_page()
    gp.set_default_timeout(15_000)
    sign_in_as(gp, "gareth.gp")
    gp.route(lambda url: urlsplit(url).path == "/triage/queue/", _faster_queue)
    gp.goto("/triage/queue/")
    assert gp.is_visible("#queue-live") and gp.is_visible("#queue-refresh-link")
    assert gp.inner_text("#queue-updated").startswith("Updated ")
    gp.evaluate("window.stillTheSamePage = true")
    assert_accessible(gp)

    # When a receptionist takes a phone request for one of its patients, in another session
    desk = browser.new_context(base_url=server.url).new_page()
    sign_in_as(desk, "rachel.reception")
    desk.goto("/triage/requests/new/")
    desk.check("input[name=source][value=phone]")
    desk.fill("#id_nhs_number", nhs_number)
    desk.check("input[name=kind][value=medical]")
    desk.fill("#id_description", "Browser test: live queue, earache since yesterday")
    desk.click("button:has-text('Add request')")
    desk.wait_for_url(re.compile(r".*/triage/requests/\d+/$"))
    reference = re.search(r"Request (\S+) added", desk.inner_text("main")).group(1)

    # Then, without a reload, the GP's queue shows it, marked new, and says so politely
    row = gp.locator(f"#queue tr[data-reference='{reference}']")
    expect(row).to_be_visible()
    expect(row).to_contain_text("New")
    announcer = gp.locator("#queue-announcer")
    expect(announcer).to_have_attribute("aria-live", "polite")
    expect(announcer).to_contain_text(re.compile(r"Queue updated: \d+ waiting, 1 new"))
    assert gp.evaluate("window.stillTheSamePage") is True
    assert gp.is_hidden("#queue-refresh-error")
    assert_accessible(gp)

    # And when the queue cannot be fetched, it says so and keeps the list on screen
    gp.route(lambda url: urlsplit(url).path == "/triage/queue/list/", lambda route: route.abort())
    expect(gp.locator("#queue-refresh-error")).to_be_visible()
    expect(gp.locator("#queue-refresh-error")).to_contain_text("The queue could not be updated")
    expect(row).to_be_visible()
    assert_accessible(gp)
    gp.context.close()
    desk.context.close()


@pytest.mark.browser
def test_the_queue_does_not_update_while_paused_typing_or_hidden(browser, server):
    # Given the triage GP on the collaborative's queue, refreshing every second, counting its fetches
    tara = browser.new_context(base_url=server.url).new_page()
    tara.set_default_timeout(15_000)
    sign_in_as(tara, "tara.triagegp")
    tara.route(lambda url: urlsplit(url).path == "/triage/queue/", _faster_queue)
    fetches: list[str] = []
    tara.on("request", lambda r: fetches.append(r.url) if urlsplit(r.url).path == "/triage/queue/list/" else None)
    tara.goto("/triage/queue/")
    tara.wait_for_timeout(2_500)
    assert len(fetches) >= 1  # it is refreshing

    def quiet_for(ms: int) -> int:
        before = len(fetches)
        tara.wait_for_timeout(ms)
        return len(fetches) - before

    # While a form control in the queue has focus, nothing is fetched (the list must not move under a choice)
    tara.focus("#id_service")
    assert quiet_for(3_000) == 0
    tara.locator("#id_service").blur()
    tara.wait_for_timeout(2_500)
    assert len(fetches) >= 2

    # While the tab is hidden, nothing is fetched; on coming back a stale list is fetched at once
    tara.evaluate("""() => {
        Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'hidden'});
        document.dispatchEvent(new Event('visibilitychange'));
    }""")
    assert quiet_for(3_000) == 0
    before = len(fetches)
    tara.evaluate("""() => {
        Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'visible'});
        document.dispatchEvent(new Event('visibilitychange'));
    }""")
    tara.wait_for_timeout(700)
    assert len(fetches) > before

    # "Stop updating" stops it (WCAG 2.2.2) until "Start updating"
    tara.click("#clock-toggle")
    expect(tara.locator("#clock-toggle")).to_have_text("Start updating")
    tara.locator("#clock-toggle").blur()
    assert quiet_for(3_000) == 0
    tara.click("#clock-toggle")
    expect(tara.locator("#clock-toggle")).to_have_text("Stop updating")
    tara.locator("#clock-toggle").blur()
    tara.wait_for_timeout(1_500)
    assert len(fetches) > before + 1
    tara.context.close()
