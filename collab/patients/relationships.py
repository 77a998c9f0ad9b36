"""Legitimate relationships between a user's organisation and a patient.

Each bounded context that creates a relationship (the registered practice, an appointment with
the user's service, an out-of-hours case, a referral, a triage...) registers one check here, in its AppConfig.ready(). The access
function (collab.patients.access.decide) asks them in order; the first that finds a
relationship names it. No check, no relationship: access is refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone

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


def recent_since(now: dt.datetime | None = None) -> dt.datetime:
    """The start of "current or recent": RELATIONSHIP_RECENT_DAYS (default 28) days ago."""
    return (now or timezone.now()) - dt.timedelta(days=settings.RELATIONSHIP_RECENT_DAYS)


def acts_in(actor: Actor, org_kind: str, service_kind: str) -> bool:
    """Whether the actor acts in the collaborative's service of this kind.

    A collaborative role naming no service acts in the remote hub (see access.where_acting).
    """
    if org_kind != "collaborative":
        return False
    return (actor.service_kind or "remote_hub") == service_kind


def service_lookup(actor: Actor, org_kind: str, path: str) -> dict[str, object] | None:
    """Filter arguments selecting rows whose service (the foreign key at ``path``) is the one the
    actor acts in; None when the actor acts in no service of the collaborative.

    A collaborative role naming no service acts in its collaborative's remote hub. Relationships
    are with a service: an enhanced access appointment or a referral to social prescribing gives
    that service a reason to look, not the hub.
    """
    if org_kind != "collaborative":
        return None
    if actor.service_id:
        return {f"{path}_id": actor.service_id}
    return {f"{path}__kind": "remote_hub", f"{path}__organisation_id": actor.organisation_id}


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
