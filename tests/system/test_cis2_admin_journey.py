"""Linking a CIS2 identity in the browser: the administrator finds the account, a wrong UUID is
refused with an error naming the field, the right one is linked and recorded, then unlinked.
Given/when/then, each page checked with axe."""

from __future__ import annotations

import pytest

from tests.system.test_journeys import assert_accessible, sign_in_as

pytestmark = [pytest.mark.browser, pytest.mark.server]
UUID = "555042712105"


def test_administrator_links_and_unlinks_a_cis2_identity(browser, server):
    # Given Helen, who may link CIS2 identities
    page = browser.new_context(base_url=server.url).new_page()
    sign_in_as(page, "helen.hubmanager")
    assert page.locator("header a[href='/account/cis2/identities/']").count() == 1  # in her navigation
    page.goto("/account/cis2/identities/")
    assert_accessible(page)
    # When she finds Olivia's account and types a UUID with a letter in it
    page.fill("#q", "olivia")
    page.click("button:has-text('Search')")
    row = page.locator("#cis2-links tr", has_text="olivia.ooh")
    assert "Not linked" in row.inner_text()
    row.locator("a", has_text="Link").click()
    assert_accessible(page)
    page.fill("#id_sub", "55504271210X")
    page.click("button:has-text('Link CIS2 identity')")
    # Then the error names the field, and nothing is linked
    summary = page.locator(".nhsuk-error-summary")
    summary.wait_for()
    assert "UUID" in summary.inner_text()
    assert_accessible(page)
    assert server.db.query("SELECT COUNT(*) FROM accounts_cis2identity WHERE sub = ?", (UUID,))[0][0] == 0
    # When she types the right one
    page.fill("#id_sub", UUID)
    page.click("button:has-text('Link CIS2 identity')")
    page.wait_for_selector(f"#cis2-links >> text={UUID}")
    assert_accessible(page)
    # Then it is linked, by her, and the audit trail says so
    linked = server.db.query(
        "SELECT u.username FROM accounts_cis2identity c JOIN accounts_user u ON u.id = c.user_id WHERE c.sub = ?", (UUID,))
    assert linked == [("olivia.ooh",)]
    assert server.db.query("SELECT COUNT(*) FROM core_auditevent WHERE username = 'helen.hubmanager' AND action = "
                           "'cis2_identity.link' AND outcome = 'allowed'")[0][0] >= 1
    # And she can unlink it again
    page.fill("#q", "olivia")
    page.click("button:has-text('Search')")
    page.locator("#cis2-links tr", has_text="olivia.ooh").locator("a", has_text="Unlink").click()
    assert_accessible(page)
    page.click("button:has-text('Unlink')")
    page.wait_for_selector("#cis2-links")
    assert server.db.query("SELECT COUNT(*) FROM accounts_cis2identity WHERE sub = ?", (UUID,))[0][0] == 0
