"""The help page answers what each kind of user will ask, without signing in."""

import pytest

pytestmark = pytest.mark.django_db


def test_help_covers_each_service_and_links_to_it_from_every_page(client):
    page = client.get("/help/")
    text = page.content.decode()
    assert page.status_code == 200
    for heading in ["Booking a patient into the remote hub", "Triage and bank holidays", "Seeing a patient's record",
                    "Breaking glass", "Out of hours", "Analytics", "Your data and the audit"]:
        assert f"<h2>{heading}</h2>" in text.replace("&#39;", "'"), heading
    assert 'href="/help/"' in client.get("/account/sign-in/").content.decode()  # the footer link
