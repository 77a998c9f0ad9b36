"""Legitimate relationships between a user's organisation and a patient.

Each bounded context that creates a relationship (the registered practice, a hub appointment,
a triage, a referral...) registers one check here, in its AppConfig.ready(). The access
function (collab.patients.access.decide) asks them in order; the first that finds a
relationship names it. No check, no relationship: access is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collab.core.audit import Actor
    from collab.patients.models import Patient

# (actor, kind of the actor's organisation, patient) -> the relationship's name, or None.
RelationshipCheck = Callable[["Actor", str, "Patient"], "str | None"]

_checks: list[tuple[str, RelationshipCheck]] = []


def register(name: str, check: RelationshipCheck) -> None:
    if any(n == name for n, _ in _checks):
        return
    _checks.append((name, check))


def relationship(actor: Actor, org_kind: str, patient: Patient) -> str | None:
    for _name, check in _checks:
        found = check(actor, org_kind, patient)
        if found:
            return found
    return None


def registered_practice(actor: Actor, org_kind: str, patient: Patient) -> str | None:
    if org_kind == "practice" and patient.registered_practice_id == actor.organisation_id:
        return "registered practice"
    return None
