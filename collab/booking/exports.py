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


def analytics_rows() -> Iterator[dict]:
    """Every appointment held in collab, one row each, ready for export_collab_appointments."""
    tz = timezone.get_current_timezone()
    qs = Appointment.objects.select_related("slot__service", "practice__parent").order_by("id")
    for a in qs.iterator(chunk_size=2000):
        slot = a.slot
        # Services outside the practices' own (pharmacy, physio...) name their kind as the slot type.
        kind = slot.service.kind
        slot_type = slot.slot_type if SERVICE[kind] != "triage" else kind
        yield {
            "appointment_id": str(a.pk),
            "appointment_date": slot.starts_at.astimezone(tz).date(),
            "booked_date": a.created_at.astimezone(tz).date(),
            "practice_ods": a.practice.ods_code,
            "pcn_ods": a.practice.parent.ods_code if a.practice.parent_id else a.practice.ods_code,
            "service": SERVICE[kind],
            "slot_type": slot_type,
            "delivery_channel": CHANNEL[slot.channel],
            "clinician_role": Role(slot.clinician_role).label,
            "status": STATUS[a.status],
            "outcome": OUTCOME[a.outcome],
            "capacity_reserved": a.used_reserved_capacity,
        }
