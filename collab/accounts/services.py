"""Sign-in, acting roles and API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from collab.accounts.models import ApiToken, LoginFailure, RoleAssignment, User
from collab.core.audit import Actor


def actor_from_assignment(assignment: RoleAssignment, *, channel: str = "web") -> Actor:
    return Actor(
        user_id=assignment.user_id,
        username=assignment.user.username,
        role=assignment.role,
        organisation_id=assignment.organisation_id,
        organisation_ods=assignment.organisation.ods_code,
        channel=channel,
        service_id=assignment.service_id,
        service_kind=assignment.service.kind if assignment.service_id else "",
    )


def login_is_rate_limited(*, username: str, address: str, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    since = now - dt.timedelta(seconds=settings.LOGIN_RATE_WINDOW_SECONDS)
    failures = LoginFailure.objects.filter(occurred_at__gte=since).filter(
        Q(username=username.lower()) | Q(address=address)
    )
    return failures.count() >= settings.LOGIN_RATE_LIMIT


def login_failure_record(*, username: str, address: str) -> None:
    LoginFailure.objects.create(username=username.lower(), address=address, occurred_at=timezone.now())


def login_failures_clear(*, username: str) -> None:
    LoginFailure.objects.filter(username=username.lower()).delete()


def active_assignments(user: User):
    return (
        RoleAssignment.objects.filter(user=user, is_active=True)
        .select_related("organisation", "user", "service")
        .order_by("organisation__name", "role")
    )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def api_token_create(*, assignment: RoleAssignment) -> str:
    """Make a bearer token acting as this role assignment. The token itself is shown once."""
    token = "collab_" + secrets.token_urlsafe(32)
    ApiToken.objects.create(digest=_digest(token), role_assignment=assignment)
    return token


def api_token_assignment(token: str) -> RoleAssignment | None:
    row = (
        ApiToken.objects.filter(digest=_digest(token), revoked_at__isnull=True)
        .select_related("role_assignment__user", "role_assignment__organisation", "role_assignment__service")
        .first()
    )
    if row is None:
        return None
    assignment = row.role_assignment
    if not assignment.is_active or not assignment.user.is_active:
        return None
    return assignment


def reauthenticate(*, user: User, password: str, code: str, address: str, demo_session: bool) -> str:
    """Check the user again (password and TOTP code) before a sensitive step such as break-glass.

    Returns how they were checked, for the record, or "" if they were not. Demo personas have no
    password or authenticator: outside production only, their one-click session stands in, and
    the record says so.
    """
    if user.is_demo_persona and demo_session and not settings.PRODUCTION:
        return "demo persona (not production)"
    if login_is_rate_limited(username=user.username, address=address):
        return ""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.devices_for_user(user, confirmed=True).first()
    if user.check_password(password or "") and device is not None and device.verify_token(code or ""):
        return "password and authenticator code"
    login_failure_record(username=user.username, address=address)
    return ""
