from __future__ import annotations

from collab.core.db import hot_path_read
from collab.patients.models import Patient


def patient_by_nhs_number(nhs_number: str) -> Patient | None:
    return Patient.objects.select_related("registered_practice").filter(nhs_number=nhs_number).first()


# Plain SQL: the ORM spends more CPU building this query than the database spends answering it.
_PATIENT_FOR_BOOKING_SQL = (
    "SELECT p.id, p.registered_practice_id, o.ods_code FROM patients_patient p "
    "JOIN organisations_organisation o ON o.id = p.registered_practice_id WHERE p.nhs_number = %s"
)


def patient_for_booking(nhs_number: str) -> tuple[Patient, str] | None:
    """The patient (id, NHS number, registered practice) and their practice's ODS code, in one query.

    For the booking hot path: the access decision needs only the registered practice, and the
    FHIR answer only the ODS code, so no full rows are built.
    """
    row = hot_path_read(_PATIENT_FOR_BOOKING_SQL, [nhs_number])
    if row is None:
        return None
    return Patient(pk=row[0], nhs_number=nhs_number, registered_practice_id=row[1]), row[2]
