"""Every page answers with the security headers (CSP, HSTS, Referrer-Policy), whoever asks.

The pages are read from the URL configuration, so a new page is checked without editing this test.
"""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from collab.accounts.middleware import ACTING
from collab.accounts.models import Role
from collab.core.tests.factories import CollaborativeFactory, PracticeFactory, RoleAssignmentFactory

pytestmark = pytest.mark.django_db

REQUIRED = ("Content-Security-Policy", "Strict-Transport-Security", "Referrer-Policy")


def _paths(patterns=None, prefix: str = "") -> list[str]:
    """Every URL path in the configuration, with 1 or 'x' for each parameter."""
    out: list[str] = []
    for p in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            out += _paths(p.url_patterns, route)
        elif isinstance(p, URLPattern):
            route = re.sub(r"<int:\w+>", "1", route)
            route = re.sub(r"<(?:str:|slug:|path:)?\w+>", "x", route)
            route = route.lstrip("^").rstrip("$").replace("\\", "")
            out.append("/" + route)
    return sorted(set(out))


def _signed_in(client, role: str, organisation):
    assignment = RoleAssignmentFactory(organisation=organisation, role=role, user__is_demo_persona=True)
    client.force_login(assignment.user)
    session = client.session
    session["demo_persona"] = True
    session[ACTING] = assignment.pk
    session.save()
    return client


def test_the_url_configuration_yields_every_page():
    paths = _paths()
    assert {"/", "/hub/slots/", "/patients/", "/account/sign-in/", "/fhir/openapi.json"} <= set(paths)


@pytest.mark.parametrize("who", ["anonymous", "practice", "hub"])
def test_every_page_sends_the_security_headers(client, who):
    if who == "practice":
        _signed_in(client, Role.CARE_NAVIGATOR, PracticeFactory())
    elif who == "hub":
        _signed_in(client, Role.HUB_MANAGER, CollaborativeFactory())
    missing = {}
    for path in _paths():
        response = client.get(path)
        assert response.status_code < 500, f"GET {path} as {who}: {response.status_code}"
        absent = [h for h in REQUIRED if h not in response.headers]
        if absent:
            missing[path] = absent
    assert missing == {}


def test_the_headers_say_what_we_mean(client):
    headers = client.get("/account/sign-in/").headers
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp
    assert headers["Strict-Transport-Security"].startswith("max-age=63072000")
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
