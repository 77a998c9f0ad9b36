"""Factories shared by every app's tests: organisations, people, patients and hub capacity."""

from __future__ import annotations

import datetime as dt
import itertools

import factory
from django.utils import timezone

from collab.accounts.models import Role, RoleAssignment, User
from collab.accounts.services import actor_from_assignment
from collab.booking.models import DeliveryChannel
from collab.booking.services import session_create
from collab.organisations.models import Organisation, Service
from collab.patients.models import Patient
from collab.patients.nhs_number import with_check_digit

_ods = itertools.count(1)


def _nhs_numbers():
    for n in itertools.count(100001):
        number = with_check_digit(f"999{n:06d}")
        if number:
            yield number


_numbers = _nhs_numbers()


class CollaborativeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("ods_code",)

    ods_code = "HGP01"
    name = "HEREFORDSHIRE GENERAL PRACTICE"
    kind = "collaborative"


class PcnFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    ods_code = factory.LazyFunction(lambda: f"U{next(_ods):05d}")
    name = factory.Sequence(lambda n: f"TEST PCN {n}")
    kind = "pcn"
    parent = factory.SubFactory(CollaborativeFactory)


class PracticeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    ods_code = factory.LazyFunction(lambda: f"M{next(_ods):05d}")
    name = factory.Sequence(lambda n: f"TEST SURGERY {n}")
    kind = "practice"
    parent = factory.SubFactory(PcnFactory)
    list_size = 10000


class HubServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service
        django_get_or_create = ("organisation", "kind")

    organisation = factory.SubFactory(CollaborativeFactory)
    kind = Service.Kind.REMOTE_HUB
    name = "Remote hub"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"Person{n}")


class RoleAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoleAssignment

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(PracticeFactory)
    role = Role.CARE_NAVIGATOR


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    nhs_number = factory.LazyFunction(lambda: next(_numbers))
    given_name = "Ann"
    family_name = factory.Sequence(lambda n: f"Patient{n}")
    date_of_birth = dt.date(1970, 5, 17)
    phone = "07700 900123"
    registered_practice = factory.SubFactory(PracticeFactory)


def actor(assignment: RoleAssignment):
    return actor_from_assignment(assignment)


def hub_session(*, clinician: User | None = None, role: str = Role.GP, start: dt.datetime | None = None,
                hours: int = 1, slot_minutes: int = 15, channel: str = DeliveryChannel.TELEPHONE, reserved_for=None):
    """A hub session starting tomorrow 09:00 (or ``start``), with its slots."""
    if start is None:
        tomorrow = timezone.localdate() + dt.timedelta(days=1)
        start = dt.datetime.combine(tomorrow, dt.time(9, 0), tzinfo=timezone.get_current_timezone())
    clinician = clinician or RoleAssignmentFactory(organisation=CollaborativeFactory(), role=role).user
    return session_create(service=HubServiceFactory(), clinician=clinician, clinician_role=role, starts_at=start,
                          ends_at=start + dt.timedelta(hours=hours), slot_minutes=slot_minutes, channel=channel,
                          reserved_for=reserved_for)


def act_as(client, assignment) -> None:
    """Sign the test client in as a demo persona acting in ``assignment`` (no second factor)."""
    client.force_login(assignment.user)
    session = client.session
    session["collab_acting_assignment"] = assignment.pk
    session["demo_persona"] = True
    session.save()
    assignment.user.is_demo_persona = True
    assignment.user.save()
