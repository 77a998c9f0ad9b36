"""An analyst reads the dashboards and an SPC chart in the browser, and exports them; sets
national figures beside collab's; reads triage demand; refreshes collab's figures after a
booking."""

from __future__ import annotations

import datetime as dt
import re

import httpx
import pytest

from collab.api.fhir import NHS_NUMBER_SYSTEM
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


def _book_one_through_the_api(server) -> None:
    token = server.token("rachel.reception")
    nhs_number = server.db.collab("patients", "M81026").splitlines()[5].split("\t")[0]
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    headers = {"Authorization": f"Bearer {token}"}
    end = start + dt.timedelta(days=10)
    found = httpx.get(
        f"{server.url}/fhir/Slot",
        params={"status": "free", "start": "ge" + start.isoformat(timespec="seconds"),
                "end": "le" + end.isoformat(timespec="seconds"), "_count": 50},
        headers=headers, timeout=30,
    )
    assert found.status_code == 200, found.text
    slots = found.json()["entry"]
    body = {
        "resourceType": "Appointment", "status": "booked", "description": "Analytics freshness check",
        "slot": [{"reference": f"Slot/{slots[len(slots) // 2]['resource']['id']}"}],
        "participant": [{"actor": {"identifier": {"system": NHS_NUMBER_SYSTEM, "value": nhs_number}}}],
    }
    r = httpx.post(f"{server.url}/fhir/Appointment", json=body,
                   headers={**headers, "Content-Type": "application/fhir+json"}, timeout=30)
    assert r.status_code == 201, r.text


def _copied(page) -> tuple[int, int]:
    text = page.locator("#freshness").inner_text()
    m = re.search(r"\(([\d,]+) appointments and ([\d,]+) triage requests\)", text)
    assert m, text
    return int(m[1].replace(",", "")), int(m[2].replace(",", ""))


def test_analyst_sees_national_beside_collab_triage_demand_and_refreshes(page, server):
    sign_in_as(page, "alex.analyst")
    # National and collab figures on one chart: AGP stops at its last published month, collab
    # starts with the demo; the months between are gaps, not zeros.
    page.goto("/analytics/national/")
    panel = page.locator("#national-and-collab")
    assert panel.locator("svg[role=img]").count() == 1
    headings = panel.locator("thead th").all_inner_texts()
    assert headings == ["Month", "NHS England AGP (18C)", "collab", "Note"]
    rows = panel.locator("tbody tr")
    first, last = rows.first.locator("td").all_inner_texts(), rows.last.locator("td").all_inner_texts()
    assert first[0] == "June 2023" and first[1] != "No data" and first[2] == "No data"
    assert last[1] == "No data" and last[2] != "No data" and last[3].startswith("Part month")
    assert "once a month, some weeks after the month ends" in panel.inner_text()
    assert page.locator("#data-as-of").inner_text().startswith("Data as of")
    assert_accessible(page)
    # Triage demand by route, with its table and export.
    page.goto("/analytics/triage/?from=2020-01-01&to=2030-12-31")
    by_route = page.locator("#requests-by-route")
    routes = by_route.locator("tbody tr td:first-child").all_inner_texts()
    assert "Remote hub" in routes and "Practice" in routes
    counts = [int(c.replace(",", "")) for c in by_route.locator("tbody tr td:last-child").all_inner_texts()]
    appointments_before, requests_before = _copied(page)
    assert sum(counts) == requests_before
    assert page.locator("#time-to-triage tbody tr").count() >= 2
    csv_text = page.request.get(by_route.locator("a", has_text="Download CSV").get_attribute("href")).text()
    assert csv_text.splitlines()[0] == "route,value" and len(csv_text.splitlines()) == len(routes) + 1
    assert_accessible(page)
    # A booking made now is not in analytics until the analyst refreshes.
    _book_one_through_the_api(server)
    held = server.db.query("SELECT (SELECT COUNT(*) FROM booking_appointment) + (SELECT COUNT(*) FROM ooh_oohcase)")
    assert held[0][0] > appointments_before
    page.click("button:has-text('Refresh collab data')")
    page.wait_for_selector("text=collab data refreshed")
    assert page.url.endswith("/analytics/triage/?from=2020-01-01&to=2030-12-31")
    assert _copied(page)[0] == held[0][0]
    assert "just now" in page.locator("#freshness").inner_text()
    assert_accessible(page)
    audit = server.db.query(
        "SELECT COUNT(*) FROM core_auditevent WHERE action = 'analytics.refresh' AND username = 'alex.analyst'")
    assert audit[0][0] >= 1
