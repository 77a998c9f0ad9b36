"""Sign-in, acting roles and API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from collab.accounts.models import ApiToken, Cis2Identity, LoginFailure, RoleAssignment, User
from collab.core.audit import Actor, audit_record

# A CIS2 UUID (the ID token's sub) as the Care Identity Service shows it: 12 digits. [0-9], not \d,
# which also matches non-ASCII digits.
CIS2_UUID = re.compile(r"[0-9]{12}")


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


class Cis2LinkError(Exception):
    """A link or unlink refused; ``field`` names the form field the message is about ("" for none)."""

    def __init__(self, message: str, *, field: str = ""):
        super().__init__(message)
        self.message = message
        self.field = field


def _link_refused(*, actor: Actor, action: str, user: User, message: str, field: str = "") -> Cis2LinkError:
    audit_record(actor=actor, action=action, allowed=False, reason=f"{user.username}: {message}",
                 object_type="user", object_id=user.pk)
    return Cis2LinkError(message, field=field)


def cis2_identity_link(*, actor: Actor, user: User, sub: str) -> Cis2Identity:
    """Link ``user`` to the CIS2 identity ``sub``, so they can sign in with it. Audited, refused or done.

    The database decides the races (one identity per user, one user per identity): a lost race is
    reported as the clash it is, never a second link.
    """
    action = "cis2_identity.link"
    sub = "".join((sub or "").split())  # people copy it with spaces
    if not CIS2_UUID.fullmatch(sub):
        raise _link_refused(actor=actor, action=action, user=user, field="sub",
                            message="Enter the CIS2 UUID as 12 digits, like 555042712105")
    if actor.user_id == user.pk:
        raise _link_refused(actor=actor, action=action, user=user,
                            message="You cannot change the CIS2 link on your own account. Ask another administrator.")
    if not user.is_active:
        raise _link_refused(actor=actor, action=action, user=user, message="This account is closed")
    try:
        with transaction.atomic():
            identity = Cis2Identity.objects.create(user=user, sub=sub, linked_at=timezone.now(),
                                                   linked_by_id=actor.user_id)
            audit_record(actor=actor, action=action, allowed=True, reason=f"{user.username} linked to CIS2 UUID {sub}",
                         object_type="user", object_id=user.pk)
    except IntegrityError:
        holder = Cis2Identity.objects.select_related("user").filter(sub=sub).first()
        if holder is not None and holder.user_id != user.pk:
            message = (f"This CIS2 UUID is already linked to {holder.user} ({holder.user.username}). "
                       "Unlink it from that account first if it is really this person's.")
            raise _link_refused(actor=actor, action=action, user=user, field="sub", message=message) from None
        current = Cis2Identity.objects.filter(user=user).values_list("sub", flat=True).first()
        message = f"This account is already linked to CIS2 UUID {current}. Unlink it first."
        raise _link_refused(actor=actor, action=action, user=user, field="sub", message=message) from None
    return identity


def _end_cis2_sessions(*, user_id: int) -> int:
    """Sign out every live session ``user_id`` opened through CIS2; returns how many.

    Unlinking is rare and live sessions are few (15 minutes idle ends one), so each is decoded
    rather than every request paying a query to recheck the link. Sessions opened with a
    password and second factor are not the CIS2 identity's and stay.
    """
    from django.contrib.sessions.models import Session

    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        data = session.get_decoded()
        if data.get("_auth_user_id") == str(user_id) and data.get("auth_method") == "cis2":
            session.delete()
            ended += 1
    return ended


def cis2_identity_unlink(*, actor: Actor, user: User) -> str:
    """Remove ``user``'s CIS2 link, so they can no longer sign in with it. Returns the UUID removed. Audited."""
    action = "cis2_identity.unlink"
    if actor.user_id == user.pk:
        raise _link_refused(actor=actor, action=action, user=user,
                            message="You cannot change the CIS2 link on your own account. Ask another administrator.")
    with transaction.atomic():
        identity = Cis2Identity.objects.select_for_update().filter(user=user).first()
        if identity is not None:
            sub = identity.sub
            identity.delete()
            ended = _end_cis2_sessions(user_id=user.pk)
            audit_record(actor=actor, action=action, allowed=True,
                         reason=f"{user.username} unlinked from CIS2 UUID {sub}; {ended} CIS2 session(s) ended",
                         object_type="user", object_id=user.pk)
            return sub
    raise _link_refused(actor=actor, action=action, user=user, message="This account has no CIS2 identity linked")
