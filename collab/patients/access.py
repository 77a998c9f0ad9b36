"""The one function that decides every access to a patient's data, and audits it.

Deny by default. Every call of ``access_patient`` writes exactly one audit row, allowed or refused.

A decision has three parts, in this order:

1. **Permission**: the acting role, where it acts (a practice, or one of the collaborative's
   services: the remote hub, out of hours, enhanced access), must allow the action. Roles are
   the national RBAC job roles (collab.accounts.models.RBAC_JOB_ROLES); the tables below map
   them to what they may do in each place.
2. **Privacy oversight**: a privacy officer may read any patient's audit trail, and nothing else.
3. **Legitimate relationship**: a check registered in collab.patients.relationships finds one
   (registered practice; a current or recent appointment, out-of-hours case, referral or triage
   with the user's service). Failing that, an unexpired break-glass grant for this user, role, organisation and
   patient allows *reading* the record, and every such look is audited as break-glass.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from collab.accounts.models import CLINICAL_ROLES, Role
from collab.core.audit import Actor, audit_record
from collab.patients import relationships
from collab.patients.models import BreakGlassGrant, Patient


class Action:
    VIEW = "patient.view"  # demographics and the patient's appointments with us
    BOOK = "appointment.book"
    UPDATE_APPOINTMENT = "appointment.update"
    CANCEL_APPOINTMENT = "appointment.cancel"
    RECORD_VIEW = "record.view"  # the shared clinical record and the practice's GP Connect summary
    RECORD_WRITE = "record.write"  # consult, sign, add an addendum, book a review at the practice
    BREAK_GLASS = "record.break_glass"  # ask for emergency access
    AUDIT_VIEW = "audit.view"  # who looked at this patient's record, and why


# Every action on one patient, in the order the access matrix test walks them.
PATIENT_ACTIONS = (
    Action.VIEW, Action.BOOK, Action.UPDATE_APPOINTMENT, Action.CANCEL_APPOINTMENT,
    Action.RECORD_VIEW, Action.RECORD_WRITE, Action.BREAK_GLASS, Action.AUDIT_VIEW,
)
# Break-glass opens the record to read, never to change.
BREAK_GLASS_ACTIONS = frozenset({Action.VIEW, Action.RECORD_VIEW})


class Where:
    """Where a role acts: at a practice, or in one of the collaborative's services."""

    PRACTICE = "practice"
    HUB = "remote_hub"
    OUT_OF_HOURS = "out_of_hours"
    ENHANCED_ACCESS = "enhanced_access"
    # The network services triage refers patients to (collab.triage routes).
    COMMUNITY_PHARMACY = "community_pharmacy"
    MSK_PHYSIO = "msk_physio"
    SOCIAL_PRESCRIBING = "social_prescribing"
    CHILDRENS_RESPIRATORY = "childrens_respiratory"


_CLINICAL = frozenset(CLINICAL_ROLES)
_PRACTICE_ADMIN = frozenset({Role.CARE_NAVIGATOR, Role.PRACTICE_MANAGER})

# Where -> action -> the roles allowed it (before the relationship test). Absent means nobody.
PERMISSIONS: dict[str, dict[str, frozenset[str]]] = {
    Where.PRACTICE: {
        Action.VIEW: _CLINICAL | _PRACTICE_ADMIN,
        Action.BOOK: _CLINICAL | _PRACTICE_ADMIN,
        Action.CANCEL_APPOINTMENT: _CLINICAL | _PRACTICE_ADMIN,
        # Care navigators file the notes that come back from the hub and out of hours
        # (document workflow); practice managers do not need clinical detail.
        Action.RECORD_VIEW: _CLINICAL | {Role.CARE_NAVIGATOR},
        Action.BREAK_GLASS: _CLINICAL,
    },
    Where.HUB: {
        Action.VIEW: _CLINICAL | {Role.HUB_MANAGER},
        # Hub and triage clinicians book from a triage they made (the relationship decides whom).
        Action.BOOK: _CLINICAL,
        Action.UPDATE_APPOINTMENT: _CLINICAL,
        Action.CANCEL_APPOINTMENT: _CLINICAL | {Role.HUB_MANAGER},
        Action.RECORD_VIEW: _CLINICAL,
        Action.RECORD_WRITE: _CLINICAL,
        Action.BREAK_GLASS: _CLINICAL,
    },
    Where.OUT_OF_HOURS: {
        Action.VIEW: _CLINICAL,
        Action.RECORD_VIEW: _CLINICAL,
        Action.RECORD_WRITE: _CLINICAL,
        Action.BREAK_GLASS: _CLINICAL,
    },
    # Enhanced access runs evening and Saturday appointments in slots, as the hub does: its
    # clinicians book, see and complete their own service's appointments and write the note.
    # (Out of hours works from a case list instead and books nothing.)
    Where.ENHANCED_ACCESS: {
        Action.VIEW: _CLINICAL,
        Action.BOOK: _CLINICAL,
        Action.UPDATE_APPOINTMENT: _CLINICAL,
        Action.CANCEL_APPOINTMENT: _CLINICAL,
        Action.RECORD_VIEW: _CLINICAL,
        Action.RECORD_WRITE: _CLINICAL,
        Action.BREAK_GLASS: _CLINICAL,
    },
}
# A service a patient was referred to reads who they are and the shared record (why they were
# referred, medication, allergies). It writes no notes in the shared record yet.
_REFERRED_TO = {Action.VIEW: _CLINICAL, Action.RECORD_VIEW: _CLINICAL}
PERMISSIONS.update({where: _REFERRED_TO for where in (
    Where.COMMUNITY_PHARMACY, Where.MSK_PHYSIO, Where.SOCIAL_PRESCRIBING, Where.CHILDRENS_RESPIRATORY)})

# Oversight roles read the audit trail of any patient; they have no clinical access.
AUDIT_ROLES = frozenset({Role.PRIVACY_OFFICER})


class AccessDenied(PermissionError):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str
    break_glass: bool = False


def where_acting(actor: Actor, actor_org_kind: str) -> str | None:
    if actor_org_kind == "practice":
        return Where.PRACTICE
    if actor_org_kind == "collaborative":
        # A collaborative role that names no service acts in the hub (the first service it ran).
        return actor.service_kind or Where.HUB
    return None


def active_break_glass(*, actor: Actor, patient: Patient) -> BreakGlassGrant | None:
    if actor.user_id is None:
        return None
    return (
        BreakGlassGrant.objects.filter(
            user_id=actor.user_id, role=actor.role, organisation_id=actor.organisation_id,
            patient_id=patient.pk, expires_at__gt=timezone.now(),
        )
        .order_by("-expires_at")
        .first()
    )


def decide(*, actor: Actor, actor_org_kind: str, patient: Patient, action: str) -> Decision:
    """Deny by default: the role must allow the action where it is acted in, and a legitimate
    relationship (or, to read, an unexpired break-glass grant) must exist."""
    if action == Action.AUDIT_VIEW:
        if actor_org_kind == "collaborative" and actor.role in AUDIT_ROLES:
            return Decision(True, "privacy officer: audit oversight")
        return Decision(False, f"role {actor.role} may not read the audit trail")
    where = where_acting(actor, actor_org_kind)
    if where is None or where not in PERMISSIONS:
        return Decision(False, "organisation has no access to patient records")
    place = "at a practice" if where == Where.PRACTICE else f"in {where.replace('_', ' ')}"
    if actor.role not in PERMISSIONS[where].get(action, frozenset()):
        return Decision(False, f"role {actor.role} may not {action} {place}")
    if action == Action.BREAK_GLASS:
        return Decision(True, "break-glass requested")
    found = relationships.relationship(actor, actor_org_kind, patient)
    if found is not None:
        return Decision(True, found)
    if action in BREAK_GLASS_ACTIONS:
        grant = active_break_glass(actor=actor, patient=patient)
        if grant is not None:
            return Decision(True, f"BREAK-GLASS (grant {grant.pk}): {grant.reason}", break_glass=True)
    if where == Where.PRACTICE:
        return Decision(False, "patient is registered at another practice")
    return Decision(False, "no legitimate relationship with this patient")


def access_patient(
    *, actor: Actor, actor_org_kind: str, patient: Patient, action: str, object_type: str = "", object_id: str | int = ""
) -> Decision:
    """Decide and audit. Raise AccessDenied when refused (after auditing the refusal)."""
    decision = decide(actor=actor, actor_org_kind=actor_org_kind, patient=patient, action=action)
    audit_record(
        actor=actor,
        action=action,
        allowed=decision.allowed,
        patient_id=patient.pk,
        reason=decision.reason,
        object_type=object_type,
        object_id=object_id,
    )
    if not decision.allowed:
        raise AccessDenied(decision.reason)
    return decision
