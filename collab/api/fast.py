"""POST /fhir/Appointment straight from WSGI: the booking hot path without Django's request cycle.

At 08:00 a booking's own work (token, validation, access decision, one statement) is a fraction
of what Django's handler spends around it: building a WSGIRequest, resolving the URL, walking the
middleware chain and an HttpResponse's headers. This callable serves the common case (a POST over
HTTPS (where HTTPS is required) to an allowed host, with a body of a sane size) by calling the very function the Django view
calls (``booking.appointment_create_response``) and adding the headers the API's middleware chain
adds. Anything else (another method, plain HTTP that Django would redirect, a host that is not allowed, a missing or oversized
body) goes to the Django handler, which answers it as before. Django's request_started and
request_finished signals are sent as Django sends them, so database connections are managed the
same way. Tests hold the headers and answers of the two paths equal (collab/core/tests/test_wsgi.py).
See docs/adr/0006-booking-hot-path.md, decision 10.
"""

from __future__ import annotations

import logging
import secrets

from django.conf import settings
from django.core import signals
from django.http.request import split_domain_port, validate_host

from collab.api.booking import _error, appointment_create_response
from collab.core.middleware import security_headers

PATH = "/fhir/Appointment"
logger = logging.getLogger("django.request")


def _middleware_headers() -> list[tuple[str, str]]:
    """What SecurityMiddleware and XFrameOptionsMiddleware add to an HTTPS API response.

    (SecurityHeadersMiddleware's own headers come from security_headers(); HSTS is among them.)"""
    headers = []
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        headers.append(("X-Content-Type-Options", "nosniff"))
    if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
        headers.append(("Cross-Origin-Opener-Policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY))
    headers.append(("X-Frame-Options", settings.X_FRAME_OPTIONS.upper()))
    return headers


class BookingFastPath:
    def __init__(self, django_handler):
        self.django_handler = django_handler

    def _plain_configuration(self) -> bool:
        """Only the plain, common configuration is served here; any other sends every request on.
        (Settings are read per request, as Django reads them, so overrides take effect.)"""
        return (bool(settings.ALLOWED_HOSTS) and "*" not in settings.ALLOWED_HOSTS and not settings.USE_X_FORWARDED_HOST
                and not settings.PREPEND_WWW and not settings.DISALLOWED_USER_AGENTS)

    def _secure(self, environ) -> bool:
        """Django's HttpRequest.is_secure(), from the environ."""
        if settings.SECURE_PROXY_SSL_HEADER:
            name, secure_value = settings.SECURE_PROXY_SSL_HEADER
            value = environ.get(name)
            if value is not None:
                return value.split(",", 1)[0].strip() == secure_value
        return environ.get("wsgi.url_scheme") == "https"

    def _length(self, environ) -> int | None:
        try:
            length = int(environ.get("CONTENT_LENGTH") or "")
        except ValueError:
            return None
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return length if 0 < length <= (limit or length) else None

    def __call__(self, environ, start_response):
        length = self._length(environ)
        domain, _port = split_domain_port(environ.get("HTTP_HOST", ""))
        if (environ.get("REQUEST_METHOD") != "POST" or length is None or not domain
                or (settings.SECURE_SSL_REDIRECT and not self._secure(environ))  # Django redirects it
                or not self._plain_configuration() or not validate_host(domain, settings.ALLOWED_HOSTS)):
            return self.django_handler(environ, start_response)
        body = environ["wsgi.input"].read(length)
        signals.request_started.send(sender=self.__class__, environ=environ)
        try:
            response = appointment_create_response(method="POST", authorization=environ.get("HTTP_AUTHORIZATION", ""),
                                                   body=body)
        except Exception:
            # As Django's handler logs an uncaught exception (the path only: no body, no identifiers).
            logger.error("Internal Server Error: %s", PATH, exc_info=True)
            response = _error(500, "INTERNAL_SERVER_ERROR", "The booking could not be completed; try again")
        finally:
            signals.request_finished.send(sender=self.__class__)
        content = response.content
        headers = [*response.items(), ("Content-Length", str(len(content))), *_middleware_headers()]
        named = {name for name, _ in headers}
        headers += [(k, v) for k, v in security_headers(secrets.token_urlsafe(16)).items() if k not in named]
        start_response(f"{response.status_code} {response.reason_phrase}", headers)
        return [content]
