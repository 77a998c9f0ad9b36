"""The FHIR Patient search's plain-SQL read gives what the ORM gives."""

import pytest

from collab.core.tests.factories import PatientFactory
from collab.patients.models import Patient
from collab.patients.selectors import _PATIENT_COLUMNS, patient_for_fhir

pytestmark = pytest.mark.django_db


def test_it_reads_every_column_of_the_patient():
    assert set(_PATIENT_COLUMNS) == {f.attname for f in Patient._meta.concrete_fields}


def test_the_patient_and_practice_are_the_orm_ones():
    made = PatientFactory(phone="07700900123", email="pat@example.org")
    found = patient_for_fhir(made.nhs_number)
    orm = Patient.objects.select_related("registered_practice").get(pk=made.pk)
    assert {f.attname: getattr(found, f.attname) for f in Patient._meta.concrete_fields} == {
        f.attname: getattr(orm, f.attname) for f in Patient._meta.concrete_fields}
    assert found.registered_practice.ods_code == orm.registered_practice.ods_code
    assert found._state.adding is False
    # Only the ODS code was read; any other field of the practice loads on first use, correctly.
    assert found.registered_practice.get_deferred_fields() >= {"name", "kind"}
    assert (found.registered_practice.name, found.registered_practice.kind) == (
        orm.registered_practice.name, orm.registered_practice.kind)
    assert patient_for_fhir("9990000018") is None
