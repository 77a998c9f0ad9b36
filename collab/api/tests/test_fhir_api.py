import datetime as dt

import pytest
from django.utils import timezone
from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.slot import Slot as FhirSlot

from collab.accounts.models import Role
from collab.accounts.services import api_token_create
from collab.api import auth
from collab.booking.models import Appointment
from collab.core.models import AuditEvent
from collab.core.tests.factories import (
    CollaborativeFactory,
    PatientFactory,
    PracticeFactory,
    RoleAssignmentFactory,
    hub_session,
)

pytestmark = pytest.mark.django_db
NHS = "https://fhir.nhs.uk/Id/nhs-number"


@pytest.fixture(autouse=True)
def _fresh_token_cache():
    auth._cache.clear()


@pytest.fixture
def reception():
    return RoleAssignmentFactory(organisation=PracticeFactory(), role=Role.CARE_NAVIGATOR)


@pytest.fixture
def headers(reception):
    return {"HTTP_AUTHORIZATION": f"Bearer {api_token_create(assignment=reception)}"}


@pytest.fixture
def patient(reception):
    return PatientFactory(registered_practice=reception.organisation)


def _window(days=2):
    start = timezone.now()
    return {"status": "free", "start": "ge" + start.isoformat(timespec="seconds"),
            "end": "le" + (start + dt.timedelta(days=days)).isoformat(timespec="seconds")}


def _body(slot_id, nhs_number, **over):
    body = {"resourceType": "Appointment", "status": "booked", "description": "Sore throat",
            "slot": [{"reference": f"Slot/{slot_id}"}],
            "participant": [{"actor": {"identifier": {"system": NHS, "value": nhs_number}}}]}
    body.update(over)
    return body


def _code(response):
    OperationOutcome.model_validate(response.json())
    return response.json()["issue"][0]["details"]["coding"][0]["code"]


def test_requests_without_a_token_are_unauthorised(client):
    r = client.get("/fhir/Slot", _window())
    assert r.status_code == 401 and _code(r) == "UNAUTHORIZED"
    r = client.get("/fhir/Slot", _window(), HTTP_AUTHORIZATION="Bearer nonsense")
    assert r.status_code == 401


def test_patient_search_finds_own_patient_and_audits(client, headers, patient):
    r = client.get("/fhir/Patient", {"identifier": f"{NHS}|{patient.nhs_number}"}, **headers)
    assert r.status_code == 200
    bundle = Bundle.model_validate(r.json())
    assert bundle.total == 1
    resource = r.json()["entry"][0]["resource"]
    FhirPatient.model_validate(resource)
    assert resource["identifier"][0] == {"system": NHS, "value": patient.nhs_number}
    assert AuditEvent.objects.filter(action="patient.view", patient_id=patient.pk, outcome="allowed").count() == 1


def test_patient_search_refuses_other_practice_and_audits(client, headers):
    stranger = PatientFactory()
    r = client.get("/fhir/Patient", {"identifier": f"{NHS}|{stranger.nhs_number}"}, **headers)
    assert r.status_code == 403 and _code(r) == "ACCESS_DENIED"
    assert AuditEvent.objects.filter(patient_id=stranger.pk, outcome="refused").count() == 1


@pytest.mark.parametrize("identifier", [f"{NHS}|9434765918", f"{NHS}|12345", f"{NHS}|1111111111"])
def test_patient_search_rejects_bad_nhs_number(client, headers, identifier):
    r = client.get("/fhir/Patient", {"identifier": identifier}, **headers)
    assert r.status_code == 400 and _code(r) == "INVALID_NHS_NUMBER"


def test_patient_search_needs_the_nhs_number_system(client, headers):
    r = client.get("/fhir/Patient", {"identifier": "9434765919"}, **headers)
    assert r.status_code == 400 and _code(r) == "INVALID_PARAMETER"


def test_slot_search_returns_uk_core_slots(client, headers):
    session = hub_session()
    r = client.get("/fhir/Slot", _window(), **headers)
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/fhir+json")
    data = r.json()
    Bundle.model_validate(data)
    assert data["total"] == 4
    slot = data["entry"][0]["resource"]
    FhirSlot.model_validate(slot)
    assert slot["schedule"] == {"reference": f"Schedule/{session.pk}"}
    assert slot["extension"][0]["valueCode"] == "Telephone"
    assert slot["start"][-6:] in ("+00:00", "+01:00")


def test_slot_search_hides_slots_reserved_for_other_practices(client, headers):
    hub_session(reserved_for=PracticeFactory())
    r = client.get("/fhir/Slot", _window(), **headers)
    assert r.json()["total"] == 0


@pytest.mark.parametrize(
    "params",
    [
        {"status": "busy", "start": "ge2026-12-01", "end": "le2026-12-02"},
        {"status": "free", "start": "2026-12-01", "end": "le2026-12-02"},
        {"status": "free", "start": "ge2026-12-01", "end": "le2027-01-30"},
        {"status": "free", "start": "gexyz", "end": "le2026-12-02"},
        {"status": "free", "start": "ge2026-12-05", "end": "le2026-12-02"},
        {"status": "free", "start": "ge2026-12-01"},
    ],
)
def test_slot_search_rejects_bad_parameters(client, headers, params):
    r = client.get("/fhir/Slot", params, **headers)
    assert r.status_code == 400
    assert _code(r) == "INVALID_PARAMETER"


def test_booking_returns_201_then_409(client, headers, patient):
    slot = hub_session().slots.first()
    r = client.post("/fhir/Appointment", _body(slot.pk, patient.nhs_number), content_type="application/fhir+json", **headers)
    assert r.status_code == 201, r.content
    FhirAppointment.model_validate(r.json())
    assert r.json()["status"] == "booked" and r.json()["slot"] == [{"reference": f"Slot/{slot.pk}"}]
    assert r.json()["start"][-6:] in ("+00:00", "+01:00")
    r2 = client.post("/fhir/Appointment", _body(slot.pk, patient.nhs_number), content_type="application/json", **headers)
    assert r2.status_code == 409 and _code(r2) == "DUPLICATE_REJECTED"
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize(
    "body",
    [
        {"resourceType": "Patient"},
        {"resourceType": "Appointment", "slot": [], "participant": [], "description": "x"},
        {"resourceType": "Appointment", "slot": [{"reference": "Slot/1"}], "participant": [{"actor": {}}]},
        {"resourceType": "Appointment", "slot": [{"reference": "Practitioner/1"}], "description": "x",
         "participant": [{"actor": {"identifier": {"system": NHS, "value": "9434765919"}}}]},
        {"resourceType": "Appointment", "slot": [{"reference": "Slot/1"}], "description": "x" * 201,
         "participant": [{"actor": {"identifier": {"system": NHS, "value": "9434765919"}}}]},
        {"resourceType": "Appointment", "slot": [{"reference": "Slot/1"}], "description": "x",
         "participant": [{"actor": {"reference": "Patient/1"}}]},
    ],
)
def test_malformed_booking_is_422_and_changes_nothing(client, headers, body):
    r = client.post("/fhir/Appointment", body, content_type="application/json", **headers)
    assert r.status_code == 422, r.content
    assert _code(r) == "INVALID_RESOURCE"
    assert not Appointment.objects.exists()


def test_non_json_body_is_rejected(client, headers):
    r = client.post("/fhir/Appointment", "{not json", content_type="application/json", **headers)
    assert r.status_code in (400, 422)
    assert not Appointment.objects.exists()


def test_booking_with_invalid_nhs_number_is_400(client, headers):
    slot = hub_session().slots.first()
    r = client.post("/fhir/Appointment", _body(slot.pk, "9434765918"), content_type="application/json", **headers)
    assert r.status_code == 400 and _code(r) == "INVALID_NHS_NUMBER"


def test_booking_a_past_slot_is_refused(client, headers, patient):
    slot = hub_session(start=timezone.now() - dt.timedelta(hours=3)).slots.first()
    r = client.post("/fhir/Appointment", _body(slot.pk, patient.nhs_number), content_type="application/json", **headers)
    assert r.status_code == 422 and "already started" in r.json()["issue"][0]["diagnostics"]
    assert not Appointment.objects.exists()


def test_booking_another_practices_patient_is_403(client, headers):
    slot = hub_session().slots.first()
    r = client.post("/fhir/Appointment", _body(slot.pk, PatientFactory().nhs_number), content_type="application/json", **headers)
    assert r.status_code == 403 and _code(r) == "ACCESS_DENIED"


def test_read_and_cancel_an_appointment(client, headers, patient):
    slot = hub_session().slots.first()
    created = client.post("/fhir/Appointment", _body(slot.pk, patient.nhs_number), content_type="application/json", **headers)
    appointment_id = created.json()["id"]
    r = client.get(f"/fhir/Appointment/{appointment_id}", **headers)
    assert r.status_code == 200 and r.json()["id"] == appointment_id
    cancel = {"resourceType": "Appointment", "status": "cancelled", "cancelationReason": "Feeling better"}
    r = client.put(f"/fhir/Appointment/{appointment_id}", cancel, content_type="application/json", **headers)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert r.json()["cancelationReason"] == {"text": "Feeling better"}
    r = client.put(f"/fhir/Appointment/{appointment_id}", cancel, content_type="application/json", **headers)
    assert r.status_code == 409
    assert client.get("/fhir/Appointment/999999", **headers).status_code == 404


def test_hub_clinician_token_reads_appointment_only_with_relationship(client, patient, reception):
    slot = hub_session().slots.first()
    token = api_token_create(assignment=reception)
    created = client.post("/fhir/Appointment", _body(slot.pk, patient.nhs_number), content_type="application/json",
                          HTTP_AUTHORIZATION=f"Bearer {token}")
    hub_gp = RoleAssignmentFactory(organisation=CollaborativeFactory(), role=Role.GP)
    hub_headers = {"HTTP_AUTHORIZATION": f"Bearer {api_token_create(assignment=hub_gp)}"}
    assert client.get(f"/fhir/Appointment/{created.json()['id']}", **hub_headers).status_code == 200
    other = PatientFactory()
    r = client.get("/fhir/Patient", {"identifier": f"{NHS}|{other.nhs_number}"}, **hub_headers)
    assert r.status_code == 403


def test_openapi_schema_is_published(client):
    r = client.get("/fhir/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    assert {"/fhir/Patient", "/fhir/Slot", "/fhir/Appointment", "/fhir/Appointment/{appointment_id}"} <= set(paths)


def test_fhir_output_has_no_nulls(client, headers, patient):
    slot = hub_session().slots.first()
    r = client.post("/fhir/Appointment", _body(slot.pk, patient.nhs_number), content_type="application/json", **headers)
    assert b"null" not in r.content
    assert "cancelationReason" not in r.json()
