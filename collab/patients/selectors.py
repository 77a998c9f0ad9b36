from __future__ import annotations

from collab.booking.sql import PATIENT_FOR_BOOKING_SQL
from collab.core.db import hot_path_read
from collab.patients.models import Patient


def patient_by_nhs_number(nhs_number: str) -> Patient | None:
    return Patient.objects.select_related("registered_practice").filter(nhs_number=nhs_number).first()


def patient_for_booking(nhs_number: str) -> tuple[Patient, str] | None:
    """The patient (id, NHS number, registered practice) and their practice's ODS code, in one query.

    For the booking hot path: the access decision needs only the registered practice, and the
    FHIR answer only the ODS code, so no full rows are built.
    """
    row = hot_path_read(PATIENT_FOR_BOOKING_SQL, [nhs_number])
    if row is None:
        return None
    return Patient(pk=row[0], nhs_number=nhs_number, registered_practice_id=row[1]), row[2]
