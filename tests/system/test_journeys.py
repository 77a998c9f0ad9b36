"""Browser journeys in Debian's chromium, given/when/then, each key page checked with axe."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.server]
AXE = Axe()


def assert_accessible(page):
    results = AXE.run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
    assert not bad, f"{page.url}: " + "; ".join(f"{v['id']}: {v['help']}" for v in bad)


def sign_in_as(page, username: str):
    page.goto("/demo/")
    page.click(f"[data-persona='{username}']")
    page.wait_for_url("**/")


def london_today() -> dt.date:
    """Today where the practices are: from 23:00 UTC in summer the machine's date is a day behind."""
    return dt.datetime.now(ZoneInfo("Europe/London")).date()


def next_weekday(after: dt.date) -> dt.date:
    d = after + dt.timedelta(days=1)
    while d.weekday() >= 5:
        d += dt.timedelta(days=1)
    return d


def sams_booked_appointment(server, practice_ods: str) -> tuple[int, dt.date]:
    rows = server.db.query(
        "SELECT a.id, s.starts_at FROM booking_appointment a JOIN booking_slot s ON s.id = a.slot_id "
        "JOIN accounts_user u ON u.id = s.clinician_id JOIN organisations_organisation o ON o.id = a.practice_id "
        "WHERE u.username = 'sam.hubgp' AND a.status = 'booked' AND o.ods_code = ? ORDER BY s.starts_at DESC LIMIT 5",
        (practice_ods,))
    assert rows, "the demo gives Sam booked appointments"
    appointment_id, starts_at = rows[0][0], rows[0][1]
    if isinstance(starts_at, str):
        starts_at = dt.datetime.fromisoformat(starts_at)
    if starts_at.tzinfo is None:  # SQLite's text: stored in UTC
        starts_at = starts_at.replace(tzinfo=dt.UTC)
    return appointment_id, starts_at.astimezone(ZoneInfo("Europe/London")).date()


def test_practice_manager_buys_capacity_and_hub_manager_approves(browser, server):
    day = next_weekday(london_today())
    # Given the practice manager of Hereford Medical Group
    manager = browser.new_context(base_url=server.url).new_page()
    sign_in_as(manager, "priya.manager")
    # When she asks for 2 extra hub slots because of staff sickness
    manager.click("text=Buy hub capacity")
    assert_accessible(manager)
    manager.fill("#id_first_date", day.isoformat())
    manager.fill("#id_last_date", day.isoformat())
    manager.fill("#id_slots_requested", "2")
    manager.select_option("#id_reason", "staff_sickness")
    manager.fill("#id_detail", "Browser test: GP off sick")
    manager.click("button:has-text('Send request')")
    manager.wait_for_selector("text=Request sent to the hub manager")
    # Then the hub manager sees it and approves it
    hub = browser.new_context(base_url=server.url).new_page()
    sign_in_as(hub, "helen.hubmanager")
    hub.click("header >> text=Capacity requests")
    assert_accessible(hub)
    hub.click("text=Decide request from Hereford Medical Group")
    assert_accessible(hub)
    hub.check("#decision")  # first radio: approve
    hub.click("button:has-text('Save decision')")
    hub.wait_for_selector("text=Request approved")
    # And the practice sees its request approved with the slots reserved
    manager.reload()
    row = manager.locator("#capacity-requests tr", has_text="GP off sick")
    assert "Approved" in row.inner_text() and "2 reserved" in row.inner_text()
    # And those slots show as reserved when the practice books
    manager.goto(f"/hub/slots/?start={day.isoformat()}&end={day.isoformat()}")
    assert manager.locator("#slots .nhsuk-tag", has_text="Reserved").count() == 2


def test_receptionist_books_a_patient_into_a_hub_slot(page, server):
    nhs_number = server.db.collab("patients", "M81026").splitlines()[3].split("\t")[0]
    sign_in_as(page, "rachel.reception")
    assert_accessible(page)
    page.click("header >> text=Book hub appointment")
    page.click("button:has-text('Search')")
    assert_accessible(page)
    page.locator("#slots a", has_text="Book").first.click()
    assert_accessible(page)
    page.fill("#id_nhs_number", nhs_number[:3] + " " + nhs_number[3:6] + " " + nhs_number[6:])
    page.fill("#id_reason", "Cough for three weeks")
    page.click("button:has-text('Book appointment')")
    page.wait_for_selector("text=Appointment booked")
    assert page.inner_text("#appointment-status") == "Booked"
    assert_accessible(page)
    count = server.db.query(
        "SELECT COUNT(*) FROM booking_appointment a JOIN patients_patient p ON p.id = a.patient_id "
        "WHERE p.nhs_number = ? AND a.reason = 'Cough for three weeks'", (nhs_number,))
    assert count[0][0] == 1


def test_booking_form_errors_are_clear_and_change_nothing(page, server):
    sign_in_as(page, "rachel.reception")
    page.goto("/hub/slots/")
    page.locator("#slots a", has_text="Book").first.click()
    before = server.db.query("SELECT COUNT(*) FROM booking_appointment")[0][0]
    page.fill("#id_nhs_number", "123")
    page.click("button:has-text('Book appointment')")
    summary = page.locator(".nhsuk-error-summary")
    assert "NHS number must be 10 digits" in summary.inner_text()
    assert "Enter a short reason" in summary.inner_text()
    assert_accessible(page)
    assert server.db.query("SELECT COUNT(*) FROM booking_appointment")[0][0] == before


def write_note(page, *, assessment: str) -> None:
    page.fill("#id_history", "Browser test: cough for three weeks, no fever, non-smoker")
    page.fill("#id_examination", "Speaking in full sentences; sats 97% reported")
    page.fill("#id_assessment", assessment)
    page.fill("#id_plan", "Simple linctus; review if not better in three weeks")
    page.fill("#id_safety_netting", "Call 111 if breathless or coughing up blood; 999 if struggling to breathe")


def test_hub_gp_writes_signs_and_completes_a_consultation_from_the_appointment(page, server):
    appointment_id, day = sams_booked_appointment(server, "M81012")
    # Given the hub GP's day list
    sign_in_as(page, "sam.hubgp")
    page.goto(f"/hub/day/?date={day.isoformat()}")
    assert_accessible(page)
    # When he opens an appointment and starts the consultation
    page.click(f"#day-list a[href='/hub/appointments/{appointment_id}/']")
    assert_accessible(page)
    page.click("button:has-text('Start consultation')")
    page.wait_for_selector("text=the consultation has started")
    page.wait_for_selector("#consultation-form")
    assert_accessible(page)
    # And writes the structured note, a problem with its SNOMED CT concept and a prescription issued
    write_note(page, assessment="Browser test: post-viral cough")
    # (Enter in a one-line field saves the draft; it does not add a half-typed problem)
    page.fill("#id_term", "Wheeze")
    page.press("#id_term", "Enter")
    page.wait_for_selector("text=Draft saved")
    assert "Wheeze" not in page.inner_text("#problems")
    assert page.input_value("#id_assessment") == "Browser test: post-viral cough"
    page.fill("#id_term", "Cough")
    page.fill("#id_snomed_concept_id", "49727002")
    page.click("button:has-text('Add problem')")
    page.wait_for_selector("#problems >> text=Cough")
    assert page.input_value("#id_assessment") == "Browser test: post-viral cough"  # nothing typed was lost
    page.fill("#id_medication", "Simple linctus")
    page.fill("#id_dosage", "5ml three times a day")
    page.fill("#id_quantity", "200ml")
    page.click("button:has-text('Add prescription')")
    page.wait_for_selector("#prescriptions >> text=Simple linctus")
    # And signs without choosing an outcome: the error names the field, nothing is signed
    page.click("#sign-and-complete")
    assert "Choose an outcome" in page.locator(".nhsuk-error-summary").inner_text()
    assert_accessible(page)
    # Then, with the outcome chosen, the note is signed and the consultation completed in one step
    page.check("#outcome")  # first radio: resolved remotely
    page.click("#sign-and-complete")
    page.wait_for_selector("text=Note signed. Consultation completed: Resolved remotely")
    assert "Browser test: post-viral cough" in page.content() and "SNOMED CT 49727002" in page.content()
    assert_accessible(page)
    status = server.db.query("SELECT status, outcome FROM booking_appointment WHERE id = ?", (appointment_id,))
    assert tuple(status[0]) == ("fulfilled", "resolved_remotely")
    note = server.db.query("SELECT status, setting, assessment FROM records_consultation WHERE appointment_id = ?",
                           (appointment_id,))
    assert [tuple(r) for r in note] == [("signed", "hub", "Browser test: post-viral cough")]
    # And the shared record shows the note, from the hub
    page.click("text=Open it in the shared record")
    assert "Browser test: post-viral cough" in page.content()


def test_enhanced_access_gp_writes_the_note_the_same_way(page, server):
    rows = server.db.query(
        "SELECT a.id FROM booking_appointment a JOIN booking_slot s ON s.id = a.slot_id "
        "JOIN accounts_user u ON u.id = s.clinician_id WHERE u.username = 'erin.eagp' AND a.status = 'booked' "
        "ORDER BY s.starts_at LIMIT 1")
    assert rows, "the demo books Hereford Medical Group patients into Erin's next evening session"
    appointment_id = rows[0][0]
    # Given the enhanced access GP, acting in her PCN's evening service
    sign_in_as(page, "erin.eagp")
    page.goto(f"/hub/appointments/{appointment_id}/")
    assert_accessible(page)
    # When she starts the consultation, writes the note and signs it with the outcome
    page.click("button:has-text('Start consultation')")
    page.wait_for_selector("#consultation-form")
    write_note(page, assessment="Browser test: evening review, viral cough")
    page.check("#outcome")
    page.click("#sign-and-complete")
    page.wait_for_selector("text=Note signed. Consultation completed: Resolved remotely")
    assert_accessible(page)
    # Then the shared record holds an enhanced access note, linked to the appointment
    note = server.db.query("SELECT status, setting FROM records_consultation WHERE appointment_id = ?",
                           (appointment_id,))
    assert [tuple(r) for r in note] == [("signed", "enhanced_access")]
    reason = server.db.query(
        "SELECT reason FROM core_auditevent WHERE username = 'erin.eagp' AND action = 'record.write' "
        "AND object_type = 'consultation.sign'")
    assert reason and reason[0][0].startswith("current or recent appointment with Enhanced access")


def test_face_to_face_outcome_lands_on_the_practice_task_list(browser, server):
    appointment_id, day = sams_booked_appointment(server, "M81026")
    hub = browser.new_context(base_url=server.url).new_page()
    sign_in_as(hub, "sam.hubgp")
    hub.goto(f"/hub/appointments/{appointment_id}/")
    hub.click("button:has-text('Start consultation')")
    hub.wait_for_selector("#consultation-form")
    write_note(hub, assessment="Browser test: abdominal pain, needs examining")
    hub.check("input[name=outcome][value=face_to_face]")
    hub.click("#sign-and-complete")
    assert "Say what the practice needs" in hub.locator(".nhsuk-error-summary").inner_text()
    hub.check("input[name=outcome][value=face_to_face]")
    hub.fill("#id_note", "Browser test: examine the abdomen")
    hub.click("#sign-and-complete")
    hub.wait_for_selector("text=Needs face-to-face at the practice")
    practice = browser.new_context(base_url=server.url).new_page()
    sign_in_as(practice, "rachel.reception")
    practice.click("header >> text=Tasks")
    row = practice.locator("#tasks tr", has_text="Browser test: examine the abdomen")
    expect(row).to_have_count(1)  # waits for the tasks page; count() alone raced the navigation
    assert_accessible(practice)
    row.locator("button:has-text('Mark as done')").click()
    practice.wait_for_selector("text=Task marked as done")
    assert practice.locator("#tasks tr", has_text="Browser test: examine the abdomen").count() == 0


def test_receptionist_cannot_open_another_practices_patient(page, server):
    nhs_number = server.db.collab("patients", "M81026").splitlines()[0].split("\t")[0]
    before = server.db.query(
        "SELECT COUNT(*) FROM core_auditevent WHERE username = 'lucy.reception' AND outcome = 'refused'")[0][0]
    sign_in_as(page, "lucy.reception")
    page.click("header >> text=Find a patient")
    page.fill("#id_nhs_number", nhs_number)
    page.click("button:has-text('Find')")
    assert page.locator("h1").inner_text() == "You cannot see this patient"
    assert nhs_number not in page.content()
    assert_accessible(page)
    after = server.db.query(
        "SELECT COUNT(*) FROM core_auditevent WHERE username = 'lucy.reception' AND outcome = 'refused'")[0][0]
    assert after == before + 1


def test_practice_sees_todays_duty_doctor_and_hub_manager_pages_are_accessible(browser, server):
    hub = browser.new_context(base_url=server.url).new_page()
    sign_in_as(hub, "helen.hubmanager")
    assert_accessible(hub)
    for link in ["Hub use by practice", "Duty doctors"]:
        hub.click(f"header >> text={link}")
        assert_accessible(hub)
    since = (london_today() - dt.timedelta(days=14)).isoformat()
    csv_text = hub.request.get(f"/hub/usage/?format=csv&start={since}&end={london_today().isoformat()}").text()
    assert csv_text.splitlines()[0] == "ods_code,practice,appointments,reserved,pooled,minutes"
    assert len(csv_text.splitlines()) == 20  # header + the 19 practices, all of which used the hub
    practice = browser.new_context(base_url=server.url).new_page()
    sign_in_as(practice, "rachel.reception")
    if london_today().weekday() < 5:
        assert practice.locator("#duty-doctor").inner_text() == "Sam Okafor"
