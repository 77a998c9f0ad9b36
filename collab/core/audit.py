"""The one way to write the audit trail. Called explicitly by services, never from signals."""

from __future__ import annotations

import getpass
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from collab.core.db import hot_path_cursor
from collab.core.models import AuditEvent
from collab.core.sql import AUDIT_COLUMNS
from collab.core.sql import AUDIT_INSERT_SQL as _INSERT


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: a user in one role at one organisation (or an anonymous member of the public)."""

    user_id: int | None
    username: str
    role: str
    organisation_id: int | None
    organisation_ods: str
    channel: str = "web"
    # The service acted in (hub, out of hours...), when the role names one; "" = the organisation.
    service_id: int | None = None
    service_kind: str = ""


def cli_actor() -> Actor:
    """The operating-system user running a management command, as the audit trail names them."""
    return Actor(user_id=None, username=f"cli:{getpass.getuser()}"[:150], role="", organisation_id=None,
                 organisation_ods="", channel="cli")


def audit_row(
    *,
    actor: Actor,
    action: str,
    allowed: bool,
    patient_id: int | None = None,
    reason: str = "",
    object_type: str = "",
    object_id: str | int = "",
    occurred_at=None,
) -> dict:
    """The column values of one audit row: decided here only, whoever inserts it."""
    return {
        "occurred_at": occurred_at or timezone.now(),
        "user_id": actor.user_id,
        "username": actor.username,
        "role": actor.role,
        "organisation_ods": actor.organisation_ods,
        "patient_id": patient_id,
        "action": action,
        "outcome": AuditEvent.Outcome.ALLOWED if allowed else AuditEvent.Outcome.REFUSED,
        "reason": reason[:255],
        "object_type": object_type,
        "object_id": str(object_id),
        "channel": actor.channel,
    }


def audit_record(
    *,
    actor: Actor,
    action: str,
    allowed: bool,
    patient_id: int | None = None,
    reason: str = "",
    object_type: str = "",
    object_id: str | int = "",
) -> AuditEvent:
    row = audit_row(actor=actor, action=action, allowed=allowed, patient_id=patient_id, reason=reason,
                    object_type=object_type, object_id=object_id)
    values = [row[c] for c in AUDIT_COLUMNS]
    values[0] = connection.ops.adapt_datetimefield_value(row["occurred_at"])
    with hot_path_cursor() as cursor:  # prepared on PostgreSQL: every booking and patient view writes one
        cursor.execute(_INSERT, values)
        sequence = cursor.fetchone()[0]
    event = AuditEvent(sequence=sequence, **row)
    event._state.adding, event._state.db = False, connection.alias
    return event


def audit_list_view(*, actor: Actor, patient_ids: list[int], reason: str, object_type: str = "list") -> int:
    """One audit row per patient shown in a list (names are patient details too)."""
    now = timezone.now()
    rows = [
        AuditEvent(**audit_row(actor=actor, action="patient.list", allowed=True, patient_id=pid, reason=reason,
                               object_type=object_type, occurred_at=now))
        for pid in dict.fromkeys(patient_ids)
    ]
    AuditEvent.objects.bulk_create(rows)
    return len(rows)
