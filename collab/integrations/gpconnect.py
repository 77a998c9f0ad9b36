"""GP Connect Access Record: Structured — the registered practice's record, read through Spine.

``GpConnectAdapter.practice_summary`` asks the practice's clinical system for problems,
medications, allergies and recent consultations (``POST /Patient/$gpc.getstructuredrecord`` with
a FHIR STU3 Parameters resource) and turns the Bundle it answers into a ``PracticeSummary``:
items each marked with their source (the practice and its clinical system) and date.

The transport is swappable. ``FakeGpConnectProvider`` is the verified fake used by the demo and
the tests: it answers with synthetic records shaped like the published
GPConnect-StructuredRecord-Bundle-1 (see tests/test_gpconnect_contract.py, which checks it
against the FHIR STU3 models and the GP Connect profile rules). ``HttpTransport`` is the real
thing's shape (Spine Secure Proxy headers, unsigned JWT bearer, as the GP Connect spec asks).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Protocol

import jwt

INTERACTION_ID = "urn:nhs:names:services:gpconnect:fhir:operation:gpc.getstructuredrecord-1"
OPERATION_PATH = "/Patient/$gpc.getstructuredrecord"
NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
SNOMED = "http://snomed.info/sct"
PROFILE = "https://fhir.nhs.uk/STU3/StructureDefinition/{}"
BUNDLE_PROFILE = PROFILE.format("GPConnect-StructuredRecord-Bundle-1")

# The SNOMED CT codes of the Lists that head each clinical area in the response.
LIST_ALLERGIES = "886921000000105"
LIST_ENDED_ALLERGIES = "1103671000000101"
LIST_MEDICATIONS = "933361000000108"
LIST_PROBLEMS = "717711000000103"
LIST_CONSULTATIONS = "1149501000000101"
LIST_TITLES = {
    LIST_ALLERGIES: "Allergies and adverse reactions",
    LIST_ENDED_ALLERGIES: "Ended allergies",
    LIST_MEDICATIONS: "Medications and medical devices",
    LIST_PROBLEMS: "Problems",
    LIST_CONSULTATIONS: "Consultations",
}
# The profile each resource type in the Bundle declares.
PROFILES = {
    "Patient": "CareConnect-GPC-Patient-1",
    "Organization": "CareConnect-GPC-Organization-1",
    "Practitioner": "CareConnect-GPC-Practitioner-1",
    "List": "CareConnect-GPC-List-1",
    "AllergyIntolerance": "CareConnect-GPC-AllergyIntolerance-1",
    "MedicationStatement": "CareConnect-GPC-MedicationStatement-1",
    "Medication": "CareConnect-GPC-Medication-1",
    "Condition": "CareConnect-GPC-ProblemHeader-Condition-1",
    "Encounter": "CareConnect-GPC-Encounter-1",
}


class GpConnectError(Exception):
    """The practice's system could not answer (down, refused, or the patient is not there)."""


# ---------------------------------------------------------------- what the pages use


@dataclass(frozen=True, slots=True)
class PracticeItem:
    text: str
    date: dt.date | None
    detail: str = ""
    code: str = ""


@dataclass(frozen=True, slots=True)
class PracticeSummary:
    practice_ods: str
    practice_name: str
    system: str
    retrieved_at: dt.datetime
    problems: list[PracticeItem] = field(default_factory=list)
    medications: list[PracticeItem] = field(default_factory=list)
    allergies: list[PracticeItem] = field(default_factory=list)
    encounters: list[PracticeItem] = field(default_factory=list)

    @property
    def source(self) -> str:
        return f"{self.practice_name} ({self.system}, GP Connect)"


# ---------------------------------------------------------------- the request


def structured_record_request(*, nhs_number: str, today: dt.date, consultations: int = 5) -> dict:
    """The Parameters resource asking for problems, medication, allergies and recent consultations."""
    return {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "patientNHSNumber", "valueIdentifier": {"system": NHS_NUMBER_SYSTEM, "value": nhs_number}},
            {"name": "includeAllergies", "part": [{"name": "includeResolvedAllergies", "valueBoolean": False}]},
            {"name": "includeMedication", "part": [
                {"name": "includePrescriptionIssues", "valueBoolean": False},
                {"name": "medicationSearchFromDate", "valueDate": (today - dt.timedelta(days=365)).isoformat()},
            ]},
            {"name": "includeProblems", "part": [{"name": "filterStatus", "valueCode": "active"}]},
            {"name": "includeConsultations", "part": [
                {"name": "includeNumberOfMostRecent", "valueInteger": consultations},
            ]},
        ],
    }


class Transport(Protocol):
    def post(self, *, ods_code: str, headers: dict[str, str], body: dict) -> dict: ...


def _resources(bundle: dict) -> dict[str, dict]:
    out = {}
    for entry in bundle.get("entry", []):
        r = entry.get("resource", {})
        out[f"{r.get('resourceType')}/{r.get('id')}"] = r
    return out


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    return dt.date.fromisoformat(value[:10])


def _concept(codeable: dict) -> tuple[str, str]:
    coding = next((c for c in codeable.get("coding", []) if c.get("system") == SNOMED), {})
    return codeable.get("text") or coding.get("display", ""), coding.get("code", "")


def parse_structured_record(bundle: dict, *, ods_code: str, retrieved_at: dt.datetime) -> PracticeSummary:
    """Read the Lists of a GPConnect-StructuredRecord-Bundle into a PracticeSummary."""
    if bundle.get("resourceType") != "Bundle":
        raise GpConnectError("The practice's system did not answer with a Bundle")
    by_ref = _resources(bundle)
    org = next((r for r in by_ref.values() if r.get("resourceType") == "Organization"
                and any(i.get("value") == ods_code for i in r.get("identifier", []))), {})
    lists = {}
    for r in by_ref.values():
        if r.get("resourceType") == "List":
            _title, code = _concept(r.get("code", {}))
            lists[code] = [by_ref.get(e["item"]["reference"]) for e in r.get("entry", [])
                           if e.get("item", {}).get("reference") in by_ref]
    problems, medications, allergies, encounters = [], [], [], []
    for c in lists.get(LIST_PROBLEMS, []):
        text, code = _concept(c.get("code", {}))
        problems.append(PracticeItem(text, _date(c.get("onsetDateTime") or c.get("assertedDate")), "active", code))
    for m in lists.get(LIST_MEDICATIONS, []):
        med = by_ref.get(m.get("medicationReference", {}).get("reference", ""), {})
        text, code = _concept(med.get("code", {}))
        dosage = "; ".join(d.get("text", "") for d in m.get("dosage", []))
        medications.append(PracticeItem(text, _date(m.get("effectivePeriod", {}).get("start")), dosage, code))
    for a in lists.get(LIST_ALLERGIES, []):
        text, code = _concept(a.get("code", {}))
        reaction = "; ".join(_concept(x)[0] for r in a.get("reaction", []) for x in r.get("manifestation", []))
        allergies.append(PracticeItem(text, _date(a.get("assertedDate") or a.get("onsetDateTime")), reaction, code))
    for e in lists.get(LIST_CONSULTATIONS, []):
        kind = "; ".join(t.get("text", "") for t in e.get("type", []))
        who = ", ".join(p.get("individual", {}).get("display", "") for p in e.get("participant", []))
        encounters.append(PracticeItem(kind, _date(e.get("period", {}).get("start")), who))
    for items in (problems, medications, allergies, encounters):
        items.sort(key=lambda i: i.date or dt.date.min, reverse=True)
    return PracticeSummary(
        practice_ods=ods_code, practice_name=org.get("name", ods_code),
        system=next((x.get("valueString", "") for x in org.get("extension", [])
                     if x.get("url", "").endswith("clinical-system")), "") or "GP clinical system",
        retrieved_at=retrieved_at, problems=problems, medications=medications, allergies=allergies,
        encounters=encounters,
    )


class GpConnectAdapter:
    """Fetches a practice's summary. ``consumer_asid``/``consumer_ods`` identify collab on Spine."""

    def __init__(self, transport: Transport, *, consumer_asid: str = "200000000359", consumer_ods: str = "HGP01"):
        self.transport = transport
        self.consumer_asid = consumer_asid
        self.consumer_ods = consumer_ods

    def headers(self, *, ods_code: str, now: dt.datetime, user_id: str, user_role: str) -> dict[str, str]:
        return {
            "Ssp-TraceID": str(uuid.uuid4()),
            "Ssp-From": self.consumer_asid,
            "Ssp-To": provider_asid(ods_code),
            "Ssp-InteractionID": INTERACTION_ID,
            "Authorization": "Bearer " + access_token(now=now, user_id=user_id, user_role=user_role,
                                                      consumer_ods=self.consumer_ods),
            "Accept": "application/fhir+json",
            "Content-Type": "application/fhir+json",
        }

    def practice_summary(self, *, nhs_number: str, ods_code: str, now: dt.datetime, user_id: str = "",
                         user_role: str = "") -> PracticeSummary:
        body = structured_record_request(nhs_number=nhs_number, today=now.date())
        bundle = self.transport.post(ods_code=ods_code, headers=self.headers(
            ods_code=ods_code, now=now, user_id=user_id, user_role=user_role), body=body)
        return parse_structured_record(bundle, ods_code=ods_code, retrieved_at=now)


def provider_asid(ods_code: str) -> str:
    """The practice system's Spine ASID. The real one comes from the Spine Directory Service."""
    return "9" + "".join(str(ord(c) % 10) for c in ods_code).ljust(11, "0")[:11]


def access_token(*, now: dt.datetime, user_id: str, user_role: str, consumer_ods: str) -> str:
    """The GP Connect access token: an unsigned JWT naming the requesting user and organisation
    (the Spine Secure Proxy authenticates the consumer by TLS mutual authentication)."""
    iat = int(now.timestamp())
    claims = {
        "iss": "https://collab.example.nhs.uk", "sub": user_id or "unknown", "aud": "https://authorize.fhir.nhs.net/token",
        "iat": iat, "exp": iat + 300, "reason_for_request": "directcare", "requested_scope": "patient/*.read",
        "requesting_device": {"resourceType": "Device", "identifier": [{"system": "https://collab.example.nhs.uk",
                                                                          "value": "collab"}],
                              "model": "collab", "version": "0.1.0"},
        "requesting_organization": {"resourceType": "Organization", "identifier": [
            {"system": ODS_SYSTEM, "value": consumer_ods}]},
        "requesting_practitioner": {"resourceType": "Practitioner", "id": user_id or "unknown",
                                    "identifier": [{"system": "https://fhir.nhs.uk/Id/sds-role-profile-id",
                                                    "value": user_role or "unknown"}]},
    }
    return jwt.encode(claims, key=None, algorithm="none")


class HttpTransport:
    """POSTs to a GP Connect provider endpoint (through the Spine Secure Proxy in production)."""

    def __init__(self, base_url_for_ods, timeout: float = 10.0):
        self.base_url_for_ods = base_url_for_ods
        self.timeout = timeout

    def post(self, *, ods_code: str, headers: dict[str, str], body: dict) -> dict:
        url = self.base_url_for_ods(ods_code).rstrip("/") + OPERATION_PATH
        if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise GpConnectError("GP Connect endpoints must use HTTPS")
        req = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 - scheme checked above
                return json.loads(resp.read())
        except OSError as e:
            raise GpConnectError(f"The practice's system did not answer: {e}") from e


# ---------------------------------------------------------------- the verified fake

PROBLEMS = [("38341003", "Hypertension"), ("44054006", "Type 2 diabetes mellitus"), ("195967001", "Asthma"),
            ("239873007", "Osteoarthritis of knee"), ("35489007", "Depressive disorder"),
            ("49436004", "Atrial fibrillation"), ("40930008", "Hypothyroidism"),
            ("13645005", "Chronic obstructive lung disease")]
MEDICATIONS = [("319283006", "Amlodipine 5mg tablets", "One tablet once a day"),
               ("325278007", "Metformin 500mg tablets", "One tablet twice a day with food"),
               ("322236009", "Paracetamol 500mg tablets", "Two tablets up to four times a day when required"),
               ("317972000", "Omeprazole 20mg gastro-resistant capsules", "One capsule once a day"),
               ("320000009", "Simvastatin 40mg tablets", "One tablet at night"),
               ("408051007", "Ramipril 2.5mg capsules", "One capsule once a day")]
ALLERGIES = [("91936005", "Allergy to penicillin", "Rash"), ("91935009", "Allergy to peanut", "Swelling of lips")]
ENCOUNTER_TYPES = ["Surgery consultation", "Telephone consultation", "Home visit", "Medication review"]


class FakeGpConnectProvider:
    """Answers like a practice's GP Connect provider, with synthetic records seeded by NHS number.

    ``practices`` maps ODS code -> (name, clinical system); ``registered`` maps NHS number -> the
    ODS code of the practice holding the record (a patient is only found at their own practice).
    """

    def __init__(self, *, practices: dict[str, tuple[str, str]], registered: dict[str, str], today: dt.date):
        self.practices, self.registered, self.today = practices, registered, today
        self.requests: list[dict] = []

    def post(self, *, ods_code: str, headers: dict[str, str], body: dict) -> dict:
        self.requests.append({"ods_code": ods_code, "headers": headers, "body": body})
        if headers.get("Ssp-InteractionID") != INTERACTION_ID or not headers.get("Ssp-TraceID"):
            raise GpConnectError("400 BAD_REQUEST: missing Spine headers")
        if not headers.get("Authorization", "").startswith("Bearer "):
            raise GpConnectError("400 BAD_REQUEST: no access token")
        params = {p["name"]: p for p in body.get("parameter", [])}
        nhs_number = params.get("patientNHSNumber", {}).get("valueIdentifier", {}).get("value", "")
        if ods_code not in self.practices:
            raise GpConnectError("404 NO_RECORD_FOUND: unknown practice")
        if self.registered.get(nhs_number) != ods_code:
            raise GpConnectError("404 PATIENT_NOT_FOUND")
        return self.bundle(nhs_number=nhs_number, ods_code=ods_code)

    def bundle(self, *, nhs_number: str, ods_code: str) -> dict:
        rng = random.Random(int(nhs_number))  # noqa: S311 - synthetic data
        name, system = self.practices[ods_code]
        entries: list[dict] = []

        def add(resource_type: str, **fields) -> str:
            rid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            entries.append({"resource": {"resourceType": resource_type, "id": rid,
                                         "meta": {"profile": [PROFILE.format(PROFILES[resource_type])]}, **fields}})
            return f"{resource_type}/{rid}"

        def day(max_days: int) -> str:
            return (self.today - dt.timedelta(days=rng.randint(1, max_days))).isoformat()

        org = add("Organization", name=name, identifier=[{"system": ODS_SYSTEM, "value": ods_code}],
                  extension=[{"url": "https://collab.example.nhs.uk/fake/clinical-system", "valueString": system}])
        patient = add("Patient", identifier=[{"system": NHS_NUMBER_SYSTEM, "value": nhs_number}],
                      managingOrganization={"reference": org})
        gp = add("Practitioner", name=[{"family": rng.choice(["Bevan", "Price", "Watkins"]), "given": ["Jo"],
                                        "prefix": ["Dr"]}])
        subject = {"reference": patient}

        def section(code: str, refs: list[str]) -> None:
            fields = {"status": "current", "mode": "snapshot", "title": LIST_TITLES[code],
                      "code": {"coding": [{"system": SNOMED, "code": code, "display": LIST_TITLES[code]}]},
                      "subject": subject, "date": self.today.isoformat(), "orderedBy": {"coding": [
                          {"system": "http://hl7.org/fhir/list-order", "code": "event-date"}]},
                      "entry": [{"item": {"reference": r}} for r in refs]}
            if not refs:
                fields["emptyReason"] = {"coding": [{"system": "http://hl7.org/fhir/list-empty-reason",
                                                     "code": "no-content-recorded"}]}
                fields["note"] = [{"text": "Information not available"}]
            add("List", **fields)

        problems = []
        for code, term in rng.sample(PROBLEMS, rng.randint(0, 3)):
            problems.append(add(
                "Condition", identifier=[{"system": "https://fhir.nhs.uk/Id/cross-care-setting-identifier",
                                          "value": str(uuid.UUID(int=rng.getrandbits(128), version=4))}],
                clinicalStatus="active", category=[{"coding": [{"system": "http://hl7.org/fhir/condition-category",
                                                                "code": "problem-list-item"}]}],
                code={"coding": [{"system": SNOMED, "code": code, "display": term}], "text": term},
                subject=subject, onsetDateTime=day(3000), assertedDate=day(3000), asserter={"reference": gp}))
        meds = []
        for code, text, dose in rng.sample(MEDICATIONS, rng.randint(0, 3)):
            med = add("Medication", code={"coding": [{"system": SNOMED, "code": code, "display": text}]})
            start = day(700)
            meds.append(add(
                "MedicationStatement", identifier=[{"system": "https://fhir.nhs.uk/Id/cross-care-setting-identifier",
                                                    "value": str(uuid.UUID(int=rng.getrandbits(128), version=4))}],
                status="active", medicationReference={"reference": med}, effectivePeriod={"start": start},
                dateAsserted=start, subject=subject, taken="unk", dosage=[{"text": dose}],
                extension=[{"url": PROFILE.format("Extension-CareConnect-GPC-MedicationStatementLastIssueDate-1"),
                            "valueDateTime": day(60)}]))
        allergies = []
        for code, text, reaction in rng.sample(ALLERGIES, rng.randint(0, 1)):
            allergies.append(add(
                "AllergyIntolerance", clinicalStatus="active", verificationStatus="unconfirmed",
                category=["medication" if "penicillin" in text else "food"],
                code={"coding": [{"system": SNOMED, "code": code, "display": text}]}, patient=subject,
                assertedDate=day(5000), reaction=[{"manifestation": [{"text": reaction}]}]))
        encounters = []
        for _ in range(rng.randint(1, 4)):
            start = day(200)
            encounters.append(add(
                "Encounter", status="finished", type=[{"text": rng.choice(ENCOUNTER_TYPES)}], subject=subject,
                participant=[{"individual": {"reference": gp, "display": "Dr Jo (practice GP)"}}],
                period={"start": start}, serviceProvider={"reference": org}))
        section(LIST_PROBLEMS, problems)
        section(LIST_MEDICATIONS, meds)
        section(LIST_ALLERGIES, allergies)
        section(LIST_CONSULTATIONS, encounters)
        return {"resourceType": "Bundle", "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "meta": {"profile": [BUNDLE_PROFILE]}, "type": "collection", "entry": entries}
