"""Fuzz every operation of the FHIR API, as published at /fhir/openapi.json, against a real server.

A bounded number of generated requests per operation (valid and deliberately invalid): none may
get a 5xx, and every response must match the status codes, content types and schemas published.
"""

from __future__ import annotations

import json

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from collab.api.urls import api

pytestmark = pytest.mark.server

# Bounded so the whole module runs in well under two minutes; raise it locally to fuzz harder.
EXAMPLES_PER_OPERATION = 40
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection]


@pytest.fixture(scope="session")
def fhir_token(server) -> str:
    return server.token("rachel.reception")


# The schema the server publishes, built in-process so operations are known at collection time
# (the test below checks that the running server publishes exactly this).
schema = schemathesis.openapi.from_dict(api.get_openapi_schema())


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture])
def test_fhir_api_never_fails_and_matches_its_schema(case, server, fhir_token):
    case.call_and_validate(base_url=server.url, headers={"Authorization": f"Bearer {fhir_token}"}, checks=CHECKS,
                           timeout=30)


def test_openapi_schema_is_published(server):
    r = httpx.get(f"{server.url}/fhir/openapi.json", timeout=10)
    assert r.status_code == 200
    assert r.json() == json.loads(json.dumps(api.get_openapi_schema()))
    paths = r.json()["paths"]
    assert {"/fhir/Patient", "/fhir/Slot", "/fhir/Appointment", "/fhir/Appointment/{appointment_id}"} <= set(paths)
