"""The served WSGI application (collab/config/wsgi.py): pages go through every middleware, the
FHIR API through the lean list, and both answer with the security headers.

These call the application granian serves, not Django's test client (which always runs
settings.MIDDLEWARE), so they check the split itself.
"""

from __future__ import annotations

import io
import json
import sys

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from collab.accounts.models import Role
from collab.accounts.services import api_token_create
from collab.api import auth
from collab.booking.models import Appointment
from collab.config import wsgi
from collab.core.tests.factories import (
    PatientFactory,
    PracticeFactory,
    RoleAssignmentFactory,
    hub_session,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _keep_the_test_transaction():
    """As Django's test client does: the served handler would otherwise close the test's connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)

SECURITY = ("Content-Security-Policy", "Strict-Transport-Security", "Referrer-Policy", "X-Frame-Options",
            "X-Content-Type-Options")


def _serve(app, method: str, path: str, *, body: bytes, host: str = "testserver", secure: bool = True,
           content_length: str | None = None, **headers) -> tuple[str, list[tuple[str, str]], bytes]:
    """Call a WSGI application as granian would: (status line, headers, body)."""
    environ = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "SCRIPT_NAME": "",
        "SERVER_NAME": "testserver", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": host,
        "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr,
        "CONTENT_LENGTH": str(len(body)) if content_length is None else content_length,
        "CONTENT_TYPE": "application/fhir+json", **{"HTTP_" + k.upper(): v for k, v in headers.items()},
    }
    if secure:
        environ["HTTP_X_FORWARDED_PROTO"] = "https"
    seen: dict = {}

    def start_response(status, response_headers, exc_info=None):
        seen["status"], seen["headers"] = status, response_headers

    content = b"".join(app(environ, start_response))
    return seen["status"], seen["headers"], content


def _call(method: str, path: str, *, body: bytes = b"", host: str = "testserver", **headers) -> tuple[int, dict, bytes]:
    status, response_headers, content = _serve(wsgi.application, method, path, body=body, host=host, **headers)
    names: dict[str, list[str]] = {}
    for k, v in response_headers:
        names.setdefault(k.lower(), []).append(v)
    return int(status.split()[0]), names, content


def test_the_api_is_served_by_the_lean_chain_and_pages_by_the_full_one():
    assert wsgi.api.middleware == wsgi.settings.API_MIDDLEWARE
    assert _chain(wsgi.api) == [path.rsplit(".", 1)[1] for path in wsgi.settings.API_MIDDLEWARE]
    assert _chain(wsgi.pages) == [path.rsplit(".", 1)[1] for path in wsgi.settings.MIDDLEWARE]
    assert "SessionMiddleware" not in _chain(wsgi.api)


def _chain(handler) -> list[str]:
    """The middleware classes a handler runs, outermost first (Django wraps each one with @wraps)."""
    names, layer = [], handler._middleware_chain
    while (mw := getattr(layer, "__wrapped__", None)) is not None and hasattr(mw, "get_response"):
        names.append(type(mw).__name__)
        layer = mw.get_response
    return names


def test_a_booking_through_the_served_application_keeps_every_security_header_and_sets_no_cookie():
    auth._cache.clear()
    practice = PracticeFactory()
    token = api_token_create(assignment=RoleAssignmentFactory(organisation=practice, role=Role.CARE_NAVIGATOR))
    patient = PatientFactory(registered_practice=practice)
    slot = hub_session().slots.order_by("starts_at").first()
    body = json.dumps({"resourceType": "Appointment", "status": "booked", "description": "Cough",
                       "slot": [{"reference": f"Slot/{slot.pk}"}],
                       "participant": [{"actor": {"identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number",
                                                                 "value": patient.nhs_number}}}]}).encode()
    status, headers, content = _call("POST", "/fhir/Appointment", body=body, authorization=f"Bearer {token}")
    assert status == 201, content
    assert Appointment.objects.filter(slot=slot, patient=patient).count() == 1
    assert all(h.lower() in headers for h in SECURITY), sorted(headers)
    assert "set-cookie" not in headers
    assert "cookie" not in ",".join(headers.get("vary", [])).lower()


def test_the_api_still_refuses_a_host_that_is_not_allowed():
    status, headers, _ = _call("GET", "/fhir/openapi.json", host="evil.example")
    assert status == 400
    assert "content-security-policy" in headers


def test_pages_still_go_through_sessions_and_csrf():
    status, headers, content = _call("GET", "/account/sign-in/")
    assert status == 200, content[:500]
    assert all(h.lower() in headers for h in SECURITY)
    assert any(c.strip().startswith("csrftoken=") for c in headers.get("set-cookie", []))
    assert "Cookie" in headers["vary"]


def test_serving_starts_without_the_analytics_stack():
    """Ibis, DuckDB, pyarrow and Altair load with the first analytics page, not in every process."""
    import os
    import subprocess

    code = ("import sys; import collab.config.wsgi; from django.urls import get_resolver; "
            "get_resolver().url_patterns; print(sorted(m for m in ('ibis', 'duckdb', 'pyarrow', 'altair') "
            "if m in sys.modules))")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "collab.config.settings"}
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


# ------------------------------------------------------------------- the booking fast path


def _booking_body(slot_id, nhs_number: str, description: str = "Cough") -> bytes:
    return json.dumps({"resourceType": "Appointment", "status": "booked", "description": description,
                       "slot": [{"reference": f"Slot/{slot_id}"}],
                       "participant": [{"actor": {"identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number",
                                                                 "value": nhs_number}}}]}).encode()


def _served(app, method: str, *, body: bytes, **kwargs) -> tuple[str, dict, bytes]:
    """POST /fhir/Appointment (or ``method``) to ``app``: (status line, headers by lower-case name, body)."""
    status, response_headers, content = _serve(app, method, "/fhir/Appointment", body=body, **kwargs)
    names = {k.lower(): v for k, v in response_headers}
    assert len(names) == len(response_headers), "a header sent twice"
    return status, names, content


def _comparable(status: str, headers: dict, content: bytes) -> tuple:
    headers = dict(headers)
    csp = headers.pop("content-security-policy")
    body = json.loads(content)
    # The two bookings are of different slots, so their ids, times and slot references differ.
    for volatile in ("id", "created", "meta", "start", "end", "slot"):
        body.pop(volatile, None)
    return status, headers, csp.split("'nonce-")[0], body


def test_the_booking_fast_path_answers_every_case_as_the_django_view_does():
    auth._cache.clear()
    practice = PracticeFactory()
    token = api_token_create(assignment=RoleAssignmentFactory(organisation=practice, role=Role.CARE_NAVIGATOR))
    patient, stranger = PatientFactory(registered_practice=practice), PatientFactory()
    slots = list(hub_session(hours=2).slots.order_by("starts_at"))
    bearer = {"authorization": f"Bearer {token}"}
    cases = {
        "booked": (lambda k: _booking_body(slots[k].pk, patient.nhs_number), bearer),
        "taken": (lambda k: _booking_body(slots[1].pk, patient.nhs_number), bearer),  # booked just above
        "no such slot": (lambda k: _booking_body(10**12, patient.nhs_number), bearer),
        "another practice's patient": (lambda k: _booking_body(slots[6].pk, stranger.nhs_number), bearer),
        "unknown patient": (lambda k: _booking_body(slots[6].pk, "9990000018"), bearer),
        "invalid NHS number": (lambda k: _booking_body(slots[6].pk, "1234567890"), bearer),
        "invalid body": (lambda k: b'{"resourceType": "Appointment"}', bearer),
        "not JSON": (lambda k: b"slot=1", bearer),
        "no token": (lambda k: _booking_body(slots[6].pk, patient.nhs_number), {}),
        "wrong token": (lambda k: _booking_body(slots[6].pk, patient.nhs_number), {"authorization": "Bearer nope"}),
    }
    statuses = {}
    for name, (body, headers) in cases.items():
        fast = _served(wsgi.application, "POST", body=body(1 if name == "booked" else 0), **headers)
        django = _served(wsgi.api, "POST", body=body(2 if name == "booked" else 0), **headers)
        assert _comparable(*fast) == _comparable(*django), name
        statuses[name] = fast[0][:3]
    assert statuses == {"booked": "201", "taken": "409", "no such slot": "404", "another practice's patient": "403",
                        "unknown patient": "404", "invalid NHS number": "400", "invalid body": "422",
                        "not JSON": "422", "no token": "401", "wrong token": "401"}
    assert Appointment.objects.filter(slot__in=slots[1:3], patient=patient).count() == 2


@pytest.mark.parametrize("case", ["GET", "plain HTTP", "host not allowed", "no Content-Length", "body too large"])
def test_the_booking_fast_path_hands_anything_else_to_django(case, monkeypatch, settings):
    handed = []
    django_handler = wsgi.booking.django_handler
    monkeypatch.setattr(wsgi.booking, "django_handler", lambda e, s: handed.append(1) or django_handler(e, s))
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64
    kwargs = {
        "GET": {"method": "GET"},
        "plain HTTP": {"secure": False},
        "host not allowed": {"host": "evil.example"},
        "no Content-Length": {"content_length": ""},
        "body too large": {"body": b"{" + b" " * 100 + b"}"},
    }[case]
    method = kwargs.pop("method", "POST")
    settings.SECURE_SSL_REDIRECT = True  # as in production: plain HTTP is redirected
    status, headers, _ = _served(wsgi.application, method, **{"body": b"{}", **kwargs})
    assert handed == [1]
    assert status[:3] in {"301", "400", "401", "405", "413"}, status


def test_the_booking_fast_path_sends_the_request_signals_as_django_does():
    sent = []

    def started(**kw):
        sent.append("started")

    def finished(**kw):
        sent.append("finished")

    request_started.connect(started)
    request_finished.connect(finished)
    try:
        _served(wsgi.application, "POST", body=b"{}")
    finally:
        request_started.disconnect(started)
        request_finished.disconnect(finished)
    assert sent == ["started", "finished"]


def test_an_unexpected_failure_on_the_fast_path_is_a_logged_500_without_the_body(monkeypatch, caplog):
    def boom(**kw):
        raise RuntimeError("database went away")

    monkeypatch.setattr("collab.api.fast.appointment_create_response", boom)
    body = _booking_body(1, "9990000018")
    status, headers, content = _served(wsgi.application, "POST", body=body, authorization="Bearer x")
    assert status.startswith("500")
    assert json.loads(content)["resourceType"] == "OperationOutcome"
    assert all(h.lower() in headers for h in SECURITY)
    assert "Internal Server Error: /fhir/Appointment" in caplog.text
    assert "9990000018" not in caplog.text
