from __future__ import annotations

import datetime as dt

from django.db import connection

from collab.booking.sql import PATIENT_FOR_BOOKING_SQL
from collab.core.db import hot_path_read
from collab.organisations.models import Organisation
from collab.patients.models import Patient

_PATIENT_COLUMNS = ("id", "nhs_number", "given_name", "family_name", "date_of_birth", "phone", "email",
                    "registered_practice_id")
# The FHIR Patient search (one request in ten at 08:00): the patient's row and their practice's
# ODS code, in one prepared statement that doubles as the request's health check.
_PATIENT_FOR_FHIR_SQL = (
    "SELECT p.id, p.nhs_number, p.given_name, p.family_name, p.date_of_birth, p.phone, p.email, "
    "p.registered_practice_id, o.ods_code FROM patients_patient p "
    "JOIN organisations_organisation o ON o.id = p.registered_practice_id WHERE p.nhs_number = %s"
)


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


def patient_for_fhir(nhs_number: str) -> Patient | None:
    """The patient, with their registered practice holding only its ODS code (other fields load on
    first use), for the FHIR Patient search: plain SQL, as patient_for_booking (ADR 0006)."""
    row = hot_path_read(_PATIENT_FOR_FHIR_SQL, [nhs_number])
    if row is None:
        return None
    values = list(row[:-1])
    if isinstance(values[4], str):  # SQLite returns dates as text through a raw cursor
        values[4] = dt.date.fromisoformat(values[4])
    patient = Patient.from_db(connection.alias, _PATIENT_COLUMNS, values)
    patient.registered_practice = Organisation.from_db(connection.alias, ["id", "ods_code"], [row[7], row[8]])
    return patient
