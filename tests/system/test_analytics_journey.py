"""An analyst reads the dashboards and an SPC chart in the browser, and exports them."""

from __future__ import annotations

import pytest

from tests.system.test_journeys import assert_accessible, sign_in_as

pytestmark = [pytest.mark.browser, pytest.mark.server]


def test_analyst_reads_every_dashboard_and_an_spc_chart(page, server):
    sign_in_as(page, "alex.analyst")
    page.click("header >> text=Analytics")
    assert_accessible(page)
    links = page.locator("main ul.nhsuk-list a")
    titles = [links.nth(i).inner_text() for i in range(links.count())]
    assert "Statistical process control" in titles and len(titles) >= 6
    for title in titles[:-1]:
        page.goto("/analytics/")
        page.click(f"main >> text={title}")
        assert page.locator("h1").inner_text() == title
        assert page.locator("table.nhsuk-table").count() >= 1
        assert_accessible(page)
    # The demand dashboard shows collab's phlebotomy clinics; its table exports as CSV.
    page.goto("/analytics/demand/?from=2020-01-01&to=2030-12-31")
    assert "phlebotomy" in page.locator("main").inner_text()
    href = page.locator("a", has_text="Download CSV").first.get_attribute("href")
    csv_text = page.request.get(href).text()
    assert "phlebotomy" in csv_text and len(csv_text.splitlines()) >= 3
    # SPC of collab's phlebotomy demand by day, and the national 18C figures by week.
    page.goto("/analytics/spc/?source=collab&grain=day&slot_type=phlebotomy&from=2020-01-01&to=2030-12-31")
    assert_accessible(page)
    assert page.locator("#variation").inner_text().endswith(("change", "higher", "lower", "than expected"))
    assert page.locator("#spc-table tbody tr").count() >= 10
    page.goto("/analytics/spc/?source=agp_daily&grain=week&from=2024-01-01&to=2025-11-29&baseline=20")
    assert page.locator("#spc-table tbody tr").count() > 90
    spc_csv = page.request.get("/analytics/spc/?source=agp_daily&grain=week&from=2024-01-01&to=2025-11-29&format=csv").text()
    assert spc_csv.splitlines()[0].startswith("week,value,mean,lower_limit,upper_limit")
    # Bad input is named, not a crash.
    page.goto("/analytics/spc/?baseline=x")
    assert "The baseline is a number of points" in page.locator(".nhsuk-error-summary").inner_text()
    page.goto("/analytics/spc/?source=collab&from=1990-01-01&to=1990-03-01")
    assert "No chart for this period: an XmR chart needs at least 2 values" in page.locator(".nhsuk-error-summary").inner_text()
