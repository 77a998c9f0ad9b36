"""Out-of-hours cases in the shape the analytics store takes (docs/analytics.md).

Each case is one out-of-hours consultation (or one waiting for it): an appointment of service
``out_of_hours`` dated the day it was completed, or received while it waits. collab does not
record how the patient was consulted, so the delivery channel is ``Unknown``.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.utils import timezone

from collab.booking.exports import ROLE_LABEL
from collab.ooh.models import OohCase
from collab.records.models import Consultation

SLOT_TYPE = {OohCase.Source.NHS_111: "nhs 111 referral", OohCase.Source.TRIAGE: "triage referral"}


def analytics_rows() -> Iterator[dict]:
    """Every out-of-hours case, one row each, ready for export_collab_appointments."""
    tz = timezone.get_current_timezone()
    # The signed note says who consulted and whether the practice must follow up; the last
    # signed note of a case wins.
    notes = {
        case_id: (role, follow_up)
        for case_id, role, follow_up in Consultation.objects.filter(
            ooh_case__isnull=False, status=Consultation.Status.SIGNED
        )
        .order_by("signed_at", "pk")
        .values_list("ooh_case_id", "clinician_role", "follow_up_needed")
    }
    qs = OohCase.objects.order_by("pk").values_list(
        "pk",
        "received_at",
        "completed_at",
        "status",
        "source",
        "patient__registered_practice__ods_code",
        "patient__registered_practice__parent__ods_code",
    )
    for pk, received_at, completed_at, status, source, practice, pcn in qs.iterator(chunk_size=5000):
        done = status == OohCase.Status.COMPLETED
        role, follow_up = notes.get(pk, (None, False))
        yield {
            "appointment_id": f"ooh-{pk}",
            "appointment_date": (completed_at or received_at).astimezone(tz).date(),
            "booked_date": received_at.astimezone(tz).date(),
            "practice_ods": practice,
            "pcn_ods": pcn or practice,
            "service": "out_of_hours",
            "slot_type": SLOT_TYPE[source],
            "delivery_channel": "Unknown",
            "clinician_role": ROLE_LABEL[role] if role else None,
            "status": "attended" if done else "booked",
            "outcome": ("follow_up" if follow_up else "resolved") if done else None,
            "capacity_reserved": False,
        }
