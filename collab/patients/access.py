"""The one function that decides every access to a patient's data, and audits it.

Deny by default. Every call writes exactly one audit row, allowed or refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from collab.accounts.models import CLINICAL_ROLES, Role
from collab.core.audit import Actor, audit_record
from collab.patients import relationships
from collab.patients.models import Patient


class Action:
    VIEW = "patient.view"
    BOOK = "appointment.book"
    UPDATE_APPOINTMENT = "appointment.update"
    CANCEL_APPOINTMENT = "appointment.cancel"


PRACTICE_ROLES_BY_ACTION = {
    Action.VIEW: {*CLINICAL_ROLES, Role.CARE_NAVIGATOR, Role.PRACTICE_MANAGER},
    Action.BOOK: {*CLINICAL_ROLES, Role.CARE_NAVIGATOR, Role.PRACTICE_MANAGER},
    Action.CANCEL_APPOINTMENT: {*CLINICAL_ROLES, Role.CARE_NAVIGATOR, Role.PRACTICE_MANAGER},
    Action.UPDATE_APPOINTMENT: set(),
}
HUB_ROLES_BY_ACTION = {
    Action.VIEW: {*CLINICAL_ROLES, Role.HUB_MANAGER},
    Action.BOOK: set(),
    Action.CANCEL_APPOINTMENT: {*CLINICAL_ROLES, Role.HUB_MANAGER},
    Action.UPDATE_APPOINTMENT: {*CLINICAL_ROLES},
}


class AccessDenied(PermissionError):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str


def decide(*, actor: Actor, actor_org_kind: str, patient: Patient, action: str) -> Decision:
    """Deny by default: the role must allow the action where it is acted in, and a legitimate
    relationship between the actor's organisation and the patient must exist."""
    roles = {"practice": PRACTICE_ROLES_BY_ACTION, "collaborative": HUB_ROLES_BY_ACTION}.get(actor_org_kind)
    if roles is None:
        return Decision(False, "organisation has no access to patient records")
    where = "at a practice" if actor_org_kind == "practice" else "at the hub"
    if actor.role not in roles.get(action, set()):
        return Decision(False, f"role {actor.role} may not {action} {where}")
    found = relationships.relationship(actor, actor_org_kind, patient)
    if found is None:
        if actor_org_kind == "practice":
            return Decision(False, "patient is registered at another practice")
        return Decision(False, "no legitimate relationship with this patient")
    return Decision(True, found)


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
