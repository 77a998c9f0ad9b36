"""The shared record in the browser: out of hours consults and books a review; the practice reads
the note and closes it; the hub, with no relationship, is refused; break-glass alerts the privacy
officer, who sees who looked and why. Given/when/then, each key page checked with axe."""

from __future__ import annotations

import csv
import io

import pytest

from tests.system.test_journeys import assert_accessible, sign_in_as

pytestmark = [pytest.mark.browser, pytest.mark.server]
COMPLAINT = "Chest pain since this evening"


def ooh_patient(server) -> tuple[int, str]:
    rows = server.db.query(
        "SELECT p.id, p.family_name FROM ooh_oohcase c JOIN patients_patient p ON p.id = c.patient_id "
        "WHERE c.presenting_complaint LIKE ?", (COMPLAINT + "%",))
    assert rows, "the demo has the chest pain case"
    return rows[0][0], rows[0][1]


def test_ooh_consults_books_review_practice_closes_hub_refused_break_glass_seen_by_privacy(browser, server):
    patient_id, family = ooh_patient(server)
    # Given the out-of-hours GP on tonight's shift
    ooh = browser.new_context(base_url=server.url).new_page()
    sign_in_as(ooh, "olivia.ooh")
    ooh.click("header >> text=Out-of-hours cases")
    assert_accessible(ooh)
    # When she takes the chest pain case from NHS 111
    ooh.locator("#ooh-cases tr", has_text=COMPLAINT).locator("button").click()
    ooh.wait_for_selector("#note-form")
    assert_accessible(ooh)
    ooh.fill("#id_history", "Left-sided chest pain for 3 hours, worse on breathing in and pressing")
    ooh.fill("#id_examination", "Obs normal. Tender left costochondral junction")
    ooh.fill("#id_assessment", "Costochondritis")
    ooh.fill("#id_plan", "Paracetamol; review at the practice tomorrow")
    ooh.fill("#id_safety_netting", "Call 999 if the pain spreads to the arm or jaw, or if breathless")
    ooh.click("button:has-text('Save draft')")
    ooh.wait_for_selector("text=Draft saved")
    ooh.fill("#id_term", "Costochondritis")
    ooh.fill("#id_snomed_concept_id", "64109004")
    ooh.click("button:has-text('Add problem')")
    ooh.wait_for_selector("#problems >> text=Costochondritis")
    ooh.fill("#id_medication", "Paracetamol 500mg tablets")
    ooh.fill("#id_dosage", "Two tablets up to four times a day")
    ooh.fill("#id_quantity", "32 tablets")
    ooh.fill("#id_dmd_code", "322236009")
    ooh.click("button:has-text('Add prescription')")
    ooh.wait_for_selector("#prescriptions >> text=Paracetamol 500mg tablets")
    ooh.click("button:has-text('Sign note')")
    ooh.wait_for_selector("text=Note signed")
    assert ooh.inner_text("#note-status") == "Signed"
    assert_accessible(ooh)
    # And books an urgent review at the registered practice
    ooh.check("input[name=urgency][value=urgent]")
    ooh.fill("#id_description", "Browser test: please review chest pain tomorrow")
    ooh.click("button:has-text('Book review at')")
    ooh.wait_for_selector("text=Review booked at the registered practice")
    # The shared record shows both sources, each item with where it came from
    ooh.goto(f"/records/patients/{patient_id}/")
    assert "collab: Out of hours" in ooh.inner_text("#collab-record")
    assert "EMIS Web, GP Connect" in ooh.inner_text("#practice-source")
    assert_accessible(ooh)

    # Then the practice sees the review with the note, and closes it
    practice = browser.new_context(base_url=server.url).new_page()
    sign_in_as(practice, "lucy.reception")
    practice.click("header >> text=Tasks")
    row = practice.locator("#tasks tr", has_text="Browser test: please review chest pain tomorrow")
    assert "Urgent" in row.inner_text()
    assert_accessible(practice)
    row.locator("a", has_text="Read the signed note").click()
    assert "Costochondritis" in practice.content()
    assert_accessible(practice)
    practice.go_back()
    practice.locator("#tasks tr", has_text="Browser test: please review chest pain tomorrow").locator(
        "button:has-text('Mark as done')").click()
    practice.wait_for_selector("text=Task marked as done")
    status = server.db.query("SELECT status FROM booking_practicetask WHERE description = ?",
                             ("Browser test: please review chest pain tomorrow",))
    assert status[0][0] == "done"

    # And a hub GP, with no relationship with this patient, is refused
    hub = browser.new_context(base_url=server.url).new_page()
    sign_in_as(hub, "sam.hubgp")
    hub.goto(f"/records/patients/{patient_id}/")
    assert hub.locator("h1").inner_text() == "You cannot see this patient"
    assert family.upper() not in hub.content() and "Costochondritis" not in hub.content()
    assert_accessible(hub)
    # When he breaks glass, giving a reason
    hub.click("#break-glass")
    assert_accessible(hub)
    hub.fill("#id_reason", "Browser test: patient collapsed at the hub's walk-in desk")
    hub.click("button:has-text('Break glass and open the record')")
    hub.wait_for_selector("#break-glass-banner")
    hub.goto(f"/records/patients/{patient_id}/")
    assert "Costochondritis" in hub.inner_text("#collab-record")
    assert hub.locator("#break-glass-banner").count() == 1

    # Then the privacy officer sees the alert, and who looked at the record and why
    privacy = browser.new_context(base_url=server.url).new_page()
    sign_in_as(privacy, "paula.privacy")
    privacy.click("header >> text=Record access")
    alert = privacy.locator("#break-glass-alerts tr", has_text="Browser test: patient collapsed")
    assert "Not reviewed" in alert.inner_text() and "Sam Okafor" in alert.inner_text()
    assert_accessible(privacy)
    alert.locator("a").first.click()
    trail = privacy.inner_text("#audit-trail")
    assert "Olivia Bennett" in trail and "Lucy Morgan" in trail and "Break glass" in trail and "Refused" in trail
    assert_accessible(privacy)
    exported = privacy.request.get(f"/privacy/patients/{patient_id}/access.csv").text()
    rows = list(csv.DictReader(io.StringIO(exported)))
    sams = [(r["action"], r["outcome"]) for r in rows if r["username"] == "sam.hubgp"]
    assert ("record.view", "refused") in sams and ("record.break_glass", "allowed") in sams
    assert any(r["reason"].startswith("BREAK-GLASS") for r in rows if r["username"] == "sam.hubgp")
