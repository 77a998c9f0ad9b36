"""A hub manager keeps the bank holidays current from the browser: a faulty file is refused with
each fault named, GOV.UK's file is imported, and the pages pass axe."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from collab.triage.tests.test_bank_holiday_import import _event, govuk_json
from tests.system.test_journeys import assert_accessible, sign_in_as

pytestmark = [pytest.mark.server]

EW_2029 = [_event("New Year’s Day", "2029-01-01"), _event("Good Friday", "2029-03-30"),
           _event("Easter Monday", "2029-04-02"), _event("Christmas Day", "2029-12-25"), _event("Boxing Day", "2029-12-26")]


def _govuk(events) -> bytes:
    return govuk_json(events).encode()


@pytest.mark.browser
def test_a_hub_manager_imports_govuks_bank_holidays(page, server):
    # Given the hub manager on the routing rules page
    sign_in_as(page, "helen.hubmanager")
    page.goto("/triage/rules/")
    page.click("a:has-text('Bank holidays')")
    expect(page.locator("h1")).to_have_text("Bank holidays")
    expect(page.locator("#upcoming")).to_be_visible()  # the seeded holidays still to come
    assert_accessible(page)

    # When she chooses a file with a faulty date, it is refused, the fault named, and nothing imported
    bad = [*EW_2029[:2], _event("Easter Monday", "2029-04-31")]
    page.set_input_files("input[type=file][name=file]", {"name": "bank-holidays.json", "mimeType": "application/json", "buffer": _govuk(bad)})
    page.click("button:has-text('Import bank holidays')")
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("england-and-wales.events[2].date: not a date ('2029-04-31'; expected YYYY-MM-DD)")
    expect(page.locator("#id_file-error")).to_contain_text("nothing was imported")
    assert page.title().startswith("Error: ")
    assert_accessible(page)
    assert server.db.query("SELECT count(*) FROM triage_bankholiday WHERE date >= '2029-01-01'")[0][0] == 0

    # Then GOV.UK's file goes in whole, and she is told what changed
    page.set_input_files("input[type=file][name=file]", {"name": "bank-holidays.json", "mimeType": "application/json", "buffer": _govuk(EW_2029)})
    page.click("button:has-text('Import bank holidays')")
    expect(page.locator(".collab-message")).to_contain_text(
        "Imported 5 bank holidays, 1 January 2029 to 26 December 2029: 5 added, 0 updated, 0 removed")
    assert server.db.query("SELECT count(*) FROM triage_bankholiday WHERE date >= '2029-01-01'")[0][0] == 5
    assert_accessible(page)
