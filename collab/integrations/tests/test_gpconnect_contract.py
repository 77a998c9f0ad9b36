"""Contract test: the fake GP Connect provider answers in the published shapes.

Checks the fake's Bundle against the FHIR STU3 models (fhir.resources.STU3) and the GP Connect
Access Record: Structured rules the adapter relies on: the Bundle and resource profiles, the
List codes per clinical area, List mode/status/subject, references that resolve, the NHS number
and ODS identifier systems, SNOMED CT codes, and the request the adapter sends (Parameters, Spine
headers, the interaction id). If the real service's shapes change, this is what must change with
them, and the adapter tests follow.
"""

from __future__ import annotations

import datetime as dt

import jwt
import pytest
from fhir.resources.STU3.bundle import Bundle
from fhir.resources.STU3.parameters import Parameters

from collab.integrations import gpconnect as gpc
from collab.records.snomed import is_concept_id

TODAY = dt.date(2026, 5, 1)
NOW = dt.datetime(2026, 5, 1, 22, 30, tzinfo=dt.UTC)
PATIENTS = {f"99900{n:05d}": "M81026" for n in range(0, 40)}


@pytest.fixture
def fake():
    return gpc.FakeGpConnectProvider(practices={"M81026": ("Hereford Medical Group", "EMIS Web")},
                                     registered=PATIENTS, today=TODAY)


def _request(fake, nhs_number):
    adapter = gpc.GpConnectAdapter(fake)
    return adapter, adapter.headers(ods_code="M81026", now=NOW, user_id="42", user_role="gp")


@pytest.mark.parametrize("nhs_number", list(PATIENTS)[:20])
def test_fake_bundle_is_a_valid_stu3_structured_record(fake, nhs_number):
    bundle = fake.bundle(nhs_number=nhs_number, ods_code="M81026")
    Bundle.model_validate(bundle)  # FHIR STU3 structure and datatypes
    assert bundle["type"] == "collection"
    assert bundle["meta"]["profile"] == [gpc.BUNDLE_PROFILE]
    resources = {f"{e['resource']['resourceType']}/{e['resource']['id']}": e["resource"] for e in bundle["entry"]}
    for ref, r in resources.items():
        assert r["meta"]["profile"] == [gpc.PROFILE.format(gpc.PROFILES[r["resourceType"]])], ref
    patients = [r for r in resources.values() if r["resourceType"] == "Patient"]
    assert len(patients) == 1
    assert patients[0]["identifier"][0] == {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": nhs_number}
    org = resources[patients[0]["managingOrganization"]["reference"]]
    assert {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "M81026"} in org["identifier"]
    lists = [r for r in resources.values() if r["resourceType"] == "List"]
    codes = [lst["code"]["coding"][0]["code"] for lst in lists]
    assert sorted(codes) == sorted([gpc.LIST_PROBLEMS, gpc.LIST_MEDICATIONS, gpc.LIST_ALLERGIES,
                                    gpc.LIST_CONSULTATIONS])
    expected_types = {gpc.LIST_PROBLEMS: "Condition", gpc.LIST_MEDICATIONS: "MedicationStatement",
                      gpc.LIST_ALLERGIES: "AllergyIntolerance", gpc.LIST_CONSULTATIONS: "Encounter"}
    for lst in lists:
        code = lst["code"]["coding"][0]
        assert code["system"] == "http://snomed.info/sct" and is_concept_id(code["code"])
        assert (lst["status"], lst["mode"]) == ("current", "snapshot")
        assert lst["subject"]["reference"] == f"Patient/{patients[0]['id']}"
        if not lst.get("entry"):
            assert lst["emptyReason"]["coding"][0]["code"] == "no-content-recorded"
        for e in lst.get("entry", []):
            target = resources[e["item"]["reference"]]  # every reference resolves within the Bundle
            assert target["resourceType"] == expected_types[code["code"]]
    for r in resources.values():
        for codeable in (r.get("code", {}),):
            for coding in codeable.get("coding", []):
                if coding.get("system") == "http://snomed.info/sct":
                    assert is_concept_id(coding["code"]), coding
        if r["resourceType"] == "MedicationStatement":
            assert r["medicationReference"]["reference"] in resources
            assert r["status"] in {"active", "completed", "stopped"}
        if r["resourceType"] == "Condition":
            assert r["category"][0]["coding"][0]["code"] == "problem-list-item"


def test_adapter_request_is_the_published_operation(fake):
    adapter, headers = _request(fake, "9990000000")
    body = gpc.structured_record_request(nhs_number="9990000000", today=TODAY)
    Parameters.model_validate(body)
    names = [p["name"] for p in body["parameter"]]
    assert names[0] == "patientNHSNumber"
    assert {"includeAllergies", "includeMedication", "includeProblems", "includeConsultations"} <= set(names)
    assert headers["Ssp-InteractionID"] == "urn:nhs:names:services:gpconnect:fhir:operation:gpc.getstructuredrecord-1"
    assert headers["Ssp-From"] and headers["Ssp-To"] and headers["Ssp-TraceID"]
    token = jwt.decode(headers["Authorization"].removeprefix("Bearer "), options={"verify_signature": False})
    assert token["reason_for_request"] == "directcare" and token["requested_scope"] == "patient/*.read"
    assert token["exp"] - token["iat"] <= 300


def test_adapter_reads_every_item_with_source_and_date(fake):
    summary = gpc.GpConnectAdapter(fake).practice_summary(nhs_number="9990000007", ods_code="M81026", now=NOW)
    assert summary.source == "Hereford Medical Group (EMIS Web, GP Connect)"
    assert summary.encounters, "the fake always has at least one encounter"
    for item in [*summary.problems, *summary.medications, *summary.allergies, *summary.encounters]:
        assert item.text and item.date is not None and item.date <= TODAY
    assert fake.requests[-1]["body"]["parameter"][0]["valueIdentifier"]["value"] == "9990000007"


def test_patient_is_only_found_at_their_registered_practice(fake):
    fake.practices["M81012"] = ("Ledbury Health Partnership", "EMIS Web")
    with pytest.raises(gpc.GpConnectError, match="PATIENT_NOT_FOUND"):
        gpc.GpConnectAdapter(fake).practice_summary(nhs_number="9990000007", ods_code="M81012", now=NOW)


def test_fake_refuses_requests_without_spine_headers(fake):
    with pytest.raises(gpc.GpConnectError, match="BAD_REQUEST"):
        fake.post(ods_code="M81026", headers={}, body={})
