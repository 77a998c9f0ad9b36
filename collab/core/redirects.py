"""Where a redirect may go: one check for every page that sends the browser back somewhere."""

from __future__ import annotations

from django.utils.http import url_has_allowed_host_and_scheme


def safe_redirect(request, url: str, default: str) -> str:
    """``url`` if it stays on this site (a local path, or this host over the same scheme), else ``default``."""
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
        return url
    return default
