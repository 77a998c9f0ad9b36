"""A small network for triage tests: a collaborative, a PCN, practices with their services, every
network service, the default rules, and helpers to make requests in each state."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from collab.accounts.models import Role, RoleAssignment
from collab.core.tests.factories import (
    CollaborativeFactory,
    PatientFactory,
    PcnFactory,
    PracticeFactory,
    RoleAssignmentFactory,
    actor,
)
from collab.organisations.models import Organisation, Service
from collab.patients.models import Patient
from collab.triage import services
from collab.triage.models import ReferringService, RequestKind, Source, TriageRequest
from collab.triage.routing import LONDON

# A Wednesday in term time at 10:00 UK time: the form is open.
OPEN_AT = dt.datetime(2026, 11, 25, 10, 0, tzinfo=LONDON)


@dataclass
class Network:
    collaborative: Organisation
    pcn: Organisation
    practice: Organisation
    other_practice: Organisation
    hub: Service
    practice_service: Service

    def service(self, kind: str) -> Service:
        if kind == Service.Kind.PRACTICE:
            return self.practice_service
        if kind == Service.Kind.ENHANCED_ACCESS:
            return Service.objects.get(organisation=self.pcn, kind=kind)
        return Service.objects.get(organisation=self.collaborative, kind=kind)


def network() -> Network:
    collaborative = CollaborativeFactory()
    pcn = PcnFactory(parent=collaborative)
    practice = PracticeFactory(parent=pcn, phone="01432 111111")
    other = PracticeFactory(parent=pcn)
    practice_service = Service.objects.create(organisation=practice, kind=Service.Kind.PRACTICE, name=practice.display_name,
                                              phone="01432 111111")
    Service.objects.create(organisation=other, kind=Service.Kind.PRACTICE, name=other.display_name)
    hub, _ = Service.objects.get_or_create(organisation=collaborative, kind=Service.Kind.REMOTE_HUB,
                                           defaults={"name": "Remote hub", "phone": "01432 000100"})
    for kind in (Service.Kind.COMMUNITY_PHARMACY, Service.Kind.MSK_PHYSIO, Service.Kind.SOCIAL_PRESCRIBING,
                 Service.Kind.CHILDRENS_RESPIRATORY, Service.Kind.OUT_OF_HOURS):
        Service.objects.get_or_create(organisation=collaborative, kind=kind, defaults={"name": Service.Kind(kind).label})
    Service.objects.create(organisation=pcn, kind=Service.Kind.ENHANCED_ACCESS, name="Enhanced access")
    return Network(collaborative, pcn, practice, other, hub, practice_service)


def patient(net: Network, **kwargs) -> Patient:
    return PatientFactory(registered_practice=net.practice, **kwargs)


def practice_role(net: Network, role: str = Role.CARE_NAVIGATOR) -> RoleAssignment:
    return RoleAssignmentFactory(organisation=net.practice, role=role)


def hub_role(net: Network, role: str = Role.GP) -> RoleAssignment:
    return RoleAssignmentFactory(organisation=net.collaborative, role=role)


def details(kind: str = RequestKind.MEDICAL, **kwargs) -> services.RequestDetails:
    base = {"kind": kind, "description": "Cough for three weeks", "contact_phone": "07700 900123"}
    if kind == RequestKind.ADMIN:
        base["admin_type"] = "fit_note"
    base.update(kwargs)
    return services.RequestDetails(**base)


def passed_screen():
    return services.red_flag_screen_record(flags=[])


def online(net: Network, pt: Patient, *, kind: str = RequestKind.MEDICAL, at: dt.datetime | None = None,
           **detail_kwargs) -> TriageRequest:
    screen = passed_screen()
    at = at or max(timezone.now(), screen.screened_at)
    return services.request_submit_online(screen_id=screen.pk, practice_ods=pt.registered_practice.ods_code,
                                          nhs_number=pt.nhs_number, date_of_birth=pt.date_of_birth,
                                          details=details(kind, **detail_kwargs), at=at)


def by_phone(net: Network, pt: Patient, *, navigator: RoleAssignment | None = None, **kwargs) -> TriageRequest:
    navigator = navigator or practice_role(net)
    return services.request_create_by_staff(actor=actor(navigator), actor_org_kind="practice", source=Source.PHONE,
                                            patient=pt, details=details(**kwargs))


def triaged(net: Network, pt: Patient, *, route: str = "hub", urgency: str = "soon", clinician=None, **kwargs) -> TriageRequest:
    request = by_phone(net, pt, **kwargs)
    clinician = clinician or hub_role(net)
    services.triage_record(actor=actor(clinician), actor_org_kind=clinician.organisation.kind, request=request,
                           urgency=urgency, route=route, reason="Needs a GP review", safety_netting="Call 111 if worse")
    request.refresh_from_db()
    return request


def referrer(source: str = Source.NHS111) -> tuple[ReferringService, str]:
    ref = ReferringService.objects.create(ods_code="RYA" if source == Source.NHS111 else "RLQ",
                                          name="NHS 111 West Midlands" if source == Source.NHS111 else "Hereford County Hospital A&E",
                                          source=source)
    return ref, services.referrer_token_create(referrer=ref)
