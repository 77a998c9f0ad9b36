"""Reads for privacy officers: a patient's audit trail, and break-glass alerts."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from collab.accounts.models import Role, User
from collab.core.models import AuditEvent
from collab.patients.models import BreakGlassGrant

AUDIT_CSV_HEADER = ["sequence", "occurred_at", "username", "name", "role", "organisation_ods", "action", "outcome",
                    "reason", "object_type", "object_id", "channel"]


@dataclass(frozen=True, slots=True)
class AuditLine:
    event: AuditEvent
    name: str
    role_label: str
    break_glass: bool


def patient_audit_trail(*, patient_id: int, limit: int | None = None) -> list[AuditLine]:
    """Every audited event about this patient, newest first, with people's names."""
    events = AuditEvent.objects.filter(patient_id=patient_id).order_by("-sequence")
    if limit is not None:
        events = events[:limit]
    events = list(events)
    names = {u.pk: u.get_full_name() or u.username
             for u in User.objects.filter(pk__in={e.user_id for e in events if e.user_id})}
    labels = dict(Role.choices)
    return [AuditLine(e, names.get(e.user_id, e.username), labels.get(e.role, e.role),
                      e.reason.startswith("BREAK-GLASS") or e.action == "record.break_glass") for e in events]


def audit_csv_rows(lines: list[AuditLine]) -> list[list[str]]:
    return [[str(x.event.sequence), x.event.occurred_at.isoformat(), x.event.username, x.name, x.event.role,
             x.event.organisation_ods, x.event.action, x.event.outcome, x.event.reason, x.event.object_type,
             x.event.object_id, x.event.channel] for x in lines]


def break_glass_alerts(*, unreviewed_only: bool = False) -> QuerySet[BreakGlassGrant]:
    qs = BreakGlassGrant.objects.select_related("user", "organisation", "patient", "reviewed_by", "service")
    if unreviewed_only:
        qs = qs.filter(reviewed_at__isnull=True)
    return qs.order_by("reviewed_at", "-granted_at")
