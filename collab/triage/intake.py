"""The intake API: NHS 111 and A&E streaming refer a patient with their own assessment.

``POST /triage/intake/referrals`` with ``Authorization: Bearer <referring service token>``.
The body is checked in full before anything is written; one transaction writes the request and
its triage (the referrer's assessment: nobody here triages it again). Errors are JSON:
``{"errors": [{"field": "...", "message": "..."}]}`` with 400 (malformed or invalid body),
401 (token), 409 (referral already received) or 422 (unknown practice or patient).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import JsonResponse
from ninja import NinjaAPI, Schema, Status
from ninja.errors import AuthenticationError, ValidationError
from ninja.security import HttpBearer
from pydantic import ConfigDict, Field

from collab.booking.models import DeliveryChannel
from collab.triage import services
from collab.triage.models import Route, Urgency

TEXT = 2000


class Strict(Schema):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PatientIn(Strict):
    nhs_number: str = Field(min_length=1, max_length=14, description="10 digits; spaces allowed")
    date_of_birth: dt.date
    phone: str = Field(default="", max_length=32, description="A number to call or text the patient on")


class AssessmentIn(Strict):
    urgency: Literal[tuple(Urgency.values)]  # type: ignore[valid-type]
    route: Literal[tuple(Route.values)]  # type: ignore[valid-type]
    reason: str = Field(min_length=1, max_length=TEXT, description="The clinical reasoning for the disposition")
    safety_netting: str = Field(min_length=1, max_length=TEXT, description="Advice given to the patient")
    disposition_code: str = Field(default="", max_length=16, description="e.g. the NHS Pathways Dx code")
    assessed_by: str = Field(default="", max_length=100)
    assessed_at: dt.datetime | None = None


class ReferralIn(Strict):
    referral_id: str = Field(min_length=1, max_length=64, description="The referrer's own case id; sent once")
    practice_ods: str = Field(min_length=1, max_length=12, description="The patient's registered practice")
    patient: PatientIn
    presenting_complaint: str = Field(min_length=1, max_length=TEXT)
    assessment: AssessmentIn
    preferred_channel: Literal[("", *DeliveryChannel.values)] = ""  # type: ignore[valid-type]


class TriageOut(Schema):
    urgency: str
    route: str
    rule_set_version: int
    service: str | None


class ReferralOut(Schema):
    reference: str
    status: str
    respond_by: dt.datetime
    triage: TriageOut


class ErrorOut(Schema):
    errors: list[dict]


class ReferrerToken(HttpBearer):
    def authenticate(self, request, token: str):
        referrer = services.referrer_for_token(token)
        if referrer is not None:
            request.referrer = referrer
        return referrer


intake_api = NinjaAPI(
    title="collab triage intake API",
    version="1.0.0",
    description="NHS 111 and A&E streaming referrals, each carrying the referring service's assessment.",
    auth=ReferrerToken(),
    urls_namespace="triage_intake",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def errors(status: int, *items: tuple[str, str]) -> JsonResponse:
    return JsonResponse({"errors": [{"field": f, "message": m} for f, m in items]}, status=status)


@intake_api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    items = []
    for e in exc.errors[:10]:
        loc = [str(p) for p in e.get("loc", ())]
        field = ".".join(loc[2:] if loc[:1] == ["body"] and len(loc) > 1 and loc[1] == "body" else loc[1:]) or "body"
        items.append((field, e.get("msg", "invalid")))
    return errors(400, *items)


@intake_api.exception_handler(AuthenticationError)
def on_auth_error(request, exc):
    response = errors(401, ("Authorization", "Send the referring service's token: Authorization: Bearer <token>"))
    response["WWW-Authenticate"] = "Bearer"
    return response


FIELD_NAMES = {"nhs_number": "patient.nhs_number", "practice": "practice_ods", "description": "presenting_complaint",
               "contact_phone": "patient.phone", "urgency": "assessment.urgency", "route": "assessment.route",
               "reason": "assessment.reason", "safety_netting": "assessment.safety_netting"}


@intake_api.post("/referrals", response={201: ReferralOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 409: ErrorOut,
                                         422: ErrorOut}, summary="Refer a patient with your assessment")
def referral_create(request, body: ReferralIn):
    a = body.assessment
    referral = services.Referral(
        practice_ods=body.practice_ods, nhs_number=body.patient.nhs_number, date_of_birth=body.patient.date_of_birth,
        urgency=a.urgency, route=a.route, reason=a.reason, safety_netting=a.safety_netting,
        description=body.presenting_complaint, external_reference=body.referral_id, contact_phone=body.patient.phone,
        preferred_channel=body.preferred_channel,
        assessment={"disposition_code": a.disposition_code, "assessed_by": a.assessed_by,
                    "assessed_at": a.assessed_at.isoformat() if a.assessed_at else None},
    )
    try:
        created = services.request_from_referral(referrer=request.referrer, referral=referral)
    except services.TriageError as e:
        return errors(e.http_status, (FIELD_NAMES.get(e.field, e.field or "body"), e.message))
    triage = created.current_triage
    return Status(201, {
        "reference": created.reference, "status": created.status, "respond_by": created.respond_by,
        "triage": {"urgency": triage.urgency, "route": triage.route, "rule_set_version": triage.rule_set.version,
                   "service": triage.service.name if triage.service else None},
    })
