"""NHS 111 / A&E referrals through the intake endpoint: the referrer's assessment is the triage."""

import json

import pytest

from collab.core.models import AuditEvent
from collab.triage.models import Triage, TriageRequest
from collab.triage.tests.factories import patient, referrer

pytestmark = pytest.mark.django_db
URL = "/triage/intake/referrals"


@pytest.fixture
def ref(net):
    return referrer()


def body(pt, **over):
    b = {
        "referral_id": "111-CASE-0001",
        "practice_ods": pt.registered_practice.ods_code,
        "patient": {"nhs_number": pt.nhs_number, "date_of_birth": pt.date_of_birth.isoformat(), "phone": "07700 900456"},
        "presenting_complaint": "Earache for two days, no fever",
        "assessment": {"urgency": "urgent", "route": "hub", "reason": "Pathways: earache, speak to GP within 6 hours",
                       "safety_netting": "Call 111 back if fever or swelling behind the ear", "disposition_code": "Dx06"},
        "preferred_channel": "telephone",
    }
    for k, v in over.items():
        if "." in k:
            outer, inner = k.split(".")
            b[outer] = {**b[outer], inner: v}
            if v is None:
                b[outer].pop(inner)
        elif v is None:
            b.pop(k)
        else:
            b[k] = v
    return b


def post(client, token, payload):
    return client.post(URL, data=json.dumps(payload), content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {token}")


def test_a_111_referral_arrives_triaged_and_nobody_triages_it_again(client, net, ref):
    referrer_row, token = ref
    pt = patient(net)
    r = post(client, token, body(pt))
    assert r.status_code == 201, r.content
    out = r.json()
    assert out["status"] == "waiting" and out["triage"] == {"urgency": "urgent", "route": "hub", "rule_set_version": 1,
                                                            "service": "Remote hub"}
    req = TriageRequest.objects.get(reference=out["reference"])
    assert req.source == "nhs111" and req.referrer == referrer_row and req.service == net.hub
    triage = req.triages.get()
    assert triage.method == Triage.Method.REFERRER and triage.referrer == referrer_row and triage.triaged_by is None
    assert req.external_assessment["disposition_code"] == "Dx06"
    assert AuditEvent.objects.filter(action="triage.record", username="referrer:RYA", channel="api").count() == 1
    # The same referral again: 409, nothing new.
    again = post(client, token, body(pt))
    assert again.status_code == 409 and "already been received" in again.json()["errors"][0]["message"]
    assert TriageRequest.objects.count() == 1


@pytest.mark.parametrize(("change", "status", "field", "message"), [
    ({"presenting_complaint": None}, 400, "presenting_complaint", "Field required"),
    ({"assessment.safety_netting": None}, 400, "assessment.safety_netting", "Field required"),
    ({"practice_ods": "Z99999"}, 422, "practice_ods", "no member practice"),
    ({"patient.nhs_number": "12345"}, 400, "patient.nhs_number", "10 digits"),
    ({"patient.nhs_number": "9434765918"}, 400, "patient.nhs_number", "check digit"),
    ({"patient.nhs_number": "１２３４５６７８９０"}, 400, "patient.nhs_number", "10 digits"),
    ({"presenting_complaint": "x" * 2001}, 400, "presenting_complaint", "at most 2000 characters"),
    ({"assessment.reason": "x" * 2001}, 400, "assessment.reason", "at most 2000 characters"),
    ({"assessment.urgency": "whenever"}, 400, "assessment.urgency", "Input should be"),
    ({"patient.date_of_birth": "31/02/1970"}, 400, "patient.date_of_birth", "date"),
    ({"surprise": "field"}, 400, "surprise", "Extra inputs"),
])
def test_bad_referrals_get_a_clear_error_and_create_nothing(client, net, ref, change, status, field, message):
    _, token = ref
    r = post(client, token, body(patient(net), **change))
    assert r.status_code == status, r.content
    errors = r.json()["errors"]
    assert any(e["field"] == field and message in e["message"] for e in errors), errors
    assert not TriageRequest.objects.exists() and not Triage.objects.exists()


def test_unknown_patient_and_malformed_json(client, net, ref):
    _, token = ref
    pt = patient(net)
    other = body(pt, **{"patient.date_of_birth": "1901-01-01"})
    r = post(client, token, other)
    assert r.status_code == 422 and "could not find" in r.json()["errors"][0]["message"]
    r = client.post(URL, data="{not json", content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert r.status_code == 400
    assert not TriageRequest.objects.exists()


def test_a_referrer_needs_its_token(client, net, ref):
    pt = patient(net)
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer nope"}):
        r = client.post(URL, data=json.dumps(body(pt)), content_type="application/json", **headers)
        assert r.status_code == 401 and r["WWW-Authenticate"] == "Bearer"
    assert not TriageRequest.objects.exists()


def test_the_intake_schema_is_published(client):
    schema = client.get("/triage/intake/openapi.json").json()
    assert "/triage/intake/referrals" in schema["paths"]
