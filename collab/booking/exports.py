"""collab's own appointments in the shape the analytics store takes (docs/analytics.md)."""

from __future__ import annotations

from collections.abc import Iterator

from django.utils import timezone

from collab.accounts.models import Role
from collab.booking.models import Appointment

SERVICE = {
    "remote_hub": "hub",
    "out_of_hours": "out_of_hours",
    "enhanced_access": "enhanced_access",
    "practice": "practice",
    # Services a triaged request is routed to.
    "community_pharmacy": "triage",
    "msk_physio": "triage",
    "social_prescribing": "triage",
    "childrens_respiratory": "triage",
}
CHANNEL = {"telephone": "Telephone", "video": "Video", "online": "Video", "in_person": "In-person"}
STATUS = {"booked": "booked", "arrived": "booked", "fulfilled": "attended", "noshow": "dna", "cancelled": "cancelled"}
OUTCOME = {"resolved_remotely": "resolved", "face_to_face": "follow_up", "referred": "referred",
           "seen_in_person": "resolved", "": None}


ROLE_LABEL = {value: str(label) for value, label in Role.choices}
_FIELDS = (
    "pk", "slot__starts_at", "created_at", "practice__ods_code", "practice__parent__ods_code",
    "slot__service__kind", "slot__slot_type", "slot__channel", "slot__clinician_role", "status",
    "outcome", "used_reserved_capacity",
)


def analytics_rows() -> Iterator[dict]:
    """Every appointment held in collab, one row each, ready for export_collab_appointments.

    Plain tuples from one query, not model instances: the export runs often (see
    docs/adr/0007-analytics-freshness.md), and building a model per row costs most of its time."""
    tz = timezone.get_current_timezone()
    qs = Appointment.objects.order_by("pk").values_list(*_FIELDS)
    for (pk, starts_at, created_at, practice, pcn, kind, slot_type, channel, role, status, outcome,
         reserved) in qs.iterator(chunk_size=5000):
        service = SERVICE[kind]
        yield {
            "appointment_id": str(pk),
            "appointment_date": starts_at.astimezone(tz).date(),
            "booked_date": created_at.astimezone(tz).date(),
            "practice_ods": practice,
            "pcn_ods": pcn or practice,
            "service": service,
            # Services outside the practices' own (pharmacy, physio...) name their kind as the slot type.
            "slot_type": slot_type if service != "triage" else kind,
            "delivery_channel": CHANNEL[channel],
            "clinician_role": ROLE_LABEL[role],
            "status": STATUS[status],
            "outcome": OUTCOME[outcome],
            "capacity_reserved": reserved,
        }
