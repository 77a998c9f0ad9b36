"""Security headers on every response: CSP with a per-request nonce, HSTS, Referrer-Policy."""

from __future__ import annotations

import secrets

from django.conf import settings


def security_headers(nonce: str) -> dict[str, str]:
    """collab's own security headers, CSP carrying ``nonce`` (also sent by the booking fast path,
    collab/api/fast.py, which answers without this middleware)."""
    return {
        "Content-Security-Policy": (
            "default-src 'self'; "
            f"script-src 'self' 'nonce-{nonce}'; "
            "style-src 'self'; img-src 'self' data:; font-src 'self' https://assets.nhs.uk; "
            "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
        ),
        "Strict-Transport-Security": settings.COLLAB_HSTS_HEADER,
        "Referrer-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
        "Cache-Control": "no-store",
    }


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.csp_nonce = secrets.token_urlsafe(16)
        response = self.get_response(request)
        for name, value in security_headers(request.csp_nonce).items():
            response.headers.setdefault(name, value)
        return response
