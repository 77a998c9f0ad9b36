"""Shaping collab's records as FHIR R4 / UK Core resources, and FHIR errors."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.http import JsonResponse

LONDON = ZoneInfo("Europe/London")
NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
DELIVERY_CHANNEL_URL = "https://fhir.nhs.uk/StructureDefinition/Extension-GPConnect-DeliveryChannel-2"
ERROR_SYSTEM = "https://fhir.nhs.uk/CodeSystem/Spine-ErrorOrWarningCode"
FHIR_JSON = "application/fhir+json"

ISSUE_TYPE = {
    "INVALID_RESOURCE": "invalid",
    "INVALID_NHS_NUMBER": "value",
    "INVALID_PARAMETER": "invalid",
    "BAD_REQUEST": "invalid",
    "DUPLICATE_REJECTED": "duplicate",
    "NO_RECORD_FOUND": "not-found",
    "ACCESS_DENIED": "forbidden",
    "INVALID_REQUEST": "invalid",
    "UNAUTHORIZED": "login",
}


def instant(value: dt.datetime) -> str:
    """UK local time with its offset (+00:00 in winter, +01:00 in summer), as GP Connect expects."""
    return value.astimezone(LONDON).isoformat(timespec="seconds")


def operation_outcome(code: str, diagnostics: str) -> dict:
    return {
        "resourceType": "OperationOutcome",
        "meta": {"profile": ["https://fhir.nhs.uk/StructureDefinition/NHSDigital-OperationOutcome"]},
        "issue": [
            {
                "severity": "error",
                "code": ISSUE_TYPE.get(code, "processing"),
                "details": {"coding": [{"system": ERROR_SYSTEM, "code": code, "display": code.replace("_", " ").title()}]},
                "diagnostics": diagnostics,
            }
        ],
    }


def error_response(status: int, code: str, diagnostics: str) -> JsonResponse:
    return JsonResponse(operation_outcome(code, diagnostics), status=status, content_type=FHIR_JSON)


def bundle(resources: list[dict], base: str) -> dict:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [{"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r} for r in resources],
    }


def patient_resource(p) -> dict:
    resource = {
        "resourceType": "Patient",
        "id": str(p.pk),
        "meta": {"profile": ["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"]},
        "identifier": [{"system": NHS_NUMBER_SYSTEM, "value": p.nhs_number}],
        "name": [{"use": "official", "family": p.family_name, "given": [p.given_name]}],
        "birthDate": p.date_of_birth.isoformat(),
        "generalPractitioner": [
            {"type": "Organization", "identifier": {"system": ODS_SYSTEM, "value": p.registered_practice.ods_code}}
        ],
    }
    if p.phone:
        resource["telecom"] = [{"system": "phone", "value": p.phone, "use": "mobile"}]
    return resource


def slot_resource(s: dict) -> dict:
    """``s`` is a values() row: id, session_id, starts_at, ends_at, channel, clinician_role, status."""
    from collab.booking.models import FHIR_DELIVERY_CHANNEL

    return {
        "resourceType": "Slot",
        "id": str(s["id"]),
        "meta": {"profile": ["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Slot"]},
        "extension": [{"url": DELIVERY_CHANNEL_URL, "valueCode": FHIR_DELIVERY_CHANNEL[s["channel"]]}],
        "serviceType": [{"text": "Remote hub"}],
        "appointmentType": {"text": s["clinician_role"]},
        "schedule": {"reference": f"Schedule/{s['session_id']}"},
        "status": "free" if s["status"] == "free" else "busy",
        "start": instant(s["starts_at"]),
        "end": instant(s["ends_at"]),
    }


APPOINTMENT_STATUS = {
    "booked": "booked",
    "arrived": "arrived",
    "fulfilled": "fulfilled",
    "cancelled": "cancelled",
    "noshow": "noshow",
}


def appointment_resource(*, appointment_id: int, slot_id: int, patient_id: int, nhs_number: str, status: str,
                         starts_at: dt.datetime, ends_at: dt.datetime, created_at: dt.datetime, reason: str,
                         practice_ods: str, cancellation_reason: str = "") -> dict:
    resource = {
        "resourceType": "Appointment",
        "id": str(appointment_id),
        "meta": {"profile": ["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Appointment"]},
        "status": APPOINTMENT_STATUS[status],
        "description": reason,
        "start": instant(starts_at),
        "end": instant(ends_at),
        "created": instant(created_at),
        "slot": [{"reference": f"Slot/{slot_id}"}],
        "participant": [
            {
                "actor": {"reference": f"Patient/{patient_id}",
                          "identifier": {"system": NHS_NUMBER_SYSTEM, "value": nhs_number}},
                "status": "accepted",
            }
        ],
        "extension": [
            {"url": "https://fhir.nhs.uk/StructureDefinition/Extension-GPConnect-BookingOrganisation-1",
             "valueReference": {"identifier": {"system": ODS_SYSTEM, "value": practice_ods}}}
        ],
    }
    if cancellation_reason:
        resource["cancelationReason"] = {"text": cancellation_reason}
    return resource
