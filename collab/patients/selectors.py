from __future__ import annotations

from collab.patients.models import Patient


def patient_by_nhs_number(nhs_number: str) -> Patient | None:
    return Patient.objects.select_related("registered_practice").filter(nhs_number=nhs_number).first()
