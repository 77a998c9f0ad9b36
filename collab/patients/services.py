"""Writes about access to patients: break-glass grants and their review by privacy officers."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from collab.accounts.models import User
from collab.core.audit import Actor, audit_record
from collab.patients.access import Action, access_patient, decide
from collab.patients.models import BreakGlassGrant, Patient


class BreakGlassError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def break_glass_open(
    *, actor: Actor, actor_org_kind: str, patient: Patient, reason: str, reauthentication: str
) -> BreakGlassGrant:
    """Open emergency read access for BREAK_GLASS_MINUTES, after a reason and a re-authentication.

    The caller has already re-authenticated the user (``reauthentication`` says how). The request is
    decided and audited like every access; the grant is the privacy officers' alert.
    """
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise BreakGlassError("Say why you need emergency access (at least 10 characters)")
    if not reauthentication:
        raise BreakGlassError("Confirm it is you before breaking glass")
    # Decided and audited outside the transaction, so a refusal's audit row is never rolled back.
    access_patient(actor=actor, actor_org_kind=actor_org_kind, patient=patient, action=Action.BREAK_GLASS,
                   object_type="patient", object_id=patient.pk)
    now = timezone.now()
    with transaction.atomic():
        return BreakGlassGrant.objects.create(
            user_id=actor.user_id, role=actor.role, organisation_id=actor.organisation_id,
            service_id=actor.service_id, patient=patient, reason=reason[:500],
            reauthentication=reauthentication[:64], granted_at=now,
            expires_at=now + dt.timedelta(minutes=settings.BREAK_GLASS_MINUTES),
        )


def break_glass_check(*, actor: Actor, actor_org_kind: str, patient: Patient, reason: str) -> str:
    """Before re-authenticating elsewhere (CIS2): is there a reason, and may this role break glass here?

    Returns the reason to keep. A role that may not break glass is refused and audited now, as
    ``break_glass_open`` would; an allowed request is audited when it is opened, after re-authentication.
    """
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise BreakGlassError("Say why you need emergency access (at least 10 characters)")
    if not decide(actor=actor, actor_org_kind=actor_org_kind, patient=patient, action=Action.BREAK_GLASS).allowed:
        # Decides again and writes the refusal's audit row, then raises AccessDenied.
        access_patient(actor=actor, actor_org_kind=actor_org_kind, patient=patient, action=Action.BREAK_GLASS,
                       object_type="patient", object_id=patient.pk)
    return reason[:500]


def break_glass_refuse(*, actor: Actor, patient: Patient, reason: str) -> None:
    """A break-glass request that failed re-authentication: nothing is granted; the refusal is on record."""
    audit_record(actor=actor, action=Action.BREAK_GLASS, allowed=False, patient_id=patient.pk, reason=reason,
                 object_type="patient", object_id=patient.pk)


def break_glass_review(*, actor: Actor, grant: BreakGlassGrant, note: str) -> BreakGlassGrant:
    """A privacy officer records that they have looked into a break-glass access."""
    note = (note or "").strip()
    if not note:
        raise BreakGlassError("Record what you found")
    with transaction.atomic():
        changed = BreakGlassGrant.objects.filter(pk=grant.pk, reviewed_at__isnull=True).update(
            reviewed_at=timezone.now(), reviewed_by_id=actor.user_id, review_note=note[:500]
        )
        if changed != 1:
            raise BreakGlassError("This alert has already been reviewed")
        audit_record(actor=actor, action="break_glass.review", allowed=True, patient_id=grant.patient_id,
                     reason=note, object_type="break_glass_grant", object_id=grant.pk)
    grant.refresh_from_db()
    return grant


def reviewer_names(user_ids: set[int]) -> dict[int, str]:
    return {u.pk: u.get_full_name() or u.username for u in User.objects.filter(pk__in=user_ids)}
