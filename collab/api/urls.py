"""The FHIR R4 API. GP Connect-shaped: search free slots, book, read, cancel; find a patient."""

from __future__ import annotations

import datetime as dt
import json

from django.conf import settings
from ninja import NinjaAPI, Query, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.renderers import JSONRenderer

from collab.api import booking, fhir
from collab.api.auth import BearerToken
from collab.api.schemas import (
    AppointmentCancel,
    AppointmentIn,
    AppointmentOut,
    BundleOut,
    OperationOutcomeOut,
)
from collab.booking import services
from collab.booking.models import Appointment
from collab.booking.selectors import MAX_SEARCH_DAYS, slots_free_rows
from collab.patients.access import AccessDenied, Action, access_patient
from collab.patients.nhs_number import InvalidNhsNumber, validate
from collab.patients.selectors import patient_for_fhir


class FhirRenderer(JSONRenderer):
    media_type = fhir.FHIR_JSON


api = NinjaAPI(
    title="collab FHIR API",
    version="1.0.0",
    description=(
        "FHIR R4 (UK Core / GP Connect shaped) API of the collab remote hub. Authenticate with "
        "`Authorization: Bearer <token>`; `collab token USERNAME` prints one."
    ),
    auth=BearerToken(),
    renderer=FhirRenderer(),
    urls_namespace="fhir",
    docs_url="/docs",
    openapi_url="/openapi.json",
)

ERRORS = {400: OperationOutcomeOut, 401: OperationOutcomeOut, 403: OperationOutcomeOut, 404: OperationOutcomeOut,
          409: OperationOutcomeOut, 422: OperationOutcomeOut}


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    where = "; ".join(
        f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'body'}: {e.get('msg', 'invalid')}" for e in exc.errors[:5]
    )
    in_body = any(e.get("loc", ("",))[0] == "body" for e in exc.errors)
    if in_body:
        return fhir.error_response(422, "INVALID_RESOURCE", f"The resource is not valid: {where}")
    return fhir.error_response(400, "INVALID_PARAMETER", f"Invalid parameter: {where}")


@api.exception_handler(AuthenticationError)
def on_auth_error(request, exc):
    response = fhir.error_response(401, "UNAUTHORIZED", "Send a valid bearer token: Authorization: Bearer <token>")
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    return fhir.error_response(exc.status_code, "BAD_REQUEST", str(exc))


def _org_kind(request) -> str:
    return request.acting.organisation.kind


def _base(request) -> str:
    return request.build_absolute_uri("/fhir").rstrip("/")


def _nhs_number_from_identifier(identifier: str) -> str:
    system, sep, value = identifier.partition("|")
    if not sep or system != fhir.NHS_NUMBER_SYSTEM:
        raise _Fail(400, "INVALID_PARAMETER", f"identifier must be {fhir.NHS_NUMBER_SYSTEM}|<NHS number>")
    try:
        return validate(value, allow_test_range=settings.ALLOW_TEST_NHS_NUMBERS)
    except InvalidNhsNumber as e:
        raise _Fail(400, "INVALID_NHS_NUMBER", str(e)) from e


class _Fail(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@api.exception_handler(_Fail)
def on_fail(request, exc: _Fail):
    return fhir.error_response(exc.status, exc.code, exc.message)


@api.get("/Patient", response={200: BundleOut, **ERRORS}, summary="Find a patient by NHS number")
def patient_search(request, identifier: str = Query(..., max_length=100, description="https://fhir.nhs.uk/Id/nhs-number|NNNNNNNNNN")):
    nhs_number = _nhs_number_from_identifier(identifier)
    patient = patient_for_fhir(nhs_number)
    if patient is None:
        return Status(200, fhir.bundle([], _base(request)))
    try:
        access_patient(actor=request.actor, actor_org_kind=_org_kind(request), patient=patient, action=Action.VIEW,
                       object_type="patient", object_id=patient.pk)
    except AccessDenied as e:
        raise _Fail(403, "ACCESS_DENIED", f"Access to this patient's record is refused: {e.reason}") from e
    return Status(200, fhir.bundle([fhir.patient_resource(patient)], _base(request)))


def _parse_bound(value: str, prefix: str, name: str) -> dt.datetime:
    if not value.startswith(prefix):
        raise _Fail(400, "INVALID_PARAMETER", f"{name} must start with '{prefix}', for example {name}={prefix}2026-12-01T08:00:00+00:00")
    raw = value[len(prefix):]
    try:
        parsed = dt.datetime.fromisoformat(raw) if "T" in raw else dt.datetime.combine(dt.date.fromisoformat(raw), dt.time.min)
    except ValueError as e:
        raise _Fail(400, "INVALID_PARAMETER", f"{name} is not a valid date or date-time: {raw!r}") from e
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=fhir.LONDON)
    return parsed


@api.get("/Slot", response={200: BundleOut, **ERRORS}, summary="Search free hub slots (14 days at most)")
def slot_search(
    request,
    status: str = Query(..., max_length=16, description="Must be 'free'"),
    start: str = Query(..., max_length=40, description="ge<date or date-time>"),
    end: str = Query(..., max_length=40, description="le<date or date-time>"),
    count: int = Query(100, ge=1, le=500, alias="_count"),
):
    if status != "free":
        raise _Fail(400, "INVALID_PARAMETER", "status must be 'free'")
    lo = _parse_bound(start, "ge", "start")
    hi = _parse_bound(end, "le", "end")
    if hi < lo:
        raise _Fail(400, "INVALID_PARAMETER", "end must not be before start")
    if hi - lo > dt.timedelta(days=MAX_SEARCH_DAYS):
        raise _Fail(400, "INVALID_PARAMETER", f"Search at most {MAX_SEARCH_DAYS} days at a time")
    org = request.acting.organisation
    rows = slots_free_rows(practice_id=org.pk if org.kind == "practice" else None, start=lo, end=hi, limit=count)
    return Status(200, fhir.bundle([fhir.slot_resource(r) for r in rows], _base(request)))


@api.post("/Appointment", response={201: AppointmentOut, **ERRORS}, summary="Book a free slot", exclude_none=True)
def appointment_book(request, body: AppointmentIn):
    # Served by collab.api.booking.appointment_create (mounted ahead of this API: the lean hot
    # path, docs/adr/0006-booking-hot-path.md); this operation documents the contract and shares
    # the implementation.
    return booking.book(assignment=request.acting, actor=request.actor, body=body)


def _appointment_or_404(appointment_id: int) -> Appointment:
    appointment = Appointment.objects.select_related("slot", "patient", "practice").filter(pk=appointment_id).first()
    if appointment is None:
        raise _Fail(404, "NO_RECORD_FOUND", f"There is no appointment {appointment_id}")
    return appointment


def _appointment_out(a: Appointment) -> dict:
    return fhir.appointment_resource(
        appointment_id=a.pk, slot_id=a.slot_id, patient_id=a.patient_id, nhs_number=a.patient.nhs_number,
        status=a.status, starts_at=a.slot.starts_at, ends_at=a.slot.ends_at, created_at=a.created_at,
        reason=a.reason, practice_ods=a.practice.ods_code, cancellation_reason=a.cancellation_reason,
    )


@api.get("/Appointment/{appointment_id}", response={200: AppointmentOut, **ERRORS}, summary="Read an appointment", exclude_none=True)
def appointment_read(request, appointment_id: int):
    appointment = _appointment_or_404(appointment_id)
    try:
        access_patient(actor=request.actor, actor_org_kind=_org_kind(request), patient=appointment.patient,
                       action=Action.VIEW, object_type="appointment", object_id=appointment.pk)
    except AccessDenied as e:
        raise _Fail(403, "ACCESS_DENIED", f"Access refused: {e.reason}") from e
    return Status(200, _appointment_out(appointment))


@api.put("/Appointment/{appointment_id}", response={200: AppointmentOut, **ERRORS}, exclude_none=True,
         summary="Cancel an appointment (status cancelled with a cancellation reason)")
def appointment_cancel(request, appointment_id: int, body: AppointmentCancel):
    appointment = _appointment_or_404(appointment_id)
    reason = body.cancelationReason if isinstance(body.cancelationReason, str) else str(body.cancelationReason.get("text", ""))
    try:
        appointment = services.appointment_cancel(actor=request.actor, actor_org_kind=_org_kind(request),
                                                  appointment=appointment, reason=reason)
    except services.BookingError as e:
        raise _Fail(e.http_status, e.code, e.message) from e
    return Status(200, _appointment_out(appointment))


def openapi_json() -> str:
    return json.dumps(api.get_openapi_schema(), indent=2)
