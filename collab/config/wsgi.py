"""The WSGI application: pages through Django's full middleware, the FHIR API through a lean one,
and the booking POST through a fast path that answers its common case without Django's request
cycle (collab/api/fast.py).

API requests (settings.API_PATH_PREFIX) authenticate by bearer token on every request, so they go
through settings.API_MIDDLEWARE (host validation and the security headers) and skip sessions,
CSRF, sign-in, OTP, messages and the acting role, which serve signed-in pages. See
docs/adr/0006-booking-hot-path.md.
"""

import os
import threading

from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "collab.config.settings")
pages = get_wsgi_application()  # sets Django up

from django.conf import settings  # noqa: E402  (after set-up)

_loading = threading.Lock()


class MiddlewareHandler(WSGIHandler):
    """A WSGIHandler whose middleware chain is ``middleware`` rather than settings.MIDDLEWARE."""

    def __init__(self, middleware: list[str]):
        self.middleware = list(middleware)
        super().__init__()

    def load_middleware(self, is_async=False):
        # Django builds the chain from settings.MIDDLEWARE; swap the list in only while it does
        # (at start-up, under a lock), so the chain is built by Django's own code.
        with _loading:
            full = settings.MIDDLEWARE
            settings.MIDDLEWARE = self.middleware
            try:
                super().load_middleware(is_async)
            finally:
                settings.MIDDLEWARE = full


api = MiddlewareHandler(settings.API_MIDDLEWARE)
_API_PREFIX = settings.API_PATH_PREFIX

from collab.api.fast import PATH as _BOOKING_PATH  # noqa: E402
from collab.api.fast import BookingFastPath  # noqa: E402

booking = BookingFastPath(api)


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path == _BOOKING_PATH:
        return booking(environ, start_response)
    if path.startswith(_API_PREFIX):
        return api(environ, start_response)
    return pages(environ, start_response)
