"""Factories for out of hours: the service, a clinician in it, a case."""

from __future__ import annotations

import factory
from django.utils import timezone

from collab.accounts.models import Role
from collab.core.tests.factories import CollaborativeFactory, PatientFactory, RoleAssignmentFactory
from collab.ooh.models import OohCase
from collab.organisations.models import Service


class OohServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service
        django_get_or_create = ("organisation", "kind")

    organisation = factory.SubFactory(CollaborativeFactory)
    kind = Service.Kind.OUT_OF_HOURS
    name = "Out of hours"


def ooh_clinician(role: str = Role.GP):
    return RoleAssignmentFactory(organisation=CollaborativeFactory(), role=role, service=OohServiceFactory())


class OohCaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OohCase

    service = factory.SubFactory(OohServiceFactory)
    patient = factory.SubFactory(PatientFactory)
    source = OohCase.Source.NHS_111
    presenting_complaint = "Chest pain since this evening"
    priority = OohCase.Priority.URGENT
    received_at = factory.LazyFunction(timezone.now)
