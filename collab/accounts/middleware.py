"""Session limits (15 minutes idle, 12 hours in all) and the role a user is acting in."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout

from collab.accounts.models import RoleAssignment

SIGNED_IN_AT = "collab_signed_in_at"
LAST_SEEN = "collab_last_seen"
ACTING = "collab_acting_assignment"


class SessionTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = time.time()
            signed_in = request.session.get(SIGNED_IN_AT, now)
            last = request.session.get(LAST_SEEN, now)
            if now - last > settings.SESSION_IDLE_SECONDS or now - signed_in > settings.SESSION_ABSOLUTE_SECONDS:
                idle = now - last > settings.SESSION_IDLE_SECONDS
                logout(request)
                messages.info(
                    request,
                    "You were signed out after 15 minutes without activity."
                    if idle
                    else "You were signed out because you have been signed in for 12 hours.",
                )
            else:
                request.session[SIGNED_IN_AT] = signed_in
                request.session[LAST_SEEN] = now
        return self.get_response(request)


class ActingRoleMiddleware:
    """Sets request.acting: the RoleAssignment the user picked, or None."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.acting = None
        if request.user.is_authenticated:
            assignment_id = request.session.get(ACTING)
            if assignment_id is not None:
                request.acting = (
                    RoleAssignment.objects.select_related("organisation", "user", "service")
                    .filter(pk=assignment_id, user=request.user, is_active=True)
                    .first()
                )
        return self.get_response(request)
